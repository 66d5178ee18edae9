package emulator

import (
	"crypto/subtle"
	"net"
	"net/http"
	"time"
)

// ipRecord is one client IP's recent bad-credential requests.
type ipRecord struct {
	failures []time.Time // within the last lockoutWindow
	until    time.Time   // blocked before this instant
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loxAuthorized checks X-LOX24-AUTH-TOKEN ("clientid:apikey"), or the legacy
// pair X-LOX24-CLIENT-ID + X-LOX24-AUTH-TOKEN (the API key alone).
func (s *Server) loxAuthorized(r *http.Request) bool {
	token := r.Header.Get("X-LOX24-AUTH-TOKEN")
	if token == "" {
		return false
	}
	if ids := r.Header.Values("X-LOX24-CLIENT-ID"); len(ids) > 0 {
		token = ids[0] + ":" + token
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.LOX24Token)) == 1
}

// loxBlocked reports whether ip is locked out at now, and until when.
func (s *Server) loxBlocked(ip string, now time.Time) (time.Time, bool) {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	rec := s.lockout[ip]
	if rec == nil || !now.Before(rec.until) {
		return time.Time{}, false
	}
	return rec.until, true
}

// loxFailed records a bad-credential request from ip. More than
// lockoutThreshold of them within lockoutWindow lock the IP out for
// lockoutDuration; the request that crosses the threshold is still a 401.
func (s *Server) loxFailed(ip string, now time.Time) {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	rec := s.lockout[ip]
	if rec == nil {
		rec = &ipRecord{}
		s.lockout[ip] = rec
	}
	kept := rec.failures[:0]
	for _, t := range rec.failures {
		if now.Sub(t) < lockoutWindow {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	rec.failures = kept
	if len(rec.failures) > lockoutThreshold {
		rec.until = now.Add(lockoutDuration)
		rec.failures = nil
	}
}

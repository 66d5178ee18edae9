package emulator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Options configures a Server. The zero Options is a well-behaved emulator
// with the demo credentials.
type Options struct {
	LOX24Token    string           // accepted X-LOX24-AUTH-TOKEN value, "clientid:apikey"; default "demo:demo"
	HelloIDKey    string           // HelloID Basic auth user (API key); default "demo"
	HelloIDSecret string           // HelloID Basic auth password (API secret); default "demo"
	Latency       time.Duration    // added before answering every API request
	FailRate      float64          // 0..1: fraction of API requests answered 503 at random, before anything else happens
	Throttle      float64          // >0: requests per second per system; beyond it 429 with Retry-After (seconds)
	ThrottleBurst int              // requests the throttle lets through at once; default a fifth of Throttle, at least 1
	LoseRate      float64          // 0..1: fraction of API writes that are applied but answered 502, as if the answer were lost on the way
	DropRate      float64          // 0..1: fraction of API writes answered as a success but not applied
	Redirect      string           // non-empty: every API request is answered 307 to Redirect + path and query
	Now           func() time.Time // clock for the lockout and the throttle; default time.Now
	Seed          int64            // seed for FailRate and generated ids (request ids, GUIDs); 0: time-based
	Quirks        Quirks           // answer in the variants real servers may use (quirks.go)
}

// System names used in Stats and routes.
const (
	sysLOX24   = "lox24"
	sysHelloID = "helloid"
)

// helloIDPrefix is where the HelloID API lives; everything else is LOX24.
const helloIDPrefix = "/api/v1"

// Server is the emulator of both APIs. It implements http.Handler and is
// safe for concurrent use. Create one with New.
type Server struct {
	opts Options

	mu sync.Mutex // guards db
	db *store
	// dropMu is held shared by every API request and exclusively by a
	// dropped write (DropRate), while it runs and its change is undone.
	dropMu sync.RWMutex

	rngMu sync.Mutex
	rng   *rand.Rand

	lockMu  sync.Mutex
	lockout map[string]*ipRecord // LOX24 bad-credential history per client IP

	limiters map[string]*rate.Limiter // per system; nil map when not throttling

	stats *statsRecorder

	drift drift // which listings drift, under the drift quirks

	routes []*route
}

// New returns an emulator with an empty state.
func New(opts Options) *Server {
	if opts.LOX24Token == "" {
		opts.LOX24Token = "demo:demo"
	}
	if opts.HelloIDKey == "" {
		opts.HelloIDKey = "demo"
	}
	if opts.HelloIDSecret == "" {
		opts.HelloIDSecret = "demo"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.FailRate = math.Min(math.Max(opts.FailRate, 0), 1)
	if math.IsNaN(opts.FailRate) {
		opts.FailRate = 0
	}
	opts.LoseRate = math.Min(math.Max(opts.LoseRate, 0), 1)
	if math.IsNaN(opts.LoseRate) {
		opts.LoseRate = 0
	}
	opts.DropRate = math.Min(math.Max(opts.DropRate, 0), 1)
	if math.IsNaN(opts.DropRate) {
		opts.DropRate = 0
	}
	seed := opts.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	s := &Server{
		opts:    opts,
		db:      newStore(),
		rng:     rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
		lockout: map[string]*ipRecord{},
		stats:   newStatsRecorder(),
	}
	if opts.Throttle > 0 && !math.IsInf(opts.Throttle, 1) {
		burst := opts.ThrottleBurst
		if burst <= 0 {
			burst = max(1, int(opts.Throttle/5)) // as real limiters allow a little
		}
		s.limiters = map[string]*rate.Limiter{
			sysLOX24:   rate.NewLimiter(rate.Limit(opts.Throttle), burst),
			sysHelloID: rate.NewLimiter(rate.Limit(opts.Throttle), burst),
		}
	}
	s.routes = s.buildRoutes()
	return s
}

// LoadState replaces the whole state with st after validating it against the
// APIs' limits (lengths in characters, unique ids, GUID syntax, unique HelloID
// names). Missing ids are assigned. On error the state is unchanged.
func (s *Server) LoadState(st State) error {
	db, err := s.validateState(st)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.db = db
	s.mu.Unlock()
	return nil
}

// State returns a deep copy of the current state. LOX24 groups and phones
// are in id order, HelloID groups in creation order.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.snapshot()
}

// Listen serves s on addr, which must be a loopback address such as
// "127.0.0.1:0". It returns the base URL ("http://127.0.0.1:PORT") for both
// APIs and a function that shuts the listener down, waiting (bounded) for
// requests in flight.
func (s *Server) Listen(addr string) (baseURL string, stop func() error, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("emulator: listen address %q: %w", addr, err)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return "", nil, fmt.Errorf("emulator: listen address %q is not a loopback address", addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("emulator: %w", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return "", nil, fmt.Errorf("emulator: %q resolved to %s, not a loopback address", addr, ln.Addr())
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnState: s.ConnState}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = srv.Close()
		}
		if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		return err
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// ConnState counts the connections clients open (Stats.Connections). Listen
// sets it on its server; a test serving s otherwise sets it on its own
// (httptest: srv.Config.ConnState before srv.Start).
func (s *Server) ConnState(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.stats.connected()
	}
}

// ServeHTTP answers one request: /_emulator/* control routes, HelloID under
// /api/v1, LOX24 everywhere else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_emulator" || strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.serveControl(w, r)
		return
	}
	sys := sysLOX24
	if r.URL.Path == helloIDPrefix || strings.HasPrefix(r.URL.Path, helloIDPrefix+"/") {
		sys = sysHelloID
	}
	rt, args := s.match(sys, r)
	name := r.Method + " (unknown)"
	if rt != nil {
		name = r.Method + " " + rt.pattern
	}
	rec := &statusRecorder{ResponseWriter: w}
	s.stats.begin(sys, r.Method, name)
	defer func() { s.stats.end(sys, rec.status) }()

	if sys == sysLOX24 {
		// Every LOX24 response carries a request id, faults included (§3 #15).
		rec.Header().Set("X-LOX24-REQUEST-ID", s.requestID())
	}
	if s.fault(rec, r, sys) {
		return
	}
	var out http.ResponseWriter = rec
	lose := r.Method != http.MethodGet && s.opts.LoseRate > 0 && s.random() < s.opts.LoseRate
	if lose {
		out = &discardWriter{header: http.Header{}}
	}
	serve := func() {
		if sys == sysLOX24 {
			s.serveLOX24(out, r, rt, args)
		} else {
			s.serveHelloID(out, r, rt, args)
		}
	}
	switch {
	case s.opts.DropRate == 0:
		serve()
	case s.dropWrite(r):
		s.serveDropped(serve)
	default:
		s.dropMu.RLock()
		serve()
		s.dropMu.RUnlock()
	}
	if lose {
		// The write happened; its answer is lost, as when a proxy times out.
		s.systemError(rec, sys, http.StatusBadGateway, "Bad Gateway")
	}
}

// discardWriter swallows a response (LoseRate).
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// fault applies the configured faults in order: latency, redirect, random
// failure, throttle. It reports whether it answered the request.
func (s *Server) fault(w *statusRecorder, r *http.Request, sys string) bool {
	if d := s.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			w.status = statusClientGone
			return true
		}
	}
	if s.opts.Redirect != "" {
		w.Header().Set("Location", s.opts.Redirect+r.URL.RequestURI())
		w.WriteHeader(http.StatusTemporaryRedirect)
		return true
	}
	if s.opts.FailRate > 0 && s.random() < s.opts.FailRate {
		s.systemError(w, sys, http.StatusServiceUnavailable, "Service Unavailable")
		return true
	}
	if lim := s.limiters[sys]; lim != nil {
		now := s.opts.Now()
		res := lim.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			secs := int(math.Ceil(d.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			s.systemError(w, sys, http.StatusTooManyRequests, "Too Many Requests")
			return true
		}
	}
	return false
}

// systemError answers with the error shape of sys.
func (s *Server) systemError(w http.ResponseWriter, sys string, status int, msg string) {
	if sys == sysLOX24 {
		loxError(w, status, msg)
	} else {
		hidError(w, status, msg)
	}
}

// random returns a pseudo-random number in [0,1).
func (s *Server) random() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// requestID returns a fresh 32-character alphanumeric id.
func (s *Server) requestID() string {
	var b [32]byte
	s.rngMu.Lock()
	for i := range b {
		b[i] = alnum[s.rng.IntN(len(alnum))]
	}
	s.rngMu.Unlock()
	return string(b[:])
}

// newGUID returns a random version 4 GUID in lowercase.
func (s *Server) newGUID() string {
	var b [16]byte
	s.rngMu.Lock()
	for i := 0; i < 16; i += 8 {
		v := s.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	s.rngMu.Unlock()
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// route is one API path pattern with a handler per method. Pattern segments
// in braces match any one non-empty path segment.
type route struct {
	pattern  string
	segs     []string
	handlers map[string]handlerFunc
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, args []string)

func (rt *route) allow() string {
	var ms []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if rt.handlers[m] != nil {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, ", ")
}

func (s *Server) buildRoutes() []*route {
	mk := func(pattern string, h map[string]handlerFunc) *route {
		return &route{pattern: pattern, segs: strings.Split(pattern, "/")[1:], handlers: h}
	}
	// Literal routes come before routes with a parameter in the same place,
	// so that POST /api/v1/groups/batch is the batch create while GET
	// /api/v1/groups/batch reads the group named "batch".
	return []*route{
		mk("/groups", map[string]handlerFunc{"GET": s.loxListGroups, "POST": s.loxCreateGroup}),
		mk("/groups/{id}", map[string]handlerFunc{"GET": s.loxGetGroup, "PUT": s.loxPutGroup, "DELETE": s.loxDeleteGroup}),
		mk("/groups/{id}/phones", map[string]handlerFunc{"GET": s.loxListPhones, "POST": s.loxCreatePhone}),
		mk("/groups/{id}/phones/batch", map[string]handlerFunc{"POST": s.loxBatchPhones}),
		// GET /phones/{id} is not in the LOX24 docs; the emulator answers
		// 405 (the route exists, that method does not) so that a client
		// relying on it fails loudly.
		mk("/phones/{id}", map[string]handlerFunc{"PUT": s.loxPutPhone, "DELETE": s.loxDeletePhone}),
		mk("/phones", map[string]handlerFunc{"GET": s.loxListPhonesByGroup}),

		mk(helloIDPrefix+"/groups", map[string]handlerFunc{"GET": s.hidListGroups, "POST": s.hidCreateGroup}),
		mk(helloIDPrefix+"/groups/batch", map[string]handlerFunc{"POST": s.hidCreateGroups}),
		mk(helloIDPrefix+"/groups/{group}", map[string]handlerFunc{"GET": s.hidGetGroup, "PUT": s.hidPutGroup, "DELETE": s.hidDeleteGroup}),
		mk(helloIDPrefix+"/groups/{group}/users", map[string]handlerFunc{"POST": s.hidLinkUser}),
		mk(helloIDPrefix+"/groups/{group}/users/{user}", map[string]handlerFunc{"DELETE": s.hidUnlinkUser}),
		mk(helloIDPrefix+"/users", map[string]handlerFunc{"GET": s.hidListUsers}),
		mk(helloIDPrefix+"/users/{user}", map[string]handlerFunc{"GET": s.hidGetUser}),
		mk(helloIDPrefix+"/users/{user}/groups", map[string]handlerFunc{"POST": s.hidLinkGroupToUser}),
		mk(helloIDPrefix+"/users/{user}/groups/{group}", map[string]handlerFunc{"DELETE": s.hidUnlinkGroupFromUser}),
	}
}

// match finds the route for r among sys's routes and the path parameters
// (URL-decoded). A route that has r's method wins over one that matches only
// the path; with none, it returns the first path match (for a 405) or nil.
func (s *Server) match(sys string, r *http.Request) (*route, []string) {
	raw := r.URL.EscapedPath()
	if !strings.HasPrefix(raw, "/") {
		return nil, nil
	}
	parts := strings.Split(raw[1:], "/")
	segs := make([]string, len(parts))
	for i, p := range parts {
		v, err := url.PathUnescape(p)
		if err != nil || v == "" {
			return nil, nil
		}
		segs[i] = v
	}
	var first *route
	var firstArgs []string
	for _, rt := range s.routes {
		if strings.HasPrefix(rt.pattern, helloIDPrefix) != (sys == sysHelloID) || len(rt.segs) != len(segs) {
			continue
		}
		var args []string
		ok := true
		for i, p := range rt.segs {
			if strings.HasPrefix(p, "{") {
				args = append(args, segs[i])
			} else if p != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if rt.handlers[r.Method] != nil {
			return rt, args
		}
		if first == nil {
			first, firstArgs = rt, args
		}
	}
	return first, firstArgs
}

// statusClientGone is recorded for requests whose client went away before
// the emulator answered (nginx's convention).
const statusClientGone = 499

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"groupsync/internal/plan"
)

// errBodyTooLarge is a response body over the cap.
var errBodyTooLarge = errors.New("response body too large")

// ErrUnauthorized is wrapped by errors for 401 and 403 answers: bad or
// inactive credentials, or an account that is not activated.
var ErrUnauthorized = errors.New("unauthorized")

// StatusError is an HTTP answer that is not a success.
type StatusError struct {
	Op         string // what was attempted, e.g. "lox24: put group 12344"
	StatusCode int
	Message    string // the API's own words, trimmed
	RequestID  string
	RetryAfter time.Duration
	Location   string // for a refused redirect: where it pointed
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		b.WriteString(": redirect refused")
		if e.Location != "" {
			b.WriteString(" (to " + e.Location + ")")
		}
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnauthorized) and errors.Is(err, plan.ErrStop)
// true for 401 and 403.
func (e *StatusError) Is(target error) bool {
	auth := e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	return auth && (target == ErrUnauthorized || target == plan.ErrStop)
}

// scrubURLError drops the URL from transport errors (it carries no secret,
// but it is noise next to the operation name) and keeps the cause.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// trimMessage keeps an API message short and on one line.
func trimMessage(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const maxRunes = 300
	if r := []rune(s); len(r) > maxRunes {
		s = string(r[:maxRunes]) + "…"
	}
	return s
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var secs int64
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && fmt.Sprint(secs) == v {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// DecodeJSON decodes a response body into out, naming op on failure.
func DecodeJSON(op string, body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: unexpected response body: %w", op, err)
	}
	return nil
}

package sink

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"groupsync/internal/plan"
)

// Retry defaults.
const (
	DefaultMaxAttempts   = 5
	DefaultRetryBase     = 250 * time.Millisecond
	DefaultRetryMax      = 10 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
	// minRate is the slowest a system's pace drops to after 429s.
	minRate = 0.2
)

// Clock is the time source of retries (tests use a fake one).
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends or the run is asked to stop.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-plan.Stopping(ctx):
		return errInterrupted
	}
}

// errInterrupted is returned when a wait is cut short because the run is
// stopping.
var errInterrupted = errors.New("interrupted")

// RetryPolicy says what is retried and how long to wait.
type RetryPolicy struct {
	MaxAttempts   int           // attempts per call, the first included (default 5)
	Base          time.Duration // first backoff (default 250ms), doubled per attempt
	Max           time.Duration // cap of the exponential backoff (default 10s)
	MaxRetryAfter time.Duration // cap of an honoured Retry-After (default 60s)
}

func (p *RetryPolicy) defaults() {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.Base <= 0 {
		p.Base = DefaultRetryBase
	}
	if p.Max <= 0 {
		p.Max = DefaultRetryMax
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
}

// backoff returns the wait before attempt n+1 after attempt n failed:
// exponential, capped, with jitter (half fixed, half random) so that
// workers that failed together do not retry together.
func (p *RetryPolicy) backoff(n int, random float64) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	return d/2 + time.Duration(random*float64(d/2))
}

// wait returns how long to wait after err on attempt n: the backoff, or
// the server's Retry-After when longer, capped.
func (p *RetryPolicy) wait(n int, err error, random float64) time.Duration {
	d := p.backoff(n, random)
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > d {
		d = min(se.RetryAfter, p.MaxRetryAfter)
	}
	return d
}

// mayHaveActed reports whether the server may have carried out a request
// whose attempt ended in err: a 5xx other than 501, or no answer after the
// request may have left (not a refused connection, not a request the run
// stopped before sending). A 429, any other status and a refused dial say
// it did not.
func mayHaveActed(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode >= 500 && se.StatusCode != http.StatusNotImplemented
	}
	if errors.Is(err, plan.ErrStop) {
		return false
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return false
	}
	return true // a lost connection, a timeout, a body cut short or over the cap
}

// transient reports whether err may go away on its own: 429, a 5xx other
// than 501, or a failure to get any answer. sure is true when the server
// certainly did not act on the request (429), so that even a create may be
// sent again without checking.
func transient(ctx context.Context, err error) (retry, sure bool) {
	if ctx.Err() != nil {
		return false, false
	}
	var se *StatusError
	if errors.As(err, &se) {
		switch {
		case se.StatusCode == http.StatusTooManyRequests:
			return true, true
		case se.StatusCode >= 500 && se.StatusCode != http.StatusNotImplemented:
			return true, false
		}
		return false, false
	}
	if errors.Is(err, errBodyTooLarge) || errors.Is(err, plan.ErrStop) {
		return false, false
	}
	return true, false // no answer: connection refused or reset, timeout
}

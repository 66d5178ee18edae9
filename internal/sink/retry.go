package sink

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

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

// pacer is a system's rate limiter that slows down on 429 and recovers on
// success, so that a server limit below the configured rate is approached
// without a storm of 429s.
//
// On a 429 the pace is cut, at most once per cutCooldown (workers in flight
// together get their 429s together, and one overload must not count four
// times), to the lower of cutFactor of itself and a little under the rate
// the server has just been accepting (successes per second over the last
// few). Every success then adds a 100th of the configured rate back, up to
// just under the pace that drew the last 429 (ceiling), and only a 2000th
// beyond it: each overload costs the workers a whole Retry-After, so
// finding the limit again and again is dear.
type pacer struct {
	limiter *rate.Limiter
	target  rate.Limit

	mu      sync.Mutex
	rng     *rand.Rand
	lastCut time.Time
	ceiling rate.Limit    // the pace of the last 429; 0 before any
	wins    [32]time.Time // the times of the last successes, a ring
	nwins   int
}

const (
	cutFactor   = 0.8
	cutCooldown = time.Second
)

func newPacer(perSecond float64) *pacer {
	return &pacer{
		limiter: rate.NewLimiter(rate.Limit(perSecond), 1),
		target:  rate.Limit(perSecond),
		rng:     rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
}

// wait blocks until the system may send its next request.
func (p *pacer) wait(ctx context.Context, clock Clock) error {
	r := p.limiter.Reserve()
	if !r.OK() {
		return errors.New("rate limiter refused the request")
	}
	if err := clock.Sleep(ctx, r.Delay()); err != nil {
		r.Cancel()
		return err
	}
	return nil
}

// throttled slows the pace after a 429.
func (p *pacer) throttled(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.lastCut) < cutCooldown {
		return
	}
	p.lastCut = now
	p.ceiling = p.limiter.Limit()
	next := p.limiter.Limit() * cutFactor
	if accepted := p.acceptedRate(now); accepted > 0 && accepted*0.95 < next {
		next = accepted * 0.95
	}
	p.limiter.SetLimit(max(next, rate.Limit(min(minRate, float64(p.target)))))
}

// acceptedRate is the successes per second over the recent ones, 0 when
// there are too few to tell.
func (p *pacer) acceptedRate(now time.Time) rate.Limit {
	n := min(p.nwins, len(p.wins))
	if n < 8 {
		return 0
	}
	oldest := p.wins[(p.nwins-n)%len(p.wins)]
	span := now.Sub(oldest).Seconds()
	if span <= 0 {
		return 0
	}
	return rate.Limit(float64(n) / span)
}

// succeeded records a success and brings the pace back towards the
// configured rate.
func (p *pacer) succeeded(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wins[p.nwins%len(p.wins)] = now
	p.nwins++
	l := p.limiter.Limit()
	if l >= p.target {
		return
	}
	step := p.target / 100
	if p.ceiling > 0 && l >= p.ceiling*0.9 {
		step = p.target / 2000
	}
	p.limiter.SetLimit(min(p.target, l+step))
}

// limit is the current pace in requests per second.
func (p *pacer) limit() float64 { return float64(p.limiter.Limit()) }

func (p *pacer) random() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64()
}

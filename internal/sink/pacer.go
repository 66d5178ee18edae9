package sink

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

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

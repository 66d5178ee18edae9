package sink

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// pacer is a system's rate limiter. It paces requests at the configured
// rate, and finds a lower server limit by time-based AIMD:
//
//   - a permit is taken when a request is about to leave, not reserved ahead,
//     so that a cut applies to the very next request of every worker;
//   - a 429 burst cuts the pace once by cutFactor: a 429 for a request sent
//     before the last cut is part of the burst that cut already answered;
//   - the pace climbs back by the second, not by the success: quickly up to
//     just under the pace that drew the last 429 (the ceiling), then slowly
//     beyond it, probing whether the limit has moved. The ceiling is
//     forgotten ceilingMemory after the cut that set it;
//   - it starts gently, at startFactor of the configured rate, and reaches
//     the full rate within startRamp unless a 429 comes first.
type pacer struct {
	mu        sync.Mutex
	rng       *rand.Rand
	target    float64   // configured requests per second
	rate      float64   // current pace
	ceiling   float64   // the pace that drew the last 429; 0 when none is remembered
	lastCut   time.Time // when the pace was last cut
	lastClimb time.Time // when the climb was last accounted for
	last      time.Time // when the last permit was given
	permits   int       // how many permits were given
	starting  bool      // still in the gentle start (no 429 yet)
}

const (
	cutFactor     = 0.85
	startFactor   = 0.75
	startRamp     = 250 * time.Millisecond
	ceilingMemory = 30 * time.Second
	// fastClimb is the climb per second, as a fraction of the configured
	// rate, below the ceiling; slowClimb the climb per second, as a
	// fraction of the ceiling, near and above it.
	fastClimb = 0.25
	slowClimb = 0.02
	// nearCeiling is where the slow climb begins, as a fraction of the
	// ceiling.
	nearCeiling = 0.95
)

func newPacer(perSecond float64) *pacer {
	return &pacer{
		rng:      rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		target:   perSecond,
		rate:     perSecond * startFactor,
		starting: true,
	}
}

// wait blocks until the system may send its next request, and takes the
// permit for it.
func (p *pacer) wait(ctx context.Context, clock Clock) error {
	for {
		p.mu.Lock()
		now := clock.Now()
		p.climb(now)
		// The next permit is due one interval at the current pace after the
		// last, so that a cut spaces the very next request.
		interval := time.Duration(float64(time.Second) / p.rate)
		due := p.last.Add(interval)
		if p.last.IsZero() || !now.Before(due) {
			// A waiter that woke a little late keeps the cadence (at most
			// half an interval is made up), so that scheduling delays do not
			// lower the pace; an idle pacer does not save up a burst. Not
			// while a server limit is remembered: two requests closer than
			// the interval are what a strict limiter answers with a 429.
			slack := interval / 2
			if p.ceiling > 0 {
				slack = 0
			}
			p.permits++
			switch earliest := now.Add(-slack); {
			case p.last.IsZero():
				p.last = now
			case due.Before(earliest):
				p.last = earliest
			default:
				p.last = due
			}
			p.mu.Unlock()
			return nil
		}
		d := due.Sub(now)
		p.mu.Unlock()
		if err := clock.Sleep(ctx, d); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// climb raises the pace by the time passed since it was last raised.
// Called with p.mu held.
func (p *pacer) climb(now time.Time) {
	if p.lastClimb.IsZero() {
		p.lastClimb = now
		return
	}
	dt := now.Sub(p.lastClimb).Seconds()
	if dt <= 0 {
		return
	}
	p.lastClimb = now
	if p.ceiling > 0 && now.Sub(p.lastCut) >= ceilingMemory {
		p.ceiling = 0
	}
	switch {
	case p.starting:
		p.rate += p.target * (1 - startFactor) * dt / startRamp.Seconds()
	case p.ceiling == 0:
		p.rate += p.target * fastClimb * dt
	default:
		knee := p.ceiling * nearCeiling
		if p.rate < knee {
			// Fast up to the knee; the rest of dt, if any, slowly.
			need := (knee - p.rate) / (p.target * fastClimb)
			if dt <= need {
				p.rate += p.target * fastClimb * dt
				break
			}
			p.rate, dt = knee, dt-need
		}
		p.rate += p.ceiling * slowClimb * dt
	}
	if p.rate >= p.target {
		p.rate = p.target
		p.starting = false
	}
}

// throttled cuts the pace after a 429 for a request sent at sent, unless a
// cut made after that request left has already answered the same overload.
func (p *pacer) throttled(sent, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.climb(now)
	if !p.lastCut.IsZero() && sent.Before(p.lastCut) {
		return
	}
	p.starting = false
	p.lastCut = now
	p.ceiling = p.rate
	p.rate = max(p.rate*cutFactor, min(minRate, p.target))
}

// limit is the current pace in requests per second.
func (p *pacer) limit() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

func (p *pacer) random() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64()
}

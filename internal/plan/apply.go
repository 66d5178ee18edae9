package plan

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Sink is one remote system, as Diff and Apply see it.
type Sink interface {
	// System names the system the sink writes to.
	System() System
	// Read returns the system's current groups. want is the desired state
	// of this system, so that the sink reads only what the plan needs (the
	// members of groups that manage phones). Any read that finally fails
	// is an error: a partial state must never be diffed.
	Read(ctx context.Context, want []Group) (Current, error)
	// Do applies one item and says how it went. It never panics on API
	// errors; they are part of the Outcome. An Outcome whose Err wraps
	// ErrStop means no further request to this system can succeed.
	Do(ctx context.Context, c *Change) Outcome
}

// ErrStop marks an error after which no further request should be sent to
// the system (bad credentials: LOX24 locks the IP out after a few).
var ErrStop = errors.New("no further requests to this system")

// Status is an item's final state in the report.
type Status string

// Item statuses.
const (
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Stale     Status = "stale"
)

// Outcome is how one item went.
type Outcome struct {
	Status     Status
	HTTPStatus int           // status of the last response, 0 if none
	Attempts   int           // requests sent for the item
	RequestID  string        // the API's request id of the last response, when it gives one
	Duration   time.Duration // from first request to last response
	Err        error         // why it failed or was skipped
	// NewKey is, for creates, the id the system gave the new record.
	NewKey string
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Workers is, per system, how many requests may be in flight (default 4).
	Workers map[System]int
	// Now is the clock for the report (default time.Now).
	Now func() time.Time
	// OnItem, when set, is called after each item ends (from several
	// goroutines, serialised by Apply).
	OnItem func(Item)
}

// Apply applies the plan's items through the sinks and returns the report of
// every item. Systems are applied side by side, each with at most Workers
// items in flight; one system's failure never stops the other. Items whose
// system has no sink, that carry an Error, or that cannot start because the
// context ended or the system stopped, are reported without a request.
// Apply returns when every item has an outcome.
func Apply(ctx context.Context, p *Plan, sinks map[System]Sink, opt ApplyOptions) *Report {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	r := newReport(p, now())
	var mu sync.Mutex
	record := func(i int, o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		r.set(i, o)
		if opt.OnItem != nil {
			opt.OnItem(r.Items[i])
		}
	}

	var wg sync.WaitGroup
	var stopMu sync.Mutex
	stopped := map[System]error{}
	for _, sys := range p.Systems {
		var idx []int
		for i := range p.Changes {
			if p.Changes[i].System == sys {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			continue
		}
		sink := sinks[sys]
		workers := opt.Workers[sys]
		if workers < 1 {
			workers = 4
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := applySystem(ctx, p, idx, sink, workers, record); err != nil {
				stopMu.Lock()
				stopped[sys] = err
				stopMu.Unlock()
			}
		}()
	}
	wg.Wait()
	for sys, err := range stopped {
		r.SetSystemError(sys, err)
	}
	r.finish(now(), ctx.Err() != nil)
	return r
}

// applySystem runs one system's items. Items are started in plan order, so
// a create always starts before the items that wait for it. It returns the
// error that stopped the system early, if one did.
func applySystem(ctx context.Context, p *Plan, idx []int, sink Sink, workers int, record func(int, Outcome)) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var g errgroup.Group
	g.SetLimit(workers)

	done := make(map[int]chan struct{}, len(idx)) // creates others depend on
	keys := make(map[int]string)                  // new keys of creates that succeeded
	var mu sync.Mutex
	for _, i := range idx {
		if p.Changes[i].Action == Create && p.Changes[i].Kind == KindGroup {
			done[i] = make(chan struct{})
		}
	}

	for _, i := range idx {
		c := p.Changes[i] // a copy: the group key of a dependent is filled in below
		if c.Error != "" {
			record(i, Outcome{Status: Failed, Err: errors.New(c.Error)})
			continue
		}
		if sink == nil {
			record(i, Outcome{Status: Skipped, Err: errors.New("system not configured")})
			continue
		}
		if err := context.Cause(ctx); err != nil {
			record(i, skipped(err))
			continue
		}
		g.Go(func() error {
			if ch := done[i]; ch != nil {
				defer close(ch)
			}
			if c.DependsOn > 0 {
				dep := c.DependsOn - 1
				if ch := done[dep]; ch != nil {
					<-ch
				}
				mu.Lock()
				c.Group = keys[dep]
				mu.Unlock()
				if c.Group == "" {
					record(i, Outcome{Status: Skipped, Err: errors.New("its group was not created")})
					return nil
				}
			}
			if err := context.Cause(ctx); err != nil {
				record(i, skipped(err))
				return nil
			}
			o := sink.Do(ctx, &c)
			if o.Status == Succeeded && o.NewKey != "" {
				mu.Lock()
				keys[i] = o.NewKey
				mu.Unlock()
			}
			if errors.Is(o.Err, ErrStop) {
				stop(o.Err)
			}
			record(i, o)
			return nil
		})
	}
	_ = g.Wait() // workers never return errors; outcomes carry them
	if err := context.Cause(ctx); errors.Is(err, ErrStop) {
		return err
	}
	return nil
}

func skipped(cause error) Outcome {
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return Outcome{Status: Skipped, Err: errors.New("not started: the run was interrupted")}
	}
	return Outcome{Status: Skipped, Err: fmt.Errorf("not started: the system was stopped after: %v", cause)}
}

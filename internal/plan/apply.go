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
	// Grace is how long requests in flight may still take once ctx is
	// cancelled (default 10s); after it they are cancelled too.
	Grace time.Duration
	// Stale holds, by index in the plan, the items Revalidate found stale:
	// they are reported stale and not written; items that wait for a stale
	// create are skipped.
	Stale map[int]string
}

// DefaultGrace is the default of ApplyOptions.Grace.
const DefaultGrace = 10 * time.Second

// Apply applies the plan's items through the sinks and returns the report of
// every item. Systems are applied side by side, each with at most Workers
// items in flight; one system's failure never stops the other. Items whose
// system has no sink, that carry an Error, or that cannot start because the
// context ended or the system stopped, are reported without a request.
//
// Cancelling ctx (an interrupt) stops new requests, retries included, at
// once; requests in flight may finish within opt.Grace. Apply returns when
// every item has an outcome.
func Apply(ctx context.Context, p *Plan, sinks map[System]Sink, opt ApplyOptions) *Report {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	grace := opt.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	// Requests run on their own context: it outlives ctx by the grace
	// period, and tells sinks through Stopping that no new request may start.
	reqCtx, cancelReqs := context.WithCancel(WithStop(context.WithoutCancel(ctx), ctx.Done()))
	defer cancelReqs()
	afterStop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancelReqs) })
	defer afterStop()
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
			if err := applySystem(ctx, reqCtx, p, idx, sink, workers, opt.Stale, record); err != nil {
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

// Batcher is implemented by sinks that can create several phone entries of
// one group in one request.
type Batcher interface {
	// BatchSize is the most items DoBatch takes at once.
	BatchSize() int
	// DoBatch creates the phone entries cs, all of one group, in one
	// request and returns one Outcome per item, in order.
	DoBatch(ctx context.Context, cs []*Change) []Outcome
}

// GroupCreator is implemented by sinks that create a group together with
// its user members in one request (HelloID's POST /groups takes userGuids).
type GroupCreator interface {
	// CreateWithMembers creates the group of the create item c with the
	// members of the user link items, in one request, and returns one
	// Outcome per item: the group's first, then each member's in order.
	CreateWithMembers(ctx context.Context, c *Change, members []*Change) []Outcome
}

// units groups a system's items into units of work, each one request: a
// single item, a batch of phone creates of one group when the sink can
// batch, or a group create with the user links that wait for it when the
// sink is a GroupCreator. Units keep plan order (by their first item), so a
// create always starts before the units that wait for it.
func units(p *Plan, idx []int, sink Sink) [][]int {
	b, _ := sink.(Batcher)
	size := 0
	if b != nil {
		size = b.BatchSize()
	}
	_, withMembers := sink.(GroupCreator)
	var out [][]int
	open := map[string]int{} // group -> index in out of its batch being filled
	creates := map[int]int{} // index in p.Changes of a group create -> its unit
	for _, i := range idx {
		c := &p.Changes[i]
		if withMembers && c.Kind == KindGroup && c.Action == Create {
			creates[i] = len(out)
		}
		if withMembers && c.Kind == KindUser && c.Action == Create && c.DependsOn > 0 {
			if u, ok := creates[c.DependsOn-1]; ok {
				out[u] = append(out[u], i)
				continue
			}
		}
		if size < 2 || c.Kind != KindPhone || c.Action != Create || c.Error != "" {
			out = append(out, []int{i})
			continue
		}
		key := fmt.Sprintf("%s/%d", c.Group, c.DependsOn)
		if u, ok := open[key]; ok && len(out[u]) < size {
			out[u] = append(out[u], i)
			continue
		}
		open[key] = len(out)
		out = append(out, []int{i})
	}
	return out
}

// applySystem runs one system's items: an item starts only while ctx is
// alive, and its requests run on reqCtx. It returns the error that stopped
// the system early, if one did.
func applySystem(ctx, reqCtx context.Context, p *Plan, idx []int, sink Sink, workers int, stale map[int]string, record func(int, Outcome)) error {
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
	recordAll := func(unit []int, o Outcome) {
		for _, i := range unit {
			record(i, o)
		}
	}

	// Items that are not sent are recorded first; a stale create's
	// dependents find its channel closed with no key, and are skipped.
	var send []int
	for _, i := range idx {
		why, isStale := stale[i]
		switch {
		case p.Changes[i].Error != "":
			record(i, Outcome{Status: Failed, Err: errors.New(p.Changes[i].Error)})
		case isStale:
			record(i, Outcome{Status: Stale, Err: errors.New("stale: " + why)})
		case sink == nil:
			record(i, Outcome{Status: Skipped, Err: errors.New("not applied")})
		default:
			send = append(send, i)
			continue
		}
		if ch := done[i]; ch != nil {
			close(ch) // a create that is not sent gives its dependents no key
		}
	}
	var todo [][]int
	if sink != nil {
		todo = units(p, send, sink)
	}
	for _, unit := range todo {
		if err := context.Cause(ctx); err != nil {
			recordAll(unit, skipped(err))
			continue
		}
		// Copies: the group key of a dependent item is filled in below.
		cs := make([]*Change, len(unit))
		for k, i := range unit {
			c := p.Changes[i]
			cs[k] = &c
		}
		g.Go(func() (err error) {
			// A panic in a sink or a callback fails the unit and stops
			// the system, rather than the process.
			defer func() {
				if v := recover(); v != nil {
					perr := fmt.Errorf("internal error: %v; %w", v, ErrStop)
					stop(perr)
					recordAll(unit, Outcome{Status: Failed, Err: perr})
				}
			}()
			first := unit[0]
			if ch := done[first]; ch != nil {
				defer close(ch)
			}
			if dep := cs[0].DependsOn - 1; dep >= 0 {
				if ch := done[dep]; ch != nil {
					<-ch
				}
				mu.Lock()
				key := keys[dep]
				mu.Unlock()
				if key == "" {
					recordAll(unit, Outcome{Status: Skipped, Err: errors.New("not started: its group was not created")})
					return nil
				}
				for _, c := range cs {
					c.Group = key
				}
			}
			if err := context.Cause(ctx); err != nil {
				recordAll(unit, skipped(err))
				return nil
			}
			var outs []Outcome
			b, ok := sink.(Batcher)
			gc, isGC := sink.(GroupCreator)
			switch {
			case ok && cs[0].Kind == KindPhone && cs[0].Action == Create:
				outs = b.DoBatch(reqCtx, cs)
			case isGC && cs[0].Kind == KindGroup && cs[0].Action == Create && len(cs) > 1:
				outs = gc.CreateWithMembers(reqCtx, cs[0], cs[1:])
			default:
				outs = []Outcome{sink.Do(reqCtx, cs[0])}
			}
			if len(outs) != len(unit) {
				recordAll(unit, Outcome{Status: Failed, Err: fmt.Errorf("%s: %d outcomes for %d items", sink.System(), len(outs), len(unit))})
				return nil
			}
			for k, o := range outs {
				if o.Status == Succeeded && o.NewKey != "" {
					mu.Lock()
					keys[unit[k]] = o.NewKey
					mu.Unlock()
				}
				if errors.Is(o.Err, ErrStop) {
					stop(o.Err)
				}
				if o.Status == Failed && o.Attempts == 0 && ctx.Err() != nil {
					o.Status = Skipped // it waited for its turn and the run stopped
				}
				record(unit[k], o)
			}
			return nil
		})
	}
	_ = g.Wait() // workers never return errors; outcomes carry them
	if err := context.Cause(ctx); errors.Is(err, ErrStop) {
		return err
	}
	return nil
}

// skipped is the outcome of an item that did not start: its system was
// stopped (ErrStop, e.g. after a 401), or else the run was interrupted
// (whatever the cause the caller gave its context: a signal, a deadline).
func skipped(cause error) Outcome {
	if errors.Is(cause, ErrStop) {
		return Outcome{Status: Skipped, Err: fmt.Errorf("not started: the system was stopped after: %v", cause)} //nolint:errorlint // the item was never sent: it must not match errors.Is(ErrStop) as the cause does
	}
	return Outcome{Status: Skipped, Err: errors.New("not started: the run was interrupted")}
}

type stopKey struct{}

// WithStop marks ctx with the channel that closes when the run is asked to
// stop: requests already sent may finish (ctx stays alive for a grace
// period), but no new request should start. Apply marks the context it
// hands to sinks this way.
func WithStop(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

// Stopping returns a channel that closes when the run has been asked to stop
// (SIGINT/SIGTERM) and no new request should start, not even a retry. It is
// nil (never closes) outside Apply.
func Stopping(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stopKey{}).(<-chan struct{})
	return ch
}

// StopRequested reports whether Stopping(ctx) has closed.
func StopRequested(ctx context.Context) bool {
	select {
	case <-Stopping(ctx):
		return true
	default:
		return false
	}
}

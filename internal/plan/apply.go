package plan

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
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
	// Uncertain says, for a failed item, that its write may have been
	// applied all the same: an answer was lost, or a 5xx or timeout came
	// after a request that may have reached the server, or the check of
	// whether a create happened after a lost answer failed. Verify's
	// re-read decides such an item.
	Uncertain bool
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
		key := fmt.Sprintf("%s/%d", c.GroupKey, c.DependsOn)
		if u, ok := open[key]; ok && len(out[u]) < size {
			out[u] = append(out[u], i)
			continue
		}
		open[key] = len(out)
		out = append(out, []int{i})
	}
	return out
}

// job is a unit of work as the dispatcher holds it: its items, the
// requests already sent for it (after a 429), the outcome that sent it back
// to the queue, and when its first request started.
type job struct {
	unit     []int
	attempts int
	last     []Outcome
	first    time.Time
}

// jobResult is what a worker tells the dispatcher when it is done with a
// job: either the job's items have their outcomes, or the system throttled
// the job (HTTP 429, nothing carried out) and it is to be sent again after
// the wait.
type jobResult struct {
	job   job
	after time.Duration // > 0: throttled, requeue after this wait
	// finished are the items of the unit sent that have their outcomes
	// while the rest (job.unit) is requeued: a batch found partly carried
	// out after a lost answer, whose resend of the rest was throttled.
	finished []int
}

// applySystem runs one system's items: an item starts only while ctx is
// alive, and its requests run on reqCtx. It returns the error that stopped
// the system early, if one did.
//
// One dispatcher hands units to at most workers goroutines. A unit that
// waits for a group create is held back (taking no worker) until the create
// has its outcome. A unit the system throttled (429) gives its worker back:
// it waits out the Retry-After on a timer and is queued again, ahead of
// units not yet started, keeping its count of requests sent, which the
// sink bounds.
func applySystem(ctx, reqCtx context.Context, p *Plan, idx []int, sink Sink, workers int, stale map[int]string, record func(int, Outcome)) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	creates := map[int]bool{}    // creates others may depend on
	finished := map[int]bool{}   // of those, the ones with an outcome
	keys := make(map[int]string) // new keys of creates that succeeded
	parked := map[int][]job{}    // units waiting for a create, by its index
	var mu sync.Mutex            // guards keys
	for _, i := range idx {
		if p.Changes[i].Action == Create && p.Changes[i].Kind == KindGroup {
			creates[i] = true
		}
	}
	recordAll := func(unit []int, o Outcome) {
		for _, i := range unit {
			record(i, o)
		}
	}

	// Items that are not sent are recorded first; a stale create's
	// dependents find it finished with no key, and are skipped.
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
		finished[i] = true // a create that is not sent gives its dependents no key
	}
	var todo [][]int
	if sink != nil {
		todo = units(p, send, sink)
	}

	results := make(chan jobResult)
	wake := make(chan job)
	var timers sync.WaitGroup
	var queue []job // units ready to start: requeued ones, and those a create released
	next, running, waiting := 0, 0, 0
	// dependency returns the create a unit waits for, or -1.
	dependency := func(unit []int) int {
		if dep := p.Changes[unit[0]].DependsOn - 1; dep >= 0 && creates[dep] {
			return dep
		}
		return -1
	}
	// pick returns the next unit to start, parking those whose create has
	// no outcome yet.
	pick := func() (job, bool) {
		if len(queue) > 0 {
			j := queue[0]
			queue = queue[1:]
			return j, true
		}
		for next < len(todo) {
			j := job{unit: todo[next]}
			next++
			if dep := dependency(j.unit); dep >= 0 && !finished[dep] {
				parked[dep] = append(parked[dep], j)
				continue
			}
			return j, true
		}
		return job{}, false
	}
	// done marks a unit's items as having their outcomes, releasing the
	// units that wait for it.
	done := func(unit []int) {
		for _, i := range unit {
			if creates[i] {
				finished[i] = true
				queue = append(queue, parked[i]...)
				delete(parked, i)
			}
		}
	}
	for {
		for running < workers {
			j, ok := pick()
			if !ok {
				break
			}
			if err := context.Cause(ctx); err != nil {
				recordAll(j.unit, notStarted(j, err))
				done(j.unit)
				continue
			}
			running++
			go func() { results <- runUnit(ctx, reqCtx, p, sink, j, keys, &mu, stop, recordAll) }()
		}
		if running == 0 && waiting == 0 && len(queue) == 0 && next == len(todo) {
			break
		}
		select {
		case r := <-results:
			running--
			done(r.finished)
			if r.after <= 0 {
				done(r.job.unit)
				continue
			}
			waiting++
			timers.Add(1)
			go func() {
				defer timers.Done()
				t := time.NewTimer(r.after)
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
				}
				wake <- r.job
			}()
		case j := <-wake:
			waiting--
			queue = append([]job{j}, queue...)
		}
	}
	timers.Wait()
	if err := context.Cause(ctx); errors.Is(err, ErrStop) {
		return err
	}
	return nil
}

// notStarted is the outcome of a unit that is not sent (again) because the
// run stopped: skipped, or for a unit the system throttled, its last
// answer, not retried.
func notStarted(j job, cause error) Outcome {
	if len(j.last) == 0 {
		return skipped(cause)
	}
	o := j.last[0]
	if errors.Is(cause, ErrStop) {
		cause = errors.New("the system was stopped")
	} else {
		cause = errors.New("interrupted")
	}
	o.Err = fmt.Errorf("not retried (%v): %w", cause, o.Err) //nolint:errorlint // o.Err is what callers branch on; the cause only says why
	return o
}

// runUnit sends one unit and records its outcomes, unless the system
// throttled it: then it records nothing and says how long to wait.
func runUnit(ctx, reqCtx context.Context, p *Plan, sink Sink, j job, keys map[int]string, mu *sync.Mutex, stop context.CancelCauseFunc, recordAll func([]int, Outcome)) (res jobResult) {
	unit := j.unit
	res.job = j
	// A panic in a sink or a callback fails the unit and stops the
	// system, rather than the process.
	defer func() {
		if v := recover(); v != nil {
			perr := fmt.Errorf("internal error: %v; %w", v, ErrStop)
			stop(perr)
			recordAll(unit, Outcome{Status: Failed, Err: perr})
			res.after = 0
		}
	}()
	// Copies: the group key of a dependent item is filled in below.
	cs := make([]*Change, len(unit))
	for k, i := range unit {
		c := p.Changes[i]
		cs[k] = &c
	}
	if dep := cs[0].DependsOn - 1; dep >= 0 {
		mu.Lock()
		key := keys[dep]
		mu.Unlock()
		if key == "" {
			recordAll(unit, Outcome{Status: Skipped, Err: errors.New("not started: its group was not created")})
			return res
		}
		for _, c := range cs {
			c.GroupKey = key
		}
	}
	if err := context.Cause(ctx); err != nil {
		recordAll(unit, notStarted(j, err))
		return res
	}
	if j.first.IsZero() {
		res.job.first = time.Now()
	}
	rctx := WithRequeue(reqCtx, j.attempts)
	var outs []Outcome
	b, ok := sink.(Batcher)
	gc, isGC := sink.(GroupCreator)
	switch {
	case ok && cs[0].Kind == KindPhone && cs[0].Action == Create:
		outs = b.DoBatch(rctx, cs)
	case isGC && cs[0].Kind == KindGroup && cs[0].Action == Create && len(cs) > 1:
		outs = gc.CreateWithMembers(rctx, cs[0], cs[1:])
	default:
		outs = []Outcome{sink.Do(rctx, cs[0])}
	}
	if len(outs) != len(unit) {
		recordAll(unit, Outcome{Status: Failed, Err: fmt.Errorf("%s: %d outcomes for %d items", sink.System(), len(outs), len(unit))})
		return res
	}
	for k := range outs {
		// A call before a throttled one may have been applied: the item's
		// outcome stays uncertain across its requeues.
		if k < len(j.last) && j.last[k].Uncertain {
			outs[k].Uncertain = true
		}
	}
	if after, attempts, ok := throttled(outs); ok {
		res.after, res.job.attempts, res.job.last = after, attempts, outs
		return res
	}
	// Some items carried out and the rest throttled (a batch found partly
	// done after a lost answer, whose resend of the rest drew a 429): the
	// rest alone is requeued, the others recorded below.
	requeued := make([]bool, len(outs))
	var rest []int
	var restLast []Outcome
	for k := range outs {
		if after, attempts, ok := throttled(outs[k : k+1]); ok {
			requeued[k] = true
			rest, restLast = append(rest, unit[k]), append(restLast, outs[k])
			res.after, res.job.attempts = max(res.after, after), max(res.job.attempts, attempts)
		}
	}
	if len(rest) > 0 {
		for k := range outs {
			if !requeued[k] {
				res.finished = append(res.finished, unit[k])
			}
		}
		res.job.unit, res.job.last = rest, restLast
	}
	for k, o := range outs {
		if requeued[k] {
			continue
		}
		if j.attempts > 0 {
			// Sent before and throttled: the count and the time span
			// are the item's, not this last call's.
			o.Attempts = max(o.Attempts, j.attempts)
			o.Duration = time.Since(j.first)
		}
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
		recordAll(unit[k:k+1], o)
	}
	return res
}

// throttled reports whether the system throttled every item of a unit
// (one request), and then the longest wait and the requests sent.
func throttled(outs []Outcome) (after time.Duration, attempts int, ok bool) {
	for _, o := range outs {
		var te *ThrottledError
		if o.Status != Failed || !errors.As(o.Err, &te) || te.After <= 0 {
			return 0, 0, false
		}
		after, attempts = max(after, te.After), max(attempts, o.Attempts)
	}
	return after, attempts, len(outs) > 0
}

// ThrottledError is the error of a write the system refused for now (HTTP
// 429) and did not carry out, which a sink returns at once, instead of
// waiting to send it again, when Apply can requeue the item (see
// Requeue): Apply sends it again after After, and the worker meanwhile
// takes other items. The Outcome's Attempts counts the requests sent for
// the item so far.
type ThrottledError struct {
	After time.Duration
	Err   error
}

func (e *ThrottledError) Error() string { return e.Err.Error() }
func (e *ThrottledError) Unwrap() error { return e.Err }

type requeueKey struct{}

// WithRequeue marks ctx for a write that may be requeued after a 429, with
// attempts requests sent for the item before (Apply marks its writes so).
func WithRequeue(ctx context.Context, attempts int) context.Context {
	return context.WithValue(ctx, requeueKey{}, attempts)
}

// Requeue reports whether the write ctx is for may be requeued after a 429
// (Apply marks the contexts of its writes so), and how many requests were
// sent for the item before: the sink counts on from there, so that its
// bound on attempts holds for the item across requeues.
func Requeue(ctx context.Context) (attempts int, ok bool) {
	attempts, ok = ctx.Value(requeueKey{}).(int)
	return attempts, ok
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

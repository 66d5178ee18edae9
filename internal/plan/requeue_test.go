package plan

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// throttlingSink answers the first throttle requests for an item with a
// 429 that was not carried out, as a sink does inside Apply, and counts the
// requests sent for the item on from those Apply says were sent before.
type throttlingSink struct {
	throttle map[string]int // item name -> 429s to answer before applying it
	after    time.Duration
	max      int // the sink's bound on requests per item
	// during, when set, is called for each request, before it is answered.
	during func(c *Change)

	mu      sync.Mutex
	events  []string
	applied map[string]int
}

func (s *throttlingSink) System() System { return LOX24 }
func (s *throttlingSink) Read(context.Context, []Group) (Current, error) {
	return Current{System: LOX24}, nil
}

func (s *throttlingSink) Do(ctx context.Context, c *Change) Outcome {
	before, ok := Requeue(ctx)
	if !ok {
		panic("Apply's writes may be requeued")
	}
	if s.during != nil {
		s.during(c)
	}
	attempt := before + 1
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle[c.Name] >= attempt {
		err := fmt.Errorf("put %s: HTTP 429 Too Many Requests", c.Name)
		if attempt >= s.max {
			s.events = append(s.events, c.Name+" failed")
			return Outcome{Status: Failed, HTTPStatus: 429, Attempts: attempt, Err: err}
		}
		s.events = append(s.events, c.Name+" throttled")
		return Outcome{Status: Failed, HTTPStatus: 429, Attempts: attempt, Err: &ThrottledError{After: s.after, Err: err}}
	}
	s.events = append(s.events, c.Name+" applied")
	if s.applied == nil {
		s.applied = map[string]int{}
	}
	s.applied[c.Name]++
	o := Outcome{Status: Succeeded, HTTPStatus: 200, Attempts: attempt}
	if c.Kind == KindGroup && c.Action == Create {
		o.NewKey = "77"
	}
	return o
}

func namedUpdate(name string) Change {
	c := groupUpdate(LOX24, name)
	c.Name = name
	return c
}

// With one worker, the item the system throttled gives the worker back:
// the next item is applied while it waits, and it is then applied once,
// its report counting both requests.
func TestApplyRequeuesAThrottledItemAndTakesTheNext(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	p.Changes = []Change{namedUpdate("A"), namedUpdate("B")}
	s := &throttlingSink{throttle: map[string]int{"A": 1}, after: time.Millisecond, max: 5}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: s}, ApplyOptions{Workers: map[System]int{LOX24: 1}})

	assert.Equal(t, []string{"A throttled", "B applied", "A applied"}, s.events)
	assert.Equal(t, map[string]int{"A": 1, "B": 1}, s.applied)
	assert.Equal(t, Succeeded, r.Items[0].Status)
	assert.Equal(t, 2, r.Items[0].Attempts)
	assert.Equal(t, Tally{Planned: 2, Succeeded: 2}, r.Summary)
}

// The sink's bound on requests holds for the item across requeues: the
// count Apply hands back grows each time.
func TestApplyRequeueKeepsTheAttemptBound(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	p.Changes = []Change{namedUpdate("A"), namedUpdate("B")}
	s := &throttlingSink{throttle: map[string]int{"A": 100}, after: time.Millisecond, max: 3}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: s}, ApplyOptions{Workers: map[System]int{LOX24: 2}})

	var a []string
	for _, e := range s.events {
		if e[0] == 'A' {
			a = append(a, e)
		}
	}
	assert.Equal(t, []string{"A throttled", "A throttled", "A failed"}, a)
	assert.Equal(t, Failed, r.Items[0].Status)
	assert.Equal(t, 3, r.Items[0].Attempts)
	assert.Contains(t, r.Items[0].Error, "HTTP 429")
	assert.Equal(t, Succeeded, r.Items[1].Status)
}

// Members of a group create that was throttled still wait for it, and get
// its new id; other items go ahead meanwhile, even with one worker.
func TestApplyRequeuedCreateStillHoldsItsMembers(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	p.Changes = []Change{
		{System: LOX24, Kind: KindGroup, Action: Create, Name: "New"},
		{System: LOX24, Kind: KindGroup, Action: Update, Key: "1", Name: "m1", DependsOn: 1},
		{System: LOX24, Kind: KindGroup, Action: Update, Key: "2", Name: "m2", DependsOn: 1},
		namedUpdate("C"),
	}
	var groups []string
	s := &throttlingSink{throttle: map[string]int{"New": 2}, after: time.Millisecond, max: 5,
		during: func(c *Change) {
			if c.DependsOn != 0 {
				groups = append(groups, c.GroupKey)
			}
		}}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: s}, ApplyOptions{Workers: map[System]int{LOX24: 1}})

	require.Len(t, s.events, 6)
	assert.Equal(t, []string{"New throttled", "C applied", "New throttled", "New applied"}, s.events[:4])
	assert.ElementsMatch(t, []string{"m1 applied", "m2 applied"}, s.events[4:])
	assert.Equal(t, []string{"77", "77"}, groups)
	assert.Equal(t, Tally{Planned: 4, Succeeded: 4}, r.Summary)
	assert.Equal(t, 3, r.Items[0].Attempts)
}

// An interrupt while a throttled item waits ends the wait: the item is not
// sent again (its last answer is reported), and what was to follow it,
// its members included, is skipped.
func TestApplyInterruptEndsTheWaitOfAThrottledItem(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	p.Changes = []Change{
		{System: LOX24, Kind: KindGroup, Action: Create, Name: "New"},
		{System: LOX24, Kind: KindGroup, Action: Update, Key: "1", Name: "m1", DependsOn: 1},
		namedUpdate("B"),
		namedUpdate("C"),
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s := &throttlingSink{throttle: map[string]int{"New": 1}, after: time.Hour, max: 5,
		during: func(c *Change) {
			if c.Name == "B" {
				cancel(errors.New("interrupted by terminated"))
			}
		}}
	r := Apply(ctx, p, map[System]Sink{LOX24: s}, ApplyOptions{Workers: map[System]int{LOX24: 1}})

	assert.Equal(t, []string{"New throttled", "B applied"}, s.events)
	assert.True(t, r.Interrupted)
	assert.Equal(t, Failed, r.Items[0].Status)
	assert.Equal(t, 1, r.Items[0].Attempts)
	assert.Contains(t, r.Items[0].Error, "not retried (interrupted)")
	assert.Equal(t, Skipped, r.Items[1].Status)
	assert.Equal(t, Succeeded, r.Items[2].Status)
	assert.Equal(t, Skipped, r.Items[3].Status)
}

// partlyDoneBatcher answers its first batch as a batch found partly carried
// out after a lost answer whose resend of the rest drew a 429: the first
// item succeeded, the others throttled. Later batches succeed.
type partlyDoneBatcher struct {
	throttlingSink
	batches [][]string
}

func (b *partlyDoneBatcher) BatchSize() int { return 10 }

func (b *partlyDoneBatcher) DoBatch(ctx context.Context, cs []*Change) []Outcome {
	before, _ := Requeue(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	var phones []string
	for _, c := range cs {
		phones = append(phones, c.Phone)
	}
	b.batches = append(b.batches, phones)
	outs := make([]Outcome, len(cs))
	for k := range cs {
		switch {
		case len(b.batches) == 1 && k > 0:
			outs[k] = Outcome{Status: Failed, HTTPStatus: 429, Attempts: before + 2,
				Err: &ThrottledError{After: time.Millisecond, Err: errors.New("add phones: HTTP 429 Too Many Requests")}}
		default:
			outs[k] = Outcome{Status: Succeeded, HTTPStatus: 201, Attempts: before + 1, NewKey: fmt.Sprint(len(b.batches)*10 + k)}
		}
	}
	return outs
}

// A batch of which some items were carried out and the rest throttled
// records the first and requeues the rest alone: they are sent again, and
// none is reported failed while attempts remain.
func TestApplyRequeuesTheThrottledRestOfAPartlyDoneBatch(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	for _, n := range []string{"+4915100000001", "+4915100000002", "+4915100000003"} {
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Create, Name: "G", GroupKey: "7", Phone: n})
	}
	b := &partlyDoneBatcher{}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: b}, ApplyOptions{Workers: map[System]int{LOX24: 1}})
	assert.Equal(t, [][]string{{"+4915100000001", "+4915100000002", "+4915100000003"}, {"+4915100000002", "+4915100000003"}}, b.batches)
	require.Len(t, r.Items, 3)
	for i, it := range r.Items {
		assert.Equal(t, Succeeded, it.Status, "item %d: %s", i, it.Error)
	}
	assert.Equal(t, 1, r.Items[0].Attempts)
	assert.Equal(t, 3, r.Items[1].Attempts, "two requests in the first batch, one in the second")
	assert.Equal(t, "20", r.Items[1].NewKey)
}

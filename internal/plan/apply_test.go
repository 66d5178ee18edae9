package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSink records the items it is asked to do and answers with do.
type fakeSink struct {
	sys      System
	do       func(c *Change) Outcome
	mu       sync.Mutex
	seen     []Change
	inFlight atomic.Int32
	peak     atomic.Int32
	delay    time.Duration
}

func (f *fakeSink) System() System { return f.sys }
func (f *fakeSink) Read(context.Context, []Group) (Current, error) {
	return Current{System: f.sys}, nil
}

func (f *fakeSink) Do(ctx context.Context, c *Change) Outcome {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(f.delay)
	f.mu.Lock()
	f.seen = append(f.seen, *c)
	f.mu.Unlock()
	if f.do != nil {
		return f.do(c)
	}
	return Outcome{Status: Succeeded, HTTPStatus: 200, Attempts: 1}
}

func groupUpdate(sys System, key string) Change {
	return Change{System: sys, Kind: KindGroup, Action: Update, Key: key, Name: "g" + key,
		Fields: []FieldChange{{Field: "description", Before: Null, After: Str("x")}}}
}

func TestApplyReportsEveryItem(t *testing.T) {
	p := &Plan{Systems: []System{LOX24, HelloID}, Unchanged: map[System]int{LOX24: 3, HelloID: 1}}
	p.Changes = append(p.Changes, groupUpdate(LOX24, "1"), groupUpdate(LOX24, "2"), groupUpdate(HelloID, guidA))
	p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindGroup, Action: Update, Key: "9", Name: "bad", Error: "id 9 does not exist", Source: Source{"g.yaml", 4}})
	lox := &fakeSink{sys: LOX24, do: func(c *Change) Outcome {
		if c.Key == "2" {
			return Outcome{Status: Failed, HTTPStatus: 422, Attempts: 1, Err: errors.New("lox24: put group 2: HTTP 422: name: too long")}
		}
		return Outcome{Status: Succeeded, HTTPStatus: 200, Attempts: 1, RequestID: "abc"}
	}}
	hid := &fakeSink{sys: HelloID}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: lox, HelloID: hid}, ApplyOptions{})

	assert.Equal(t, Tally{Planned: 4, Succeeded: 2, Failed: 2, Unchanged: 4}, r.Summary)
	assert.Equal(t, Tally{Planned: 3, Succeeded: 1, Failed: 2, Unchanged: 3}, r.Systems[LOX24])
	assert.Equal(t, Tally{Planned: 1, Succeeded: 1, Unchanged: 1}, r.Systems[HelloID])
	assert.Equal(t, Succeeded, r.Items[0].Status)
	assert.Equal(t, "abc", r.Items[0].RequestID)
	assert.Equal(t, Failed, r.Items[1].Status, "a failed item does not cancel its siblings")
	assert.Contains(t, r.Items[1].Error, "name: too long")
	assert.Equal(t, Failed, r.Items[3].Status)
	assert.Equal(t, "id 9 does not exist", r.Items[3].Error)
	assert.Equal(t, 0, r.Items[3].Attempts, "an item with an error is never sent")
	assert.Equal(t, "g.yaml:4", r.Items[3].Source)
	assert.Len(t, lox.seen, 2)
	assert.False(t, r.OK())
	assert.False(t, r.Fatal())
}

func TestApplyStopsASystemOnErrStopButNotTheOther(t *testing.T) {
	p := &Plan{Systems: []System{LOX24, HelloID}, Unchanged: map[System]int{}}
	for i := range 10 {
		p.Changes = append(p.Changes, groupUpdate(LOX24, fmt.Sprint(i)))
	}
	p.Changes = append(p.Changes, groupUpdate(HelloID, guidA), groupUpdate(HelloID, guidB))
	lox := &fakeSink{sys: LOX24, do: func(c *Change) Outcome {
		return Outcome{Status: Failed, HTTPStatus: 401, Attempts: 1, Err: fmt.Errorf("lox24: HTTP 401: %w", ErrStop)}
	}}
	hid := &fakeSink{sys: HelloID}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: lox, HelloID: hid}, ApplyOptions{Workers: map[System]int{LOX24: 1}})

	assert.Len(t, lox.seen, 1, "after a 401 no further request goes to that system")
	assert.Equal(t, 1, r.Systems[LOX24].Failed)
	assert.Equal(t, 9, r.Systems[LOX24].Skipped)
	assert.NotEmpty(t, r.Systems[LOX24].Error)
	assert.Equal(t, 2, r.Systems[HelloID].Succeeded, "the other system carries on")
	assert.True(t, r.Fatal())
}

func TestApplyKeepsWorkersLimit(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	for i := range 40 {
		p.Changes = append(p.Changes, groupUpdate(LOX24, fmt.Sprint(i)))
	}
	lox := &fakeSink{sys: LOX24, delay: 2 * time.Millisecond}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: lox}, ApplyOptions{Workers: map[System]int{LOX24: 3}})
	assert.Equal(t, 40, r.Summary.Succeeded)
	assert.LessOrEqual(t, lox.peak.Load(), int32(3))
	assert.GreaterOrEqual(t, lox.peak.Load(), int32(2), "items run concurrently")
}

func TestApplyDependentItemsWaitForTheirCreate(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	p.Changes = []Change{
		{System: LOX24, Kind: KindGroup, Action: Create, Name: "New"},
		{System: LOX24, Kind: KindPhone, Action: Create, Name: "New", Phone: "+4915112345678", DependsOn: 1},
		{System: LOX24, Kind: KindGroup, Action: Create, Name: "Broken"},
		{System: LOX24, Kind: KindPhone, Action: Create, Name: "Broken", Phone: "+4915112345679", DependsOn: 3},
	}
	lox := &fakeSink{sys: LOX24, delay: time.Millisecond, do: func(c *Change) Outcome {
		switch {
		case c.Kind == KindGroup && c.Name == "New":
			return Outcome{Status: Succeeded, NewKey: "77"}
		case c.Kind == KindGroup:
			return Outcome{Status: Failed, Err: errors.New("boom")}
		}
		return Outcome{Status: Succeeded}
	}}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: lox}, ApplyOptions{Workers: map[System]int{LOX24: 4}})

	require.Len(t, lox.seen, 3)
	var phone *Change
	for i := range lox.seen {
		if lox.seen[i].Kind == KindPhone {
			phone = &lox.seen[i]
		}
	}
	require.NotNil(t, phone)
	assert.Equal(t, "77", phone.GroupKey, "the member item uses the new group's id")
	assert.Equal(t, "77", r.Items[0].Key, "the report names the created group's id")
	assert.Equal(t, Skipped, r.Items[3].Status, "members of a group whose create failed are skipped")
	assert.Equal(t, Succeeded, r.Items[1].Status)
}

func TestApplyAfterCancelSkipsEverythingNotStarted(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	for i := range 5 {
		p.Changes = append(p.Changes, groupUpdate(LOX24, fmt.Sprint(i)))
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupted by terminated")) // as main cancels on a signal
	lox := &fakeSink{sys: LOX24}
	r := Apply(ctx, p, map[System]Sink{LOX24: lox}, ApplyOptions{})
	assert.Empty(t, lox.seen)
	assert.True(t, r.Interrupted)
	assert.Equal(t, 5, r.Summary.Skipped)
	assert.Equal(t, "not started: the run was interrupted", r.Items[0].Error)
}

func TestReportEncodeIsSchemaVersion1(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 7}}
	p.Changes = []Change{groupUpdate(LOX24, "12344")}
	p.Changes[0].Source = Source{"groups.yaml", 3}
	clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	r := Apply(context.Background(), p, map[System]Sink{LOX24: &fakeSink{sys: LOX24}}, ApplyOptions{Now: func() time.Time { return clock }})
	var raw bytes.Buffer
	require.NoError(t, r.Encode(&raw))
	assert.True(t, strings.HasSuffix(raw.String(), "}\n"))

	var got map[string]any
	require.NoError(t, json.Unmarshal(raw.Bytes(), &got))
	assert.EqualValues(t, 1, got["version"])
	assert.Equal(t, "2026-11-22T10:00:00Z", got["started_at"])
	assert.Equal(t, false, got["interrupted"])
	assert.Equal(t, map[string]any{"planned": 1.0, "succeeded": 1.0, "failed": 0.0, "skipped": 0.0, "stale": 0.0, "unchanged": 7.0, "verified": 0.0}, got["summary"])
	item := got["items"].([]any)[0].(map[string]any)
	for _, k := range []string{"system", "kind", "action", "key", "name", "status", "http_status", "attempts", "request_id", "duration_ms", "source", "error", "before", "after"} {
		assert.Contains(t, item, k)
	}
	assert.Equal(t, "groups.yaml:3", item["source"])
}

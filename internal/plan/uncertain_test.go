package plan

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uncertainRun applies loopPlan where the update of group 1 and the create
// of "New" (and so its member, which waits for it) fail with outcomes that
// may have been applied, and the new member of group 1 fails certainly.
func uncertainRun(t *testing.T) *Report {
	t.Helper()
	sink := &fakeSink{sys: LOX24, do: func(c *Change) Outcome {
		switch {
		case c.Kind == KindGroup && c.Action == Update:
			return Outcome{Status: Failed, Attempts: 5, HTTPStatus: 503, Err: errors.New("put group 1: HTTP 503"), Uncertain: true}
		case c.Kind == KindGroup && c.Action == Create:
			return Outcome{Status: Failed, Attempts: 2, Err: errors.New("checking whether it happened anyway failed"), Uncertain: true}
		case c.Kind == KindPhone && c.Action == Create:
			return Outcome{Status: Failed, Attempts: 1, HTTPStatus: 422, Err: errors.New("HTTP 422")}
		}
		return Outcome{Status: Succeeded, Attempts: 1}
	}}
	r := Apply(context.Background(), loopPlan(), map[System]Sink{LOX24: sink}, ApplyOptions{})
	require.Equal(t, Failed, r.Items[0].Status)
	require.True(t, r.Items[0].Uncertain)
	require.True(t, r.Items[1].Uncertain)
	require.False(t, r.Items[3].Uncertain)
	return r
}

func TestTouchedReadsTheGroupsOfUncertainFailures(t *testing.T) {
	r := uncertainRun(t)
	refs := Touched(r)[LOX24]
	assert.Contains(t, refs, GroupRef{Key: "1", Members: true}, "the uncertain update's group")
	assert.Contains(t, refs, GroupRef{Name: "New"}, "a create with no key is looked for by name")
}

func TestVerifyTurnsUncertainFailuresThatHoldIntoSuccesses(t *testing.T) {
	r := uncertainRun(t)
	// Everything loopPlan wanted is there: the update and the create were
	// applied though their answers said otherwise, and someone else added
	// the member whose create was refused.
	Verify(r, map[System]Current{LOX24: after()})

	upd := r.Items[0]
	assert.Equal(t, Succeeded, upd.Status)
	assert.True(t, upd.Verified)
	assert.True(t, upd.Uncertain, "the item still says its outcome was first uncertain")
	assert.Empty(t, upd.Error)

	create := r.Items[1]
	assert.Equal(t, Succeeded, create.Status)
	assert.True(t, create.Verified)
	assert.Equal(t, "2", create.NewKey, "the create found by name carries the id the re-read shows")
	assert.Equal(t, "2", create.Key)

	assert.Equal(t, Skipped, r.Items[2].Status, "the member that waited for the create stays skipped")
	assert.Equal(t, "2", r.Items[2].Group, "it names the group now known")
	assert.Equal(t, "not started: its group's create was confirmed only by the re-read after apply; apply --retry-failed sends it",
		r.Items[2].Error, "not \"its group was not created\": it was")

	refused := r.Items[3]
	assert.Equal(t, Failed, refused.Status, "a certain failure stays failed even when the state is as wanted")
	assert.False(t, refused.Verified)
	assert.Equal(t, "HTTP 422", refused.Error)

	assert.Equal(t, 1, r.Summary.Failed)
	assert.Equal(t, 4, r.Summary.Succeeded)
}

func TestVerifyLeavesUncertainFailuresItCannotConfirm(t *testing.T) {
	r := uncertainRun(t)
	// Nothing was applied: group 1 keeps its old description, "New" is not there.
	Verify(r, map[System]Current{LOX24: {System: LOX24, Groups: []RemoteGroup{
		{Key: "1", Name: "One", Fields: map[string]Value{"description": Str("old")}},
	}}})
	assert.Equal(t, Failed, r.Items[0].Status)
	assert.Equal(t, "put group 1: HTTP 503", r.Items[0].Error, "the original error, not NotObserved")
	assert.Equal(t, Failed, r.Items[1].Status)
	assert.Equal(t, "checking whether it happened anyway failed", r.Items[1].Error)
	assert.False(t, r.Items[1].Verified)
	assert.Empty(t, r.Items[1].NewKey)
	assert.Equal(t, 3, r.Summary.Failed)
}

func TestUncertaintySurvivesARequeue(t *testing.T) {
	// The first call of the update may have been applied, then throttled;
	// the requeued call fails certainly: the item's outcome stays uncertain.
	calls := 0
	sink := &fakeSink{sys: LOX24, do: func(c *Change) Outcome {
		if c.Kind != KindGroup || c.Action != Update {
			return Outcome{Status: Succeeded, Attempts: 1, NewKey: "9"}
		}
		calls++
		if calls == 1 {
			return Outcome{Status: Failed, Attempts: 2, HTTPStatus: 429, Uncertain: true,
				Err: &ThrottledError{After: 1, Err: errors.New("HTTP 429")}}
		}
		return Outcome{Status: Failed, Attempts: 3, HTTPStatus: 503, Err: errors.New("HTTP 503")}
	}}
	r := Apply(context.Background(), loopPlan(), map[System]Sink{LOX24: sink}, ApplyOptions{})
	require.Equal(t, 2, calls)
	assert.Equal(t, Failed, r.Items[0].Status)
	assert.True(t, r.Items[0].Uncertain)
}

// Refs by name become refs to every listed group of that name (compared
// as names are), after the refs by key; a group asked for twice is asked
// for once, with its members if either ref wants them.
func TestRefsByName(t *testing.T) {
	names := map[string]string{"B-2": "Sales", "a-1": "sales", "c-3": "Other"}
	refs := []GroupRef{{Key: "a-1"}, {Name: "SALES", Members: true}, {Name: "Nobody"}}
	assert.Equal(t, []GroupRef{{Key: "a-1", Members: true}, {Key: "B-2", Members: true}},
		RefsByName(refs, names, strings.ToLower))
	assert.Equal(t, []GroupRef{{Key: "A-1"}, {Key: "B-2", Members: true}, {Key: "a-1", Members: true}},
		RefsByName([]GroupRef{{Key: "A-1"}, {Name: "sales", Members: true}}, names, nil), "without fold, keys are compared as written")
}

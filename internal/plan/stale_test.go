package plan

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// savedPlan is a plan made against the state loxState() returns.
func loxState() []RemoteGroup {
	g := loxRemote("12344", "My Clients", map[string]Value{"description": Str("Old"), "name_a": Str("prefix")})
	g.Phones = []RemotePhone{have("1", "+4915100000001", "Mr."), have("2", "+4915100000002", "Ms.")}
	return []RemoteGroup{g}
}

func savedPlan(t *testing.T) *Plan {
	t.Helper()
	want := Desired{Groups: []Group{
		{System: LOX24, Key: "12344", Name: "My Clients", Fields: map[string]Value{"description": Str("New")},
			Phones: members(PhonesExact, managedAB, want("+4915100000001", 2, "Dr."), want("+4915100000003", 3, "Mx."))},
		{System: LOX24, Name: "Fresh", Fields: map[string]Value{},
			Phones: members(PhonesExact, managedAB, want("+4915100000009", 2, "a"))},
	}}
	p := Diff(want, map[System]Current{LOX24: {Groups: loxState()}})
	// group update, phone update (1), phone add (3), phone delete (2), create Fresh, its phone add
	require.Len(t, p.Changes, 6)
	return p
}

func index(p *Plan, kind Kind, action Action, phone string) int {
	for i, c := range p.Changes {
		if c.Kind == kind && c.Action == action && c.Phone == phone {
			return i
		}
	}
	return -1
}

func TestRevalidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(g []RemoteGroup) []RemoteGroup
		stale  map[string]string // "kind action phone" -> reason
	}{
		{name: "nothing changed: nothing is stale", change: func(g []RemoteGroup) []RemoteGroup { return g }, stale: map[string]string{}},
		{name: "a changed field the plan changes makes the group update stale",
			change: func(g []RemoteGroup) []RemoteGroup { g[0].Fields["description"] = Str("Edited"); return g },
			stale:  map[string]string{"group update ": `description was "Old" when planned and is "Edited" now`}},
		{name: "a changed field the plan does not change is not a conflict",
			change: func(g []RemoteGroup) []RemoteGroup { g[0].Fields["name_b"] = Str("added"); return g },
			stale:  map[string]string{}},
		{name: "a group that is gone makes all its items stale",
			change: func(g []RemoteGroup) []RemoteGroup { return nil },
			stale: map[string]string{
				"group update ":               "group 12344 no longer exists",
				"phone update +4915100000001": "group 12344 no longer exists",
				"phone create +4915100000003": "group 12344 no longer exists",
				"phone delete +4915100000002": "group 12344 no longer exists",
			}},
		{name: "a group created meanwhile makes the create stale",
			change: func(g []RemoteGroup) []RemoteGroup { return append(g, loxRemote("77", "Fresh", nil)) },
			stale:  map[string]string{"group create ": `a group named "Fresh" exists now (id 77)`}},
		{name: "a member edited meanwhile makes its update stale",
			change: func(g []RemoteGroup) []RemoteGroup {
				g[0].Phones[0].Cols = g[0].Phones[0].Cols.With(0, "Prof.")
				return g
			},
			stale: map[string]string{"phone update +4915100000001": `a was "Mr." when planned and is "Prof." now`}},
		{name: "a member deleted meanwhile makes its delete stale",
			change: func(g []RemoteGroup) []RemoteGroup { g[0].Phones = g[0].Phones[:1]; return g },
			stale:  map[string]string{"phone delete +4915100000002": "phone entry 2 no longer exists"}},
		{name: "a member edited meanwhile makes its delete stale: it may be one to keep",
			change: func(g []RemoteGroup) []RemoteGroup {
				g[0].Phones[1].Cols = g[0].Phones[1].Cols.With(5, "VIP-keep-me")
				return g
			},
			stale: map[string]string{"phone delete +4915100000002": `callback_data was null when planned and is "VIP-keep-me" now`}},
		{name: "a member added meanwhile makes its add stale",
			change: func(g []RemoteGroup) []RemoteGroup {
				g[0].Phones = append(g[0].Phones, have("5", "+49 151 00000003"))
				return g
			},
			stale: map[string]string{"phone create +4915100000003": "the number is a member now"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := savedPlan(t)
			got := Revalidate(p, map[System]Current{LOX24: {Groups: tt.change(loxState())}})
			named := map[string]string{}
			for i, why := range got {
				c := p.Changes[i]
				named[string(c.Kind)+" "+string(c.Action)+" "+c.Phone] = why
			}
			assert.Equal(t, tt.stale, named)
		})
	}
}

func TestRevalidateRefreshesBaseSoUnmanagedFieldsAreNotReverted(t *testing.T) {
	p := savedPlan(t)
	now := loxState()
	now[0].Fields["name_b"] = Str("set by a colleague after the review")
	now[0].Phones[0].Cols = now[0].Phones[0].Cols.With(5, "crm-77")
	require.Empty(t, Revalidate(p, map[System]Current{LOX24: {Groups: now}}))
	g := p.Changes[index(p, KindGroup, Update, "")]
	assert.Equal(t, Str("set by a colleague after the review"), g.Record()["name_b"])
	assert.Equal(t, Str("New"), g.Record()["description"])
	ph := p.Changes[index(p, KindPhone, Update, "+4915100000001")]
	assert.Equal(t, Str("crm-77"), ph.Record()["callback_data"])
}

func TestApplyReportsStaleItemsWithoutSendingThem(t *testing.T) {
	p := savedPlan(t)
	create := index(p, KindGroup, Create, "")
	stale := map[int]string{create: "a group named \"Fresh\" exists now (id 77)"}
	lox := &fakeSink{sys: LOX24}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: lox}, ApplyOptions{Stale: stale})
	assert.Len(t, lox.seen, 4, "the stale create and its member are not sent")
	assert.Equal(t, Stale, r.Items[create].Status)
	assert.Contains(t, r.Items[create].Error, "stale: a group named")
	assert.Equal(t, Skipped, r.Items[create+1].Status)
	assert.Equal(t, 1, r.Summary.Stale)
	assert.False(t, r.OK())
}

func TestRevalidateKeepsAMemberStoredInNationalForm(t *testing.T) {
	state := func() []RemoteGroup {
		g := loxRemote("12344", "My Clients", map[string]Value{})
		g.Phones = []RemotePhone{have("1", "0151 00000001", "Mr."), have("2", "0151 00000002", "Ms.")}
		return []RemoteGroup{g}
	}
	ph := members(PhonesExact, managedAB, want("+4915100000001", 2, "Dr."))
	ph.Country = "DE"
	p := Diff(Desired{Groups: []Group{{System: LOX24, Key: "12344", Name: "My Clients", Fields: map[string]Value{}, Phones: ph}}},
		map[System]Current{LOX24: {Groups: state()}})
	require.Len(t, p.Changes, 2, "an update of 1, a delete of 2")
	assert.Equal(t, "+4915100000002", p.Changes[1].Phone)
	assert.Empty(t, Revalidate(p, map[System]Current{LOX24: {Groups: state()}}), "nothing changed since the plan")
}

package plan

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loopPlan is a LOX24 run: update group 1, create group "New" with one
// member, add, change and remove members of group 1.
func loopPlan() *Plan {
	base := map[string]Value{"name": Str("One"), "description": Str("old"), "name_a": Null, "name_b": Null, "name_c": Null, "name_d": Null, "name_e": Null}
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 0}}
	p.Changes = []Change{
		{System: LOX24, Kind: KindGroup, Action: Update, Key: "1", Name: "One", Base: base,
			Fields: []FieldChange{{Field: "description", Before: Str("old"), After: Str("new")}}},
		{System: LOX24, Kind: KindGroup, Action: Create, Name: "New",
			Fields: []FieldChange{{Field: "name", Before: Null, After: Str("New")}}},
		{System: LOX24, Kind: KindPhone, Action: Create, Name: "New", DependsOn: 2, Phone: "+4915100000001",
			Fields: []FieldChange{{Field: "phone", Before: Null, After: Str("+4915100000001")}}},
		{System: LOX24, Kind: KindPhone, Action: Create, Name: "One", GroupKey: "1", Phone: "+4915100000002",
			Fields: []FieldChange{{Field: "phone", Before: Null, After: Str("+4915100000002")}, {Field: "a", Before: Null, After: Str("Ann")}}},
		{System: LOX24, Kind: KindPhone, Action: Update, Key: "11", Name: "One", GroupKey: "1", Phone: "+4915100000003",
			Base:   phoneRecord(&RemotePhone{ID: "11", Number: "+4915100000003", Cols: MakeColumns("Dr.", "", "", "", "", "cb")}),
			Fields: []FieldChange{{Field: "a", Before: Str("Dr."), After: Str("Prof.")}}},
		{System: LOX24, Kind: KindPhone, Action: Delete, Key: "12", Name: "One", GroupKey: "1", Phone: "+4915100000004",
			Base: phoneRecord(&RemotePhone{ID: "12", Number: "+4915100000004", Cols: MakeColumns("Mr.", "Koch", "", "", "", "crm-9")})},
	}
	return p
}

// applied is the report of loopPlan where every write succeeded.
func applied(t *testing.T) *Report {
	t.Helper()
	keys := map[string]string{"New": "2", "+4915100000001": "21", "+4915100000002": "22"}
	sink := &fakeSink{sys: LOX24, do: func(c *Change) Outcome {
		if c.Action != Create {
			return Outcome{Status: Succeeded, Attempts: 1}
		}
		k := keys[c.Name]
		if c.Kind == KindPhone {
			k = keys[c.Phone]
		}
		return Outcome{Status: Succeeded, Attempts: 1, NewKey: k}
	}}
	return Apply(context.Background(), loopPlan(), map[System]Sink{LOX24: sink}, ApplyOptions{})
}

// after is the LOX24 state once loopPlan is applied.
func after() Current {
	return Current{System: LOX24, Groups: []RemoteGroup{
		{Key: "1", Name: "One", Fields: map[string]Value{"description": Str("new")}, Phones: []RemotePhone{
			NewRemotePhone("22", "+4915100000002", []string{"Ann"}),
			NewRemotePhone("11", "+4915100000003", []string{"Prof.", "", "", "", "", "cb"}),
		}},
		{Key: "2", Name: "New", Fields: map[string]Value{}, Phones: []RemotePhone{NewRemotePhone("21", "+4915100000001", nil)}},
	}}
}

func TestReportItemsCarryTheWholeRecordBeforeAndAfter(t *testing.T) {
	r := applied(t)
	assert.Equal(t, Str("old"), r.Items[0].Before["description"])
	assert.Equal(t, Str("new"), r.Items[0].After["description"])
	assert.Nil(t, r.Items[1].Before, "a create has no before")
	assert.Equal(t, "2", r.Items[2].Group, "a member of a created group names it")
	assert.Equal(t, "21", r.Items[2].NewKey)
	assert.Equal(t, Str("crm-9"), r.Items[5].Before["callback_data"], "a delete keeps every column")
	assert.Nil(t, r.Items[5].After, "a delete has no after")
}

func TestVerifyMarksWhatHoldsAndFailsWhatDoesNot(t *testing.T) {
	t.Run("everything holds", func(t *testing.T) {
		r := applied(t)
		Verify(r, map[System]Current{LOX24: after()})
		assert.Equal(t, 6, r.Summary.Verified)
		assert.Equal(t, 6, r.Summary.Succeeded)
	})
	t.Run("writes that did not stick fail", func(t *testing.T) {
		r := applied(t)
		cur := after()
		cur.Groups[0].Fields["description"] = Str("old")                                                 // the update
		cur.Groups[0].Phones[1] = NewRemotePhone("11", "+4915100000003", []string{"Dr."})                // the member update
		cur.Groups[0].Phones = append(cur.Groups[0].Phones, NewRemotePhone("12", "+4915100000004", nil)) // the delete
		Verify(r, map[System]Current{LOX24: cur})
		for _, i := range []int{0, 4, 5} {
			assert.Equal(t, Failed, r.Items[i].Status, "item %d", i)
			assert.Equal(t, NotObserved, r.Items[i].Error)
		}
		assert.Equal(t, 3, r.Summary.Verified)
		assert.Equal(t, 3, r.Summary.Failed)
	})
	t.Run("a system not read again is left as it is", func(t *testing.T) {
		r := applied(t)
		Verify(r, map[System]Current{})
		assert.Zero(t, r.Summary.Verified)
		assert.Equal(t, 6, r.Summary.Succeeded)
	})
}

func TestTouchedNamesEachGroupOnce(t *testing.T) {
	assert.Equal(t, map[System][]GroupRef{LOX24: {{Key: "1", Members: true}, {Key: "2", Members: true}}}, Touched(applied(t)))
}

func TestUndoReversesEverySucceededItem(t *testing.T) {
	p, left := Undo(applied(t))
	require.Empty(t, left)
	require.Len(t, p.Changes, 5, "the member of the created group goes with it")
	byAction := map[string]Change{}
	for _, c := range p.Changes {
		byAction[string(c.Kind)+" "+string(c.Action)+" "+c.Key+c.Phone] = c
	}
	up := byAction["group update 1"]
	assert.Equal(t, []FieldChange{{Field: "description", Before: Str("new"), After: Str("old")}}, up.Fields)
	del := byAction["group delete 2"]
	require.NotNil(t, del.Expect)
	assert.Equal(t, []string{"+4915100000001"}, del.Expect.Members)
	assert.Equal(t, "1", byAction["phone delete 22+4915100000002"].GroupKey)
	back := byAction["phone update 11+4915100000003"]
	assert.Equal(t, []FieldChange{{Field: "a", Before: Str("Prof."), After: Str("Dr.")}}, back.Fields)
	again := byAction["phone create +4915100000004"]
	assert.Equal(t, []FieldChange{{Field: "phone", Before: Null, After: Str("+4915100000004")},
		{Field: "a", Before: Null, After: Str("Mr.")}, {Field: "b", Before: Null, After: Str("Koch")},
		{Field: "callback_data", Before: Null, After: Str("crm-9")}}, again.Fields)

	// Against the state the run left, nothing is stale; once the created
	// group has a member the run did not add, its delete is.
	require.Empty(t, Revalidate(p, map[System]Current{LOX24: after()}))
	cur := after()
	cur.Groups[1].Phones = append(cur.Groups[1].Phones, NewRemotePhone("29", "+4915100000009", nil))
	stale := Revalidate(p, map[System]Current{LOX24: cur})
	require.Len(t, stale, 1)
	for i, why := range stale {
		assert.Equal(t, Delete, p.Changes[i].Action)
		assert.Contains(t, why, "members are not those the run added")
	}
}

func TestRetryPlanReplaysFailedItemsAndSettleDropsWhatHolds(t *testing.T) {
	sink := &fakeSink{sys: LOX24, do: func(c *Change) Outcome {
		if c.Kind == KindGroup && c.Action == Create {
			return Outcome{Status: Failed, Attempts: 1}
		}
		return Outcome{Status: Succeeded, Attempts: 1, NewKey: "99"}
	}}
	p := loopPlan()
	p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindGroup, Action: Update, Key: "7", Name: "bad", Error: "id 7 does not exist"})
	r := Apply(context.Background(), p, map[System]Sink{LOX24: sink}, ApplyOptions{})
	require.Equal(t, Skipped, r.Items[2].Status, "the member waits for the failed create")

	retry := RetryPlan(r)
	require.Len(t, retry.Changes, 3)
	assert.Equal(t, Create, retry.Changes[0].Action)
	assert.Equal(t, 1, retry.Changes[1].DependsOn, "the member waits for the retried create")
	assert.Equal(t, "cannot be retried: id 7 does not exist", retry.Changes[2].Error,
		"an item that was never planned cannot be retried, and is reported failed again")
	retry.Changes = retry.Changes[:2]

	// The create did happen after all: it is unchanged, and its member
	// gets the group's key.
	cur := Current{System: LOX24, Groups: []RemoteGroup{{Key: "2", Name: "New", Fields: map[string]Value{}, Phones: []RemotePhone{}}}}
	Settle(retry, map[System]Current{LOX24: cur})
	require.Len(t, retry.Changes, 1)
	assert.Equal(t, 1, retry.Unchanged[LOX24])
	assert.Equal(t, "2", retry.Changes[0].GroupKey)
	assert.Zero(t, retry.Changes[0].DependsOn)
}

// A group create the API acknowledged and did not apply fails verify, and
// so do its members (their group does not exist); the retry creates the
// group again and its members wait for that create, not for the id the
// lost create was answered with.
func TestRetryPlanRecreatesAGroupVerifyDidNotFindWithItsMembers(t *testing.T) {
	r := applied(t)
	cur := after()
	cur.Groups = cur.Groups[:1] // group "New" (key 2) is not there
	Verify(r, map[System]Current{LOX24: cur})
	require.Equal(t, "2", r.Items[2].Group, "the member names the id the create was answered with")
	for _, i := range []int{1, 2} {
		assert.Equal(t, Failed, r.Items[i].Status, "item %d", i)
		assert.Equal(t, NotObserved, r.Items[i].Error, "item %d", i)
	}
	assert.Equal(t, 4, r.Summary.Verified)

	retry := RetryPlan(r)
	require.Len(t, retry.Changes, 2)
	assert.Equal(t, KindGroup, retry.Changes[0].Kind)
	assert.Equal(t, Create, retry.Changes[0].Action)
	assert.Equal(t, 1, retry.Changes[1].DependsOn, "the member waits for the retried create")
	assert.Empty(t, retry.Changes[1].GroupKey, "not the id of the create that was lost")
	require.Empty(t, Revalidate(retry, map[System]Current{LOX24: cur}), "nothing of the retry is stale")
}

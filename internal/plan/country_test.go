package plan

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nationalGroup is LOX24 group 7 that holds +4915112345678 in national
// form, as LOX24 may store it, with column a as given.
func nationalGroup(a string) Current {
	return Current{System: LOX24, Groups: []RemoteGroup{{Key: "7", Name: "Team", Fields: map[string]Value{},
		Phones: []RemotePhone{NewRemotePhone("70", "0151 12345678", []string{a})}}}}
}

// TestNationalRemoteNumbersAreReadInTheGroupsCountry: a member LOX24 stores
// in national form is the same number for the diff, the stale check, the
// re-read after apply, a retry and undo, when its group sets a country.
func TestNationalRemoteNumbersAreReadInTheGroupsCountry(t *testing.T) {
	ph := &Phones{File: "team.csv", Mode: PhonesExact, Managed: [NumPhoneCols]bool{true}, Country: "DE",
		List: []Phone{NewPhone("+4915112345678", []string{"Ann"}, 2)}}
	g := Group{System: LOX24, Key: "7", Name: "Team", Fields: map[string]Value{}, Phones: ph}
	p := Diff(Desired{Groups: []Group{g}}, map[System]Current{LOX24: nationalGroup("Bob")})
	require.Len(t, p.Changes, 1)
	require.Equal(t, Update, p.Changes[0].Action)

	assert.Empty(t, Revalidate(p, map[System]Current{LOX24: nationalGroup("Bob")}), "nothing changed since the plan")

	sink := &fakeSink{sys: LOX24, do: func(*Change) Outcome { return Outcome{Status: Succeeded, Attempts: 1} }}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: sink}, ApplyOptions{})
	Verify(r, map[System]Current{LOX24: nationalGroup("Ann")})
	assert.Equal(t, Succeeded, r.Items[0].Status, r.Items[0].Error)
	assert.True(t, r.Items[0].Verified, "the update shows on re-read")

	// A retry of the item finds it done; undo finds it current.
	r.Items[0].Status, r.Items[0].Verified = Failed, false
	rp := RetryPlan(r)
	Settle(rp, map[System]Current{LOX24: nationalGroup("Ann")})
	assert.Empty(t, rp.Changes, "the retry finds the update made")

	r.Items[0].Status = Succeeded
	up, left := Undo(r)
	require.Empty(t, left)
	require.Len(t, up.Changes, 1)
	assert.Empty(t, Revalidate(up, map[System]Current{LOX24: nationalGroup("Ann")}), "undo finds the entry as the run left it")
}

// TestNationalRemoteNumberCreatedElsewhereIsAMember: a planned add whose
// number someone added meanwhile, in national form, is stale.
func TestNationalRemoteNumberCreatedElsewhereIsAMember(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 0}, Changes: []Change{
		{System: LOX24, Kind: KindPhone, Action: Create, Name: "Team", GroupKey: "7", Phone: "+4915112345678", Country: "DE",
			Fields: []FieldChange{{Field: "phone", Before: Null, After: Str("+4915112345678")}, {Field: "a", Before: Null, After: Str("Ann")}}},
	}}
	assert.Equal(t, map[int]string{0: "the number is a member now"}, Revalidate(p, map[System]Current{LOX24: nationalGroup("Bob")}))
	sink := &fakeSink{sys: LOX24, do: func(*Change) Outcome { return Outcome{Status: Succeeded, Attempts: 1, NewKey: "70"} }}
	r := Apply(context.Background(), &Plan{Systems: p.Systems, Unchanged: p.Unchanged, Changes: p.Changes}, map[System]Sink{LOX24: sink}, ApplyOptions{})
	Verify(r, map[System]Current{LOX24: nationalGroup("Ann")})
	assert.True(t, r.Items[0].Verified, r.Items[0].Error)
}

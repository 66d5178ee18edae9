package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	salesGUID = "3b1f6c2e-8d4a-4f7b-9c1e-2a5d7e9f0b13"
	aliceGUID = "a7c3e1f0-1b2d-4e5f-8a9b-0c1d2e3f4a5b"
	bobGUID   = "b8d4f2a1-2c3e-4f60-9b0c-1d2e3f4a5b6c"
	carolGUID = "c9e5a3b2-3d4f-4a71-8c1d-2e3f4a5b6c7d"
)

var directory = []RemoteUser{
	{GUID: aliceGUID, UserName: "alice@acme.com"},
	{GUID: bobGUID, UserName: "bob@acme.com"},
	{GUID: carolGUID, UserName: "Carol@Acme.com"},
}

func userList(mode PhonesMode, refs ...string) *Users {
	us := &Users{File: "sales-users.csv", Mode: mode, Source: Source{"groups.yaml", 4}}
	for i, r := range refs {
		us.List = append(us.List, UserRef{Ref: r, Source: Source{"sales-users.csv", i + 2}})
	}
	return us
}

func userDiff(t *testing.T, us *Users, origin string, members ...string) *Plan {
	t.Helper()
	g := Group{System: HelloID, Name: "Sales", Fields: map[string]Value{}, Users: us, Source: Source{"groups.yaml", 2}}
	r := hidRemote(salesGUID, "Sales", nil)
	r.Users = append([]string{}, members...)
	r.Origin = origin
	return Diff(Desired{Groups: []Group{g}}, map[System]Current{HelloID: {Groups: []RemoteGroup{r}, Users: directory}})
}

func TestDiffUsers(t *testing.T) {
	link := func(guid, name string, line int) Change {
		return Change{System: HelloID, Kind: KindUser, Action: Create, Key: guid, Name: "Sales", GroupKey: salesGUID,
			User: name, Source: Source{"sales-users.csv", line}}
	}
	unlink := func(guid, name string) Change {
		return Change{System: HelloID, Kind: KindUser, Action: Delete, Key: guid, Name: "Sales", GroupKey: salesGUID,
			User: name, Source: Source{"groups.yaml", 4}, Note: "not in sales-users.csv"}
	}
	tests := []struct {
		name      string
		users     *Users
		origin    string
		members   []string
		changes   []Change
		unchanged int // group + members
	}{
		{
			name:      "members equal to the list are unchanged",
			users:     userList(PhonesExact, "alice@acme.com", bobGUID),
			members:   []string{aliceGUID, bobGUID},
			unchanged: 3,
		},
		{
			name:      "exact links the missing and unlinks the unlisted",
			users:     userList(PhonesExact, "alice@acme.com", "bob@acme.com"),
			members:   []string{carolGUID, aliceGUID},
			changes:   []Change{link(bobGUID, "bob@acme.com", 3), unlink(carolGUID, "Carol@Acme.com")},
			unchanged: 2,
		},
		{
			name:      "additive never unlinks",
			users:     userList(PhonesAdditive, "bob@acme.com"),
			members:   []string{carolGUID, aliceGUID},
			changes:   []Change{link(bobGUID, "bob@acme.com", 2)},
			unchanged: 3,
		},
		{
			name:      "userNames match case-insensitively, by the one identity rule",
			users:     userList(PhonesExact, "ALICE@ACME.COM", "carol@acme.com"),
			members:   []string{aliceGUID, carolGUID},
			unchanged: 3,
		},
		{
			name:      "a GUID matches in any letter case, remote members too",
			users:     userList(PhonesExact, "A7C3E1F0-1B2D-4E5F-8A9B-0C1D2E3F4A5B"),
			members:   []string{"A7C3E1F0-1B2D-4E5F-8A9B-0C1D2E3F4A5B"},
			unchanged: 2,
		},
		{
			name:      "a user named by userName and by GUID is one member",
			users:     userList(PhonesExact, "bob@acme.com", bobGUID),
			members:   nil,
			changes:   []Change{link(bobGUID, "bob@acme.com", 2)},
			unchanged: 1,
		},
		{
			name:    "an unknown user is an item error naming its line; the rest stands",
			users:   userList(PhonesExact, "alice@acme.com", "nobody@acme.com"),
			members: nil,
			changes: []Change{link(aliceGUID, "alice@acme.com", 2),
				{System: HelloID, Kind: KindUser, Action: Create, Name: "Sales", GroupKey: salesGUID, User: "nobody@acme.com",
					Source: Source{"sales-users.csv", 3}, Error: `user "nobody@acme.com" does not exist in helloid`}},
			unchanged: 1,
		},
		{
			name:    "an unknown user's error quotes only the start of its name",
			users:   userList(PhonesExact, strings.Repeat("n", 200)),
			members: nil,
			changes: []Change{{System: HelloID, Kind: KindUser, Action: Create, Name: "Sales", GroupKey: salesGUID, User: strings.Repeat("n", 200),
				Source: Source{"sales-users.csv", 2}, Error: `user "` + strings.Repeat("n", 80) + `"... does not exist in helloid`}},
			unchanged: 1,
		},
		{
			name:    "a group synced from another source is an item error",
			users:   userList(PhonesExact, "alice@acme.com"),
			origin:  "ActiveDirectory",
			members: []string{carolGUID},
			changes: []Change{{System: HelloID, Kind: KindGroup, Action: Update, Key: salesGUID, Name: "Sales",
				Source: Source{"groups.yaml", 4},
				Error:  `the group's members are synced from source "ActiveDirectory", which would overwrite them; set allow_external_source: true to manage them anyway`}},
			unchanged: 1,
		},
		{
			name: "allow_external_source manages such a group",
			users: func() *Users {
				us := userList(PhonesExact, "alice@acme.com")
				us.AllowExternalSource = true
				return us
			}(),
			origin:    "ActiveDirectory",
			members:   []string{aliceGUID},
			unchanged: 2,
		},
		{
			name:      "source Local is HelloID's own group",
			users:     userList(PhonesExact, "alice@acme.com"),
			origin:    "local",
			members:   []string{aliceGUID},
			unchanged: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := userDiff(t, tt.users, tt.origin, tt.members...)
			assert.Equal(t, tt.changes, p.Changes)
			assert.Equal(t, tt.unchanged, p.Unchanged[HelloID])
			if tt.origin == "" || tt.users.AllowExternalSource {
				assert.Equal(t, len(tt.members), p.Members[salesGUID])
			}
		})
	}
}

func TestDiffUsersOfANewGroupWaitForItsCreate(t *testing.T) {
	g := Group{System: HelloID, Name: "New", Fields: map[string]Value{}, Users: userList(PhonesExact, "alice@acme.com"), Source: src(2)}
	p := Diff(Desired{Groups: []Group{g}}, map[System]Current{HelloID: {Users: directory}})
	require.Len(t, p.Changes, 2)
	assert.Equal(t, Create, p.Changes[0].Action)
	assert.Equal(t, Change{System: HelloID, Kind: KindUser, Action: Create, Key: aliceGUID, Name: "New", DependsOn: 1,
		User: "alice@acme.com", Source: Source{"sales-users.csv", 2}}, p.Changes[1])
	back, err := ReadJSON(bytes.NewReader(writeJSON(t, p)))
	require.NoError(t, err, "a saved plan with user items reads back")
	assert.Equal(t, p.Changes, back.Changes)
}

func TestGuardCountsUnlinkedUsers(t *testing.T) {
	var members []string
	for i := range 10 {
		members = append(members, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
	}
	p := userDiff(t, userList(PhonesExact, "alice@acme.com"), "", members...)
	errs := p.Check(Guards{MaxDeletePct: DefaultMaxDeletePct})
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), `helloid group `+salesGUID+` "Sales": the plan deletes 10 of its 10 members`)

	p = userDiff(t, userList(PhonesAdditive, "alice@acme.com"), "", members...)
	assert.Empty(t, p.Check(Guards{MaxDeletePct: DefaultMaxDeletePct}), "additive never unlinks")
}

func TestRevalidateUsers(t *testing.T) {
	p := userDiff(t, userList(PhonesExact, "alice@acme.com"), "", carolGUID) // link alice, unlink carol
	require.Len(t, p.Changes, 2)
	now := func(members ...string) map[System]Current {
		r := hidRemote(salesGUID, "Sales", nil)
		r.Users = append([]string{}, members...)
		return map[System]Current{HelloID: {Groups: []RemoteGroup{r}, Users: directory}}
	}
	assert.Empty(t, Revalidate(p, now(carolGUID)))
	assert.Equal(t, map[int]string{0: "user alice@acme.com is a member now", 1: "user Carol@Acme.com is no longer a member"},
		Revalidate(p, now(aliceGUID)))
}

// creator records how group creates with members reach it.
type creator struct {
	fakeSink
	cmu   sync.Mutex
	calls [][]string
}

func (c *creator) CreateWithMembers(_ context.Context, g *Change, members []*Change) []Outcome {
	call := []string{g.Name}
	outs := []Outcome{{Status: Succeeded, NewKey: salesGUID}}
	for _, m := range members {
		call = append(call, m.User)
		outs = append(outs, Outcome{Status: Succeeded})
	}
	c.cmu.Lock()
	c.calls = append(c.calls, call)
	c.cmu.Unlock()
	return outs
}

func TestApplyCreatesAGroupWithItsUsersInOneRequest(t *testing.T) {
	g := Group{System: HelloID, Name: "New", Fields: map[string]Value{}, Source: src(2),
		Users: userList(PhonesExact, "alice@acme.com", "bob@acme.com")}
	p := Diff(Desired{Groups: []Group{g}}, map[System]Current{HelloID: {Users: directory}})
	s := &creator{fakeSink: fakeSink{sys: HelloID}}
	r := Apply(context.Background(), p, map[System]Sink{HelloID: s}, ApplyOptions{})
	assert.Equal(t, [][]string{{"New", "alice@acme.com", "bob@acme.com"}}, s.calls)
	assert.Empty(t, s.seen, "no separate link request")
	for _, it := range r.Items {
		assert.Equal(t, Succeeded, it.Status)
	}
}

func TestUserItemsVerifyRetryAndUndo(t *testing.T) {
	p := userDiff(t, userList(PhonesExact, "alice@acme.com"), "", carolGUID) // link alice, unlink carol
	r := Apply(context.Background(), p, map[System]Sink{HelloID: &fakeSink{sys: HelloID}}, ApplyOptions{})
	require.Len(t, r.Items, 2)

	now := func(members ...string) map[System]Current {
		g := hidRemote(salesGUID, "Sales", nil)
		g.Users = members
		return map[System]Current{HelloID: {Groups: []RemoteGroup{g}}}
	}
	ok := *r
	ok.Items = append([]Item(nil), r.Items...)
	Verify(&ok, now(aliceGUID))
	assert.True(t, ok.Items[0].Verified && ok.Items[1].Verified, "the re-read shows alice linked and carol unlinked")
	bad := *r
	bad.Items = append([]Item(nil), r.Items...)
	Verify(&bad, now(carolGUID))
	assert.Equal(t, []Status{Failed, Failed}, []Status{bad.Items[0].Status, bad.Items[1].Status})
	assert.Equal(t, NotObserved, bad.Items[0].Error)

	retry := RetryPlan(&bad)
	require.Len(t, retry.Changes, 2)
	assert.Equal(t, Change{System: HelloID, Kind: KindUser, Action: Create, Key: aliceGUID, Name: "Sales", GroupKey: salesGUID,
		User: "alice@acme.com", Source: retry.Changes[0].Source}, retry.Changes[0])

	undo, _ := Undo(r)
	require.Len(t, undo.Changes, 2)
	assert.Equal(t, []Action{Create, Delete}, []Action{undo.Changes[0].Action, undo.Changes[1].Action}, "in reverse order")
	assert.Equal(t, []string{carolGUID, aliceGUID}, []string{undo.Changes[0].Key, undo.Changes[1].Key}, "carol linked again, alice unlinked")
}

func TestUndoLeavesTheUsersOfACreatedGroupToItsDelete(t *testing.T) {
	g := Group{System: HelloID, Name: "New", Fields: map[string]Value{}, Source: src(2), Users: userList(PhonesExact, "alice@acme.com")}
	p := Diff(Desired{Groups: []Group{g}}, map[System]Current{HelloID: {Users: directory}})
	r := Apply(context.Background(), p, map[System]Sink{HelloID: &creator{fakeSink: fakeSink{sys: HelloID}}}, ApplyOptions{})
	undo, left := Undo(r)
	assert.Empty(t, left)
	require.Len(t, undo.Changes, 1, "no unlink from a group that is deleted")
	assert.Equal(t, Change{System: HelloID, Kind: KindGroup, Action: Delete, Key: salesGUID, Name: "New"}, Change{System: undo.Changes[0].System,
		Kind: undo.Changes[0].Kind, Action: undo.Changes[0].Action, Key: undo.Changes[0].Key, Name: undo.Changes[0].Name})
}

// throttledCreator answers its first CreateWithMembers with a 429 for the
// whole request, as the HelloID sink does inside Apply.
type throttledCreator struct {
	creator
	once bool
}

func (c *throttledCreator) CreateWithMembers(ctx context.Context, g *Change, members []*Change) []Outcome {
	if _, ok := Requeue(ctx); !ok {
		panic("Apply's writes may be requeued")
	}
	c.cmu.Lock()
	first := !c.once
	c.once = true
	c.cmu.Unlock()
	if !first {
		return c.creator.CreateWithMembers(ctx, g, members)
	}
	o := Outcome{Status: Failed, HTTPStatus: 429, Attempts: 1,
		Err: &ThrottledError{After: time.Millisecond, Err: errors.New("post group: HTTP 429")}}
	outs := []Outcome{o}
	for range members {
		outs = append(outs, o)
	}
	return outs
}

// A group create sent with its users and throttled goes back to the queue
// as one unit: the users are sent again with it, never on their own.
func TestApplyRequeuesAGroupCreateWithItsUsersAsOneUnit(t *testing.T) {
	g := Group{System: HelloID, Name: "New", Fields: map[string]Value{}, Source: src(2),
		Users: userList(PhonesExact, "alice@acme.com", "bob@acme.com")}
	p := Diff(Desired{Groups: []Group{g}}, map[System]Current{HelloID: {Users: directory}})
	s := &throttledCreator{creator: creator{fakeSink: fakeSink{sys: HelloID}}}
	r := Apply(context.Background(), p, map[System]Sink{HelloID: s}, ApplyOptions{Workers: map[System]int{HelloID: 1}})
	assert.Equal(t, [][]string{{"New", "alice@acme.com", "bob@acme.com"}}, s.calls)
	assert.Empty(t, s.seen, "no separate link request")
	require.Len(t, r.Items, 3)
	for _, it := range r.Items {
		assert.Equal(t, Succeeded, it.Status)
		assert.Equal(t, 1, it.Attempts, "the throttled request counts for every item of the unit")
	}
}

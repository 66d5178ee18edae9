package helloid_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/helloid"
)

func TestReadGroupsReadsOnlyTheGroupsNamed(t *testing.T) {
	emu, _, c := setup(t, []emulator.HelloIDGroup{{GroupGUID: guidA, Name: "Sales", IsEnabled: true}, {Name: "Other"}})
	cur, err := c.ReadGroups(context.Background(), []plan.GroupRef{{Key: guidA}, {Key: "0b9e0c4e-0000-4000-8000-000000000000"}})
	require.NoError(t, err)
	require.Len(t, cur.Groups, 1, "a group that is gone is left out")
	assert.Equal(t, "Sales", cur.Groups[0].Name)
	assert.Equal(t, plan.Str("true"), cur.Groups[0].Fields["isEnabled"])
	assert.Equal(t, map[string]int{"GET /api/v1/groups/{group}": 2}, emu.Stats().Systems["helloid"].ByRoute)
}

func TestDeleteGroup(t *testing.T) {
	emu, _, c := setup(t, []emulator.HelloIDGroup{{GroupGUID: guidA, Name: "Sales"}})
	o := c.Do(context.Background(), &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Delete, Key: guidA})
	require.Equal(t, plan.Succeeded, o.Status, "%v", o.Err)
	assert.Empty(t, emu.State().HelloID.Groups)
}

// A delete's key goes into a path: one that is not a GUID is refused
// before any request, as an update's is.
func TestDeleteGroupChecksTheKeyFirst(t *testing.T) {
	emu, _, c := setup(t, []emulator.HelloIDGroup{{GroupGUID: guidA, Name: "Sales"}})
	emu.ResetStats()
	for _, key := range []string{"../users", guidA + "/x", ""} {
		o := c.Do(context.Background(), &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Delete, Key: key})
		assert.Equal(t, plan.Failed, o.Status, key)
		require.Error(t, o.Err, key)
		assert.Contains(t, o.Err.Error(), "not a GUID", key)
	}
	assert.Zero(t, emu.Stats().Systems["helloid"].Total, "nothing sent")
	assert.Len(t, emu.State().HelloID.Groups, 1)
}

// manyGroups is n groups with known GUIDs; the first has userA as member.
func manyGroups(n int) []emulator.HelloIDGroup {
	out := make([]emulator.HelloIDGroup, n)
	for i := range out {
		out[i] = emulator.HelloIDGroup{GroupGUID: guidN(i + 1), Name: fmt.Sprintf("G%02d", i+1), IsEnabled: i%2 == 0}
	}
	out[0].Users = []string{userA}
	return out
}

func guidN(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", n) }

// manyRefs names groups 1, 3, 5, ... (n of them; the members of the first
// two), and one group that does not exist.
func manyRefs(n int) []plan.GroupRef {
	var refs []plan.GroupRef
	for i := range n {
		refs = append(refs, plan.GroupRef{Key: strings.ToUpper(guidN(2*i + 1)), Members: i < 2})
	}
	return append(refs, plan.GroupRef{Key: guidN(9999)})
}

// oneByOne reads refs one ReadGroups call each (one GET each: a single
// group never makes the listing cheaper).
func oneByOne(t *testing.T, c *helloid.Client, refs []plan.GroupRef) plan.Current {
	t.Helper()
	out := plan.Current{System: plan.HelloID}
	for _, ref := range refs {
		cur, err := c.ReadGroups(context.Background(), []plan.GroupRef{ref})
		require.NoError(t, err)
		out.Groups = append(out.Groups, cur.Groups...)
	}
	return out
}

// After the plan's read told the listing's size (50 groups, pages of 10),
// the groups re-read without members come from the listing's 6 pages;
// those whose members are asked for, one GET each (the listing has no
// users). The result is what one GET each gives.
func TestReadGroupsReadsTheListingWhenCheaper(t *testing.T) {
	emu, _, c := setup(t, manyGroups(50))
	c.SetPageSize(10)
	_, err := c.Read(context.Background(), nil)
	require.NoError(t, err)

	refs := manyRefs(25)
	emu.ResetStats()
	cur, err := c.ReadGroups(context.Background(), refs)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"GET /api/v1/groups": 6, "GET /api/v1/groups/{group}": 2},
		emu.Stats().Systems["helloid"].ByRoute)
	require.Len(t, cur.Groups, 25, "the group that does not exist is left out")
	assert.Equal(t, []string{strings.ToLower(userA)}, cur.Groups[0].Users)
	assert.Nil(t, cur.Groups[2].Users, "members not asked for are not read")

	emu.ResetStats()
	assert.Equal(t, oneByOne(t, c, refs), cur)
	assert.Equal(t, map[string]int{"GET /api/v1/groups/{group}": 26}, emu.Stats().Systems["helloid"].ByRoute)
}

// Few groups are read one GET each, even when the listing's size is known;
// and so are many when no earlier read told it (HelloID lists give no
// total to ask for).
func TestReadGroupsReadsFewGroupsOneGetEach(t *testing.T) {
	emu, _, c := setup(t, manyGroups(50))
	c.SetPageSize(10)
	_, err := c.ReadGroups(context.Background(), manyRefs(25))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"GET /api/v1/groups/{group}": 26}, emu.Stats().Systems["helloid"].ByRoute)

	_, err = c.Read(context.Background(), nil)
	require.NoError(t, err)
	emu.ResetStats()
	cur, err := c.ReadGroups(context.Background(), manyRefs(6))
	require.NoError(t, err)
	assert.Len(t, cur.Groups, 6)
	assert.Equal(t, map[string]int{"GET /api/v1/groups/{group}": 7}, emu.Stats().Systems["helloid"].ByRoute,
		"5 groups without members: the listing (some 7 pages) would not take fewer requests")
}

// A listing that moves while verify reads it (a group listed twice, on the
// first read and on the second) fails the re-read.
func TestReadGroupsFailsOnAListingThatMoves(t *testing.T) {
	state := emulator.State{HelloID: emulator.HelloIDState{Groups: manyGroups(50),
		Users: []emulator.HelloIDUser{{UserGUID: userA, UserName: "ann"}}}}
	steady := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, steady.LoadState(state))
	moving := emulator.New(emulator.Options{Seed: 1, Quirks: emulator.Quirks{DriftAlways: true}})
	require.NoError(t, moving.LoadState(state))
	var emu atomic.Pointer[emulator.Server]
	emu.Store(steady)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { emu.Load().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	c, err := helloid.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo", "demo")
	require.NoError(t, err)
	c.SetPageSize(10)
	_, err = c.Read(context.Background(), nil)
	require.NoError(t, err, "the plan's read is of a steady listing")

	emu.Store(moving)
	_, err = c.ReadGroups(context.Background(), manyRefs(25))
	require.ErrorIs(t, err, sink.ErrInconsistent)
	var ie *sink.InconsistentError
	require.ErrorAs(t, err, &ie)
	assert.True(t, ie.Twice, "read again from the start, once")
}

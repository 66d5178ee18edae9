package lox24_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/lox24"
)

// A few groups, with no earlier read of the listing, are read one GET per
// group, members only where asked, never the listing; a group that is gone
// is left out.
func TestReadGroupsReadsOnlyTheGroupsNamed(t *testing.T) {
	groups := manyGroups(40)
	groups[4].Phones = []emulator.LOX24Phone{{Phone: "+4915112345678", A: sp("Ann")}}
	emu, c := setup(t, groups, "demo:demo")
	cur, err := c.ReadGroups(context.Background(), []plan.GroupRef{{Key: "5", Members: true}, {Key: "7"}, {Key: "999"}})
	require.NoError(t, err)
	require.Len(t, cur.Groups, 2)
	assert.Equal(t, "Group 05", cur.Groups[0].Name)
	require.Len(t, cur.Groups[0].Phones, 1)
	assert.Equal(t, "Ann", cur.Groups[0].Phones[0].Cols.Get(0))
	assert.Nil(t, cur.Groups[1].Phones, "members not asked for are not read")
	routes := emu.Stats().Systems["lox24"].ByRoute
	assert.Equal(t, map[string]int{"GET /groups/{id}": 3, "GET /groups/{id}/phones": 1}, routes)
}

func TestDeleteGroup(t *testing.T) {
	emu, c := setup(t, manyGroups(2), "demo:demo")
	o := c.Do(context.Background(), &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Delete, Key: "2"})
	require.Equal(t, plan.Succeeded, o.Status, "%v", o.Err)
	require.Len(t, emu.State().LOX24.Groups, 1)
	assert.Equal(t, int64(1), emu.State().LOX24.Groups[0].ID)
}

// perGroup reads refs one ReadGroups call each on a fresh client (one GET
// each, the form without a listing), for comparing with another form.
func perGroup(t *testing.T, url string, refs []plan.GroupRef) plan.Current {
	t.Helper()
	c, err := lox24.New(sink.Config{BaseURL: url, Rate: 1000}, "demo:demo")
	require.NoError(t, err)
	out := plan.Current{System: plan.LOX24}
	for _, ref := range refs {
		cur, err := c.ReadGroups(context.Background(), []plan.GroupRef{ref})
		require.NoError(t, err)
		out.Groups = append(out.Groups, cur.Groups...)
	}
	return out
}

// manyRefs names groups 1, 3, 5, ... (n of them), members of every fifth,
// and one group that does not exist.
func manyRefs(n int) []plan.GroupRef {
	refs := []plan.GroupRef{}
	for i := range n {
		refs = append(refs, plan.GroupRef{Key: strconv.Itoa(2*i + 1), Members: i%5 == 0})
	}
	return append(refs, plan.GroupRef{Key: "9999", Members: true})
}

// After the plan's read told the listing's size (100 groups, pages of 30),
// a re-read of 41 groups reads the listing's 4 pages, not 41 GETs, and
// gives what the GETs give.
func TestReadGroupsReadsTheListingWhenCheaper(t *testing.T) {
	groups := manyGroups(100)
	groups[0].Phones = []emulator.LOX24Phone{{Phone: "+4915112345678", A: sp("Ann")}}
	groups[0].Description = sp("first")
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, emu.LoadState(emulator.State{LOX24: emulator.LOX24State{Groups: groups}}))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo:demo")
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.NoError(t, err)

	refs := manyRefs(40)
	emu.ResetStats()
	cur, err := c.ReadGroups(context.Background(), refs)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"GET /groups": 4, "GET /groups/{id}/phones": 8},
		emu.Stats().Systems["lox24"].ByRoute, "the listing's pages and the members asked for; no GET per group")

	require.Len(t, cur.Groups, 40, "the group that does not exist is left out")
	assert.Equal(t, "first", cur.Groups[0].Fields["description"].S)
	require.Len(t, cur.Groups[0].Phones, 1)
	assert.Equal(t, perGroup(t, srv.URL, refs), cur)
}

// Few groups are read one GET each, even when the listing's size is known.
func TestReadGroupsReadsFewGroupsOneGetEach(t *testing.T) {
	emu, c := setup(t, manyGroups(100), "demo:demo")
	_, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	emu.ResetStats()
	cur, err := c.ReadGroups(context.Background(), manyRefs(3))
	require.NoError(t, err)
	assert.Len(t, cur.Groups, 3)
	assert.Equal(t, map[string]int{"GET /groups/{id}": 4, "GET /groups/{id}/phones": 1},
		emu.Stats().Systems["lox24"].ByRoute)
}

// Without an earlier read, many groups cost one page more (page 1 tells
// the listing's size) and then the listing; a few are read one GET each.
func TestReadGroupsWithoutAnEarlierReadAsksTheListingsSize(t *testing.T) {
	emu, c := setup(t, manyGroups(100), "demo:demo")
	refs := manyRefs(40)
	cur, err := c.ReadGroups(context.Background(), refs)
	require.NoError(t, err)
	assert.Len(t, cur.Groups, 40)
	assert.Equal(t, map[string]int{"GET /groups": 5, "GET /groups/{id}/phones": 8},
		emu.Stats().Systems["lox24"].ByRoute)
}

// A listing that moves while verify reads it (one group listed twice,
// another not at all, on the first read and on the second) fails the
// re-read; the groups are never taken from it.
func TestReadGroupsFailsOnAListingThatMoves(t *testing.T) {
	state := emulator.State{LOX24: emulator.LOX24State{Groups: manyGroups(100)}}
	steady := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, steady.LoadState(state))
	moving := emulator.New(emulator.Options{Seed: 1, Quirks: emulator.Quirks{DriftAlways: true}})
	require.NoError(t, moving.LoadState(state))
	var emu atomic.Pointer[emulator.Server]
	emu.Store(steady)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { emu.Load().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo:demo")
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.NoError(t, err, "the plan's read is of a steady listing")

	emu.Store(moving)
	_, err = c.ReadGroups(context.Background(), manyRefs(40))
	require.ErrorIs(t, err, sink.ErrInconsistent)
	var ie *sink.InconsistentError
	require.ErrorAs(t, err, &ie)
	assert.True(t, ie.Twice, "read again from the start, once")
	assert.Equal(t, 0, moving.Stats().Systems["lox24"].ByRoute["GET /groups/{id}"], "no group is read one by one instead")
}

// A panic in any goroutine the client starts (a page read ahead, a
// group's members, verify's re-read of a group) fails that read with an
// internal error, rather than ending the process without a report.
func TestAPanicInAReadGoroutineFailsTheRead(t *testing.T) {
	groups := manyGroups(3)
	for i := range 95 { // four pages: three are read ahead
		groups[1].Phones = append(groups[1].Phones, emulator.LOX24Phone{Phone: fmt.Sprintf("+49151000000%02d", i)})
	}
	want := []plan.Group{{System: plan.LOX24, Key: "2", Name: "Group 02", Fields: map[string]plan.Value{},
		Phones: &plan.Phones{File: "m.csv", Mode: plan.PhonesExact}}}
	for _, where := range []string{"page", "members", "reread"} {
		t.Run(where, func(t *testing.T) {
			_, c := setup(t, groups, "demo:demo")
			lox24.SetGoroutineHook(t, func(what string) {
				if what == where {
					panic("injected in " + what)
				}
			})
			var err error
			if where == "reread" {
				_, err = c.ReadGroups(context.Background(), []plan.GroupRef{{Key: "2", Members: true}, {Key: "3"}})
			} else {
				_, err = c.Read(context.Background(), want)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "internal error: injected in "+where)
		})
	}
}

// A ref by name (a create with no id yet) is looked for in the listing:
// every group of that name, case aside, is read, with its members when
// asked; a name no group has gives nothing.
func TestReadGroupsFindsGroupsByName(t *testing.T) {
	groups := manyGroups(6)
	groups[2].Phones = []emulator.LOX24Phone{{Phone: "+4915112345678", A: sp("Ann")}}
	emu, c := setup(t, groups, "demo:demo")
	cur, err := c.ReadGroups(context.Background(), []plan.GroupRef{
		{Name: "group 03", Members: true}, {Name: "Nobody"}, {Key: "5"},
	})
	require.NoError(t, err)
	require.Len(t, cur.Groups, 2)
	assert.Equal(t, "5", cur.Groups[0].Key)
	assert.Equal(t, "3", cur.Groups[1].Key)
	require.Len(t, cur.Groups[1].Phones, 1, "its members, asked for by the name ref")
	routes := emu.Stats().Systems["lox24"].ByRoute
	assert.Zero(t, routes["GET /groups/{id}"], "the listing gave the groups' records")
	assert.Positive(t, routes["GET /groups"])
}

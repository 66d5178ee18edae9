package lox24_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink/lox24"
)

// Verify reads one GET per group it names, members only where asked, never
// the listing; a group that is gone is left out.
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

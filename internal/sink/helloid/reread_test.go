package helloid_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
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

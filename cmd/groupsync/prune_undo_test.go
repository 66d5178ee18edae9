package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
)

// fullGroupState holds one LOX24 group in the prune prefix with every
// field and two members with every column, and one group the files name.
func fullGroupState() emulator.State {
	return emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{
		{ID: 1, Name: "HR Sales", Phones: []emulator.LOX24Phone{{Phone: "+4915112345670"}}},
		{ID: 2, Name: "HR Gone", Description: strp("old team"), NameA: strp("First"), NameB: strp("Last"),
			NameC: strp("Town"), NameD: strp("Team"), NameE: strp("Code"),
			Phones: []emulator.LOX24Phone{
				{Phone: "+4915112345678", A: strp("Ann"), B: strp("Lee"), C: strp("Bonn"), D: strp("Sales"),
					E: strp("7"), CallbackData: strp("crm-1")},
				{Phone: "+4915112345679", B: strp("x"), CallbackData: strp("crm-2")},
			}},
	}}}
}

const pruneLOX24YAML = `lox24:
  prune: {name_prefix: "HR "}
  groups:
    - name: HR Sales
`

// groupWithoutIDs is a LOX24 group as it reads, ids aside.
func groupWithoutIDs(g emulator.LOX24Group) emulator.LOX24Group {
	g.ID = 0
	g.Phones = append([]emulator.LOX24Phone{}, g.Phones...)
	for i := range g.Phones {
		g.Phones[i].ID = ""
	}
	return g
}

func lox24Group(st emulator.State, name string) (emulator.LOX24Group, bool) {
	for _, g := range st.LOX24.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return emulator.LOX24Group{}, false
}

// A pruned LOX24 group comes back with undo: the same record and the same
// members with every column, under new ids.
func TestUndoRebuildsAPrunedGroupWithItsMembers(t *testing.T) {
	t.Parallel()
	w := stateWorld(t, fullGroupState())
	was, ok := lox24Group(w.emu.State(), "HR Gone")
	require.True(t, ok)
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": pruneLOX24YAML}, "hr.yaml")

	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	_, ok = lox24Group(w.emu.State(), "HR Gone")
	require.False(t, ok, "pruned")
	rep := readReport(t, report)
	var del *plan.Item
	for i := range rep.Items {
		if rep.Items[i].Kind == plan.KindGroup && rep.Items[i].Action == plan.Delete {
			del = &rep.Items[i]
		}
	}
	require.NotNil(t, del)
	assert.True(t, del.Verified, "the re-read shows the group gone")
	assert.Equal(t, plan.Str("old team"), del.Before["description"], "before holds the record")
	assert.Equal(t, plan.Str("HR Gone"), del.Before["name"])

	undo := filepath.Join(w.dir, "undo.json")
	u := runCLI(t, nil, "undo", report, "--out", undo)
	require.Equal(t, exitOK, u.code, u.stderr)
	undoReport := filepath.Join(w.dir, "undo-report.json")
	a := runCLI(t, w.env(), "apply", "--yes", "--plan", undo, "--report", undoReport)
	require.Equal(t, exitOK, a.code, a.stderr)

	now, ok := lox24Group(w.emu.State(), "HR Gone")
	require.True(t, ok, "the group exists again")
	assert.NotEqual(t, was.ID, now.ID)
	assert.Equal(t, groupWithoutIDs(was), groupWithoutIDs(now), "same record, same members with every column")
	ur := readReport(t, undoReport)
	assert.Equal(t, 3, ur.Summary.Succeeded, "the group and its two members")
	assert.Equal(t, 3, ur.Summary.Verified)
}

// Verify of a group delete: a delete the API acknowledged but did not
// apply leaves the group in the re-read, and the item fails.
func TestVerifyFailsAGroupDeleteThatDidNotStick(t *testing.T) {
	t.Parallel()
	w := stateWorld(t, fullGroupState())
	drop := emulator.New(emulator.Options{Seed: 7, DropRate: 1})
	require.NoError(t, drop.LoadState(w.emu.State()))
	url, stop, err := drop.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": pruneLOX24YAML}, "hr.yaml")

	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, pointTo(w.env(), url), append([]string{"apply", "--yes", "--report", report}, files...)...)
	require.Equal(t, exitFailed, r.code, r.stderr)
	_, ok := lox24Group(drop.State(), "HR Gone")
	require.True(t, ok, "the delete was dropped")
	rep := readReport(t, report)
	require.Len(t, rep.Items, 1)
	it := rep.Items[0]
	assert.Equal(t, plan.Delete, it.Action)
	assert.Equal(t, plan.Failed, it.Status)
	assert.Equal(t, plan.NotObserved, it.Error)
	assert.False(t, it.Verified)
}

// A pruned HelloID group comes back with undo with its members: the users
// it had are linked again.
func TestUndoRebuildsAPrunedHelloIDGroupWithItsUsers(t *testing.T) {
	t.Parallel()
	st := pruneState()
	st.HelloID.Users = []emulator.HelloIDUser{{UserGUID: guidUser, UserName: "ann@acme.example"}}
	w := stateWorld(t, st)
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": pruneYAML}, "hr.yaml")
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report, "--only", "helloid"}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	for _, g := range w.emu.State().HelloID.Groups {
		require.NotEqual(t, "HR A", g.Name, "pruned")
	}

	undo := filepath.Join(w.dir, "undo.json")
	u := runCLI(t, nil, "undo", report, "--out", undo)
	require.Equal(t, exitOK, u.code, u.stderr)
	a := runCLI(t, w.env(), "apply", "--yes", "--plan", undo, "--report", filepath.Join(w.dir, "u.json"))
	require.Equal(t, exitOK, a.code, a.stderr)
	var back *emulator.HelloIDGroup
	for _, g := range w.emu.State().HelloID.Groups {
		if g.Name == "HR A" {
			back = &g
		}
	}
	require.NotNil(t, back, "the group exists again")
	assert.Equal(t, []string{guidUser}, back.Users, "with the users it had")
}

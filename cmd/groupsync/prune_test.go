package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
)

// stateWorld is a world whose emulator holds st and whose directory is
// empty.
func stateWorld(t *testing.T, st emulator.State) *world {
	t.Helper()
	emu := emulator.New(emulator.Options{Seed: 7})
	require.NoError(t, emu.LoadState(st))
	url, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	return &world{emu: emu, url: url, dir: t.TempDir()}
}

func strp(s string) *string { return &s }

const (
	guidHRA   = "0b6b2b1e-5a9c-4d57-9d7a-3f1e2d4c5b61"
	guidHRAD  = "0b6b2b1e-5a9c-4d57-9d7a-3f1e2d4c5b62"
	guidHRKep = "0b6b2b1e-5a9c-4d57-9d7a-3f1e2d4c5b63"
	guidOther = "0b6b2b1e-5a9c-4d57-9d7a-3f1e2d4c5b64"
	guidUser  = "11111111-2222-4333-8444-555555555555"
)

func pruneState() emulator.State {
	return emulator.State{
		LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{
			{ID: 1, Name: "HR Sales", Phones: []emulator.LOX24Phone{{Phone: "+4915112345670"}}},
			{ID: 2, Name: "HR Gone", Description: strp("old team"), NameA: strp("First"), Phones: []emulator.LOX24Phone{
				{Phone: "+4915112345678", A: strp("Ann"), CallbackData: strp("crm-1")},
				{Phone: "+4915112345679", B: strp("x")},
			}},
			{ID: 3, Name: "Marketing", Phones: []emulator.LOX24Phone{{Phone: "+4915112345677"}}},
		}},
		HelloID: emulator.HelloIDState{Groups: []emulator.HelloIDGroup{
			{GroupGUID: guidHRA, Name: "HR A", Users: []string{guidUser}},
			{GroupGUID: guidHRAD, Name: "HR AD", Source: "AD"},
			{GroupGUID: guidHRKep, Name: "HR Kept"},
			{GroupGUID: guidOther, Name: "Other"},
		}, Users: []emulator.HelloIDUser{{UserGUID: guidUser, UserName: "hr.user@acme.example"}}},
	}
}

const pruneYAML = `lox24:
  prune: {name_prefix: "HR "}
  groups:
    - name: HR Sales
helloid:
  prune: {name_prefix: "HR "}
  groups:
    - name: HR Kept
`

func groupNames(st emulator.State) []string {
	var out []string
	for _, g := range st.LOX24.Groups {
		out = append(out, "lox24:"+g.Name)
	}
	for _, g := range st.HelloID.Groups {
		out = append(out, "helloid:"+g.Name)
	}
	sort.Strings(out)
	return out
}

// Prune deletes exactly the groups in the prefix that no file names (and,
// in HelloID, that no other system synchronises), reads members only of
// the groups it deletes, and keeps them in the report.
func TestPruneDeletesOnlyUnnamedGroupsInThePrefix(t *testing.T) {
	t.Parallel()
	w := stateWorld(t, pruneState())
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": pruneYAML}, "hr.yaml")

	p := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, files...)...)
	require.Equal(t, exitPending, p.code, p.stderr)
	assert.Contains(t, p.stdout, `- group 2 "HR Gone"`)
	assert.Regexp(t, `\n +members: +2 \(deleted with the group\)\n`, p.stdout)
	assert.Contains(t, p.stdout, `- group `+guidHRA+` "HR A"`)
	assert.Contains(t, p.stdout, `stays: group `+guidHRAD+` "HR AD" (source "AD": synchronised from another system)`)
	assert.Contains(t, p.stdout, `stays: group 1 "HR Sales" (named by the files)`)
	assert.Contains(t, p.stdout, `prune "HR ": 1 of 2 groups in the prefix to delete, 1 stays`)
	assert.Contains(t, p.stdout, `prune "HR ": 1 of 3 groups in the prefix to delete, 2 stay`)
	assert.NotContains(t, p.stdout, "Marketing")
	assert.NotContains(t, p.stdout, `"Other"`)
	st := w.emu.Stats().Systems
	assert.Equal(t, 1, st["lox24"].ByRoute["GET /groups/{id}/phones"], "members are read only for the group to prune")
	assert.Zero(t, st["lox24"].Writes+st["helloid"].Writes)

	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, []string{"helloid:HR AD", "helloid:HR Kept", "helloid:Other", "lox24:HR Sales", "lox24:Marketing"}, groupNames(w.emu.State()))

	rep := readReport(t, report)
	var snap *plan.Snapshot
	for _, it := range rep.Items {
		if it.System == plan.LOX24 && it.Action == plan.Delete {
			snap = it.Snapshot
		}
	}
	require.NotNil(t, snap, "the report holds the pruned group's snapshot")
	assert.Equal(t, plan.Str("old team"), snap.Fields["description"])
	assert.Equal(t, plan.Str("First"), snap.Fields["name_a"])
	require.Len(t, snap.Phones, 2)
	assert.Equal(t, "+4915112345678", snap.Phones[0].Phone)
	assert.Equal(t, map[string]string{"a": "Ann", "callback_data": "crm-1"}, snap.Phones[0].Cols)
	assert.Equal(t, map[string]string{"b": "x"}, snap.Phones[1].Cols)

	again := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, files...)...)
	assert.Equal(t, exitOK, again.code, again.stdout+again.stderr)
}

// A system that cannot be read, or whose pruned groups' members cannot be
// read, gets no delete; the other system is pruned as usual.
func TestPruneNothingFromASystemThatWasNotRead(t *testing.T) {
	t.Parallel()
	t.Run("bad credentials", func(t *testing.T) {
		t.Parallel()
		w := stateWorld(t, pruneState())
		files := writeFiles(t, w.dir, map[string]string{"hr.yaml": pruneYAML}, "hr.yaml")
		env := append(w.env(), "LOX24_TOKEN=demo:wrong")
		r := runCLI(t, env, append([]string{"apply", "--yes", "--report", filepath.Join(w.dir, "r.json")}, files...)...)
		assert.Equal(t, exitFatal, r.code, r.stderr)
		assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes)
		names := groupNames(w.emu.State())
		assert.Contains(t, names, "lox24:HR Gone")
		assert.NotContains(t, names, "helloid:HR A", "the system that was read is still pruned")
	})
	t.Run("members of a group to prune cannot be read", func(t *testing.T) {
		t.Parallel()
		w := stateWorld(t, pruneState())
		phones := regexp.MustCompile(`^/groups/\d+/phones$`)
		proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodGet && phones.MatchString(req.URL.Path) {
				http.Error(rw, `{"message":"down"}`, http.StatusInternalServerError)
				return
			}
			w.emu.ServeHTTP(rw, req)
		}))
		t.Cleanup(proxy.Close)
		files := writeFiles(t, w.dir, map[string]string{"hr.yaml": pruneYAML}, "hr.yaml")
		env := append(w.env(), "LOX24_URL="+proxy.URL)
		r := runCLI(t, env, append([]string{"apply", "--yes", "--max-attempts", "1", "--report", filepath.Join(w.dir, "r.json")}, files...)...)
		assert.Equal(t, exitFatal, r.code, r.stderr)
		assert.Contains(t, r.stderr, "read the members of the groups to prune")
		assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes)
		assert.Contains(t, groupNames(w.emu.State()), "lox24:HR Gone")
	})
}

// Pruning more than --max-delete-pct of the prefix's groups (10 or more)
// is refused with nothing written, unless --force.
func TestPruneGuardRefusesBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	var st emulator.State
	var yaml strings.Builder
	yaml.WriteString("lox24:\n  prune: {name_prefix: \"HR \"}\n  groups:\n")
	for i := range 10 {
		st.LOX24.Groups = append(st.LOX24.Groups, emulator.LOX24Group{Name: fmt.Sprintf("HR %d", i)})
		if i < 6 {
			fmt.Fprintf(&yaml, "    - name: HR %d\n", i)
		}
	}
	w := stateWorld(t, st)
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": yaml.String()}, "hr.yaml")
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, files...)...)
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stderr, `lox24 prune "HR ": the plan deletes 4 of the 10 groups in the prefix (40.0%)`)
	assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes)
	assert.Len(t, w.emu.State().LOX24.Groups, 10)

	r = runCLI(t, w.env(), append([]string{"apply", "--yes", "--force", "--report", report}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Len(t, w.emu.State().LOX24.Groups, 6)
	assert.Equal(t, 4, w.emu.Stats().Systems["lox24"].ByRoute["DELETE /groups/{id}"])
}

// The baseline catches a truncated export: the first run says so and
// writes it; a later run whose files shrank past --max-shrink-pct, or to
// zero, is refused with nothing written, unless --force.
func TestBaselineShrinkGuard(t *testing.T) {
	t.Parallel()
	w := stateWorld(t, emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{{ID: 1, Name: "HR Sales"}}}})
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString("phone\n")
		for i := range n {
			fmt.Fprintf(&b, "+49151123456%02d\n", i)
		}
		return b.String()
	}
	yaml := "lox24:\n  groups:\n    - id: 1\n      name: HR Sales\n      phones: hr.csv\n      phones_mode: additive\n"
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": yaml, "hr.csv": rows(8)}, "hr.yaml")
	baseline := filepath.Join(w.dir, "baseline.json")
	report := filepath.Join(w.dir, "r.json")
	apply := func(extra ...string) result {
		args := append([]string{"apply", "--yes", "--report", report, "--baseline", baseline}, extra...)
		return runCLI(t, w.env(), append(args, files...)...)
	}

	r := apply()
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "no baseline at "+baseline+" yet: first run")
	raw, err := os.ReadFile(baseline)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"lox24:1": 8`)

	writeFiles(t, w.dir, map[string]string{"hr.csv": rows(3)})
	writes := w.emu.Stats().Systems["lox24"].Writes
	r = apply()
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stdout, "shrink guard: group lox24:1 shrank from 8 to 3 since the baseline (-62.5%, more than --max-shrink-pct 50%)")
	assert.Contains(t, r.stderr, "file hr.csv shrank from 8 to 3", "files are named relative to the baseline")
	// The same files written another way are the same entries: the guard
	// holds whatever directory the run starts from.
	other := runCLI(t, w.env(), "apply", "--yes", "--report", report, "--baseline", baseline, w.dir+"/./../"+filepath.Base(w.dir)+"/hr.yaml")
	assert.Equal(t, exitRefused, other.code, other.stderr)
	assert.Contains(t, other.stderr, "file hr.csv shrank from 8 to 3")
	assert.Equal(t, writes, w.emu.Stats().Systems["lox24"].Writes, "nothing is written")
	p := runCLI(t, w.env(), append([]string{"plan", "--baseline", baseline}, files...)...)
	assert.Equal(t, exitOK, p.code, p.stderr)
	assert.Contains(t, p.stderr, "apply would refuse this plan")
	p = runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode", "--baseline", baseline}, files...)...)
	assert.Equal(t, exitRefused, p.code, "plan --detailed-exitcode exits 4 when apply would refuse: %s", p.stderr)

	r = apply("--max-shrink-pct", "70")
	require.Equal(t, exitOK, r.code, "a limit above the shrink lets it pass: %s", r.stderr)

	writeFiles(t, w.dir, map[string]string{"hr.csv": rows(0)})
	r = apply()
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stderr, "shrank from 3 to 0 since the baseline (a truncated export?)")

	r = apply("--force")
	require.Equal(t, exitOK, r.code, r.stderr)
	raw, err = os.ReadFile(baseline)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"lox24:1": 0`, "a forced run that exits 0 writes the new baseline")

	// A run narrowed by --group or --only leaves the baseline of the whole
	// state as it was.
	writeFiles(t, w.dir, map[string]string{"hr.csv": rows(2)})
	before, err := os.ReadFile(baseline)
	require.NoError(t, err)
	for _, narrow := range [][]string{{"--group", "HR Sales"}, {"--only", "lox24"}} {
		r = apply(narrow...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "not updated: --only or --group limited this run")
		after, err := os.ReadFile(baseline)
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after))
	}

	// A baseline that cannot be written is found before any request.
	total := w.emu.Stats().Total
	r = runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report, "--baseline", filepath.Join(w.dir, "missing", "b.json")}, files...)...)
	assert.Equal(t, exitFatal, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--baseline")
	assert.Equal(t, total, w.emu.Stats().Total, "no request was sent")
}

// A saved plan deletes a pruned group only while it is as the plan's
// snapshot shows it: a member added since makes the delete stale.
func TestSavedPlanPruneIsStaleWhenMembersChanged(t *testing.T) {
	t.Parallel()
	w := stateWorld(t, pruneState())
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": pruneYAML}, "hr.yaml")
	saved := filepath.Join(w.dir, "plan.json")
	p := runCLI(t, w.env(), append([]string{"plan", "--only", "lox24", "--out", saved}, files...)...)
	require.Equal(t, exitOK, p.code, p.stderr)
	assert.NotContains(t, p.stdout, "helloid", "--only leaves the other system's prune scope alone")
	assert.Zero(t, w.emu.Stats().Systems["helloid"].Total)

	st := w.emu.State()
	for i := range st.LOX24.Groups {
		if st.LOX24.Groups[i].Name == "HR Gone" {
			st.LOX24.Groups[i].Phones = append(st.LOX24.Groups[i].Phones, emulator.LOX24Phone{Phone: "+4915112345600"})
		}
	}
	require.NoError(t, w.emu.LoadState(st))

	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), "apply", "--yes", "--plan", saved, "--report", report)
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stderr, "its members changed since the plan (2 then, 3 now)")
	assert.Contains(t, groupNames(w.emu.State()), "lox24:HR Gone")
	assert.Zero(t, w.emu.Stats().Systems["lox24"].ByRoute["DELETE /groups/{id}"])
}

// --group limits a run to the groups it names: the other groups in a prune
// prefix are not "named by no file", and nothing is pruned.
func TestGroupNeverPrunes(t *testing.T) {
	t.Parallel()
	w := stateWorld(t, pruneState())
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": pruneYAML}, "hr.yaml")
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report, "--group", "lox24:HR Sales"}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stdout+r.stderr, "HR Gone")
	assert.Equal(t, groupNames(pruneState()), groupNames(w.emu.State()), "no group was deleted")
	assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes)
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

func readReport(t *testing.T, path string) plan.Report {
	t.Helper()
	var r plan.Report
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &r))
	return r
}

func TestSavedPlanAppliesExactlyTheReviewedItems(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	saved := filepath.Join(w.dir, "plan.json")
	p := runCLI(t, w.env(), append([]string{"plan", "--out", saved}, w.files...)...)
	require.Equal(t, exitOK, p.code, p.stderr)
	raw, err := os.ReadFile(saved)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "demo:demo", "the plan file holds no secret")

	// The files change after the review; the saved plan does not.
	require.NoError(t, os.WriteFile(w.files[0], []byte("lox24:\n  groups:\n    - name: Not reviewed\n"), 0o644))
	report := filepath.Join(w.dir, "r.json")
	a := runCLI(t, w.env(), "apply", "--yes", "--plan", saved, "--report", report)
	require.Equal(t, exitOK, a.code, a.stderr)
	r := readReport(t, report)
	assert.Equal(t, r.Summary.Planned, r.Summary.Succeeded)
	for _, g := range w.emu.State().LOX24.Groups {
		assert.NotEqual(t, "Not reviewed", g.Name, "inputs are not re-read")
	}
}

// A plan refused when it was made (here by --max-changes) stays refused
// at apply, whose own flags would let it through: exit 4, nothing
// written, until --force.
func TestSavedPlanRefusedWhenMadeIsRefusedAtApply(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	saved := filepath.Join(w.dir, "plan.json")
	p := runCLI(t, w.env(), append([]string{"plan", "--max-changes", "3", "--out", saved}, w.files...)...)
	require.Equal(t, exitOK, p.code, p.stderr)
	require.Contains(t, p.stdout, "REFUSED")
	report := filepath.Join(w.dir, "r.json")
	a := runCLI(t, w.env(), "apply", "--yes", "--plan", saved, "--report", report)
	require.Equal(t, exitRefused, a.code, a.stderr)
	assert.Contains(t, a.stderr, "refused by a safety guard: when the plan was made: the plan has ")
	assert.Contains(t, a.stderr, "more than --max-changes 3")
	assert.Zero(t, totalWrites(w.emu))
	assert.Contains(t, readReport(t, report).Errors[0], "when the plan was made")

	forced := runCLI(t, w.env(), "apply", "--yes", "--force", "--plan", saved, "--report", report)
	require.Equal(t, exitOK, forced.code, forced.stderr)
	assert.Positive(t, totalWrites(w.emu))
}

func TestSavedPlanReportsStaleItems(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	saved := filepath.Join(w.dir, "plan.json")
	require.Equal(t, exitOK, runCLI(t, w.env(), append([]string{"plan", "--out", saved}, w.files...)...).code)

	// Someone edits group 12344's description after the review.
	st := w.emu.State()
	for i, g := range st.LOX24.Groups {
		if g.ID == 12344 {
			d := "edited by a colleague"
			st.LOX24.Groups[i].Description = &d
		}
	}
	require.NoError(t, w.emu.LoadState(st))
	w.emu.ResetStats()

	report := filepath.Join(w.dir, "r.json")
	a := runCLI(t, w.env(), "apply", "--yes", "--plan", saved, "--report", report)
	assert.Equal(t, exitFailed, a.code, a.stderr)
	assert.Contains(t, a.stderr, `description was "Old text" when planned and is "edited by a colleague" now`)
	r := readReport(t, report)
	assert.Equal(t, 1, r.Summary.Stale)
	assert.Equal(t, r.Summary.Planned-1, r.Summary.Succeeded)
	assert.Zero(t, w.emu.Stats().Systems["lox24"].ByRoute["PUT /groups/{id}"]-1, "only the other group update (Staff) was sent")
	for _, g := range w.emu.State().LOX24.Groups {
		if g.ID == 12344 {
			assert.Equal(t, "edited by a colleague", *g.Description, "the stale item was not written")
		}
	}
}

func TestSavedPlanUsage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := runCLI(t, w.env(), append([]string{"apply", "--plan", "x.json"}, w.files...)...)
	assert.Equal(t, exitUsage, r.code)
	bad := filepath.Join(w.dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"version": 9}`), 0o644))
	r = runCLI(t, w.env(), "apply", "--yes", "--plan", bad, "--report", filepath.Join(w.dir, "r.json"))
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, "bad.json")
	assert.Zero(t, w.emu.Stats().Total)
}

func TestMetricsFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	metrics := filepath.Join(w.dir, "groupsync.prom")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--metrics-file", metrics, "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	raw, err := os.ReadFile(metrics)
	require.NoError(t, err)
	m := string(raw)
	for _, want := range []string{
		"# TYPE groupsync_last_run_timestamp_seconds gauge\n",
		`groupsync_last_run_exit_code{command="apply"} 0` + "\n",
		`groupsync_last_run_items{command="apply",system="lox24",status="succeeded"} 22` + "\n",
		`groupsync_last_run_items{command="apply",system="helloid",status="unchanged"} 3` + "\n",
		`groupsync_last_run_duration_seconds{command="apply"} `,
	} {
		assert.Contains(t, m, want)
	}

	bad := filepath.Join(w.dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("lox24: [\n"), 0o644))
	r = runCLI(t, w.env(), "plan", "--metrics-file", metrics, bad)
	assert.Equal(t, exitFatal, r.code)
	raw, err = os.ReadFile(metrics)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `groupsync_last_run_exit_code{command="plan"} 1`, "a failed run is recorded too")
}

func TestJSONLogs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--log-format", "json", "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	n := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		assert.Contains(t, rec, "level")
		n++
		if rec["msg"] == "apply finished" {
			assert.EqualValues(t, 34, rec["succeeded"])
			assert.EqualValues(t, 34, rec["verified"], "the re-read after apply is counted")
		}
	}
	assert.GreaterOrEqual(t, n, 3)
	assert.NotContains(t, r.stderr, "applying", "no progress bar without a terminal")
}

func TestPlanFormats(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	j := runCLI(t, w.env(), append([]string{"plan", "--format", "json"}, w.files...)...)
	require.Equal(t, exitOK, j.code, j.stderr)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(j.stdout), &doc))
	assert.EqualValues(t, 1, doc["version"])
	md := runCLI(t, w.env(), append([]string{"plan", "--format", "markdown"}, w.files...)...)
	require.Equal(t, exitOK, md.code, md.stderr)
	assert.Contains(t, md.stdout, "## groupsync plan")
	assert.Contains(t, md.stdout, "| `~` |")
	again := runCLI(t, w.env(), append([]string{"plan", "--format", "markdown"}, w.files...)...)
	assert.Equal(t, md.stdout, again.stdout, "deterministic")
}

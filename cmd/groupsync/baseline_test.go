package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
)

// phoneRows is a member CSV of n numbers.
func phoneRows(n int) string {
	var b strings.Builder
	b.WriteString("phone\n")
	for i := range n {
		fmt.Fprintf(&b, "+49151123456%02d\n", i)
	}
	return b.String()
}

func readBaselineFile(t *testing.T, path string) plan.Baseline {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var b plan.Baseline
	require.NoError(t, json.Unmarshal(raw, &b))
	return b
}

// The review-then-apply workflow arms the shrink guard: plan --baseline
// --out saves the desired state's figures in the plan, apply --plan
// --baseline writes them after a run that exits 0, and the next plan of a
// truncated file is refused.
func TestBaselineThroughSavedPlan(t *testing.T) {
	t.Parallel()
	w := stateWorld(t, emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{{ID: 1, Name: "HR Sales"}}}})
	yaml := "lox24:\n  groups:\n    - id: 1\n      name: HR Sales\n      phones: hr.csv\n      phones_mode: additive\n"
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": yaml, "hr.csv": phoneRows(8)}, "hr.yaml")
	baseline := filepath.Join(w.dir, "baseline.json")
	report := filepath.Join(w.dir, "r.json")
	planTo := func(out string, extra ...string) result {
		args := append([]string{"plan", "--baseline", baseline, "--out", filepath.Join(w.dir, out)}, extra...)
		return runCLI(t, w.env(), append(args, files...)...)
	}
	applyPlan := func(saved string, extra ...string) result {
		args := append([]string{"apply", "--yes", "--report", report, "--plan", filepath.Join(w.dir, saved)}, extra...)
		return runCLI(t, w.env(), args...)
	}

	// First run: nothing to compare; plan writes no baseline, apply does.
	r := planTo("p1.json")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "first run")
	assert.NoFileExists(t, baseline, "plan never writes the baseline")
	r = applyPlan("p1.json", "--baseline", baseline)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Baseline written to "+baseline)
	assert.Equal(t, plan.Baseline{Version: plan.BaselineVersion, Groups: map[string]int{"lox24:1": 8}, Files: map[string]int{"hr.yaml": 1, "hr.csv": 8}},
		readBaselineFile(t, baseline), "files named relative to the baseline's directory, as apply from files names them")

	// A truncated export: the plan says apply would refuse, and apply of
	// that plan refuses with nothing written and the baseline kept.
	writeFiles(t, w.dir, map[string]string{"hr.csv": phoneRows(3)})
	r = planTo("p2.json", "--detailed-exitcode")
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stderr, "file hr.csv shrank from 8 to 3")
	before, err := os.ReadFile(baseline)
	require.NoError(t, err)
	writes := w.emu.Stats().Systems["lox24"].Writes
	for _, extra := range [][]string{{"--baseline", baseline}, nil} {
		r = applyPlan("p2.json", extra...)
		assert.Equal(t, exitRefused, r.code, r.stderr)
		assert.Contains(t, r.stderr, "shrink guard: group lox24:1 shrank from 8 to 3 since the baseline")
	}
	assert.Equal(t, writes, w.emu.Stats().Systems["lox24"].Writes, "nothing is written")
	after, err := os.ReadFile(baseline)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "a refused run keeps the baseline")

	// --force applies the reviewed plan and records its figures.
	r = applyPlan("p2.json", "--baseline", baseline, "--force")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, map[string]int{"lox24:1": 3}, readBaselineFile(t, baseline).Groups)

	// The baseline moved on after the plan was made (another run wrote
	// it): apply compares the plan's figures with the file as it is now.
	r = planTo("p3.json")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NotContains(t, r.stderr, "apply would refuse")
	writeFiles(t, w.dir, map[string]string{"hr.csv": phoneRows(20)})
	r = runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report, "--baseline", baseline}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	writes = w.emu.Stats().Systems["lox24"].Writes
	r = applyPlan("p3.json", "--baseline", baseline)
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stderr, "shrink guard: group lox24:1 shrank from 20 to 3 since the baseline")
	assert.Equal(t, writes, w.emu.Stats().Systems["lox24"].Writes, "nothing is written")
	assert.Equal(t, map[string]int{"lox24:1": 20}, readBaselineFile(t, baseline).Groups)
}

// apply --plan --baseline needs a plan that carries the figures to write;
// one saved without them, or narrowed, is a usage error before any
// request. --retry-failed takes no --baseline.
func TestBaselineWithPlanWithoutFigures(t *testing.T) {
	t.Parallel()
	w := stateWorld(t, emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{{ID: 1, Name: "HR Sales"}}}})
	yaml := "lox24:\n  groups:\n    - id: 1\n      name: HR Sales\n      phones: hr.csv\n      phones_mode: additive\n"
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": yaml, "hr.csv": phoneRows(4)}, "hr.yaml")
	baseline := filepath.Join(w.dir, "baseline.json")
	report := filepath.Join(w.dir, "r.json")

	plain := filepath.Join(w.dir, "plain.json")
	r := runCLI(t, w.env(), append([]string{"plan", "--out", plain}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	narrowed := filepath.Join(w.dir, "narrowed.json")
	r = runCLI(t, w.env(), append([]string{"plan", "--baseline", baseline, "--group", "HR Sales", "--out", narrowed}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Baseline figures not saved in the plan: --only or --group limited it")
	raw, err := os.ReadFile(narrowed)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), `"baseline"`)

	for _, saved := range []string{plain, narrowed} {
		total := w.emu.Stats().Total
		r = runCLI(t, w.env(), "apply", "--yes", "--report", report, "--baseline", baseline, "--plan", saved)
		assert.Equal(t, exitUsage, r.code, r.stderr)
		assert.Contains(t, r.stderr, "this saved plan carries no baseline figures; save it with `plan --baseline FILE --out PLAN.json`")
		assert.Equal(t, total, w.emu.Stats().Total, "no request was sent")
		assert.NoFileExists(t, baseline)
	}

	r = runCLI(t, w.env(), "apply", "--yes", "--report", report, "--plan", plain)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = runCLI(t, w.env(), "apply", "--yes", "--baseline", baseline, "--retry-failed", report)
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--baseline compares input files; a report reads none")
}

// The baseline is written only by an apply that exits 0: a run with
// failed items (3), refused by a guard (4) or interrupted (143) leaves it
// as it was, here absent; the next clean run writes it.
func TestBaselineIsWrittenOnlyAfterARunThatExitsZero(t *testing.T) {
	t.Parallel()
	st := emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{{ID: 1, Name: "HR Sales"}}}}
	w := stateWorld(t, st)
	yaml := "lox24:\n  groups:\n    - id: 1\n      name: HR Sales\n      phones: hr.csv\n"
	files := writeFiles(t, w.dir, map[string]string{"hr.yaml": yaml, "hr.csv": phoneRows(8)}, "hr.yaml")
	baseline := filepath.Join(w.dir, "baseline.json")
	apply := func(extra ...string) []string {
		args := append([]string{"apply", "--yes", "--baseline", baseline, "--report", filepath.Join(w.dir, "r.json")}, extra...)
		return append(args, files...)
	}

	drop := emulator.New(emulator.Options{Seed: 3, DropRate: 1})
	require.NoError(t, drop.LoadState(st))
	url, stop, err := drop.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	r := runCLI(t, pointTo(w.env(), url), apply()...)
	require.Equal(t, exitFailed, r.code, r.stderr)
	assert.NoFileExists(t, baseline, "failed items")

	r = runCLI(t, w.env(), apply("--max-changes", "1")...)
	require.Equal(t, exitRefused, r.code, r.stderr)
	assert.NoFileExists(t, baseline, "refused")

	r = runHooked(t, w.env(), func(stage string, signal func()) {
		if stage == "apply" {
			signal()
		}
	}, apply()...)
	require.Equal(t, exitSIGTERM, r.code, r.stderr)
	assert.NoFileExists(t, baseline, "interrupted")

	r = runCLI(t, w.env(), apply()...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 8, readBaselineFile(t, baseline).Groups["lox24:1"])
}

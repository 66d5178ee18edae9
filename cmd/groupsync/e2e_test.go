package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/samples"
)

// world is an emulator seeded with the demo state, and the sample files
// copied into a temporary directory.
type world struct {
	emu   *emulator.Server
	url   string
	dir   string
	files []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	raw, err := samples.FS.ReadFile(samples.DemoState)
	require.NoError(t, err)
	st, err := emulator.ReadState(bytes.NewReader(raw))
	require.NoError(t, err)
	emu := emulator.New(emulator.Options{Seed: 7})
	require.NoError(t, emu.LoadState(st))
	url, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, samples.FS))
	w := &world{emu: emu, url: url, dir: dir}
	for _, f := range samples.DemoFiles {
		w.files = append(w.files, filepath.Join(dir, f))
	}
	return w
}

func (w *world) env() []string {
	return []string{
		"LOX24_TOKEN=demo:demo", "HELLOID_API_KEY=demo", "HELLOID_API_SECRET=demo",
		"LOX24_URL=" + w.url, "HELLOID_URL=" + w.url, "PATH=" + os.Getenv("PATH"),
	}
}

func TestPlanApplyReplan(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	before := w.emu.State()

	plan := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, w.files...)...)
	require.Equal(t, exitPending, plan.code, plan.stderr)
	assert.Contains(t, plan.stdout, `~ group 12344 "My Clients"`)
	assert.Contains(t, plan.stdout, "groups.yaml:")
	assert.Equal(t, 0, w.emu.Stats().Systems["lox24"].Writes+w.emu.Stats().Systems["helloid"].Writes, "plan sends GET only")
	assert.Equal(t, before, w.emu.State())

	again := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, w.files...)...)
	assert.Equal(t, plan.stdout, again.stdout, "the plan is byte-identical for the same inputs and state")

	report := filepath.Join(w.dir, "report.json")
	apply := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, w.files...)...)
	require.Equal(t, exitOK, apply.code, apply.stderr)
	assert.Contains(t, apply.stderr, "Report written to "+report)

	var rep struct {
		Version int `json:"version"`
		Summary map[string]int
		Items   []map[string]any
	}
	raw, err := os.ReadFile(report)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &rep))
	assert.Equal(t, 1, rep.Version)
	assert.Equal(t, rep.Summary["planned"], rep.Summary["succeeded"])
	assert.Positive(t, rep.Summary["planned"])
	assert.Equal(t, len(rep.Items), rep.Summary["planned"])
	for _, it := range rep.Items {
		assert.Equal(t, "succeeded", it["status"])
		assert.NotEmpty(t, it["key"], "every item names its remote id, creates included")
		assert.NotEmpty(t, it["source"])
		if it["system"] == "lox24" {
			assert.Len(t, it["request_id"], 32)
		}
	}

	replan := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, w.files...)...)
	require.Equal(t, exitOK, replan.code, replan.stdout+replan.stderr)
	assert.Contains(t, replan.stdout, "No changes.")

	w.emu.ResetStats()
	reapply := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, w.files...)...)
	require.Equal(t, exitOK, reapply.code, reapply.stderr)
	st := w.emu.Stats()
	assert.Zero(t, st.Systems["lox24"].Writes, "a re-run sends no writes")
	assert.Zero(t, st.Systems["helloid"].Writes, "a re-run sends no writes")
	assert.Positive(t, st.Total)
}

func TestApplyKeepsUnmentionedGroupsAndFields(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	before := w.emu.State()
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	after := w.emu.State()

	mentioned := map[string]bool{}
	for _, f := range w.files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, g := range before.LOX24.Groups {
			if strings.Contains(string(raw), g.Name) {
				mentioned[g.Name] = true
			}
		}
	}
	byID := map[int64]emulator.LOX24Group{}
	for _, g := range after.LOX24.Groups {
		byID[g.ID] = g
	}
	kept := 0
	for _, g := range before.LOX24.Groups {
		got, ok := byID[g.ID]
		require.True(t, ok, "group %d still exists", g.ID)
		if !mentioned[g.Name] {
			// Phones are compared by issue 3's tests; here the group itself.
			g.Phones, got.Phones = nil, nil
			assert.Equal(t, g, got, "a group the files do not mention is untouched")
			kept++
		}
	}
	assert.Greater(t, kept, 25)
}

func TestApplyWithoutTerminalNeedsYes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	report := filepath.Join(w.dir, "report.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--report", report}, w.files...)...)
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, "--yes")
	st := w.emu.Stats()
	assert.Zero(t, st.Systems["lox24"].Writes+st.Systems["helloid"].Writes)
	raw, err := os.ReadFile(report)
	require.NoError(t, err, "the report is written even when nothing is applied")
	assert.Contains(t, string(raw), `"status": "skipped"`)
}

func TestMissingCredentialsSendNoRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := []string{"LOX24_URL=" + w.url, "HELLOID_URL=" + w.url, "HELLOID_API_KEY=demo"}
	r := runCLI(t, env, append([]string{"plan"}, w.files...)...)
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, "LOX24_TOKEN")
	assert.Contains(t, r.stderr, "HELLOID_API_SECRET")
	assert.Zero(t, w.emu.Stats().Total)
}

func TestBadTokenIsFatalAfterOneRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := append(w.env(), "LOX24_TOKEN=demo:sentinel-wrong-secret")
	r := runCLI(t, env, append([]string{"apply", "--yes", "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
	assert.Equal(t, exitFatal, r.code)
	assert.Equal(t, 1, w.emu.Stats().Systems["lox24"].Total)
	assert.Positive(t, w.emu.Stats().Systems["helloid"].Writes, "the other system carries on")
	assert.NotContains(t, r.stdout+r.stderr, "sentinel-wrong-secret")
}

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, exitOK, "Usage:"},
		{[]string{"plan", "--help"}, exitOK, "--detailed-exitcode"},
		{[]string{"apply", "--help"}, exitOK, "--yes"},
		{[]string{"validate", "--help"}, exitOK, "validate [flags] FILE"},
		{[]string{"emulate", "--help"}, exitOK, "--state"},
		{[]string{"demo", "--help"}, exitOK, "demo"},
		{[]string{}, exitUsage, "Usage:"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"plan"}, exitUsage, "no input files"},
		{[]string{"plan", "--no-such-flag", "x.yaml"}, exitUsage, "no-such-flag"},
		{[]string{"plan", "--only", "ldap", "x.yaml"}, exitUsage, "unknown system"},
		{[]string{"plan", "--lox24-rate", "NaN", "x.yaml"}, exitUsage, "--lox24-rate and --helloid-rate must be numbers from 0.01 to 100000"},
		{[]string{"plan", "--helloid-rate", "inf", "x.yaml"}, exitUsage, "must be numbers from 0.01"},
		{[]string{"apply", "--lox24-rate", "1e-12", "x.yaml"}, exitUsage, "must be numbers from 0.01"},
		{[]string{"apply", "--lox24-rate", "0", "x.yaml"}, exitUsage, "must be numbers from 0.01"},
		// The guard's "no limit" is 0: given, it would read as "refuse any
		// change" and do the opposite.
		{[]string{"apply", "--max-changes", "0", "x.yaml"}, exitUsage, "--max-changes 0 would not refuse anything"},
		{[]string{"plan", "--max-changes", "-1", "x.yaml"}, exitUsage, "--max-changes must not be negative"},
		{[]string{"plan", "--max-changes", "many", "x.yaml"}, exitUsage, "not a whole number"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			assert.Equal(t, tt.code, r.code)
			assert.Contains(t, r.stdout+r.stderr, tt.want)
		})
	}
}

// writeFiles writes name -> content into dir and returns the paths of the
// names given in order.
func writeFiles(t *testing.T, dir string, files map[string]string, order ...string) []string {
	t.Helper()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	var out []string
	for _, n := range order {
		out = append(out, filepath.Join(dir, n))
	}
	return out
}

const shortList = "phone,a\n+4915112345678,Mr.\n+4915123456789,Ms.\n"

func TestDeleteGuardRefusesBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	files := writeFiles(t, w.dir, map[string]string{
		"short.yaml": "lox24:\n  groups:\n    - id: 12344\n      name: Renamed too\n      phones: short.csv\n",
		"short.csv":  shortList,
	}, "short.yaml")
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, files...)...)
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--max-delete-pct")
	assert.Contains(t, r.stderr, "--force")
	assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes, "nothing is written, not even the rename")
	raw, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "refused by a safety guard")

	plan := runCLI(t, w.env(), append([]string{"plan"}, files...)...)
	assert.Equal(t, exitOK, plan.code)
	assert.Contains(t, plan.stderr, "apply would refuse", "plan warns before anyone applies")

	forced := runCLI(t, w.env(), append([]string{"apply", "--yes", "--force", "--report", report}, files...)...)
	require.Equal(t, exitOK, forced.code, forced.stderr)
	for _, g := range w.emu.State().LOX24.Groups {
		if g.ID == 12344 {
			assert.Len(t, g.Phones, 2)
			assert.Equal(t, "Renamed too", g.Name)
		}
	}
}

func TestAdditiveMembersNeverDelete(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	files := writeFiles(t, w.dir, map[string]string{
		"add.yaml": "lox24:\n  groups:\n    - id: 12344\n      name: My Clients\n      phones: add.csv\n      phones_mode: additive\n",
		"add.csv":  shortList + "+4930999999,Dr.\n",
	}, "add.yaml")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", filepath.Join(w.dir, "r.json")}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	st := w.emu.Stats().Systems["lox24"]
	assert.Zero(t, st.ByRoute["DELETE /phones/{id}"])
	assert.Equal(t, 1, st.ByRoute["POST /groups/{id}/phones/batch"])
	for _, g := range w.emu.State().LOX24.Groups {
		if g.ID == 12344 {
			assert.Len(t, g.Phones, 13)
		}
	}
}

func TestPlanMasksPhonesUnlessAsked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	masked := runCLI(t, w.env(), append([]string{"plan"}, w.files...)...)
	require.Equal(t, exitOK, masked.code, masked.stderr)
	assert.Contains(t, masked.stdout, "+49171****678")
	assert.NotContains(t, masked.stdout, "+491712345678")
	shown := runCLI(t, w.env(), append([]string{"plan", "--show-phones"}, w.files...)...)
	assert.Contains(t, shown.stdout, "+491712345678")
}

func TestMaxChangesRefusesBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--max-changes", "5", "--report", report}, w.files...)...)
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stderr, "more than --max-changes 5")
	st := w.emu.Stats()
	assert.Zero(t, st.Systems["lox24"].Writes+st.Systems["helloid"].Writes)
	r = runCLI(t, w.env(), append([]string{"apply", "--yes", "--max-changes", "5", "--force", "--report", report}, w.files...)...)
	assert.Equal(t, exitOK, r.code, r.stderr)
}

func TestCredentialWithANewlineFailsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := append(w.env(), "LOX24_TOKEN=demo:demo\n")
	r := runCLI(t, env, append([]string{"plan"}, w.files...)...)
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, "LOX24_TOKEN contains a control character")
	assert.Zero(t, w.emu.Stats().Total)
}

func TestGroupsScheduledForDeletionAreLeftAlone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	st := w.emu.State()
	when := "2026-12-01T00:00:00+00:00"
	for i, g := range st.LOX24.Groups {
		if g.Name == "Staff" { // the samples clear its description
			st.LOX24.Groups[i].DeletedAt = &when
		}
	}
	require.NoError(t, w.emu.LoadState(st))
	r := runCLI(t, w.env(), append([]string{"plan"}, w.files...)...)
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stdout, `"Staff" is scheduled for deletion (deleted_at `+when+`); groupsync does not change it`)

	out := filepath.Join(w.dir, "export.yaml")
	r = runCLI(t, w.env(), "export", "--out", out)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, `"Staff" is scheduled for deletion`)
	r = runCLI(t, w.env(), "plan", "--detailed-exitcode", out)
	assert.Equal(t, exitOK, r.code, "the export leaves it out and plans clean: %s", r.stdout)
}

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/samples"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's flag table from the flag table")

// commands lists every command with its --help.
var commands = []string{"validate", "plan", "apply", "show", "undo", "export", "emulate", "demo"}

// helpFlags returns the flags a command's --help lists, with their
// placeholders: "--format text|json|markdown".
func helpFlags(t *testing.T, cmd string) []string {
	t.Helper()
	r := runCLI(t, nil, cmd, "--help")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, "Usage: groupsync "+cmd), r.stdout)
	var out []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "  --") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// Every command's help lists its flags with the placeholders of the flag
// table, never a word of a sentence taken for one.
func TestHelpPerCommand(t *testing.T) {
	for _, cmd := range commands {
		t.Run(cmd, func(t *testing.T) {
			for _, line := range helpFlags(t, cmd) {
				name, arg, _ := strings.Cut(strings.TrimPrefix(line, "--"), " ")
				row, ok := rowFor(cmd, name)
				require.True(t, ok, "--%s of %s is in the flag table", name, cmd)
				assert.Equal(t, row.arg, arg, "placeholder of --%s", name)
			}
		})
	}
	// The cases of the issue: no sentence words as placeholders, no file
	// for a boolean, no flags export ignores.
	assert.Contains(t, helpFlags(t, "plan"), "--out PLAN.json")
	assert.Contains(t, helpFlags(t, "apply"), "--plan PLAN.json")
	assert.Contains(t, helpFlags(t, "export"), "--emulator-state")
	for _, f := range []string{"--format", "--force", "--max-changes", "--max-delete-pct", "--detailed-exitcode"} {
		for _, line := range helpFlags(t, "export") {
			assert.False(t, strings.HasPrefix(line, f+" ") || line == f, "export takes no %s", f)
		}
	}
	r := runCLI(t, nil, "export", "--format", "json")
	assert.Equal(t, exitUsage, r.code)
}

// The README's flag table is the flag table, rendered; and every flag a
// command registers is in it for that command, and nothing else is.
func TestREADMEFlagTable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	const begin, end = "<!-- flag table: generated from cmd/groupsync/flagtable.go -->\n", "<!-- end of flag table -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	require.True(t, i >= 0 && j > i, "README has the flag table markers")
	want := flagTableMarkdown()
	if *updateREADME {
		s = s[:i+len(begin)] + want + s[j:]
		require.NoError(t, os.WriteFile(filepath.Join("..", "..", "README.md"), []byte(s), 0o644))
	}
	assert.Equal(t, want, s[i+len(begin):j], "run go test ./cmd/groupsync -run TestREADMEFlagTable -update-readme")

	inTable := map[string][]string{} // command -> flags of the table
	for _, r := range flagTable {
		for _, c := range r.cmds {
			inTable[c] = append(inTable[c], r.name)
		}
	}
	for _, cmd := range commands {
		var got []string
		for _, line := range helpFlags(t, cmd) {
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "--"), " ")
			got = append(got, name)
		}
		slices.Sort(got)
		want := slices.Clone(inTable[cmd])
		slices.Sort(want)
		assert.Equal(t, want, got, "flags of %s", cmd)
	}
}

func TestTopLevelHelpAndVersion(t *testing.T) {
	r := runCLI(t, nil, "--help")
	require.Equal(t, exitOK, r.code)
	for _, code := range []string{"0 ", "1 ", "2 ", "3 ", "4 ", "64 ", "75 ", "130/143 "} {
		assert.Contains(t, r.stdout, "\n  "+code, "exit code %s", code)
	}
	assert.Contains(t, r.stdout, "groupsync show")
	v := runCLI(t, nil, "--version")
	assert.Equal(t, exitOK, v.code)
	assert.Regexp(t, `^groupsync \S+`, v.stdout)
}

// An unknown flag gets one line, with a suggestion, not the whole usage.
func TestUnknownFlagIsOneLine(t *testing.T) {
	r := runCLI(t, nil, "plan", "--detailed-exitcod", "x.yaml")
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, "groupsync plan: flag provided but not defined: -detailed-exitcod; did you mean --detailed-exitcode? (see groupsync plan --help)\n", r.stderr)
	assert.Empty(t, r.stdout)
	r = runCLI(t, nil, "apply", "--frmat=json", "x.yaml")
	assert.Contains(t, r.stderr, "did you mean --format?")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"))
}

func TestValidateWording(t *testing.T) {
	dir := t.TempDir()
	files := writeFiles(t, dir, map[string]string{"g.yaml": "lox24:\n  groups:\n    - name: One\n"}, "g.yaml")
	r := runCLI(t, nil, append([]string{"validate"}, files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "1 file valid: 1 lox24 group, 0 helloid groups.\n", r.stdout)
}

// A system that cannot be read is said plainly in every format, never
// "No changes", and the plan exits 1.
func TestPlanSaysWhichSystemWasNotRead(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := append(w.env(), "HELLOID_API_KEY=wrong")
	for _, format := range []string{"text", "markdown", "json"} {
		r := runCLI(t, env, append([]string{"plan", "--detailed-exitcode", "--format", format}, w.files...)...)
		assert.Equal(t, exitFatal, r.code, format)
		assert.NotContains(t, r.stdout, "No changes", format)
		if format == "json" {
			var doc struct {
				Errors []plan.Unreadable `json:"errors"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
			require.Len(t, doc.Errors, 1)
			assert.Equal(t, plan.HelloID, doc.Errors[0].System)
			assert.Contains(t, doc.Errors[0].Error, "401")
			continue
		}
		assert.Regexp(t, `helloid: NOT READ \(.*401.*\); nothing planned for it`, r.stdout, format)
		assert.NotContains(t, r.stdout, "wrong")
	}
}

// A refusal is part of the plan, and --detailed-exitcode says 4, as apply
// would.
func TestPlanShowsRefusalsAndExits4(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode", "--max-changes", "3", "--format", "markdown"}, w.files...)...)
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stdout, "REFUSED")
	assert.Less(t, strings.Index(r.stdout, "REFUSED"), strings.Index(r.stdout, "### lox24"))
	j := runCLI(t, w.env(), append([]string{"plan", "--max-changes", "3", "--format", "json"}, w.files...)...)
	assert.Equal(t, exitOK, j.code, "without --detailed-exitcode a refusal is no error of plan")
	var doc struct {
		Refused []string `json:"refused"`
	}
	require.NoError(t, json.Unmarshal([]byte(j.stdout), &doc))
	require.Len(t, doc.Refused, 1)
	assert.Contains(t, doc.Refused[0], "--max-changes 3")
	f := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode", "--max-changes", "3", "--force"}, w.files...)...)
	assert.Equal(t, exitPending, f.code)
	assert.NotContains(t, f.stdout, "REFUSED")
}

// show renders a saved plan in any format, as plan printed it.
func TestShowSavedPlan(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	saved := filepath.Join(w.dir, "p.json")
	p := runCLI(t, w.env(), append([]string{"plan", "--no-color", "--max-changes", "3", "--out", saved}, w.files...)...)
	require.Equal(t, exitOK, p.code, p.stderr)
	calls := w.emu.Stats().Total
	s := runCLI(t, nil, "show", saved)
	require.Equal(t, exitOK, s.code, s.stderr)
	assert.Equal(t, p.stdout, s.stdout)
	md := runCLI(t, nil, "show", "--format", "markdown", saved)
	assert.Contains(t, md.stdout, "## groupsync plan")
	assert.Contains(t, md.stdout, "REFUSED")
	assert.Equal(t, calls, w.emu.Stats().Total, "show sends no request")
	assert.Equal(t, exitUsage, runCLI(t, nil, "show").code)
}

// --group limits the plan to the groups named, by name or id, with
// system:name where both systems have the name.
func TestGroupFlag(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := runCLI(t, w.env(), append([]string{"plan", "--group", "12344", "--group", "helloid:finance"}, w.files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `group 12344 "My Clients"`)
	assert.Contains(t, r.stdout, `+ group "Finance"`)
	assert.NotContains(t, r.stdout, `"Staff"`)
	assert.NotContains(t, r.stdout, `"Contractors"`)
	// Names match as the plan matches them: exactly in LOX24, whose
	// "My Clients" is not "my clients".
	lower := runCLI(t, w.env(), append([]string{"plan", "--group", "my clients"}, w.files...)...)
	assert.Equal(t, exitFatal, lower.code, lower.stderr)
	assert.Contains(t, lower.stderr, "--group my clients: no group of the files has that name or id")
	exact := runCLI(t, w.env(), append([]string{"plan", "--group", "My Clients"}, w.files...)...)
	assert.Equal(t, exitOK, exact.code, exact.stderr)
	bad := runCLI(t, w.env(), append([]string{"plan", "--group", "nope"}, w.files...)...)
	assert.Equal(t, exitFatal, bad.code)
	assert.Contains(t, bad.stderr, "--group nope: no group of the files has that name or id")
	assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes)
}

// With --log-format json every stderr line of an apply is JSON, the
// summary and the report line included, and durations are milliseconds.
func TestJSONLogsEveryLine(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--log-format", "json", "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	require.Greater(t, len(lines), 3)
	sawSummary, sawMS := false, false
	for _, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "not JSON: %q", line)
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, "lox24: ") {
			sawSummary = true
			assert.Contains(t, msg, "verified", "the summary counts the verified items")
		}
		if _, ok := rec["duration_ms"]; ok {
			sawMS = true
		}
		assert.NotContains(t, rec, "duration", "durations are in ms")
	}
	assert.True(t, sawSummary, "the summary lines are JSON too")
	assert.True(t, sawMS)
}

// Off a terminal, apply logs its progress on every tick: done/total, rate
// and ETA. The ticker and the clock are the test's, and the test waits for
// each line before it advances again, so the counts are exact.
func TestProgressLogOffATerminal(t *testing.T) {
	lines := make(chan string, 4)
	tick := make(chan time.Time)
	stopped := false
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	advance, finish := progressLog(newLogger(lineSink(lines), "json"), 40, tick, func() { stopped = true }, now)
	for range 10 {
		advance(plan.Item{})
	}
	clock = clock.Add(10 * time.Second)
	tick <- clock
	firstLine := <-lines // logged: only now may the count move on
	for range 10 {
		advance(plan.Item{})
	}
	clock = clock.Add(10 * time.Second)
	tick <- clock
	secondLine := <-lines
	finish()
	assert.True(t, stopped)
	assert.Empty(t, lines, "one line per tick")
	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(firstLine), &first))
	require.NoError(t, json.Unmarshal([]byte(secondLine), &second))
	assert.Equal(t, "progress", first["msg"])
	assert.EqualValues(t, 10, first["done"])
	assert.EqualValues(t, 40, first["total"])
	assert.EqualValues(t, 1, first["rate_per_s"])
	assert.EqualValues(t, 30000, first["eta_ms"])
	assert.EqualValues(t, 20, second["done"])
	assert.EqualValues(t, 20000, second["eta_ms"])
}

// lineSink is a writer that hands each write (slog writes one line per
// call) to a channel, so a test can wait for a log line instead of sleeping.
type lineSink chan string

func (l lineSink) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

// Every retry and every 429 is logged with its system, item and attempt,
// and a retry with its wait (in ms) and why.
func TestRetriesAndThrottlingAreLogged(t *testing.T) {
	t.Parallel()
	raw, err := samples.FS.ReadFile(samples.DemoState)
	require.NoError(t, err)
	st, err := emulator.ReadState(bytes.NewReader(raw))
	require.NoError(t, err)
	emu := emulator.New(emulator.Options{Seed: 3, FailRate: 0.2, Throttle: 20})
	require.NoError(t, emu.LoadState(st))
	url, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	w := &world{emu: emu, url: url, dir: t.TempDir()}
	require.NoError(t, os.CopyFS(w.dir, samples.FS))
	for _, f := range samples.DemoFiles {
		w.files = append(w.files, filepath.Join(w.dir, f))
	}
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--max-attempts", "10", "--lox24-rate", "200", "--helloid-rate", "200",
		"--log-format", "json", "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
	require.Contains(t, []int{exitOK, exitFailed}, r.code, r.stderr)
	retries, throttled := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		switch rec["msg"] {
		case "retry":
			retries++
			assert.Contains(t, []any{"lox24", "helloid"}, rec["system"])
			assert.NotEmpty(t, rec["item"])
			assert.Positive(t, rec["attempt"])
			assert.Contains(t, rec, "wait_ms")
			assert.Contains(t, []any{"error", "throttling"}, rec["wait_reason"])
		case "throttled: 429 Too Many Requests":
			throttled++
			assert.NotEmpty(t, rec["item"])
		}
	}
	stats := emu.Stats()
	assert.Positive(t, retries, "503s at a 20%% fail rate are retried")
	assert.Positive(t, throttled, "%d requests at 200/s against a throttle of 20/s", stats.Total)
}

func TestWaitReason(t *testing.T) {
	assert.Equal(t, "lockout", waitReason(sink.Event{System: plan.LOX24, Reason: "HTTP 429 Too Many Requests", Wait: time.Minute}))
	assert.Equal(t, "throttling", waitReason(sink.Event{System: plan.LOX24, Reason: "HTTP 429 Too Many Requests", Wait: time.Second}))
	assert.Equal(t, "throttling", waitReason(sink.Event{System: plan.HelloID, Reason: "HTTP 429 Too Many Requests", Wait: time.Minute}))
	assert.Equal(t, "error", waitReason(sink.Event{System: plan.LOX24, Reason: "HTTP 503 Service Unavailable", Wait: time.Second}))
}

// Colour on a terminal only, and never with NO_COLOR or --no-color.
func TestPlanColour(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	args := append([]string{"plan"}, w.files...)
	onTerminal := runCLIOn(t, "", true, w.env(), args...)
	require.Equal(t, exitOK, onTerminal.code, onTerminal.stderr)
	assert.Contains(t, onTerminal.stdout, "\x1b[32m+\x1b[0m")
	assert.Contains(t, onTerminal.stdout, "\x1b[33m~\x1b[0m")
	assert.Contains(t, onTerminal.stdout, "\x1b[31m-\x1b[0m")
	for name, r := range map[string]result{
		"off a terminal": runCLI(t, w.env(), args...),
		"NO_COLOR":       runCLIOn(t, "", true, append(w.env(), "NO_COLOR=1"), args...),
		"--no-color":     runCLIOn(t, "", true, w.env(), append([]string{"plan", "--no-color"}, w.files...)...),
	} {
		assert.NotContains(t, r.stdout, "\x1b[", name)
	}
}

// Off a terminal apply starts a 10 s progress ticker; on one it shows the
// bar instead.
func TestApplyProgressTicker(t *testing.T) {
	t.Parallel()
	for _, terminal := range []bool{false, true} {
		w := newWorld(t)
		var intervals []time.Duration
		var stdout, stderr strings.Builder
		env := map[string]string{}
		for _, kv := range w.env() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		c := &cli{env: func(k string) string { return env[k] }, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
			terminal: func(any) bool { return terminal },
			newTicker: func(d time.Duration) (<-chan time.Time, func()) {
				intervals = append(intervals, d)
				return make(chan time.Time), func() {}
			}}
		code := c.run(t.Context(), append([]string{"apply", "--yes", "--report", filepath.Join(w.dir, "r.json")}, w.files...))
		require.Equal(t, exitOK, code, stderr.String())
		if terminal {
			assert.Empty(t, intervals)
			continue
		}
		assert.Equal(t, []time.Duration{10 * time.Second}, intervals)
	}
}

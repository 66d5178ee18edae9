package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs groupsync in-process with env ("NAME=value" entries) and args,
// with no terminal and an empty stdin, and returns its exit code and output.
// Relative paths are relative to the test's working directory, so tests
// give absolute ones.
func runCLI(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runCLIOn(t, "", false, env, args...)
}

// runCLIOn is runCLI with stdin holding input, and stdin and stderr taken
// for a terminal when terminal is true.
func runCLIOn(t *testing.T, input string, terminal bool, env []string, args ...string) result {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var stdout, stderr strings.Builder
	c := &cli{
		env:      func(k string) string { return vars[k] },
		stdin:    strings.NewReader(input),
		stdout:   &stdout,
		stderr:   &stderr,
		terminal: func(any) bool { return terminal },
	}
	code := c.run(context.Background(), args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// inDir returns each name as a path in dir, joined without cleaning, so
// that output citing it reads, once runCLIIn trims dir, as the name given.
func inDir(dir string, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = dir + string(filepath.Separator) + n
	}
	return out
}

// runCLIIn is runCLI for arguments made with inDir: it removes dir from the
// output, which then reads as if groupsync had run in dir with the names
// as given.
func runCLIIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	r := runCLI(t, env, args...)
	prefix := dir + string(filepath.Separator)
	r.stdout = strings.ReplaceAll(r.stdout, prefix, "")
	r.stderr = strings.ReplaceAll(r.stderr, prefix, "")
	return r
}

// On a terminal, apply asks and applies only after "yes"; any other answer
// sends no write and reports every item skipped.
func TestApplyAsksOnATerminal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, answer string
		code         int
	}{{"yes", "yes\n", exitOK}, {"no", "no\n", exitFatal}, {"end of input", "", exitFatal}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			report := filepath.Join(w.dir, "r.json")
			r := runCLIOn(t, tt.answer, true, w.env(), append([]string{"apply", "--report", report}, w.files...)...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, "Apply these changes? Only 'yes' will be accepted: ")
			writes := w.emu.Stats().Systems["lox24"].Writes + w.emu.Stats().Systems["helloid"].Writes
			rep := readReport(t, report)
			if tt.code == exitOK {
				assert.Positive(t, writes)
				assert.Positive(t, rep.Summary.Succeeded)
				return
			}
			assert.Zero(t, writes)
			assert.Contains(t, r.stderr, "cancelled at the prompt: nothing was applied")
			assert.NotContains(t, r.stderr, "not confirmed", "the person answered: that is no error")
			assert.True(t, rep.Cancelled)
			assert.Equal(t, rep.Summary.Planned, rep.Summary.Skipped)
		})
	}
}

// The demo runs in-process without changing the working directory, cites
// its files relative to its copy of samples/, prints the plan once, names a
// binary it says how to build, and leaves no temporary directory behind.
func TestDemo(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	wd, err := os.Getwd()
	require.NoError(t, err)
	r := runCLI(t, nil, "demo")
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Plan: ")
	assert.Contains(t, r.stdout, "No changes.")
	after, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, wd, after)

	out := r.stdout + r.stderr
	assert.Contains(t, r.stdout, "  ~ group 12344 \"My Clients\"  (groups.yaml:8)")
	assert.NotContains(t, out, tmp, "no path of the temporary copy is shown")
	assert.Equal(t, 1, strings.Count(r.stdout, "~ group 12344 \"My Clients\""), "the plan is printed once:\n%s", r.stdout)
	assert.Contains(t, r.stdout, "`make build`, then `bin/groupsync emulate")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "the demo removes its copy")
}

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file, signal_test.go and pty_test.go run the built
// binary, where a real process is the point: signals, the terminal prompt,
// the lock file held across processes, and one run of the whole workflow.
// Every other test calls run in-process (cli_test.go).

// binary is the groupsync binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "groupsync-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "groupsync")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// exe runs the binary with env and args, in dir, with no terminal.
func exe(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// The binary runs the whole workflow: the demo plans, applies and plans
// again against its in-process emulator.
func TestBinaryDemo(t *testing.T) {
	t.Parallel()
	r := exe(t, t.TempDir(), []string{"PATH=" + os.Getenv("PATH")}, "demo")
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Plan: ")
	assert.Contains(t, r.stdout, "No changes.")
}

// The lock file keeps a second process out, and is free again once released.
func TestBinaryLockFileHeldExits75WithoutARequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	lockPath := filepath.Join(w.dir, "groupsync.lock")
	unlock, err := lock(lockPath)
	require.NoError(t, err)
	defer unlock()
	r := exe(t, w.dir, w.env(), append([]string{"apply", "--yes", "--lock-file", lockPath, "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
	assert.Equal(t, exitLocked, r.code, r.stderr)
	assert.Contains(t, r.stderr, "another groupsync run holds the lock")
	assert.Zero(t, w.emu.Stats().Total)

	unlock()
	r = exe(t, w.dir, w.env(), append([]string{"plan", "--lock-file", lockPath}, w.files...)...)
	assert.Equal(t, exitOK, r.code, "a released lock is taken again")
}

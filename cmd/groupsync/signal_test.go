//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
)

// startApply starts the binary applying 20 new groups one at a time against
// an emulator that takes latency per request, and returns once the first
// write has arrived.
func startApply(t *testing.T, latency time.Duration) (*exec.Cmd, *lockedBuffer, string, *emulator.Server) {
	t.Helper()
	emu := emulator.New(emulator.Options{Latency: latency})
	url, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	dir := t.TempDir()
	files := chaosFiles(t, dir, 0, 0, 20)
	report := filepath.Join(dir, "report.json")
	w := &world{url: url}
	cmd := exec.Command(binary, append([]string{"apply", "--yes", "--report", report, "--helloid-workers", "1", "--helloid-rate", "1000"}, files...)...)
	cmd.Env = w.env()
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(20 * time.Second)
	for emu.Stats().Systems["helloid"].Writes == 0 {
		require.True(t, time.Now().Before(deadline), "no write arrived: %s", stderr.String())
		time.Sleep(5 * time.Millisecond)
	}
	return cmd, stderr, report, emu
}

// lockedBuffer is a bytes.Buffer safe to read while a child process writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func exitCode(t *testing.T, err error) int {
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "%v", err)
	return ee.ExitCode()
}

func TestBinarySIGTERMFinishesInFlightAndWritesTheReport(t *testing.T) {
	t.Parallel()
	cmd, stderr, report, emu := startApply(t, 300*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	code := exitCode(t, cmd.Wait())
	assert.Equal(t, exitSIGTERM, code, stderr.String())

	var rep plan.Report
	raw, err := os.ReadFile(report)
	require.NoError(t, err, stderr.String())
	require.NoError(t, json.Unmarshal(raw, &rep))
	assert.True(t, rep.Interrupted)
	assert.Equal(t, 20, rep.Summary.Planned)
	assert.Equal(t, 20, rep.Summary.Succeeded+rep.Summary.Skipped, "every item is accounted for: %+v", rep.Summary)
	assert.GreaterOrEqual(t, rep.Summary.Succeeded, 1, "the request in flight finished")
	assert.Equal(t, emu.Stats().Systems["helloid"].Writes, rep.Summary.Succeeded, "no write was lost track of")
	assert.Len(t, emu.State().HelloID.Groups, rep.Summary.Succeeded)
	for _, it := range rep.Items {
		if it.Status == plan.Skipped {
			assert.Contains(t, it.Error, "interrupted")
		}
	}
}

func TestBinarySecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	// Every write is held until its client goes: a run that waited for the
	// request in flight would never end; one that exits at once leaves it
	// unanswered.
	var arrived, gone atomic.Int32
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			arrived.Add(1)
			// Read the body first: net/http notices a closed connection,
			// and cancels the request's context, only once it has.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			gone.Add(1)
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	files := chaosFiles(t, dir, 0, 0, 20)
	w := &world{url: srv.URL}
	cmd := exec.Command(binary, append([]string{"apply", "--yes", "--report", filepath.Join(dir, "report.json"), "--helloid-workers", "1", "--helloid-rate", "1000"}, files...)...)
	cmd.Env = w.env()
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return arrived.Load() > 0 }, 20*time.Second, 5*time.Millisecond, "no write arrived: %s", stderr)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(time.Minute): // a run that waits for the held write never ends
		_ = cmd.Process.Kill()
		t.Fatalf("the second signal did not end the run: it waits for the request in flight; stderr:\n%s", stderr)
	}
	assert.Equal(t, exitSIGINT, exitCode(t, err))
	assert.Eventually(t, func() bool { return gone.Load() == 1 }, 20*time.Second, 5*time.Millisecond,
		"the write in flight was abandoned when the process exited")
	assert.Equal(t, int32(1), arrived.Load(), "no other write was started")
}

func TestRedirectIsRefusedAndTheTokenStaysHome(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	emu := emulator.New(emulator.Options{Redirect: other.URL})
	url, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer func() { assert.NoError(t, stop()) }()
	w := newWorld(t)
	w.url = url
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, "redirect refused")
	assert.Zero(t, elsewhere.Load(), "no request, and so no credential, reached the other host")
	assert.Equal(t, 1, emu.Stats().Systems["lox24"].Total, "a redirect is not retried")
}

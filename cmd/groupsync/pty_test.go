//go:build unix

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runOnTerminal runs cmd with a pseudo-terminal as its stdin, stdout and
// stderr, types answer once prompt appears, and returns what it printed and
// its exit code.
func runOnTerminal(t *testing.T, cmd *exec.Cmd, prompt, answer string) (string, int) {
	t.Helper()
	tty, err := pty.Start(cmd)
	require.NoError(t, err)
	defer tty.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		seen := strings.Contains(out.String(), prompt)
		mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no prompt; output so far:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err = io.WriteString(tty, answer)
	require.NoError(t, err)
	werr := cmd.Wait()
	<-done
	code := 0
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
	}
	mu.Lock()
	defer mu.Unlock()
	return out.String(), code
}

func TestBinaryApplyAsksOnATerminal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		answer string
		code   int
		writes bool
	}{{"yes", exitOK, true}, {"no", exitFatal, false}} {
		t.Run(tt.answer, func(t *testing.T) {
			w := newWorld(t)
			cmd := exec.Command(binary, append([]string{"apply", "--report", filepath.Join(w.dir, "r.json")}, w.files...)...)
			cmd.Env = append(w.env(), "TERM=dumb")
			out, code := runOnTerminal(t, cmd, "Only 'yes' will be accepted", tt.answer+"\n")
			assert.Equal(t, tt.code, code, out)
			writes := w.emu.Stats().Systems["lox24"].Writes
			assert.Equal(t, tt.writes, writes > 0, out)
		})
	}
}

func TestBinaryInterruptAtThePromptWritesTheReportAndNothingElse(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	report := filepath.Join(w.dir, "r.json")
	cmd := exec.Command(binary, append([]string{"apply", "--report", report}, w.files...)...)
	cmd.Env = append(w.env(), "TERM=dumb")
	tty, err := pty.Start(cmd)
	require.NoError(t, err)
	defer tty.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(out.String(), "Only 'yes' will be accepted")
	}, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	werr := cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(werr, &ee), "%v", werr)
	assert.Equal(t, exitSIGINT, ee.ExitCode())
	assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes+w.emu.Stats().Systems["helloid"].Writes)
	r := readReport(t, report)
	assert.True(t, r.Interrupted)
	assert.Equal(t, r.Summary.Planned, r.Summary.Skipped)
}

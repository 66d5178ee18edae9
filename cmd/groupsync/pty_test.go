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

// terminal is a command running on a pseudo-terminal, with what it has
// printed so far.
type terminal struct {
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{} // closed when the output ends
}

// startOnTerminal starts cmd with a pseudo-terminal as its stdin, stdout
// and stderr, and waits until it prints prompt.
func startOnTerminal(t *testing.T, cmd *exec.Cmd, prompt string) *terminal {
	t.Helper()
	tty, err := pty.Start(cmd)
	require.NoError(t, err)
	t.Cleanup(func() { tty.Close() })
	term := &terminal{tty: tty, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	if !assert.Eventually(t, func() bool { return strings.Contains(term.output(), prompt) }, 20*time.Second, 10*time.Millisecond) {
		_ = cmd.Process.Kill()
		t.Fatalf("no prompt; output so far:\n%s", term.output())
	}
	return term
}

func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// runOnTerminal runs cmd on a pseudo-terminal, types answer once prompt
// appears, and returns what it printed and its exit code.
func runOnTerminal(t *testing.T, cmd *exec.Cmd, prompt, answer string) (string, int) {
	t.Helper()
	term := startOnTerminal(t, cmd, prompt)
	_, err := io.WriteString(term.tty, answer)
	require.NoError(t, err)
	werr := cmd.Wait()
	<-term.done
	code := 0
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
	}
	return term.output(), code
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
	startOnTerminal(t, cmd, "Only 'yes' will be accepted")
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

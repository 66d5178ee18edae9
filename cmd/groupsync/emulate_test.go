package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startEmulate runs groupsync emulate with args on a free loopback port and
// returns its URL; the emulator stops when the test ends.
func startEmulate(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	c := &cli{env: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard,
		terminal: func(any) bool { return false }}
	done := make(chan int, 1)
	go func() {
		done <- c.run(ctx, append([]string{"emulate", "--listen", "127.0.0.1:0"}, args...))
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, exitOK, <-done)
	})
	const prefix = "groupsync emulator listening on "
	require.True(t, strings.HasPrefix(line, prefix), line)
	return strings.TrimSpace(strings.TrimPrefix(line, prefix))
}

// statuses sends n LOX24 listing requests one after the other and returns
// the status of each.
func statuses(t *testing.T, url string, n int) []int {
	t.Helper()
	var out []int
	for range n {
		req, err := http.NewRequest(http.MethodGet, url+"/groups", nil)
		require.NoError(t, err)
		req.Header.Set("X-LOX24-AUTH-TOKEN", "demo:demo")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		out = append(out, resp.StatusCode)
	}
	return out
}

// --throttle-burst reaches the emulator's throttle: at one request per
// 100 s no token comes back during the test, so exactly the burst passes.
// Without the flag the burst is the default, a fifth of the rate, at
// least 1.
func TestEmulateThrottleBurst(t *testing.T) {
	t.Parallel()
	url := startEmulate(t, "--throttle", "0.01", "--throttle-burst", "3")
	assert.Equal(t, []int{200, 200, 200, 429, 429}, statuses(t, url, 5))

	url = startEmulate(t, "--throttle", "0.01")
	assert.Equal(t, []int{200, 429, 429}, statuses(t, url, 3))
}

func TestEmulateThrottleBurstMustNotBeNegative(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "emulate", "--throttle", "5", "--throttle-burst", "-1")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--throttle-burst")
}

package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/source"
)

// TestNewGroupChild is the measured run of BenchmarkPlanNewGroupMillion,
// in its own process so that its peak memory is its own: it reads a new
// LOX24 group of n members, diffs it against an empty system, and renders
// the plan in the format asked for. It does nothing unless the benchmark
// starts it.
func TestNewGroupChild(t *testing.T) {
	yamlPath := os.Getenv("GROUPSYNC_BENCH_NEWGROUP")
	if yamlPath == "" {
		t.Skip("run by BenchmarkPlanNewGroupMillion")
	}
	n, _ := strconv.Atoi(os.Getenv("GROUPSYNC_BENCH_N"))
	want, err := source.Read([]string{yamlPath})
	require.NoError(t, err)
	p := plan.Diff(want, map[plan.System]plan.Current{plan.LOX24: {System: plan.LOX24}})
	require.Equal(t, n+1, p.Count("").Create)
	switch os.Getenv("GROUPSYNC_BENCH_FORMAT") {
	case "json":
		require.NoError(t, plan.WriteJSON(io.Discard, p))
	default:
		require.NoError(t, plan.WriteText(io.Discard, p, plan.RenderOptions{}))
	}
	fmt.Printf("NEWGROUP-RESULT %.1f\n", peakRSSMB())
}

// BenchmarkPlanNewGroupMillion plans a new LOX24 group with a million new
// members and renders the plan as text and as JSON, each in a fresh
// process: the library alone (read, Diff, render), then the real binary
// against the in-process emulator, as a user runs `groupsync plan`
// (stdout through the credential redaction; --out streamed to a file),
// with every member line (--detail) and as the Markdown comment.
// Target: under 500 MB peak in every format.
func BenchmarkPlanNewGroupMillion(b *testing.B) {
	n := million
	if testing.Short() {
		n = million / 10
	}
	dir := b.TempDir()
	writeMillion(b, dir, n)
	yamlPath := filepath.Join(dir, "new.yaml")
	require.NoError(b, os.WriteFile(yamlPath, []byte("lox24:\n  groups:\n    - name: New million\n      phones: members.csv\n"), 0o644))
	for _, format := range []string{"text", "json"} {
		b.Run(format, func(b *testing.B) {
			var peaks []float64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestNewGroupChild$", "-test.v")
				cmd.Env = append(os.Environ(), "GROUPSYNC_BENCH_NEWGROUP="+yamlPath, "GROUPSYNC_BENCH_N="+strconv.Itoa(n),
					"GROUPSYNC_BENCH_FORMAT="+format)
				if os.Getenv("GOGC") == "" {
					cmd.Env = append(cmd.Env, "GOGC=50") // as cmd/groupsync's main sets it
				}
				out, err := cmd.CombinedOutput()
				require.NoError(b, err, string(out))
				i := bytes.Index(out, []byte("NEWGROUP-RESULT "))
				require.GreaterOrEqual(b, i, 0, string(out))
				line := out[i+len("NEWGROUP-RESULT "):]
				line = line[:bytes.IndexByte(line, '\n')]
				var mb float64
				require.NoError(b, json.Unmarshal(line, &mb))
				peaks = append(peaks, mb)
			}
			b.ReportMetric(median(peaks), "peak-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
	bin := buildBinary(b)
	emu := emulator.New(emulator.Options{Seed: 1})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	for _, run := range []struct {
		name string
		args []string
	}{
		{"binary-text", []string{"--format", "text"}},
		{"binary-detail", []string{"--format", "text", "--detail"}},
		{"binary-markdown", []string{"--format", "markdown"}},
		{"binary-json", []string{"--format", "json"}},
		{"binary-out", []string{"--format", "text", "--out", filepath.Join(dir, "plan.json")}},
	} {
		b.Run(run.name, func(b *testing.B) {
			var peaks []float64
			for b.Loop() {
				args := append([]string{"plan", "--lox24-url", srv.URL}, run.args...)
				cmd := exec.Command(bin, append(args, yamlPath)...)
				cmd.Env = append(os.Environ(), "LOX24_TOKEN=demo:demo")
				cmd.Stdout = io.Discard
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				require.NoError(b, cmd.Run(), stderr.String())
				ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				require.True(b, ok)
				peaks = append(peaks, float64(ru.Maxrss)/1024) // KiB on Linux
			}
			b.ReportMetric(median(peaks), "peak-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}

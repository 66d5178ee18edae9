package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

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
// process. Target: under 500 MB peak in either format.
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
}

package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
	"groupsync/internal/source"
)

const million = 1_000_000

// number returns the i-th member's number; every 100th is written in the
// national-looking 0049 form to exercise normalisation.
func number(i int) string {
	if i%100 == 7 {
		return fmt.Sprintf("0049 151 %08d", i)
	}
	return fmt.Sprintf("+49151%08d", i)
}

// writeMillion writes a desired state of one LOX24 group whose member file
// has n rows, and returns the YAML's path.
func writeMillion(tb testing.TB, dir string, n int) string {
	tb.Helper()
	csvPath := filepath.Join(dir, "members.csv")
	f, err := os.Create(csvPath)
	require.NoError(tb, err)
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "phone,a,b")
	for i := range n {
		// 1% of the members have a changed column a, 1% are new (i >= n-n/100
		// is shifted past the remote range).
		a := "Mr."
		if i%100 == 3 {
			a = "Dr."
		}
		j := i
		if i >= n-n/100 {
			j = i + n
		}
		fmt.Fprintf(w, "%s,%s,Customer %d\n", number(j), a, j)
	}
	require.NoError(tb, w.Flush())
	require.NoError(tb, f.Close())
	yamlPath := filepath.Join(dir, "groups.yaml")
	require.NoError(tb, os.WriteFile(yamlPath, []byte("lox24:\n  groups:\n    - id: 1\n      name: Million\n      phones: members.csv\n"), 0o644))
	return yamlPath
}

// remoteMillion is the current state: group 1 with n members, numbers
// 0..n-1, of which the file drops the last 1% (deleted) and changes 1%.
func remoteMillion(n int) plan.Current {
	g := plan.RemoteGroup{Key: "1", Name: "Million", Fields: map[string]plan.Value{}}
	for _, f := range plan.GroupFields[plan.LOX24] {
		g.Fields[f.Name] = plan.Null
	}
	g.Phones = make([]plan.RemotePhone, n)
	for i := range n {
		s := strconv.Itoa(i)
		g.Phones[i] = plan.NewRemotePhone(strconv.Itoa(500000+i), fmt.Sprintf("+49151%08d", i),
			[]string{"Mr.", "Customer " + s, "", "", "", "crm-" + s})
	}
	return plan.Current{System: plan.LOX24, Groups: []plan.RemoteGroup{g}}
}

// offlineResult is what the child process measured.
type offlineResult struct {
	Seconds  float64 `json:"seconds"`
	ReadSecs float64 `json:"read_seconds"`
	DiffSecs float64 `json:"diff_seconds"`
	PeakMB   float64 `json:"peak_rss_mb"`
	Changes  int     `json:"changes"`
}

// TestOfflineChild is the measured run of BenchmarkOfflineMillion, in its
// own process so that its peak memory is its own. It does nothing unless
// the benchmark starts it.
func TestOfflineChild(t *testing.T) {
	yamlPath := os.Getenv("GROUPSYNC_BENCH_OFFLINE")
	if yamlPath == "" {
		t.Skip("run by BenchmarkOfflineMillion")
	}
	n, _ := strconv.Atoi(os.Getenv("GROUPSYNC_BENCH_N"))
	// In the order of a run: the files are read and validated before any
	// request; then the members are read from the API (here built in memory,
	// untimed); then Diff.
	start := time.Now()
	want, err := source.Read([]string{yamlPath})
	require.NoError(t, err)
	read := time.Since(start)
	cur := remoteMillion(n)
	start = time.Now()
	p := plan.Diff(want, map[plan.System]plan.Current{plan.LOX24: cur})
	diff := time.Since(start)
	total := read + diff
	c := p.Count("")
	require.Equal(t, n/100, c.Create)
	require.Equal(t, n/100, c.Delete)
	res := offlineResult{Seconds: total.Seconds(), ReadSecs: read.Seconds(), DiffSecs: diff.Seconds(),
		PeakMB: peakRSSMB(), Changes: len(p.Changes)}
	runtime.KeepAlive(cur)
	b, _ := json.Marshal(res)
	fmt.Printf("OFFLINE-RESULT %s\n", b)
}

// peakRSSMB reads the process's peak resident set size (Linux VmHWM).
func peakRSSMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkOfflineMillion parses and validates a member file of a million
// rows and diffs it against a million current members (1% changed, 1% new,
// 1% gone): the work of a run before its first write. Target: under 2 s and
// under 300 MB peak on a 2-core machine. Each iteration is a fresh process.
func BenchmarkOfflineMillion(b *testing.B) {
	n := million
	if testing.Short() {
		n = million / 10
	}
	yamlPath := writeMillion(b, b.TempDir(), n)
	var results []offlineResult
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOfflineChild$", "-test.v")
		cmd.Env = append(os.Environ(), "GROUPSYNC_BENCH_OFFLINE="+yamlPath, "GROUPSYNC_BENCH_N="+strconv.Itoa(n))
		if os.Getenv("GOGC") == "" {
			cmd.Env = append(cmd.Env, "GOGC=50") // as cmd/groupsync's main sets it
		}
		out, err := cmd.CombinedOutput()
		require.NoError(b, err, string(out))
		i := bytes.Index(out, []byte("OFFLINE-RESULT "))
		require.GreaterOrEqual(b, i, 0, string(out))
		line := out[i+len("OFFLINE-RESULT "):]
		line = line[:bytes.IndexByte(line, '\n')]
		var r offlineResult
		require.NoError(b, json.Unmarshal(line, &r))
		results = append(results, r)
	}
	b.StopTimer()
	med := func(f func(offlineResult) float64) float64 {
		v := make([]float64, len(results))
		for i, r := range results {
			v[i] = f(r)
		}
		return median(v)
	}
	b.ReportMetric(med(func(r offlineResult) float64 { return r.Seconds }), "s/run")
	b.ReportMetric(med(func(r offlineResult) float64 { return r.ReadSecs }), "read-s")
	b.ReportMetric(med(func(r offlineResult) float64 { return r.DiffSecs }), "diff-s")
	b.ReportMetric(med(func(r offlineResult) float64 { return r.PeakMB }), "peak-MB")
	b.ReportMetric(0, "ns/op")
}

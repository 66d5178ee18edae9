package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/lox24"
	"groupsync/internal/source"
)

// readResult is what the child of BenchmarkMillionRead measured.
type readResult struct {
	Seconds float64 `json:"seconds"` // file read, API read and diff
	APISecs float64 `json:"api_seconds"`
	CPUSecs float64 `json:"cpu_seconds"`     // the child's user + system CPU, whole run
	APICPU  float64 `json:"api_cpu_seconds"` // the same, during the API read alone
	APIMB   float64 `json:"api_alloc_mb"`    // heap allocated during the API read
	PeakMB  float64 `json:"peak_rss_mb"`
	Members int     `json:"members"`
	Changes int     `json:"changes"`
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// TestMillionReadChild is the measured run of BenchmarkMillionRead: a run's
// work before its first write, reading the current members from the API.
func TestMillionReadChild(t *testing.T) {
	url := os.Getenv("GROUPSYNC_BENCH_READ_URL")
	if url == "" {
		t.Skip("run by BenchmarkMillionRead")
	}
	workers, _ := strconv.Atoi(os.Getenv("GROUPSYNC_BENCH_WORKERS"))
	start := time.Now()
	want, err := source.Read([]string{os.Getenv("GROUPSYNC_BENCH_YAML")})
	require.NoError(t, err)
	c, err := lox24.New(sink.Config{BaseURL: url, Rate: 1e6, MaxInFlight: workers}, "demo:demo")
	require.NoError(t, err)
	if path := os.Getenv("GROUPSYNC_BENCH_READ_PROFILE"); path != "" {
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, pprof.StartCPUProfile(f))
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	apiStart, apiCPU, apiAlloc := time.Now(), cpuSeconds(), ms.TotalAlloc
	cur, err := c.Read(context.Background(), want.Groups)
	require.NoError(t, err)
	apiSecs, apiCPU := time.Since(apiStart).Seconds(), cpuSeconds()-apiCPU
	runtime.ReadMemStats(&ms)
	apiMB := float64(ms.TotalAlloc-apiAlloc) / (1 << 20)
	if os.Getenv("GROUPSYNC_BENCH_READ_PROFILE") != "" {
		pprof.StopCPUProfile() // the API read alone
	}
	p := plan.Diff(want, map[plan.System]plan.Current{plan.LOX24: cur})
	res := readResult{Seconds: time.Since(start).Seconds(), APISecs: apiSecs, CPUSecs: cpuSeconds(), APICPU: apiCPU, APIMB: apiMB,
		PeakMB: peakRSSMB(), Members: len(cur.Groups[0].Phones), Changes: len(p.Changes)}
	b, _ := json.Marshal(res)
	fmt.Printf("READ-RESULT %s\n", b)
}

// BenchmarkMillionRead reads a group of 1,000,000 members (33,334 pages of
// 30) from the emulator through the LOX24 client and diffs it against a
// member file of a million rows, in a fresh process each time, with 4
// workers. The emulator runs in this process, so the child's CPU and peak
// memory are the client's alone; the child also reports the CPU of the API
// read alone (api-cpu-s).
//
// GROUPSYNC_BENCH_READ_CHILD names another test binary to run as the child
// (one built from an earlier version with its own TestMillionReadChild), so
// that two versions of the client are measured against the same emulator;
// GROUPSYNC_BENCH_READ_PROFILE names a file for a CPU profile of the child's
// API read.
func BenchmarkMillionRead(b *testing.B) {
	n := million
	if testing.Short() {
		n = million / 10
	}
	const workers = 4
	dir := b.TempDir()
	yamlPath := writeMillion(b, dir, n)
	cur := remoteMillion(n)
	g := emulator.LOX24Group{ID: 1, Name: "Million", Phones: make([]emulator.LOX24Phone, n)}
	for i, p := range cur.Groups[0].Phones {
		a := p.Cols.Array()
		g.Phones[i] = emulator.LOX24Phone{ID: p.ID, Phone: p.Number, A: &a[0], B: &a[1], CallbackData: &a[5]}
	}
	cur = plan.Current{}
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(b, emu.LoadState(emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{g}}}))
	g = emulator.LOX24Group{}
	url, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(b, err)
	defer func() { _ = stop() }()
	var results []readResult
	var conns, peaks []float64
	b.ResetTimer()
	for b.Loop() {
		emu.ResetStats()
		child := os.Args[0]
		if c := os.Getenv("GROUPSYNC_BENCH_READ_CHILD"); c != "" {
			child = c
		}
		cmd := exec.Command(child, "-test.run=^TestMillionReadChild$", "-test.v")
		cmd.Env = append(os.Environ(), "GROUPSYNC_BENCH_READ_URL="+url, "GROUPSYNC_BENCH_YAML="+yamlPath,
			"GROUPSYNC_BENCH_WORKERS="+strconv.Itoa(workers))
		if os.Getenv("GOGC") == "" {
			cmd.Env = append(cmd.Env, "GOGC=50") // as cmd/groupsync's main sets it
		}
		out, err := cmd.CombinedOutput()
		require.NoError(b, err, string(out))
		i := bytes.Index(out, []byte("READ-RESULT "))
		require.GreaterOrEqual(b, i, 0, string(out))
		line := out[i+len("READ-RESULT "):]
		line = line[:bytes.IndexByte(line, '\n')]
		var r readResult
		require.NoError(b, json.Unmarshal(line, &r))
		require.Equal(b, n, r.Members)
		results = append(results, r)
		st := emu.Stats()
		conns = append(conns, float64(st.Connections))
		peaks = append(peaks, float64(st.Systems["lox24"].PeakInFlight))
		b.Logf("run %d: %s connections %d peak in flight %d", len(results), line, st.Connections, st.Systems["lox24"].PeakInFlight)
	}
	b.StopTimer()
	med := func(f func(readResult) float64) float64 {
		v := make([]float64, len(results))
		for i, r := range results {
			v[i] = f(r)
		}
		return median(v)
	}
	b.ReportMetric(med(func(r readResult) float64 { return r.Seconds }), "s/run")
	b.ReportMetric(med(func(r readResult) float64 { return r.APISecs }), "api-read-s")
	b.ReportMetric(med(func(r readResult) float64 { return r.CPUSecs }), "client-cpu-s")
	b.ReportMetric(med(func(r readResult) float64 { return r.APICPU }), "api-cpu-s")
	b.ReportMetric(med(func(r readResult) float64 { return r.APIMB }), "api-alloc-MB")
	b.ReportMetric(med(func(r readResult) float64 { return r.PeakMB }), "peak-MB")
	b.ReportMetric(median(conns), "connections")
	b.ReportMetric(median(peaks), "peak-in-flight")
	b.ReportMetric(0, "ns/op")
}

package bench

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
)

// scenario is the workload of BenchmarkScenario: LOX24 and HelloID groups
// of which half differ from the desired state, behind an emulator that
// takes latency per request and may throttle.
type scenario struct {
	lox, hid int           // groups per system
	latency  time.Duration // per request, server side
	throttle float64       // server-side requests per second per system (0: none)
	rate     float64       // groupsync's --*-rate
	workers  int           // groupsync's --*-workers (0: its default, 4)
	burst    int           // the server's throttle burst (0: the emulator's default, a fifth of a second's worth)
	noVerify bool          // apply with --no-verify
	withCurl bool          // also send the same writes by curl (curl-loop.sh and curl-parallel.sh)
}

// figures is one run's measurements.
type figures struct {
	seconds    float64
	requests   int // sent by groupsync during apply
	minimal    int // the fewest requests that can do the job
	loxRate    float64
	loxGoodput float64 // LOX24 requests answered 2xx per second
	// LOX24 writes answered 2xx per second, over the window of the writes
	// (the listing reads before them and verify's re-reads after them,
	// which the server's limit counts too, left out)
	loxWriteGoodput float64
	throttled       int // 429 answers
	noopRequests    int // sent by a second apply with nothing to change
	noopWrites      int
	connections     int // opened by groupsync during apply
	peakInFlight    int
	loop, parallel  curlFigures
}

// curlFigures is one curl comparison's measurements.
type curlFigures struct {
	seconds      float64
	requests     int
	connections  int
	peakInFlight int
}

func (s scenario) state() emulator.State {
	var st emulator.State
	for i := range s.lox {
		d := fmt.Sprintf("old %d", i)
		st.LOX24.Groups = append(st.LOX24.Groups, emulator.LOX24Group{ID: int64(1000 + i), Name: fmt.Sprintf("List %03d", i), Description: &d})
	}
	for i := range s.hid {
		st.HelloID.Groups = append(st.HelloID.Groups, emulator.HelloIDGroup{
			GroupGUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("Team %03d", i), IsEnabled: true})
	}
	return st
}

// files writes the desired state (every group by its key, half of them
// changed) and the changed LOX24 groups as a TSV for the curl loop.
func (s scenario) files(tb testing.TB, dir string) (yamlPath, tsvPath string) {
	var y, tsv strings.Builder
	y.WriteString("lox24:\n  groups:\n")
	for i := range s.lox {
		d := fmt.Sprintf("old %d", i)
		if i%2 == 0 {
			d = fmt.Sprintf("new %d", i)
		}
		fmt.Fprintf(&y, "    - id: %d\n      name: List %03d\n      description: %s\n", 1000+i, i, d)
		if i%2 == 0 {
			fmt.Fprintf(&tsv, "%d\tList %03d\t%s\n", 1000+i, i, d)
		}
	}
	if s.hid > 0 {
		y.WriteString("helloid:\n  groups:\n")
	}
	for i := range s.hid {
		fmt.Fprintf(&y, "    - groupGuid: 00000000-0000-4000-8000-%012d\n      name: Team %03d\n      isEnabled: %v\n", i, i, i%2 == 1)
	}
	yamlPath, tsvPath = filepath.Join(dir, "groups.yaml"), filepath.Join(dir, "groups.tsv")
	require.NoError(tb, os.WriteFile(yamlPath, []byte(y.String()), 0o644))
	require.NoError(tb, os.WriteFile(tsvPath, []byte(tsv.String()), 0o644))
	return yamlPath, tsvPath
}

// buildBinary builds cmd/groupsync once per benchmark.
func buildBinary(tb testing.TB) string {
	bin := filepath.Join(tb.TempDir(), "groupsync")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/groupsync").CombinedOutput()
	require.NoError(tb, err, string(out))
	return bin
}

func (s scenario) run(tb testing.TB, bin string) figures {
	emu := emulator.New(emulator.Options{Latency: s.latency, Throttle: s.throttle, ThrottleBurst: s.burst, Seed: 1})
	require.NoError(tb, emu.LoadState(s.state()))
	span := &spanRecorder{next: emu}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	srv := &http.Server{Handler: span, ConnState: emu.ConnState}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	url := "http://" + ln.Addr().String()
	dir := tb.TempDir()
	yamlPath, tsvPath := s.files(tb, dir)
	env := append(os.Environ(), "LOX24_TOKEN=demo:demo", "HELLOID_API_KEY=demo", "HELLOID_API_SECRET=demo",
		"LOX24_URL="+url, "HELLOID_URL="+url)
	apply := func() time.Duration {
		args := []string{"apply", "--yes", "--report", filepath.Join(dir, "r.json"),
			"--lox24-rate", fmt.Sprint(s.rate), "--helloid-rate", fmt.Sprint(s.rate),
			"--lox24-workers", fmt.Sprint(max(s.workers, 4)), "--helloid-workers", fmt.Sprint(max(s.workers, 4))}
		if s.noVerify {
			args = append(args, "--no-verify")
		}
		cmd := exec.Command(bin, append(args, yamlPath)...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		require.NoError(tb, cmd.Run(), out.String())
		return time.Since(start)
	}
	var f figures
	elapsed := apply()
	n, window, okWrites, writeWindow := span.take()
	st := emu.Stats()
	lox := st.Systems["lox24"]
	f.seconds = elapsed.Seconds()
	f.requests = st.Total
	// The listing reads, one write per changed group, and verify's re-read
	// of the groups written in the cheaper of its two forms: one GET each,
	// or the listing again (a HelloID list of 120 is one page).
	lp := pages(s.lox, 30)
	f.minimal = lp + s.lox/2 + s.hid/2
	if s.hid > 0 {
		f.minimal++ // the HelloID list
	}
	if !s.noVerify {
		f.minimal += min(s.lox/2, lp)
		if s.hid > 0 {
			f.minimal += min(s.hid/2, 1)
		}
	}
	// Rates are over the window from the first LOX24 request to the last,
	// so that the process's start (which a loaded machine stretches) does
	// not count as pacing.
	f.loxRate = float64(n-1) / window.Seconds()
	ok := 0
	for code, k := range lox.ByStatus {
		if code[0] == '2' {
			ok += k
		}
	}
	f.loxGoodput = f.loxRate * float64(ok) / float64(n)
	f.loxWriteGoodput = float64(okWrites-1) / writeWindow.Seconds()
	f.throttled = lox.ByStatus["429"] + st.Systems["helloid"].ByStatus["429"]
	f.peakInFlight = lox.PeakInFlight
	f.connections = st.Connections

	emu.ResetStats()
	apply()
	_, _, _, _ = span.take()
	st = emu.Stats()
	f.noopRequests = st.Total
	f.noopWrites = st.Systems["lox24"].Writes + st.Systems["helloid"].Writes

	if s.withCurl {
		// The writes are sent again: the emulator answers a PUT of what a
		// group already holds as it answers any other, 200 after the latency.
		curl := func(script string) curlFigures {
			emu.ResetStats()
			cmd := exec.Command("bash", script, url, tsvPath, "4")
			cmd.Env = env
			start := time.Now()
			out, err := cmd.CombinedOutput()
			require.NoError(tb, err, string(out))
			c := curlFigures{seconds: time.Since(start).Seconds()}
			st := emu.Stats()
			c.requests, c.connections, c.peakInFlight = st.Total, st.Connections, st.PeakInFlight
			require.Equal(tb, s.lox/2, st.Systems["lox24"].ByStatus["200"], "%s: every PUT answered 200", script)
			return c
		}
		f.parallel = curl("testdata/curl-parallel.sh")
		f.loop = curl("testdata/curl-loop.sh")
	}
	return f
}

// spanRecorder notes when the first and the last LOX24 request arrived,
// and the LOX24 writes answered 2xx with the window from the first write's
// arrival to the last 2xx write's.
type spanRecorder struct {
	next                  http.Handler
	mu                    sync.Mutex
	n                     int
	okWrites              int
	first, last           time.Time
	firstWrite, lastWrite time.Time
}

func (s *spanRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/_emulator") {
		s.next.ServeHTTP(w, r)
		return
	}
	now := time.Now()
	write := r.Method != http.MethodGet
	s.mu.Lock()
	if s.n == 0 {
		s.first = now
	}
	s.n++
	s.last = now
	if write && s.firstWrite.IsZero() {
		s.firstWrite = now
	}
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.next.ServeHTTP(sw, r)
	if write && sw.status/100 == 2 {
		s.mu.Lock()
		s.okWrites++
		s.lastWrite = now
		s.mu.Unlock()
	}
}

// statusWriter notes the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// take returns the requests and their window, and the writes answered
// 2xx and theirs, seen since the last take.
func (s *spanRecorder) take() (n int, window time.Duration, okWrites int, writeWindow time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, window, okWrites = s.n, s.last.Sub(s.first), s.okWrites
	if okWrites > 0 {
		writeWindow = s.lastWrite.Sub(s.firstWrite)
	}
	s.n, s.okWrites, s.firstWrite = 0, 0, time.Time{}
	return n, window, okWrites, writeWindow
}

func pages(n, size int) int { return max(1, (n+size-1)/size) }

// BenchmarkScenario applies a plan of LOX24 and HelloID group updates
// through the real binary against the emulator with 40 and 50 ms latency,
// at 40 requests per second per system, then again with the server
// throttling at 25 per second (a longer plan), and compares with curl
// sending the same writes at the same concurrency, in one process over
// kept-alive connections and as a loop of one process per write. It prints
// the achieved rate against the configured one, the requests sent against
// the fewest possible, and what a no-op re-run sends.
func BenchmarkScenario(b *testing.B) {
	if _, err := exec.LookPath("curl"); err != nil {
		b.Skip("curl is needed for the comparison")
	}
	bin := buildBinary(b)
	cases := []struct {
		name string
		s    scenario
	}{
		{"paced", scenario{lox: 240, hid: 120, latency: 50 * time.Millisecond, rate: 40}},
		// The latency at which the paced target is stated.
		{"paced-40ms", scenario{lox: 240, hid: 120, latency: 40 * time.Millisecond, rate: 40}},
		// A longer plan: the cost of finding the server's limit is paid
		// once. The client is set above the server's limit, and just under
		// it, with 8 workers.
		{"throttled", scenario{lox: 1200, hid: 120, latency: 50 * time.Millisecond, throttle: 25, rate: 40}},
		{"throttled-50-8w", scenario{lox: 1200, hid: 120, latency: 50 * time.Millisecond, throttle: 25, rate: 50, workers: 8}},
		{"throttled-24-8w", scenario{lox: 1200, hid: 120, latency: 50 * time.Millisecond, throttle: 25, rate: 24, workers: 8}},
		// A server with no burst at all: every request over the pace is a 429.
		{"throttled-50-8w-burst1", scenario{lox: 1200, hid: 120, latency: 50 * time.Millisecond, throttle: 25, rate: 50, workers: 8, burst: 1}},
		// The same 120 LOX24 writes as curl at the same 4 in flight,
		// groupsync unpaced (a rate far above what 4 workers reach) and
		// without verify, so that it sends the listing reads and the same
		// writes, nothing else.
		{"vs-curl", scenario{lox: 240, latency: 50 * time.Millisecond, rate: 1000, noVerify: true, withCurl: true}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var runs []figures
			for b.Loop() {
				f := c.s.run(b, bin)
				runs = append(runs, f)
				b.Logf("run %d: LOX24 rate %.2f/s, goodput %.2f/s, writes 2xx %.2f/s, 429s %d, requests %d (fewest %d), connections %d, LOX24 in flight at most %d, %.2f s",
					len(runs), f.loxRate, f.loxGoodput, f.loxWriteGoodput, f.throttled, f.requests, f.minimal, f.connections, f.peakInFlight, f.seconds)
				if c.s.withCurl {
					b.Logf("run %d: curl --parallel: requests %d, connections %d, in flight at most %d, %.2f s; curl loop: requests %d, connections %d, in flight at most %d, %.2f s",
						len(runs), f.parallel.requests, f.parallel.connections, f.parallel.peakInFlight, f.parallel.seconds,
						f.loop.requests, f.loop.connections, f.loop.peakInFlight, f.loop.seconds)
				}
			}
			m := func(get func(figures) float64) float64 {
				v := make([]float64, len(runs))
				for i, r := range runs {
					v[i] = get(r)
				}
				return median(v)
			}
			target := c.s.rate
			if c.s.throttle > 0 {
				target = c.s.throttle
			}
			b.ReportMetric(m(func(f figures) float64 { return f.loxRate / c.s.rate }), "rate/configured")
			b.ReportMetric(m(func(f figures) float64 { return f.loxRate / target }), "rate/limit")
			// Goodput: what succeeded, 429s not counted.
			b.ReportMetric(m(func(f figures) float64 { return f.loxGoodput / target }), "goodput/limit")
			b.ReportMetric(m(func(f figures) float64 { return f.loxWriteGoodput / target }), "write-goodput/limit")
			b.ReportMetric(m(func(f figures) float64 { return float64(f.requests) / float64(f.minimal) }), "requests/minimal")
			b.ReportMetric(m(func(f figures) float64 { return float64(f.noopRequests) }), "noop-requests")
			b.ReportMetric(m(func(f figures) float64 { return float64(f.noopWrites) }), "noop-writes")
			b.ReportMetric(m(func(f figures) float64 { return float64(f.throttled) }), "429s")
			b.ReportMetric(m(func(f figures) float64 { return f.seconds }), "s/apply")
			b.ReportMetric(m(func(f figures) float64 { return float64(f.connections) }), "connections")
			if c.s.withCurl {
				b.ReportMetric(m(func(f figures) float64 { return f.parallel.seconds }), "s/curl-parallel")
				b.ReportMetric(m(func(f figures) float64 { return float64(f.parallel.requests) }), "curl-parallel-requests")
				b.ReportMetric(m(func(f figures) float64 { return float64(f.parallel.connections) }), "curl-parallel-connections")
				b.ReportMetric(m(func(f figures) float64 { return f.parallel.seconds / f.seconds }), "curl-parallel/groupsync")
				b.ReportMetric(m(func(f figures) float64 { return f.loop.seconds }), "s/curl-loop")
				b.ReportMetric(m(func(f figures) float64 { return float64(f.loop.connections) }), "curl-loop-connections")
				b.ReportMetric(m(func(f figures) float64 { return f.loop.seconds / f.seconds }), "curl-loop/groupsync")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

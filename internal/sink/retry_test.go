package sink

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

// fakeClock returns at once from Sleep and records every wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	select {
	case <-plan.Stopping(ctx):
		return errInterrupted
	default:
	}
	return ctx.Err()
}

// answer is one scripted response: a status and headers, or a dropped
// connection when status is 0.
type answer struct {
	status int
	header map[string]string
	body   string
}

// script serves the answers in order and records the requests.
type script struct {
	mu      sync.Mutex
	answers []answer
	seen    []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.seen)
	s.seen = append(s.seen, r.Method+" "+string(body))
	a := answer{status: 200, body: "{}"}
	if n < len(s.answers) {
		a = s.answers[n]
	}
	s.mu.Unlock()
	if a.status == 0 {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func newTestClient(t *testing.T, answers ...answer) (*Client, *script, *fakeClock) {
	t.Helper()
	sc := &script{answers: answers}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	clock := &fakeClock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	c, err := NewClient(plan.LOX24, Config{BaseURL: srv.URL, Rate: 1e6, Clock: clock,
		Retry: RetryPolicy{Base: 100 * time.Millisecond, Max: time.Second}}, Options{})
	require.NoError(t, err)
	return c, sc, clock
}

func TestRetries(t *testing.T) {
	const base = 100 * time.Millisecond
	tests := []struct {
		name     string
		method   string
		answers  []answer
		ok       bool
		attempts int
		// each sleep must lie in [min, max]
		sleeps [][2]time.Duration
	}{
		{"GET is retried on 503 with growing jittered backoff", "GET",
			[]answer{{status: 503}, {status: 503}, {status: 200}}, true, 3,
			[][2]time.Duration{{base / 2, base}, {base, 2 * base}}},
		{"GET is retried on a dropped connection", "GET",
			[]answer{{status: 0}, {status: 200}}, true, 2, [][2]time.Duration{{base / 2, base}}},
		{"PUT is retried on 500", "PUT", []answer{{status: 500}, {status: 200}}, true, 2, [][2]time.Duration{{base / 2, base}}},
		{"DELETE is retried on 502", "DELETE", []answer{{status: 502}, {status: 204}}, true, 2, [][2]time.Duration{{base / 2, base}}},
		{"501 is not retried", "GET", []answer{{status: 501}}, false, 1, nil},
		{"400 is not retried", "PUT", []answer{{status: 400}}, false, 1, nil},
		{"404 is not retried", "DELETE", []answer{{status: 404}}, false, 1, nil},
		{"a redirect is not followed nor retried", "GET", []answer{{status: 307, header: map[string]string{"Location": "https://elsewhere.example/"}}}, false, 1, nil},
		{"it gives up after 5 attempts", "GET",
			[]answer{{status: 503}, {status: 503}, {status: 503}, {status: 503}, {status: 503}, {status: 200}}, false, 5,
			[][2]time.Duration{{base / 2, base}, {base, 2 * base}, {2 * base, 4 * base}, {4 * base, 8 * base}}},
		{"Retry-After in seconds is honoured when longer than the backoff", "PUT",
			[]answer{{status: 429, header: map[string]string{"Retry-After": "3"}}, {status: 200}}, true, 2,
			[][2]time.Duration{{3 * time.Second, 3 * time.Second}}},
		{"Retry-After as an HTTP date is honoured", "GET",
			[]answer{{status: 503, header: map[string]string{"Retry-After": "Sun, 22 Nov 2026 12:00:07 GMT"}}, {status: 200}}, true, 2,
			[][2]time.Duration{{7 * time.Second, 7 * time.Second}}},
		{"Retry-After is capped", "GET",
			[]answer{{status: 429, header: map[string]string{"Retry-After": "86400"}}, {status: 200}}, true, 2,
			[][2]time.Duration{{DefaultMaxRetryAfter, DefaultMaxRetryAfter}}},
		{"POST is retried after 429: the server did not act on it", "POST",
			[]answer{{status: 429}, {status: 201}}, true, 2, [][2]time.Duration{{base / 2, base}}},
		{"POST is not retried after 503 without a re-read", "POST", []answer{{status: 503}, {status: 201}}, false, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, sc, clock := newTestClient(t, tt.answers...)
			resp, err := c.Do(context.Background(), Request{Op: "op", Method: tt.method, Path: "/x", Body: map[string]int{"a": 1}})
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			require.NotNil(t, resp)
			assert.Equal(t, tt.attempts, resp.Attempts)
			assert.Len(t, sc.seen, tt.attempts, "requests sent")
			require.Len(t, clock.sleeps, len(tt.sleeps))
			for i, want := range tt.sleeps {
				assert.GreaterOrEqual(t, clock.sleeps[i], want[0], "sleep %d", i)
				assert.LessOrEqual(t, clock.sleeps[i], want[1], "sleep %d", i)
			}
		})
	}
}

func TestBackoffIsExponentialCappedAndJittered(t *testing.T) {
	p := RetryPolicy{Base: 100 * time.Millisecond, Max: time.Second}
	p.defaults()
	var prev time.Duration
	for n := 1; n <= 12; n++ {
		lo, hi := p.backoff(n, 0), p.backoff(n, 1)
		assert.Equal(t, 2*lo, hi, "half fixed, half jitter")
		assert.LessOrEqual(t, hi, time.Second, "capped")
		assert.GreaterOrEqual(t, hi, prev, "never shrinks")
		prev = hi
	}
	assert.Equal(t, time.Second, p.backoff(12, 1))
	assert.Equal(t, 100*time.Millisecond, p.backoff(1, 1))
	assert.Equal(t, 800*time.Millisecond, p.backoff(4, 1))
}

func TestPOSTAfter503ReReadsBeforeRetrying(t *testing.T) {
	t.Run("the create happened: no second POST", func(t *testing.T) {
		c, sc, _ := newTestClient(t, answer{status: 503})
		rereads := 0
		resp, err := c.Do(context.Background(), Request{Op: "create", Method: "POST", Path: "/groups", Body: "first",
			BeforeRetry: func(context.Context) (any, error) { rereads++; return nil, nil }})
		require.NoError(t, err)
		assert.Equal(t, 1, rereads)
		assert.Len(t, sc.seen, 1)
		assert.Equal(t, 1, resp.Attempts)
	})
	t.Run("it did not: the POST is sent again with the body the re-read gives", func(t *testing.T) {
		c, sc, _ := newTestClient(t, answer{status: 503}, answer{status: 201})
		_, err := c.Do(context.Background(), Request{Op: "create", Method: "POST", Path: "/groups", Body: "first",
			BeforeRetry: func(context.Context) (any, error) { return "second", nil }})
		require.NoError(t, err)
		assert.Equal(t, []string{`POST "first"`, `POST "second"`}, sc.seen)
	})
	t.Run("the re-read fails: not retried", func(t *testing.T) {
		c, sc, _ := newTestClient(t, answer{status: 503})
		_, err := c.Do(context.Background(), Request{Op: "create", Method: "POST", Path: "/groups", Body: "first",
			BeforeRetry: func(context.Context) (any, error) { return nil, errors.New("read failed") }})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "read failed")
		assert.Len(t, sc.seen, 1)
	})
}

func TestUnauthorizedStopsEveryLaterCall(t *testing.T) {
	c, sc, _ := newTestClient(t, answer{status: 401, body: `{"message":"bad key"}`})
	_, err := c.Do(context.Background(), Request{Op: "list", Method: "GET", Path: "/x"})
	require.ErrorIs(t, err, ErrUnauthorized)
	for range 3 {
		resp, err := c.Do(context.Background(), Request{Op: "list", Method: "GET", Path: "/x"})
		require.ErrorIs(t, err, plan.ErrStop)
		assert.Nil(t, resp, "nothing was sent")
	}
	assert.Len(t, sc.seen, 1)
}

func TestA429CutsThePaceAndReportsIt(t *testing.T) {
	var events []Event
	sc := &script{answers: []answer{{status: 429, header: map[string]string{"Retry-After": "2"}}}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	c, err := NewClient(plan.LOX24, Config{BaseURL: srv.URL, Rate: 100, Clock: &fakeClock{},
		OnEvent: func(e Event) { events = append(events, e) }}, Options{})
	require.NoError(t, err)
	before := c.pace()
	resp, err := c.Do(context.Background(), Request{Op: "put group 7", Method: "PUT", Path: "/groups/7"})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	require.Len(t, events, 2)
	assert.Equal(t, Event{Kind: EventThrottled, System: plan.LOX24, Op: "put group 7", Attempt: 1,
		Reason: "HTTP 429 Too Many Requests", Pace: before * cutFactor}, events[0])
	assert.Equal(t, Event{Kind: EventRetry, System: plan.LOX24, Op: "put group 7", Attempt: 1,
		Reason: "HTTP 429 Too Many Requests", Wait: 2 * time.Second, Pace: before * cutFactor}, events[1])
}

func TestNoRetryStartsOnceTheRunIsStopping(t *testing.T) {
	c, sc, _ := newTestClient(t, answer{status: 503}, answer{status: 200})
	stop := make(chan struct{})
	ctx := plan.WithStop(context.Background(), stop)
	first := true
	_, err := c.Do(ctx, Request{Op: "create", Method: "POST", Path: "/x", BeforeRetry: func(context.Context) (any, error) {
		if first {
			first = false
			close(stop) // the interrupt arrives while the first attempt is answered
		}
		return "again", nil
	}})
	require.Error(t, err)
	assert.Len(t, sc.seen, 1, "no retry starts once the run is stopping")

	_, err = c.Do(ctx, Request{Op: "list", Method: "GET", Path: "/x"})
	require.Error(t, err)
	assert.Len(t, sc.seen, 1, "nor a new request")
}

func TestErrorsCarryTheAPIsMessageAndRequestID(t *testing.T) {
	sc := &script{answers: []answer{{status: 422, header: map[string]string{"X-Req": "abc123"}, body: `{"detail":"name:   too\nlong"}`}}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	c, err := NewClient(plan.LOX24, Config{BaseURL: srv.URL}, Options{RequestIDHeader: "X-Req",
		Message: func(b []byte) string { return strings.TrimPrefix(string(b), `{"detail":"`) }})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), Request{Op: "put group 1", Method: "PUT", Path: "/groups/1"})
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 422, se.StatusCode)
	assert.Equal(t, "abc123", se.RequestID)
	assert.Equal(t, `lox24: put group 1: HTTP 422 Unprocessable Entity: name: too\nlong"} (request id abc123)`, err.Error())
}

func TestEveryRequestHasATimeoutAndATimedOutGETIsRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // held until the client gives up on it
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	// The timeout is generous so that the second attempt meets it on a
	// loaded machine; the first never would.
	c, err := NewClient(plan.HelloID, Config{BaseURL: srv.URL, Timeout: time.Second, Clock: &fakeClock{}}, Options{})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), Request{Op: "list", Method: "GET", Path: "/x"})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
}

func TestResponseBodiesAreCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 2048))
	}))
	defer srv.Close()
	c, err := NewClient(plan.HelloID, Config{BaseURL: srv.URL, MaxBody: 1024, Clock: &fakeClock{}}, Options{})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), Request{Op: "list", Method: "GET", Path: "/x"})
	require.ErrorIs(t, err, errBodyTooLarge)
	assert.Equal(t, 1, resp.Attempts, "not retried")
}

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// started returns a pacer for perSecond past its gentle start.
func started(perSecond float64) *pacer {
	p := newPacer(perSecond)
	p.throttled(t0, t0) // no cut yet remembered: ends the start ...
	p.rate, p.ceiling, p.lastCut = perSecond, 0, time.Time{}
	p.lastClimb = t0
	return p
}

func TestThePaceStartsGentlyAndReachesTheConfiguredRate(t *testing.T) {
	p := newPacer(100)
	p.mu.Lock()
	p.climb(t0)
	p.mu.Unlock()
	assert.InDelta(t, 75, p.limit(), 0.01, "three quarters at first")
	p.mu.Lock()
	p.climb(t0.Add(startRamp / 2))
	p.mu.Unlock()
	assert.InDelta(t, 87.5, p.limit(), 0.01)
	p.mu.Lock()
	p.climb(t0.Add(time.Second))
	p.mu.Unlock()
	assert.InDelta(t, 100, p.limit(), 0.01, "the configured rate, and no more")
}

func TestA429BurstCutsThePaceOnce(t *testing.T) {
	p := started(100)
	sent := []time.Time{t0, t0.Add(10 * time.Millisecond), t0.Add(20 * time.Millisecond)}
	p.lastClimb = t0.Add(50 * time.Millisecond) // the climb is tested apart
	now := t0.Add(50 * time.Millisecond)
	p.throttled(sent[0], now)
	assert.InDelta(t, 85, p.limit(), 0.01, "cut by cutFactor of its own pace, not of a measured rate")
	p.throttled(sent[1], now)
	p.throttled(sent[2], now)
	assert.InDelta(t, 85, p.limit(), 0.01, "429s for requests sent before the cut are the same burst")
	p.throttled(now, now)
	assert.InDelta(t, 85*cutFactor, p.limit(), 0.01, "a request sent after the cut that still draws a 429 cuts again")
}

func TestThePaceClimbsByTheSecondFastToTheCeilingThenSlowly(t *testing.T) {
	p := started(50)
	p.rate = 30
	cut := t0.Add(time.Second)
	p.lastClimb = cut
	p.throttled(cut, cut) // the server's limit is under 30
	assert.InDelta(t, 25.5, p.limit(), 0.01)
	at := func(d time.Duration) float64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.climb(cut.Add(d))
		return p.rate
	}
	// Fast (a quarter of the configured rate a second) up to 95% of the
	// ceiling, whatever the number of requests meanwhile.
	assert.InDelta(t, 25.5+12.5*0.2, at(200*time.Millisecond), 0.01)
	assert.InDelta(t, 28.5, at(240*time.Millisecond), 0.01)
	// Then 2% of the ceiling a second.
	assert.InDelta(t, 28.5+0.6*(10-0.24), at(10*time.Second), 0.01)
	// The ceiling is forgotten after ceilingMemory: the climb is fast again.
	before := at(ceilingMemory)
	assert.InDelta(t, min(50, before+12.5), at(ceilingMemory+time.Second), 0.01)
}

func TestAPermitIsTakenAtSendTimeSoACutSpacesTheNextRequest(t *testing.T) {
	p := started(100)
	clock := &fakeClock{now: t0}
	for range 3 {
		require.NoError(t, p.wait(context.Background(), clock))
	}
	p.throttled(clock.Now(), clock.Now())
	require.NoError(t, p.wait(context.Background(), clock))
	require.NoError(t, p.wait(context.Background(), clock))
	// 100/s: 10ms apart; after the cut to 85/s, 11.76ms from the very next.
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	require.Len(t, clock.sleeps, 4)
	assert.InDelta(t, 10, ms(clock.sleeps[0]), 0.01)
	assert.InDelta(t, 10, ms(clock.sleeps[1]), 0.01)
	assert.InDelta(t, 1000/85.0, ms(clock.sleeps[2]), 0.2, "(a little less: the pace climbs meanwhile)")
	assert.InDelta(t, 1000/85.0, ms(clock.sleeps[3]), 0.2)
}

func TestADeleteWhoseAnswerWasLostIsDoneWhenTheRetryFindsNothing(t *testing.T) {
	c, sc, _ := newTestClient(t, answer{status: 502}, answer{status: 404})
	resp, err := c.Do(context.Background(), Request{Op: "delete phone 7", Method: "DELETE", Path: "/phones/7"})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.Len(t, sc.seen, 2)

	c, _, _ = newTestClient(t, answer{status: 404})
	_, err = c.Do(context.Background(), Request{Op: "delete phone 7", Method: "DELETE", Path: "/phones/7"})
	require.Error(t, err, "a 404 on the first attempt is a real failure")
}

func TestNoRequestLeavesAfterA401EvenIfItWasWaitingForItsTurn(t *testing.T) {
	var sent atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	c, err := NewClient(plan.LOX24, Config{BaseURL: srv.URL, Rate: 10, MaxInFlight: 4}, Options{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.Do(context.Background(), Request{Op: "put", Method: "PUT", Path: "/groups/1"})
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), sent.Load(), "the requests paced behind the first one see its 401 and stay home")
}

// Inside Apply, a write that draws a 429 is handed back at once, for Apply
// to requeue, with the wait it is owed; the attempts count on from those
// sent before, and the last one allowed fails as before. Reads still wait
// and retry in place.
func TestA429OfAWriteApplyCanRequeueComesBackAtOnce(t *testing.T) {
	throttled := answer{status: 429, header: map[string]string{"Retry-After": "3"}}
	c, sc, clock := newTestClient(t, throttled, throttled, throttled, answer{status: 200})
	put := Request{Op: "put group 7", Method: "PUT", Path: "/groups/7", Body: map[string]int{"a": 1}}

	resp, err := c.Do(plan.WithRequeue(context.Background(), 0), put)
	var te *plan.ThrottledError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 3*time.Second, te.After)
	assert.Equal(t, 1, resp.Attempts)
	assert.Len(t, sc.seen, 1, "not sent again by the client")
	assert.NotContains(t, clock.sleeps, 3*time.Second, "the caller's worker does not wait out the 429 (only the pace)")
	o := OutcomeOf(resp, err)
	assert.Equal(t, plan.Failed, o.Status)
	assert.ErrorAs(t, o.Err, &te)

	resp, err = c.Do(plan.WithRequeue(context.Background(), 4), put)
	require.Error(t, err)
	assert.False(t, errors.As(err, &te), "the last attempt allowed is not requeued")
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 429, se.StatusCode)
	assert.Equal(t, 5, resp.Attempts, "attempts count on from those sent before")
	assert.Len(t, sc.seen, 2)

	resp, err = c.Do(plan.WithRequeue(context.Background(), 0), Request{Op: "get", Method: "GET", Path: "/x"})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts, "a read waits and retries in place")
	assert.Contains(t, clock.sleeps, 3*time.Second)
}

// A request waiting for a slot holds no permit: with more callers than
// slots, the permits are taken one by one as slots free up, never by every
// waiter at once (which would send them as a burst when the slots free).
func TestARequestTakesItsPermitOnlyOnceItHasASlot(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	c, err := NewClient(plan.LOX24, Config{BaseURL: srv.URL, Rate: 1e6, MaxInFlight: 1, Clock: &fakeClock{}}, Options{})
	require.NoError(t, err)
	waiting := make(chan struct{}, 8)
	c.testBeforeSlot = func() { waiting <- struct{}{} }
	permits := func() int {
		c.pacer.mu.Lock()
		defer c.pacer.mu.Unlock()
		return c.pacer.permits
	}
	var wg sync.WaitGroup
	do := func() {
		defer wg.Done()
		_, err := c.Do(context.Background(), Request{Op: "get", Method: "GET", Path: "/x"})
		assert.NoError(t, err)
	}
	wg.Add(1)
	go do()
	<-waiting
	<-arrived // the first request holds the only slot, on the server
	for range 3 {
		wg.Add(1)
		go do()
	}
	for range 3 {
		<-waiting // each of the others now waits for the slot
	}
	assert.Equal(t, 1, permits(), "only the request in flight took a permit")
	close(release)
	wg.Wait()
	assert.Equal(t, 4, permits())
}

// The last attempt's 429 slows the pace too: the run's other requests go
// to the same server.
func TestTheLastAttemptsA429CutsThePace(t *testing.T) {
	sc := &script{answers: []answer{{status: 429}, {status: 429}}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	c, err := NewClient(plan.LOX24, Config{BaseURL: srv.URL, Rate: 100, Clock: &fakeClock{},
		Retry: RetryPolicy{MaxAttempts: 1}}, Options{})
	require.NoError(t, err)
	before := c.pace()
	_, err = c.Do(context.Background(), Request{Op: "get", Method: "GET", Path: "/x"})
	require.Error(t, err)
	assert.InDelta(t, before*cutFactor, c.pace(), 1e-9)
}

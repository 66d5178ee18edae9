package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestThrottle(t *testing.T) {
	s, clock := newServer(t, Options{Throttle: 2})
	call(t, s, req{method: "GET", path: "/groups"}, 200)
	w := call(t, s, req{method: "POST", path: "/groups", body: `{"name":"x"}`}, 429)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Equal(t, "hydra:Error", object(t, w)["@type"])
	assert.Empty(t, s.State().LOX24.Groups, "a throttled request changes nothing")

	// Each system has its own bucket.
	call(t, s, req{method: "GET", path: "/api/v1/groups"}, 200)
	w = call(t, s, req{method: "GET", path: "/api/v1/groups"}, 429)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.NotEmpty(t, object(t, w)["message"])

	// A throttled request uses no token: after 1/rate the next one passes.
	clock.Advance(500 * time.Millisecond)
	call(t, s, req{method: "GET", path: "/groups"}, 200)
	call(t, s, req{method: "GET", path: "/groups"}, 429)

	slow, _ := newServer(t, Options{Throttle: 0.1})
	call(t, slow, req{method: "GET", path: "/groups"}, 200)
	w = call(t, slow, req{method: "GET", path: "/groups"}, 429)
	assert.Equal(t, "10", w.Header().Get("Retry-After"), "Retry-After is whole seconds, rounded up")
}

func TestThrottleLetsASmallBurstThroughAndCountsConnections(t *testing.T) {
	s, clock := newServer(t, Options{Throttle: 25})
	for range 5 { // a fifth of a second's worth
		call(t, s, req{method: "GET", path: "/groups"}, 200)
	}
	w := call(t, s, req{method: "GET", path: "/groups"}, 429)
	assert.Equal(t, "1", w.Header().Get("Retry-After"), "a token is free within 40ms: the least whole second")
	clock.Advance(40 * time.Millisecond)
	call(t, s, req{method: "GET", path: "/groups"}, 200)

	set, _ := newServer(t, Options{Throttle: 25, ThrottleBurst: 1})
	call(t, set, req{method: "GET", path: "/groups"}, 200)
	call(t, set, req{method: "GET", path: "/groups"}, 429)

	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnState = s.ConnState
	srv.Start()
	defer srv.Close()
	for range 3 {
		res, err := srv.Client().Get(srv.URL + "/_emulator/stats")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	assert.Equal(t, 1, s.Stats().Connections, "three requests on one kept-alive connection")
}

func TestFailRate(t *testing.T) {
	s, _ := newServer(t, Options{FailRate: 1})
	w := call(t, s, req{method: "POST", path: "/groups", body: `{"name":"x"}`}, 503)
	assert.Equal(t, "hydra:Error", object(t, w)["@type"])
	w = call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"name":"x"}`}, 503)
	assert.Equal(t, map[string]any{"message": "Service Unavailable"}, object(t, w))
	// Before anything else: bad credentials are not even looked at.
	for range 5 {
		call(t, s, req{method: "GET", path: "/groups", token: "-"}, 503)
	}
	assert.Equal(t, State{LOX24: LOX24State{Groups: []LOX24Group{}}, HelloID: HelloIDState{Groups: []HelloIDGroup{}, Users: []HelloIDUser{}}}, s.State())

	some, _ := newServer(t, Options{FailRate: 0.5, Seed: 7})
	failed := 0
	for range 200 {
		if serve(some, req{method: "GET", path: "/groups"}).Code == 503 {
			failed++
		}
	}
	assert.InDelta(t, 100, failed, 30)
}

func TestRedirect(t *testing.T) {
	s, _ := newServer(t, Options{Redirect: "https://elsewhere.example"})
	w := call(t, s, req{method: "GET", path: "/groups?page=2"}, 307)
	assert.Equal(t, "https://elsewhere.example/groups?page=2", w.Header().Get("Location"))
	w = call(t, s, req{method: "PUT", path: "/api/v1/groups/x", body: `{}`}, 307)
	assert.Equal(t, "https://elsewhere.example/api/v1/groups/x", w.Header().Get("Location"))
	// The control routes are not redirected.
	call(t, s, req{method: "GET", path: "/_emulator/stats"}, 200)
}

// A request is held for the latency: it is in flight and unanswered until
// its client goes, which the stats count as 499.
func TestLatencyHoldsTheAnswerUntilTheClientGoes(t *testing.T) {
	s, _ := newServer(t, Options{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	r := req{method: "GET", path: "/groups"}.build().WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(httptest.NewRecorder(), r)
	}()
	require.Eventually(t, func() bool { return s.Stats().Total == 1 }, 5*time.Second, time.Millisecond, "the request arrives")
	select {
	case <-done:
		t.Fatal("answered without waiting for the latency")
	default:
	}
	assert.Empty(t, s.Stats().Systems["lox24"].ByStatus, "no answer yet")
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("request did not return after its context was cancelled")
	}
	assert.Equal(t, map[string]int{"499": 1}, s.Stats().Systems["lox24"].ByStatus)
}

func TestStats(t *testing.T) {
	s, _ := newServer(t, Options{})
	loadGroups(t, s, 1)
	call(t, s, req{method: "GET", path: "/groups"}, 200)
	call(t, s, req{method: "GET", path: "/groups?page=2"}, 200)
	call(t, s, req{method: "PUT", path: "/groups/1", body: `{"name":"n"}`}, 200)
	call(t, s, req{method: "POST", path: "/groups/1/phones/batch", body: `[{"phone":"1"}]`}, 201)
	call(t, s, req{method: "DELETE", path: "/phones/500000"}, 204)
	call(t, s, req{method: "GET", path: "/groups/9"}, 404)
	call(t, s, req{method: "GET", path: "/nowhere"}, 404)
	call(t, s, req{method: "GET", path: "/api/v1/groups"}, 200)
	call(t, s, req{method: "PUT", path: "/api/v1/groups/x", body: `{}`}, 404)
	call(t, s, req{method: "GET", path: "/_emulator/stats"}, 200) // not counted

	assert.Equal(t, Stats{
		Total: 9, PeakInFlight: 1,
		Systems: map[string]SystemStats{
			"lox24": {
				Total: 7, Writes: 3, PeakInFlight: 1,
				ByMethod: map[string]int{"GET": 4, "PUT": 1, "POST": 1, "DELETE": 1},
				ByRoute: map[string]int{
					"GET /groups": 2, "PUT /groups/{id}": 1, "POST /groups/{id}/phones/batch": 1,
					"DELETE /phones/{id}": 1, "GET /groups/{id}": 1, "GET (unknown)": 1,
				},
				ByStatus: map[string]int{"200": 3, "201": 1, "204": 1, "404": 2},
			},
			"helloid": {
				Total: 2, Writes: 1, PeakInFlight: 1,
				ByMethod: map[string]int{"GET": 1, "PUT": 1},
				ByRoute:  map[string]int{"GET /api/v1/groups": 1, "PUT /api/v1/groups/{group}": 1},
				ByStatus: map[string]int{"200": 1, "404": 1},
			},
		},
	}, s.Stats())

	s.ResetStats()
	empty := SystemStats{ByMethod: map[string]int{}, ByRoute: map[string]int{}, ByStatus: map[string]int{}}
	assert.Equal(t, Stats{Systems: map[string]SystemStats{"lox24": empty, "helloid": empty}}, s.Stats())
}

func TestStatsCountFaultedRequests(t *testing.T) {
	s, _ := newServer(t, Options{FailRate: 1})
	call(t, s, req{method: "POST", path: "/groups", body: `{"name":"x"}`}, 503)
	st := s.Stats().Systems["lox24"]
	assert.Equal(t, 1, st.Writes)
	assert.Equal(t, map[string]int{"POST /groups": 1}, st.ByRoute)
	assert.Equal(t, map[string]int{"503": 1}, st.ByStatus)
}

func TestStatsPeakInFlight(t *testing.T) {
	// Requests wait in the latency until their context is cancelled, so the
	// number in flight is exact without depending on timing.
	s, _ := newServer(t, Options{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := func(path string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := req{method: "GET", path: path}.build().WithContext(ctx)
			s.ServeHTTP(httptest.NewRecorder(), r)
		}()
	}
	for range 3 {
		start("/groups")
	}
	for range 2 {
		start("/api/v1/groups")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().PeakInFlight < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	st := s.Stats()
	assert.Equal(t, 5, st.PeakInFlight)
	assert.Equal(t, 3, st.Systems["lox24"].PeakInFlight)
	assert.Equal(t, 2, st.Systems["helloid"].PeakInFlight)
}

func TestStateRoundTrip(t *testing.T) {
	s, _ := newServer(t, Options{})
	in := State{
		LOX24: LOX24State{Groups: []LOX24Group{{
			ID: 12344, Name: "My Clients", Description: ptr("Best clients"), NameA: ptr("prefix"),
			DeletedAt: ptr("2030-01-01T00:00:00Z"),
			Phones: []LOX24Phone{
				{ID: "7", Phone: "+4917663804817", A: ptr("o2"), CallbackData: ptr("cb"),
					SubscribedAt: ptr(int64(1)), UnsubscribedAt: ptr(int64(2)), UnsubscribeReason: ptr(6)},
				{Phone: "+491"},
			},
		}, {Name: "second"}}},
		HelloID: HelloIDState{Groups: []HelloIDGroup{
			{GroupGUID: strings.ToUpper(guidA), Name: "Sales", IsEnabled: true, IsQrEnabled: true, ManagedByUserGUID: ptr(managerU), Users: []string{userX}, Source: "AD"},
			{Name: "New"},
		}, Users: directory},
	}
	require.NoError(t, s.LoadState(in))
	out := s.State()

	want := in
	want.LOX24.Groups = []LOX24Group{in.LOX24.Groups[0], {ID: 12345, Name: "second", Phones: []LOX24Phone{}}}
	want.LOX24.Groups[0].Phones = []LOX24Phone{in.LOX24.Groups[0].Phones[0], {ID: "500000", Phone: "+491"}}
	want.HelloID.Groups = []HelloIDGroup{
		{GroupGUID: guidA, Name: "Sales", IsEnabled: true, IsQrEnabled: true, ManagedByUserGUID: ptr(manager), Users: []string{userX}, Source: "AD"},
		{GroupGUID: out.HelloID.Groups[1].GroupGUID, Name: "New", Users: []string{}},
	}
	assert.Regexp(t, guidV4, out.HelloID.Groups[1].GroupGUID)
	assert.Equal(t, want, out)

	// State is a deep copy.
	*out.LOX24.Groups[0].Description = "changed"
	out.HelloID.Groups[0].Users[0] = "x"
	assert.Equal(t, want, s.State())

	// Through JSON and back it is the same state.
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(s.State()))
	read, err := ReadState(&buf)
	require.NoError(t, err)
	other, _ := newServer(t, Options{})
	require.NoError(t, other.LoadState(read))
	assert.Equal(t, s.State(), other.State())

	// The JSON keys are the documented ones.
	var raw map[string]map[string][]map[string]any
	require.NoError(t, json.Unmarshal(encodeJSON(s.State(), false), &raw))
	assert.Contains(t, raw["lox24"]["groups"][0], "name_a")
	assert.Contains(t, raw["lox24"]["groups"][0]["phones"].([]any)[0], "callback_data")
	assert.Contains(t, raw["helloid"]["groups"][0], "managedByUserGuid")
	assert.Contains(t, raw["helloid"]["groups"][0], "isQrEnabled")
}

func TestReadState(t *testing.T) {
	st, err := ReadState(strings.NewReader(`{"lox24":{"groups":[{"name":"a","name_e":"e","phones":[{"phone":"1","callback_data":"x"}]}]},"helloid":{"groups":[{"name":"b","isEnabled":true}]}}`))
	require.NoError(t, err)
	assert.Equal(t, "e", *st.LOX24.Groups[0].NameE)
	assert.True(t, st.HelloID.Groups[0].IsEnabled)

	_, err = ReadState(strings.NewReader(`{}`))
	require.NoError(t, err, "both systems are optional")

	for _, bad := range []string{
		`{"lox24":{"groups":[{"name":"a","colour":"red"}]}}`,
		`{"lox24":{"groups":[]},"sms":{}}`,
		`{"helloid":{"groups":[{"name":"b","IsEnabledd":true}]}}`,
		`{"lox24":{"groups":[{"name":"a","phones":[{"phone":"1","f":"x"}]}]}}`,
		`{"lox24":{"groups":[{"name":5}]}}`,
		`{} {}`,
		`[]`,
		``,
	} {
		_, err := ReadState(strings.NewReader(bad))
		assert.Error(t, err, bad)
	}
}

func TestLoadStateValidates(t *testing.T) {
	tests := []struct {
		name string
		st   State
		want string
	}{
		{"lox24 group without name", State{LOX24: LOX24State{Groups: []LOX24Group{{}}}}, "lox24.groups[0].name"},
		{"lox24 name of 51", State{LOX24: LOX24State{Groups: []LOX24Group{{Name: strings.Repeat("ä", 51)}}}}, "name"},
		{"lox24 duplicate id", State{LOX24: LOX24State{Groups: []LOX24Group{{ID: 1, Name: "a"}, {ID: 1, Name: "b"}}}}, "used twice"},
		{"lox24 negative id", State{LOX24: LOX24State{Groups: []LOX24Group{{ID: -1, Name: "a"}}}}, "id"},
		{"lox24 bad deleted_at", State{LOX24: LOX24State{Groups: []LOX24Group{{Name: "a", DeletedAt: ptr("tomorrow")}}}}, "deleted_at"},
		{"phone id not numeric", State{LOX24: LOX24State{Groups: []LOX24Group{{Name: "a", Phones: []LOX24Phone{{ID: "x1", Phone: "1"}}}}}}, "phones[0].id"},
		{"phone id used in two groups", State{LOX24: LOX24State{Groups: []LOX24Group{
			{Name: "a", Phones: []LOX24Phone{{ID: "1", Phone: "1"}}}, {Name: "b", Phones: []LOX24Phone{{ID: "1", Phone: "1"}}},
		}}}, "used twice"},
		{"phone of 31", State{LOX24: LOX24State{Groups: []LOX24Group{{Name: "a", Phones: []LOX24Phone{{Phone: strings.Repeat("1", 31)}}}}}}, "phone"},
		{"unsubscribe reason 7", State{LOX24: LOX24State{Groups: []LOX24Group{{Name: "a", Phones: []LOX24Phone{{Phone: "1", UnsubscribeReason: ptr(7)}}}}}}, "unsubscribe_reason"},
		{"helloid bad guid", State{HelloID: HelloIDState{Groups: []HelloIDGroup{{GroupGUID: "x", Name: "a"}}}}, "groupGuid"},
		{"helloid names equal ignoring case", State{HelloID: HelloIDState{Groups: []HelloIDGroup{{Name: "A"}, {Name: "a"}}}}, "unique"},
		{"helloid blank name", State{HelloID: HelloIDState{Groups: []HelloIDGroup{{Name: " "}}}}, "name"},
		{"helloid bad manager", State{HelloID: HelloIDState{Groups: []HelloIDGroup{{Name: "a", ManagedByUserGUID: ptr("bob")}}}}, "managedByUserGuid"},
		{"helloid bad user", State{HelloID: HelloIDState{Groups: []HelloIDGroup{{Name: "a", Users: []string{"bob"}}}}}, "users[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newServer(t, Options{})
			loadGroups(t, s, 1)
			before := s.State()
			err := s.LoadState(tt.st)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, before, s.State(), "a rejected state leaves the old one")
		})
	}
}

func TestControlRoutes(t *testing.T) {
	s, _ := newServer(t, Options{})
	w := call(t, s, req{method: "POST", path: "/_emulator/state", body: `{"lox24":{"groups":[{"name":"a"}]},"helloid":{"groups":[{"name":"b"}]}}`, ctype: "-"}, 200)
	var st State
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &st))
	assert.Equal(t, s.State(), st)
	assert.Equal(t, int64(1000), st.LOX24.Groups[0].ID)

	w = call(t, s, req{method: "GET", path: "/_emulator/state"}, 200)
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &st))
	assert.Equal(t, s.State(), st)

	w = call(t, s, req{method: "POST", path: "/_emulator/state", body: `{"lox24":{"groups":[{"name":"a","x":1}]}}`}, 400)
	assert.Contains(t, object(t, w)["message"], "x")
	call(t, s, req{method: "POST", path: "/_emulator/state", body: `{"lox24":{"groups":[{"name":""}]}}`}, 400)
	assert.Len(t, s.State().LOX24.Groups, 1)

	call(t, s, req{method: "GET", path: "/groups"}, 200)
	w = call(t, s, req{method: "GET", path: "/_emulator/stats"}, 200)
	var stats Stats
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &stats))
	assert.Equal(t, 1, stats.Total)
	assert.Equal(t, map[string]int{"GET /groups": 1}, stats.Systems["lox24"].ByRoute)

	call(t, s, req{method: "POST", path: "/_emulator/reset-stats"}, 204)
	assert.Equal(t, 0, s.Stats().Total)

	call(t, s, req{method: "DELETE", path: "/_emulator/state"}, 405)
	call(t, s, req{method: "GET", path: "/_emulator/reset-stats"}, 405)
	call(t, s, req{method: "GET", path: "/_emulator/nothing"}, 404)
	assert.Equal(t, 0, s.Stats().Total, "control routes are not counted")
}

func TestListenLoopbackOnly(t *testing.T) {
	s, _ := newServer(t, Options{})
	for _, addr := range []string{":0", "0.0.0.0:0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		_, _, err := s.Listen(addr)
		assert.Error(t, err, addr)
	}
}

func TestListenServesBothAPIs(t *testing.T) {
	s := New(Options{}) // real clock, time-based seed
	base, stop, err := s.Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer func() { require.NoError(t, stop()) }()
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)

	client := &http.Client{Timeout: 5 * time.Second}
	r, err := http.NewRequest("POST", base+"/groups", strings.NewReader(`{"name":"a"}`))
	require.NoError(t, err)
	r.Header.Set("X-LOX24-AUTH-TOKEN", "demo:demo")
	r.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(r)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 201, resp.StatusCode)

	r, err = http.NewRequest("GET", base+"/api/v1/groups", nil)
	require.NoError(t, err)
	r.SetBasicAuth("demo", "demo")
	resp, err = client.Do(r)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "[]\n", string(body))
}

// TestConcurrentClients runs many clients at once against a real listener;
// with -race it checks that the emulator is safe for concurrent use.
func TestConcurrentClients(t *testing.T) {
	s := New(Options{Seed: 3})
	base, stop, err := s.Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer func() { require.NoError(t, stop()) }()
	client := &http.Client{Timeout: 10 * time.Second}

	do := func(method, path, body string) (int, []byte, error) {
		r, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		r.Header.Set("X-LOX24-AUTH-TOKEN", "demo:demo")
		r.Header.Set("Accept", "application/json")
		r.Header.Set("Content-Type", "application/json")
		r.SetBasicAuth("demo", "demo")
		resp, err := client.Do(r)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}

	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*4)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				code, b, err := do("POST", "/groups", fmt.Sprintf(`{"name":"w%d-%d"}`, w, i))
				if err != nil || code != 201 {
					errs <- fmt.Errorf("create group: %d %s %w", code, b, err)
					continue
				}
				var g struct{ ID int64 }
				if err := json.Unmarshal(b, &g); err != nil {
					errs <- err
					continue
				}
				if code, b, err := do("POST", fmt.Sprintf("/groups/%d/phones/batch", g.ID), `[{"phone":"+1"},{"phone":"+2"}]`); err != nil || code != 201 {
					errs <- fmt.Errorf("batch: %d %s %w", code, b, err)
				}
				if code, b, err := do("POST", "/api/v1/groups", fmt.Sprintf(`{"name":"w%d-%d"}`, w, i)); err != nil || code != 200 {
					errs <- fmt.Errorf("helloid create: %d %s %w", code, b, err)
				}
				if code, b, err := do("GET", "/groups?page=1", ""); err != nil || code != 200 {
					errs <- fmt.Errorf("list: %d %s %w", code, b, err)
				}
				_ = s.Stats()
				_ = s.State()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := s.State()
	assert.Len(t, st.LOX24.Groups, workers*each)
	assert.Len(t, st.HelloID.Groups, workers*each)
	ids := map[string]bool{}
	for _, g := range st.LOX24.Groups {
		require.Len(t, g.Phones, 2)
		for _, p := range g.Phones {
			assert.False(t, ids[p.ID], "phone id %s used twice", p.ID)
			ids[p.ID] = true
		}
	}
	stats := s.Stats()
	assert.Equal(t, workers*each*4, stats.Total)
	assert.Equal(t, workers*each*3, stats.Systems["lox24"].Total)
	assert.GreaterOrEqual(t, stats.PeakInFlight, 1)
	assert.LessOrEqual(t, stats.PeakInFlight, workers)
}

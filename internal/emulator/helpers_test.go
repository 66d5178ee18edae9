package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is an injectable clock for the lockout and the throttle.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	ldJSON   = "application/ld+json"
	testIP   = "192.0.2.10:40000"
	otherIP  = "192.0.2.20:40000"
	demoAuth = "demo:demo"
)

// req describes one request to the handler.
type req struct {
	method, path, body string
	accept             string            // LOX24; "" sends application/ld+json, "-" sends none
	ctype              string            // "" sends application/json on a body, "-" sends none
	token              string            // LOX24; "" sends demo:demo, "-" sends none
	remote             string            // "" is testIP
	header             map[string]string // extra headers
	noAuth             bool              // HelloID: send no Authorization
	user, pass         string            // HelloID; "" sends demo/demo
}

func (q req) build() *http.Request {
	var r *http.Request
	if q.body != "" {
		r = httptest.NewRequest(q.method, q.path, strings.NewReader(q.body))
		switch q.ctype {
		case "":
			r.Header.Set("Content-Type", "application/json")
		case "-":
		default:
			r.Header.Set("Content-Type", q.ctype)
		}
	} else {
		r = httptest.NewRequest(q.method, q.path, nil)
	}
	r.RemoteAddr = testIP
	if q.remote != "" {
		r.RemoteAddr = q.remote
	}
	if strings.HasPrefix(q.path, "/api/v1") {
		if !q.noAuth {
			u, p := q.user, q.pass
			if u == "" {
				u, p = "demo", "demo"
			}
			r.SetBasicAuth(u, p)
		}
	} else {
		switch q.accept {
		case "":
			r.Header.Set("Accept", ldJSON)
		case "-":
		default:
			r.Header.Set("Accept", q.accept)
		}
		switch q.token {
		case "":
			r.Header.Set("X-LOX24-AUTH-TOKEN", demoAuth)
		case "-":
		default:
			r.Header.Set("X-LOX24-AUTH-TOKEN", q.token)
		}
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	return r
}

func serve(s *Server, q req) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.ServeHTTP(w, q.build())
	return w
}

// call sends q and requires status want.
func call(t *testing.T, s *Server, q req, want int) *httptest.ResponseRecorder {
	t.Helper()
	w := serve(s, q)
	require.Equal(t, want, w.Code, "%s %s: %s", q.method, q.path, w.Body.String())
	return w
}

// object decodes a JSON object body.
func object(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), w.Body.String())
	return m
}

// array decodes a JSON array body.
func array(t *testing.T, w *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	var a []map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a), w.Body.String())
	return a
}

func ptr[T any](v T) *T { return &v }

// newServer returns a server with a fixed seed and a fake clock.
func newServer(t *testing.T, opts Options) (*Server, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	return New(opts), clock
}

// loadGroups loads n LOX24 groups named g001.. with ids 1..n.
func loadGroups(t *testing.T, s *Server, n int) {
	t.Helper()
	var st State
	for i := 1; i <= n; i++ {
		st.LOX24.Groups = append(st.LOX24.Groups, LOX24Group{ID: int64(i), Name: groupName(i)})
	}
	require.NoError(t, s.LoadState(st))
}

func groupName(i int) string { return fmt.Sprintf("g%03d", i) }

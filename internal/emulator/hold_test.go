package emulator

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Answers held until three are in flight are in flight together at the
// Server; requests the match leaves out pass at once; a client that never
// gets to three is let through after the patience.
func TestHoldAnswers(t *testing.T) {
	s := New(Options{})
	held := func(r *http.Request) bool { return r.URL.Path == "/groups" }
	get := func(h http.Handler, path string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-LOX24-AUTH-TOKEN", "demo:demo")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	h := HoldAnswers(s, 3, time.Minute, held)
	assert.Equal(t, http.StatusNotFound, get(h, "/groups/1"), "not held")
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.Equal(t, http.StatusOK, get(h, "/groups"))
		}()
	}
	wg.Wait()
	assert.Equal(t, 3, s.Stats().PeakInFlight)

	lone := New(Options{})
	require.Equal(t, http.StatusOK, get(HoldAnswers(lone, 2, time.Millisecond, held), "/groups"), "let through after the patience")
	assert.Equal(t, 1, lone.Stats().PeakInFlight)
}

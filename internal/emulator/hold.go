package emulator

import (
	"net/http"
	"sync"
	"time"
)

// HoldAnswers wraps h (a Server) so that the answers to the requests match
// selects are held back inside h, where a Server counts them in flight,
// until want of them are held at once; then they all go. Tests use it to
// see a client's requests side by side however loaded the machine is: a
// client that never has want in flight is let through after patience, and
// the test fails on the Server's PeakInFlight, never on a duration.
func HoldAnswers(h http.Handler, want int, patience time.Duration, match func(*http.Request) bool) http.Handler {
	return &holder{next: h, want: want, patience: patience, match: match, open: make(chan struct{})}
}

type holder struct {
	next     http.Handler
	want     int
	patience time.Duration
	match    func(*http.Request) bool
	mu       sync.Mutex
	held     int
	open     chan struct{}
	opened   bool
}

func (g *holder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.match(r) {
		w = &heldAnswer{ResponseWriter: w, g: g}
	}
	g.next.ServeHTTP(w, r)
}

// release lets every held answer go; g.mu is held.
func (g *holder) release() {
	if !g.opened {
		g.opened = true
		close(g.open)
	}
}

func (g *holder) wait() {
	g.mu.Lock()
	if g.held++; g.held >= g.want {
		g.release()
	}
	g.mu.Unlock()
	t := time.NewTimer(g.patience)
	defer t.Stop()
	select {
	case <-g.open:
	case <-t.C:
		g.mu.Lock()
		g.release()
		g.mu.Unlock()
	}
}

// heldAnswer waits at its holder before the answer's first byte.
type heldAnswer struct {
	http.ResponseWriter
	g    *holder
	once sync.Once
}

func (h *heldAnswer) WriteHeader(code int) {
	h.once.Do(h.g.wait)
	h.ResponseWriter.WriteHeader(code)
}

func (h *heldAnswer) Write(p []byte) (int, error) {
	h.once.Do(h.g.wait)
	return h.ResponseWriter.Write(p)
}

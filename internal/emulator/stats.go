package emulator

import (
	"net/http"
	"strconv"
	"sync"
)

// Stats counts the API requests the emulator has seen (the /_emulator/*
// control routes are not counted). It is the JSON of GET /_emulator/stats.
type Stats struct {
	Total        int                    `json:"total"`          // API requests, faulted ones included
	PeakInFlight int                    `json:"peak_in_flight"` // most API requests in flight at once
	Systems      map[string]SystemStats `json:"systems"`        // keys "lox24" and "helloid", always present
	// Connections counts the connections clients opened (see
	// Server.ConnState), both APIs and the control routes together.
	Connections int `json:"connections"`
}

// SystemStats counts one system's requests. ByRoute keys are the method and
// the route pattern, e.g. "PUT /groups/{id}" or "GET /api/v1/groups/{group}";
// a path that matches no route counts as "<METHOD> (unknown)". ByStatus keys
// are decimal status codes; "499" counts requests whose client went away
// during the configured latency.
type SystemStats struct {
	Total        int            `json:"total"`
	Writes       int            `json:"writes"` // POST, PUT, PATCH and DELETE
	PeakInFlight int            `json:"peak_in_flight"`
	ByMethod     map[string]int `json:"by_method"`
	ByRoute      map[string]int `json:"by_route"`
	ByStatus     map[string]int `json:"by_status"`
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats sets every counter to zero. Requests in flight stay counted as
// in flight, and the peaks restart from their number.
func (s *Server) ResetStats() { s.stats.reset() }

type statsRecorder struct {
	mu       sync.Mutex
	total    int
	conns    int
	inFlight int
	peak     int
	systems  map[string]*systemRecorder
}

type systemRecorder struct {
	SystemStats
	inFlight int
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{systems: map[string]*systemRecorder{}}
	r.resetLocked()
	return r
}

func (r *statsRecorder) resetLocked() {
	r.total = 0
	r.conns = 0
	r.peak = r.inFlight
	for _, sys := range []string{sysLOX24, sysHelloID} {
		inFlight := 0
		if old := r.systems[sys]; old != nil {
			inFlight = old.inFlight
		}
		r.systems[sys] = &systemRecorder{
			SystemStats: SystemStats{
				PeakInFlight: inFlight,
				ByMethod:     map[string]int{},
				ByRoute:      map[string]int{},
				ByStatus:     map[string]int{},
			},
			inFlight: inFlight,
		}
	}
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resetLocked()
}

func (r *statsRecorder) begin(sys, method, route string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	r.inFlight++
	r.peak = max(r.peak, r.inFlight)
	s := r.systems[sys]
	s.Total++
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		s.Writes++
	}
	s.inFlight++
	s.PeakInFlight = max(s.PeakInFlight, s.inFlight)
	s.ByMethod[method]++
	s.ByRoute[route]++
}

func (r *statsRecorder) connected() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns++
}

func (r *statsRecorder) end(sys string, status int) {
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing: net/http sends 200
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	s := r.systems[sys]
	s.inFlight--
	s.ByStatus[strconv.Itoa(status)]++
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Stats{Total: r.total, PeakInFlight: r.peak, Connections: r.conns, Systems: map[string]SystemStats{}}
	for name, s := range r.systems {
		c := s.SystemStats
		c.ByMethod = copyMap(s.ByMethod)
		c.ByRoute = copyMap(s.ByRoute)
		c.ByStatus = copyMap(s.ByStatus)
		out.Systems[name] = c
	}
	return out
}

func copyMap(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

package emulator

import (
	"net/http"
	"strconv"
)

// serveControl answers the /_emulator/* routes, which need no credentials
// and are not counted in Stats:
//
//	GET  /_emulator/state        the State as JSON
//	POST /_emulator/state        replace the State (body: State JSON); answers the new State
//	GET  /_emulator/stats        the Stats as JSON
//	POST /_emulator/reset-stats  zero the Stats; 204
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	type op struct{ path, method string }
	switch (op{r.URL.Path, r.Method}) {
	case op{"/_emulator/state", http.MethodGet}:
		writeJSON(w, http.StatusOK, "application/json; charset=utf-8", encodeJSON(s.State(), true))
	case op{"/_emulator/state", http.MethodPost}:
		st, err := ReadState(http.MaxBytesReader(w, r.Body, maxRequestBody))
		if err == nil {
			err = s.LoadState(st)
		}
		if err != nil {
			hidError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, "application/json; charset=utf-8", encodeJSON(s.State(), true))
	case op{"/_emulator/stats", http.MethodGet}:
		writeJSON(w, http.StatusOK, "application/json; charset=utf-8", encodeJSON(s.Stats(), true))
	case op{"/_emulator/reset-stats", http.MethodPost}:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	default:
		switch r.URL.Path {
		case "/_emulator/state":
			w.Header().Set("Allow", "GET, POST")
		case "/_emulator/stats":
			w.Header().Set("Allow", "GET")
		case "/_emulator/reset-stats":
			w.Header().Set("Allow", "POST")
		default:
			hidError(w, http.StatusNotFound, "no such emulator route: "+r.URL.Path)
			return
		}
		hidError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
	}
}

// writeJSON writes an already encoded JSON body.
func writeJSON(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

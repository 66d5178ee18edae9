package emulator

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDropRateAnswersSuccessAndAppliesNothing(t *testing.T) {
	s, _ := newServer(t, Options{DropRate: 1})
	require.NoError(t, s.LoadState(State{LOX24: LOX24State{Groups: []LOX24Group{{ID: 7, Name: "Kept", Phones: []LOX24Phone{{Phone: "+4915112345678"}}}}}}))
	before := s.State()
	call(t, s, req{method: http.MethodPost, path: "/groups", body: `{"name":"Dropped"}`}, http.StatusCreated)
	call(t, s, req{method: http.MethodPut, path: "/groups/7", body: `{"name":"Renamed"}`}, http.StatusOK)
	call(t, s, req{method: http.MethodDelete, path: "/phones/" + before.LOX24.Groups[0].Phones[0].ID}, http.StatusNoContent)
	call(t, s, req{method: http.MethodPost, path: "/api/v1/groups", body: `{"name":"Dropped too"}`}, http.StatusOK)
	assert.Equal(t, before, s.State(), "no write took effect")
	call(t, s, req{method: http.MethodGet, path: "/groups/7"}, http.StatusOK) // reads are answered as ever
}

func TestDropRateNeverReusesAnIDItHandedOut(t *testing.T) {
	s, _ := newServer(t, Options{DropRate: 1})
	first := call(t, s, req{method: http.MethodPost, path: "/groups", body: `{"name":"A"}`}, http.StatusCreated)
	second := call(t, s, req{method: http.MethodPost, path: "/groups", body: `{"name":"A"}`}, http.StatusCreated)
	assert.NotEqual(t, object(t, first)["id"], object(t, second)["id"])
}

package emulator

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoseRateAppliesTheWriteAndLosesItsAnswer(t *testing.T) {
	s, _ := newServer(t, Options{LoseRate: 1})
	call(t, s, req{method: http.MethodPost, path: "/groups", body: `{"name":"Lost"}`}, http.StatusBadGateway)
	call(t, s, req{method: http.MethodPost, path: "/api/v1/groups", body: `{"name":"Lost too"}`}, http.StatusBadGateway)
	st := s.State()
	require.Len(t, st.LOX24.Groups, 1, "the create happened")
	assert.Equal(t, "Lost", st.LOX24.Groups[0].Name)
	require.Len(t, st.HelloID.Groups, 1)
	call(t, s, req{method: http.MethodGet, path: "/groups"}, http.StatusOK) // reads are never lost
	assert.Equal(t, 1, s.Stats().Systems["lox24"].ByStatus["502"])
}

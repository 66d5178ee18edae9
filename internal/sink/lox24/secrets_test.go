package lox24_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/sink"
	"groupsync/internal/sink/lox24"
)

// TestCredentialsEchoedByTheAPIAreHidden: a server that repeats the token,
// and its API key alone, in its 401 message.
func TestCredentialsEchoedByTheAPIAreHidden(t *testing.T) {
	const token = "70001:SENTINEL-lox24-token-7f3a"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-LOX24-AUTH-TOKEN")
		w.Header().Set("Content-Type", "application/ld+json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"hydra:description": "bad token " + tok + ", key " + tok[6:]})
	}))
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL}, token)
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad token xxxxx, key xxxxx")
	assert.NotContains(t, err.Error(), "SENTINEL")
}

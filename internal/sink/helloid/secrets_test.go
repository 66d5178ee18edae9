package helloid_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/sink"
	"groupsync/internal/sink/helloid"
)

// TestCredentialsEchoedByTheAPIAreHidden: a server that repeats the Basic
// auth header, and the key and secret in it, in its 401 message.
func TestCredentialsEchoedByTheAPIAreHidden(t *testing.T) {
	const key, secret = "SENTINEL-hid-key-4c1d", "SENTINEL-hid-secret-9b2e"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, s, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "denied: " + r.Header.Get("Authorization") + " key " + k + " secret " + s})
	}))
	defer srv.Close()
	c, err := helloid.New(sink.Config{BaseURL: srv.URL}, key, secret)
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "denied: Basic xxxxx key xxxxx secret xxxxx")
	for _, s := range []string{key, secret, base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))} {
		assert.NotContains(t, msg, s)
	}
}

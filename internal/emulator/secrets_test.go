package emulator

import (
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestResponsesNeverEchoCredentials sends the right and wrong credentials
// to every kind of answer the emulator gives (success, 401, the lockout's
// 429, 404, 405, 406, 415, 422, a redirect, a random 503) and finds them in
// no response body or header.
func TestResponsesNeverEchoCredentials(t *testing.T) {
	const (
		token  = "70001:SENTINEL-lox24-token-7f3a"
		key    = "SENTINEL-hid-key-4c1d"
		secret = "SENTINEL-hid-secret-9b2e"
		wrong  = "70001:SENTINEL-wrong-token-0e6b"
	)
	forbidden := []string{"SENTINEL", base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))}
	for _, s := range []string{token, wrong, key, secret} {
		forbidden = append(forbidden, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	seen := map[int]bool{}
	scan := func(t *testing.T, what string, w *httptest.ResponseRecorder) {
		t.Helper()
		seen[w.Code] = true
		var all strings.Builder
		all.WriteString(w.Body.String())
		for k, vs := range w.Header() {
			all.WriteString("\n" + k + ": " + strings.Join(vs, ", "))
		}
		for _, f := range forbidden {
			assert.NotContains(t, all.String(), f, "%s (HTTP %d)", what, w.Code)
		}
	}
	opts := Options{LOX24Token: token, HelloIDKey: key, HelloIDSecret: secret}
	s, _ := newServer(t, opts)
	loadGroups(t, s, 2)
	requests := []req{
		{method: "GET", path: "/groups", token: token},
		{method: "GET", path: "/groups/1", token: token, accept: "text/html"},
		{method: "PUT", path: "/groups/1", token: token, body: `{"name": ""}`},
		{method: "PUT", path: "/groups/1", token: token, body: `{"name": "x"}`, ctype: "text/plain"},
		{method: "PATCH", path: "/groups/1", token: token, body: `{}`},
		{method: "GET", path: "/nowhere", token: token},
		{method: "GET", path: "/api/v1/groups", user: key, pass: secret},
		{method: "GET", path: "/api/v1/groups/nope", user: key, pass: secret},
		{method: "POST", path: "/api/v1/groups", user: key, pass: secret, body: `{"name": 5}`},
		{method: "PUT", path: "/api/v1/groups/x", user: key, pass: secret, body: `{}`, ctype: "text/plain"},
		{method: "PATCH", path: "/api/v1/groups", user: key, pass: secret, body: `{}`},
		{method: "GET", path: "/api/v1/groups", user: key, pass: token},
		{method: "GET", path: "/api/v1/groups", user: secret, pass: key},
	}
	// Wrong tokens until the lockout answers 429, then once more.
	for range 6 {
		requests = append(requests, req{method: "GET", path: "/groups", token: wrong})
	}
	for _, q := range requests {
		scan(t, q.method+" "+q.path, serve(s, q))
	}
	for _, faulty := range []Options{{Redirect: "http://127.0.0.1:1/elsewhere"}, {FailRate: 1}} {
		faulty.LOX24Token, faulty.HelloIDKey, faulty.HelloIDSecret = token, key, secret
		f, _ := newServer(t, faulty)
		scan(t, "fault", serve(f, req{method: "GET", path: "/groups", token: token}))
		scan(t, "fault", serve(f, req{method: "GET", path: "/api/v1/groups", user: key, pass: secret}))
	}
	for _, code := range []int{200, 307, 401, 404, 405, 406, 415, 422, 429, 503} {
		assert.True(t, seen[code], "a %d answer was scanned", code)
	}
}

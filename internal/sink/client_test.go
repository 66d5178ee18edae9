package sink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

func TestCheckBaseURL(t *testing.T) {
	ok := []struct{ in, want string }{
		{"https://api.lox24.eu", "https://api.lox24.eu"},
		{"https://acme.helloid.com/", "https://acme.helloid.com"},
		{"https://acme.helloid.com/api/v1/?x=1#f", "https://acme.helloid.com/api/v1"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:1", "http://localhost:1"},
		{"http://[::1]:9", "http://[::1]:9"},
	}
	for _, tt := range ok {
		t.Run("accepts "+tt.in, func(t *testing.T) {
			u, err := CheckBaseURL(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, u.String())
		})
	}
	bad := []struct{ in, want string }{
		{"", "no base URL"},
		{"http://api.lox24.eu", `base URL "http://api.lox24.eu": must be https:// (http:// is allowed only for loopback hosts)`},
		{"ftp://127.0.0.1", `base URL "ftp://127.0.0.1": must be https://`},
		{"https://", `base URL "https://": no host`},
		{"https://api.lox24.eu:port", `base URL "https://api.lox24.eu:port": invalid port ":port" after host`},
	}
	for _, tt := range bad {
		t.Run("refuses "+tt.in, func(t *testing.T) {
			_, err := CheckBaseURL(tt.in)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

// TestCheckBaseURLNeverShowsCredentials gives URLs with a password (and a
// user name, which can be an API key) in every shape the parser takes a
// different branch for: valid, without host, unparsable in several ways,
// with a scheme that is not allowed, without a scheme.
func TestCheckBaseURLNeverShowsCredentials(t *testing.T) {
	const user, pass = "SENTINEL-user-5e1f", "SENTINEL-pass-8a2c"
	tests := []struct{ in, want string }{
		{"https://" + user + ":" + pass + "@api.lox24.eu", `base URL "https://xxxxx@api.lox24.eu": credentials belong in the environment, not in the URL`},
		{"http://" + user + ":" + pass + "@example.com/x", `base URL "http://xxxxx@example.com/x": credentials belong in the environment, not in the URL`},
		{"ftp://" + user + ":" + pass + "@127.0.0.1", `base URL "ftp://xxxxx@127.0.0.1": credentials belong in the environment, not in the URL`},
		{"https://" + user + "@api.lox24.eu", `base URL "https://xxxxx@api.lox24.eu": credentials belong in the environment, not in the URL`},
		{"https://" + user + ":" + pass + "@", `base URL "https://xxxxx@": credentials belong in the environment, not in the URL`},
		{"http://" + user + ":" + pass + "@/x", `base URL "http://xxxxx@/x": credentials belong in the environment, not in the URL`},
		{user + ":" + pass + "@host", `base URL "xxxxx@host": credentials belong in the environment, not in the URL`},
		{"//" + user + ":" + pass + "@host", `base URL "//xxxxx@host": credentials belong in the environment, not in the URL`},
		{"https://" + user + ":" + pass + "%zz@host", `base URL "https://xxxxx@host": not a valid URL; credentials belong in the environment, not in the URL`},
		{"https://" + user + ":" + pass + "@host:bad/", `base URL "https://xxxxx@host:bad/": not a valid URL; credentials belong in the environment, not in the URL`},
		{"https://" + user + ":" + pass + " x@host", `base URL "https://xxxxx@host": not a valid URL; credentials belong in the environment, not in the URL`},
		{"https://" + user + ":" + pass + "@[::1", `base URL "https://xxxxx@[::1": not a valid URL; credentials belong in the environment, not in the URL`},
		{"https://" + user + ":" + pass + "@host\x7f", `base URL "https://xxxxx@host\x7f": not a valid URL; credentials belong in the environment, not in the URL`},
		{"https://" + user + ":p/" + pass + "@host", `base URL "https://xxxxx@host": not a valid URL; credentials belong in the environment, not in the URL`},
		{"https://" + user + ":p@" + pass + "@host", `base URL "https://xxxxx@host": credentials belong in the environment, not in the URL`},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			_, err := CheckBaseURL(tt.in)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			assert.NotContains(t, err.Error(), "SENTINEL")
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.lox24.eu/groups", "https://api.lox24.eu/groups"},
		{"https://k:s@h/p?q=a@b#c@d", "https://xxxxx@h/p?q=a@b#c@d"},
		{"https://h/p?next=u:p@other", "https://h/p?next=u:p@other"},
		{"k:s@h", "xxxxx@h"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, RedactURL(tt.in), tt.in)
	}
}

func TestRefusedRedirectHidesCredentialsInLocation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://SENTINEL-user-5e1f:SENTINEL-pass-8a2c@elsewhere.example/groups")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, err := NewClient(plan.LOX24, Config{BaseURL: srv.URL}, Options{})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), Request{Op: "get groups", Method: http.MethodGet, Path: "/groups"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redirect refused (to https://xxxxx@elsewhere.example/groups)")
	assert.False(t, strings.Contains(err.Error(), "SENTINEL"), err.Error())
}

// TestAnAPIThatEchoesCredentialsDoesNotLeakThem: an API that repeats the
// credentials in its error message or its Location (none should, but the
// message reaches the report and the terminal) has them replaced, also where
// the message is long enough to be cut short in the middle of one.
func TestAnAPIThatEchoesCredentialsDoesNotLeakThem(t *testing.T) {
	const secret = "SENTINEL-echoed-secret-3b9f"
	for _, status := range []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTemporaryRedirect} {
		for _, filler := range []int{0, 280} {
			t.Run(fmt.Sprint(status, " ", filler), func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					tok := r.Header.Get("X-Token")
					w.Header().Set("Location", "https://elsewhere.example/?token="+tok)
					w.WriteHeader(status)
					_, _ = io.WriteString(w, strings.Repeat("y", filler)+" bad token "+tok+" (also "+tok+")")
				}))
				defer srv.Close()
				c, err := NewClient(plan.LOX24, Config{BaseURL: srv.URL, Retry: RetryPolicy{MaxAttempts: 1}}, Options{
					Auth:    func(r *http.Request) { r.Header.Set("X-Token", "id:"+secret) },
					Message: func(b []byte) string { return string(b) },
					Secrets: []string{secret, "", "id:" + secret},
				})
				require.NoError(t, err)
				_, err = c.Do(context.Background(), Request{Op: "get groups", Method: http.MethodGet, Path: "/groups"})
				require.Error(t, err)
				assert.NotContains(t, err.Error(), "SENT", "not even a piece of it")
				assert.Contains(t, err.Error(), "xxxxx")
			})
		}
	}
}

// A request's URL is the base URL joined with its path, as url.JoinPath
// joins them, whichever way it is built.
func TestRequestURLIsTheBaseJoinedWithThePath(t *testing.T) {
	for _, base := range []string{"https://api.example.com", "https://api.example.com/", "https://api.example.com/v1",
		"https://api.example.com/v1/", "http://127.0.0.1:8080/api/v2", "https://api.example.com/a%20b", "https://api.example.com/v.1"} {
		c, err := NewClient(plan.LOX24, Config{BaseURL: base}, Options{})
		require.NoError(t, err)
		for _, path := range []string{"/groups", "/groups/12344/phones", "/groups/", "/api/v1/groups/00000000-0000-4000-8000-000000000001",
			"/groups/../x", "/groups//x", "/a b", "/a%2Fb", "groups", "", "/"} {
			for _, query := range []url.Values{nil, {"page": {"7"}}, {"skip": {"0"}, "take": {"1000"}}} {
				want := c.base.JoinPath(path)
				if query != nil {
					want.RawQuery = query.Encode()
				}
				assert.Equal(t, want.String(), c.requestURL(path, query).String(), "%s + %q", base, path)
			}
		}
	}
}

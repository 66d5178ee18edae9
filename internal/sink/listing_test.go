package sink

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

func TestResolveKeepsLinksOnTheAPIsOrigin(t *testing.T) {
	c, err := NewClient(plan.LOX24, Config{BaseURL: "https://api.example.com/v1"}, Options{})
	require.NoError(t, err)
	from := url.Values{"page": {"1"}}
	ok := map[string]string{
		"/v1/groups?page=2":                       "/groups?page=2",
		"?page=2":                                 "/groups?page=2",
		"https://api.example.com/v1/x/y?page=3":   "/x/y?page=3",
		"https://API.example.com:443/v1/z?page=4": "/z?page=4",
		"phones?page=2":                           "/phones?page=2",
	}
	for link, want := range ok {
		path, q, err := c.Resolve("/groups", from, link)
		require.NoError(t, err, link)
		assert.Equal(t, want, path+"?"+q.Encode(), link)
	}
	for _, link := range []string{
		"https://evil.example.com/v1/groups?page=2", "http://api.example.com/v1/groups?page=2",
		"https://api.example.com:8443/v1/groups?page=2", "https://u:p@api.example.com/v1/groups?page=2",
		"/groups?page=2", "/v10/groups", "//evil.example.com/v1/groups", "%zz",
	} {
		_, _, err := c.Resolve("/groups", from, link)
		assert.Error(t, err, link)
	}
}

func TestReadConsistentReadsAgainOnce(t *testing.T) {
	moved := &InconsistentError{System: plan.LOX24, What: "groups", Detail: "group 17 listed twice"}
	reads := 0
	got, err := ReadConsistent(context.Background(), func(context.Context) (int, error) {
		reads++
		if reads == 1 {
			return 0, moved
		}
		return 42, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 42, got)
	assert.Equal(t, 2, reads)

	reads = 0
	_, err = ReadConsistent(context.Background(), func(context.Context) (int, error) { reads++; return 0, moved })
	assert.Equal(t, 2, reads)
	assert.True(t, errors.Is(err, ErrInconsistent))
	assert.EqualError(t, err, "lox24: listing of groups changed while it was read twice (group 17 listed twice)")

	reads = 0
	other := errors.New("boom")
	_, err = ReadConsistent(context.Background(), func(context.Context) (int, error) { reads++; return 0, other })
	assert.Equal(t, 1, reads, "only an inconsistent listing is read again")
	assert.Equal(t, other, err)
}

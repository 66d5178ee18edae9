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

// A listing's own page links are resolved without parsing URLs, to what the
// general resolution gives; anything else takes the general way.
func TestPageLinksResolveAsAnyLinkDoes(t *testing.T) {
	for _, base := range []string{"https://api.example.com", "https://api.example.com/", "https://api.example.com/v1", "http://127.0.0.1:8080/api/v2/"} {
		c, err := NewClient(plan.LOX24, Config{BaseURL: base}, Options{})
		require.NoError(t, err)
		from := url.Values{"page": {"1"}}
		taken := 0
		for _, link := range []string{
			"/groups/1/phones?page=7", "/v1/groups/1/phones?page=7", "/api/v2/groups/12344/phones?page=33334",
			"/api/v2/groups?page=0012", "/v1/groups_x/a-b?page=2", "/v1/groups/?page=2",
			// not the simple form: the general way decides
			"/v1/groups?page=2&x=1", "/v1/groups?page=-2", "/v1/groups?page=", "/v1/groups?page=2#f", "/v1/./groups?page=2",
			"/v1/../groups?page=2", "//evil.example.com/v1/groups?page=2", "/v1//groups?page=2", "/v1/gr%6Fups?page=2",
			"/v10/groups?page=2", "/v1?page=2", "v1/groups?page=2", "?page=2", "/v1/groups?page=99999999999999999999",
		} {
			rel, q, ok := c.resolvePageLink(link)
			wantRel, wantQ, wantErr := c.resolve("/groups", from, link)
			gotRel, gotQ, gotErr := c.Resolve("/groups", from, link)
			assert.Equal(t, wantRel, gotRel, "%s %s", base, link)
			assert.Equal(t, wantQ, gotQ, "%s %s", base, link)
			assert.Equal(t, wantErr, gotErr, "%s %s", base, link)
			if ok {
				taken++
				require.NoError(t, wantErr, "%s %s", base, link)
				assert.Equal(t, wantRel, rel, "%s %s", base, link)
				assert.Equal(t, wantQ, q, "%s %s", base, link)
			}
		}
		assert.Positive(t, taken, base)
	}
	c, err := NewClient(plan.LOX24, Config{BaseURL: "https://api.example.com"}, Options{})
	require.NoError(t, err)
	_, _, ok := c.resolvePageLink("/groups/1/phones?page=7")
	assert.True(t, ok, "the emulator's and API Platform's links are the simple form")
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

func TestListingCheaper(t *testing.T) {
	for _, tt := range []struct {
		n, total, size, extra int
		want                  bool
	}{
		{n: 600, total: 1200, size: 30, want: true},            // 60 pages against 600 GETs
		{n: 3, total: 1200, size: 30, want: false},             // 41 pages against 3
		{n: 41, total: 1200, size: 30, want: false},            // 42 pages (it may have grown by 41) against 41
		{n: 43, total: 1200, size: 30, want: true},             // 42 against 43
		{n: 2, total: 0, size: 30, extra: 1, want: false},      // one page and the empty one against 2
		{n: 3, total: 0, size: 30, extra: 1, want: true},       // 2 against 3
		{n: 100, total: 0, size: 0, want: false},               // no page size known
		{n: 1000, total: 50, size: 1000, extra: 1, want: true}, // HelloID: 2 against 1000
	} {
		assert.Equal(t, tt.want, ListingCheaper(tt.n, tt.total, tt.size, tt.extra), "%+v", tt)
	}
	var s ListingShape
	_, _, known := s.Get()
	assert.False(t, known)
	s.Set(1200, 30)
	items, size, known := s.Get()
	assert.Equal(t, []any{1200, 30, true}, []any{items, size, known})
}

package lox24_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/lox24"
)

// scripted answers each "path?query" with the next of its bodies (the last
// one again once they run out) and counts the requests. "$URL" in a body
// becomes the server's own URL.
type scripted struct {
	bodies map[string][]string
	mu     sync.Mutex
	asked  []string
	url    string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Path
	if r.URL.RawQuery != "" {
		key += "?" + r.URL.RawQuery
	}
	s.mu.Lock()
	s.asked = append(s.asked, r.Method+" "+key)
	n := 0
	for _, a := range s.asked {
		if a == r.Method+" "+key {
			n++
		}
	}
	bodies := s.bodies[key]
	s.mu.Unlock()
	if r.Method != http.MethodGet || len(bodies) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/ld+json")
	fmt.Fprint(w, strings.ReplaceAll(bodies[min(n, len(bodies))-1], "$URL", s.url))
}

func (s *scripted) client(t *testing.T, cfg sink.Config) *lox24.Client {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	cfg.BaseURL, cfg.Rate = srv.URL, 1000
	c, err := lox24.New(cfg, "demo:demo")
	require.NoError(t, err)
	return c
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.asked)
}

// groupsJSON is a list of group members with ids.
func groupsJSON(ids ...int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf(`{"id":%d,"name":"G%d"}`, id, id)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func phonesJSON(ids ...int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf(`{"id":"%d","phone":"+49151000%05d","a":"keep"}`, id, id)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func keysOf(cur plan.Current) []string {
	var out []string
	for _, g := range cur.Groups {
		out = append(out, g.Key)
	}
	return out
}

func TestReadBareHydraKeys(t *testing.T) {
	s := &scripted{bodies: map[string][]string{
		"/groups?page=1": {`{"member":` + groupsJSON(1, 2) + `,"totalItems":3,"view":{"next":"/groups?page=2"}}`},
		"/groups?page=2": {`{"member":` + groupsJSON(3) + `,"totalItems":3,"view":{}}`},
	}}
	cur, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3"}, keysOf(cur))
}

func TestReadIntegerNext(t *testing.T) {
	s := &scripted{bodies: map[string][]string{
		"/groups?page=1": {`{"hydra:member":` + groupsJSON(1, 2) + `,"hydra:totalItems":3,"hydra:view":{"hydra:next":2}}`},
		"/groups?page=2": {`{"hydra:member":` + groupsJSON(3) + `,"hydra:totalItems":3}`},
	}}
	cur, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3"}, keysOf(cur))
}

func TestReadShortMiddlePages(t *testing.T) {
	s := &scripted{bodies: map[string][]string{
		"/groups?page=1": {`{"hydra:member":` + groupsJSON(seq(1, 30)...) + `,"hydra:totalItems":70,"hydra:view":{"hydra:next":"/groups?page=2"}}`},
		"/groups?page=2": {`{"hydra:member":` + groupsJSON(seq(31, 55)...) + `,"hydra:totalItems":70,"hydra:view":{"hydra:next":"/groups?page=3"}}`},
		"/groups?page=3": {`{"hydra:member":` + groupsJSON(seq(56, 70)...) + `,"hydra:totalItems":70}`},
	}}
	cur, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, cur.Groups, 70)
	assert.Equal(t, "70", cur.Groups[69].Key)
}

func TestReadNoViewIsOnePage(t *testing.T) {
	s := &scripted{bodies: map[string][]string{"/groups?page=1": {`{"member":` + groupsJSON(4, 5) + `}`}}}
	cur, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"4", "5"}, keysOf(cur))
}

// Member listings whose next link is on another path of the same host
// (absolute, with scheme and port) are followed.
func TestReadMembersNextOnAnotherPathOfTheSameHost(t *testing.T) {
	s := &scripted{bodies: map[string][]string{
		"/groups?page=1":            {`{"hydra:member":` + groupsJSON(7) + `,"hydra:totalItems":1}`},
		"/groups/7/phones?page=1":   {`{"hydra:member":` + phonesJSON(1, 2) + `,"hydra:totalItems":3,"hydra:view":{"hydra:next":"$URL/v2/phones?group=7&page=2"}}`},
		"/v2/phones?group=7&page=2": {`{"hydra:member":` + phonesJSON(3) + `,"hydra:totalItems":3}`},
	}}
	cur, err := s.client(t, sink.Config{}).ReadWithMembers(context.Background())
	require.NoError(t, err)
	require.Len(t, cur.Groups[0].Phones, 3)
	assert.Equal(t, "3", cur.Groups[0].Phones[2].ID)
}

func TestReadRefusesANextLinkToAnotherHost(t *testing.T) {
	s := &scripted{bodies: map[string][]string{
		"/groups?page=1": {`{"hydra:member":` + groupsJSON(1) + `,"hydra:view":{"hydra:next":"https://elsewhere.example/groups?page=2"}}`},
	}}
	_, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
	require.ErrorContains(t, err, "leaves the API's origin")
	assert.Equal(t, 1, s.count(), "the credentials never go elsewhere")
}

// A member listed on two pages (the list moved while it was read) is read
// again from the start; a second consistent read is taken.
func TestReadMovedListingIsReadAgainOnce(t *testing.T) {
	s := &scripted{bodies: map[string][]string{
		"/groups?page=1": {`{"hydra:member":` + groupsJSON(7) + `,"hydra:totalItems":1}`},
		"/groups/7/phones?page=1": {
			`{"hydra:member":` + phonesJSON(1, 2) + `,"hydra:totalItems":4,"hydra:view":{"hydra:next":"/groups/7/phones?page=2"}}`,
			`{"hydra:member":` + phonesJSON(1, 2) + `,"hydra:totalItems":4,"hydra:view":{"hydra:next":"/groups/7/phones?page=2"}}`},
		"/groups/7/phones?page=2": {
			`{"hydra:member":` + phonesJSON(2, 4) + `,"hydra:totalItems":4}`, // 2 again, 3 skipped
			`{"hydra:member":` + phonesJSON(3, 4) + `,"hydra:totalItems":4}`},
	}}
	cur, err := s.client(t, sink.Config{}).ReadWithMembers(context.Background())
	require.NoError(t, err)
	var ids []string
	for _, p := range cur.Groups[0].Phones {
		ids = append(ids, p.ID)
	}
	assert.Equal(t, []string{"1", "2", "3", "4"}, ids)
}

// The same listing moving twice fails the system's read: a delete is never
// planned from it.
func TestReadMovedTwiceFailsClosed(t *testing.T) {
	for name, page2 := range map[string]string{
		"a key on two pages":      `{"hydra:member":` + groupsJSON(17, 18) + `,"hydra:totalItems":4}`,
		"a count that is not met": `{"hydra:member":` + groupsJSON(18) + `,"hydra:totalItems":4}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := &scripted{bodies: map[string][]string{
				"/groups?page=1": {`{"hydra:member":` + groupsJSON(16, 17) + `,"hydra:totalItems":4,"hydra:view":{"hydra:next":"/groups?page=2"}}`},
				"/groups?page=2": {page2},
			}}
			_, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
			require.ErrorIs(t, err, sink.ErrInconsistent)
			var ie *sink.InconsistentError
			require.ErrorAs(t, err, &ie)
			assert.True(t, ie.Twice)
			assert.Contains(t, err.Error(), "lox24: listing of groups changed while it was read twice (")
			assert.Equal(t, 4, s.count(), "read twice from the start, no more")
		})
	}
	s := &scripted{bodies: map[string][]string{
		"/groups?page=1": {`{"hydra:member":` + groupsJSON(16, 17) + `,"hydra:totalItems":4,"hydra:view":{"hydra:next":"/groups?page=2"}}`},
		"/groups?page=2": {`{"hydra:member":` + groupsJSON(17, 18) + `,"hydra:totalItems":4}`},
	}}
	_, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
	assert.EqualError(t, err, "lox24: listing of groups changed while it was read twice (group 17 listed twice)")
}

func TestReadRefusesMissingOrMalformedKeys(t *testing.T) {
	for name, member := range map[string]string{
		"group without id":   `[{"name":"A"}]`,
		"group id dot-dot":   `[{"id":"..","name":"A"}]`,
		"group id zero":      `[{"id":0,"name":"A"}]`,
		"group id negative":  `[{"id":-3,"name":"A"}]`,
		"group id fraction":  `[{"id":1.5,"name":"A"}]`,
		"group id with path": `[{"id":"1/phones","name":"A"}]`,
		"group as null":      `[null]`,
	} {
		t.Run(name, func(t *testing.T) {
			s := &scripted{bodies: map[string][]string{"/groups?page=1": {`{"hydra:member":` + member + `}`}}}
			_, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "group")
		})
	}
	t.Run("phone without id", func(t *testing.T) {
		s := &scripted{bodies: map[string][]string{
			"/groups?page=1":          {`{"hydra:member":` + groupsJSON(7) + `}`},
			"/groups/7/phones?page=1": {`{"hydra:member":[{"phone":"+4915100000001"}]}`},
		}}
		_, err := s.client(t, sink.Config{}).ReadWithMembers(context.Background())
		require.ErrorContains(t, err, "a phone has no id")
	})
	t.Run("numeric strings are ids", func(t *testing.T) {
		s := &scripted{bodies: map[string][]string{"/groups?page=1": {`{"hydra:member":[{"id":"12","name":"A"}]}`}}}
		cur, err := s.client(t, sink.Config{}).Read(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"12"}, keysOf(cur))
	})
}

// A change whose key is not an id is refused before any request: no
// DELETE /phones/ is ever sent.
func TestDoRefusesAKeyThatIsNotAnID(t *testing.T) {
	s := &scripted{}
	c := s.client(t, sink.Config{})
	for _, key := range []string{"", "..", "1/../2", "-1", "007"} {
		o := c.Do(context.Background(), &plan.Change{System: plan.LOX24, Kind: plan.KindPhone, Action: plan.Delete, Key: key, GroupKey: "7"})
		assert.Equal(t, plan.Failed, o.Status, key)
	}
	outs := c.DoBatch(context.Background(), []*plan.Change{{System: plan.LOX24, Kind: plan.KindPhone, Action: plan.Create, GroupKey: "..",
		Phone: "+4915100000000", Fields: []plan.FieldChange{{Field: "phone", After: plan.Str("+4915100000000")}}}})
	assert.Equal(t, plan.Failed, outs[0].Status)
	assert.Zero(t, s.count(), "nothing was sent")
}

func TestReadBounds(t *testing.T) {
	cases := map[string]struct {
		bodies map[string][]string
		cfg    sink.Config
		want   string
	}{
		"a next link back to a page read, with another parameter": {bodies: map[string][]string{
			"/groups?page=1":     {`{"hydra:member":` + groupsJSON(1) + `,"hydra:view":{"hydra:next":"/groups?page=2"}}`},
			"/groups?page=2":     {`{"hydra:member":` + groupsJSON(2) + `,"hydra:view":{"hydra:next":"/groups?page=1&x=2"}}`},
			"/groups?page=1&x=2": {`{"hydra:member":` + groupsJSON(1) + `,"hydra:view":{"hydra:next":"/groups?page=2&x=3"}}`},
			"/groups?page=2&x=3": {`{"hydra:member":` + groupsJSON(2) + `,"hydra:view":{"hydra:next":"/groups?page=1&x=4"}}`},
		}, want: "does not advance"},
		"totalItems 0 with a next link": {bodies: map[string][]string{
			"/groups?page=1": {`{"hydra:member":` + groupsJSON(1) + `,"hydra:totalItems":0,"hydra:view":{"hydra:next":"/groups?page=2"}}`},
			"/groups?page=2": {`{"hydra:member":` + groupsJSON(2) + `,"hydra:totalItems":0}`},
		}, want: "changed while it was read twice"},
		"negative totalItems": {bodies: map[string][]string{
			"/groups?page=1": {`{"hydra:member":` + groupsJSON(1) + `,"hydra:totalItems":-5,"hydra:view":{"hydra:next":"/groups?page=2"}}`},
		}, want: "not a count"},
		"totalItems not an integer": {bodies: map[string][]string{
			"/groups?page=1": {`{"hydra:member":` + groupsJSON(1) + `,"hydra:totalItems":"many"}`},
		}, want: "not a count"},
		"a claimed total of 30 million": {bodies: map[string][]string{
			"/groups?page=1": {`{"hydra:member":` + groupsJSON(1) + `,"hydra:totalItems":30000000,"hydra:view":{"hydra:next":"/groups?page=2"}}`},
		}, want: "over the bound"},
		"more items than --max-read-items": {cfg: sink.Config{MaxReadItems: 3}, bodies: map[string][]string{
			"/groups?page=1": {`{"hydra:member":` + groupsJSON(1, 2) + `,"hydra:view":{"hydra:next":"/groups?page=2"}}`},
			"/groups?page=2": {`{"hydra:member":` + groupsJSON(3, 4) + `}`},
		}, want: "more than 3 items"},
		"an empty page that links on": {bodies: map[string][]string{
			"/groups?page=1": {`{"hydra:member":[],"hydra:view":{"hydra:next":"/groups?page=2"}}`},
		}, want: "empty page links"},
		"a plain array": {bodies: map[string][]string{"/groups?page=1": {groupsJSON(1)}}, want: "plain JSON array"},
		"no member":     {bodies: map[string][]string{"/groups?page=1": {`{"hydra:totalItems":1}`}}, want: "no hydra:member"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := &scripted{bodies: tc.bodies}
			_, err := s.client(t, tc.cfg).Read(context.Background(), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.LessOrEqual(t, s.count(), 8, "bounded")
		})
	}
}

// The check after a lost answer to a create tolerates a listing that other
// writes move meanwhile: it looks only for that group's name.
func TestCreateCheckToleratesAMovingListing(t *testing.T) {
	var mu sync.Mutex
	posts := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/ld+json")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost:
			posts++
			w.WriteHeader(http.StatusBadGateway) // the create happened; its answer is lost
		case r.URL.RawQuery == "page=1":
			// Other creates of the run land meanwhile: the count is never met.
			fmt.Fprint(w, `{"hydra:member":`+groupsJSON(1, 2)+`,"hydra:totalItems":5,"hydra:view":{"hydra:next":"/groups?page=2"}}`)
		default:
			fmt.Fprint(w, `{"hydra:member":[{"id":2,"name":"G2"},{"id":9,"name":"New"}],"hydra:totalItems":6}`)
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000, Retry: sink.RetryPolicy{Base: 1, Max: 1}}, "demo:demo")
	require.NoError(t, err)
	o := c.Do(context.Background(), &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Create, Name: "New",
		Fields: []plan.FieldChange{{Field: "name", After: plan.Str("New")}}})
	require.NoError(t, o.Err)
	assert.Equal(t, plan.Succeeded, o.Status)
	assert.Equal(t, "9", o.NewKey)
	assert.Equal(t, 1, posts, "not sent again")
}

// The check after a lost answer to a batch of adds reads a member LOX24
// stores in national form in the group's default_country, as the diff
// does: the add is found, not sent again.
func TestBatchCheckReadsNationalNumbersInTheGroupsCountry(t *testing.T) {
	var mu sync.Mutex
	posts := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/ld+json")
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodPost {
			posts++
			w.WriteHeader(http.StatusBadGateway) // the batch happened; its answer is lost
			return
		}
		fmt.Fprint(w, `{"hydra:member":[{"id":"70","phone":"0151 12345678"}],"hydra:totalItems":1}`)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000, Retry: sink.RetryPolicy{Base: 1, Max: 1}}, "demo:demo")
	require.NoError(t, err)
	add := func(number string) *plan.Change {
		return &plan.Change{System: plan.LOX24, Kind: plan.KindPhone, Action: plan.Create, Name: "Team", GroupKey: "7",
			Phone: number, Country: "DE", Fields: []plan.FieldChange{{Field: "phone", After: plan.Str(number)}}}
	}
	outs := c.DoBatch(context.Background(), []*plan.Change{add("+4915112345678")})
	require.Len(t, outs, 1)
	require.NoError(t, outs[0].Err)
	assert.Equal(t, plan.Succeeded, outs[0].Status)
	assert.Equal(t, "70", outs[0].NewKey)
	assert.Equal(t, 1, posts, "not sent again")
}

// A next link that names no page number and brings back the items already
// read (a cursor that never advances the listing) ends the read with an
// error after a few requests, not at --max-read-items.
func TestReadStopsWhenNextLinksBringNothingNew(t *testing.T) {
	var mu sync.Mutex
	gets := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/ld+json")
		mu.Lock()
		gets++
		mu.Unlock()
		k, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		fmt.Fprintf(w, `{"hydra:member":[{"id":1,"name":"G1"}],"hydra:view":{"hydra:next":"/groups?cursor=%d"}}`, k+1)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000, Retry: sink.RetryPolicy{Base: 1, Max: 1}}, "demo:demo")
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not advance")
	mu.Lock()
	defer mu.Unlock()
	assert.LessOrEqual(t, gets, 8, "bounded")
}

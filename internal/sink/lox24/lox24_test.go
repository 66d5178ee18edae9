package lox24_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/lox24"
)

func sp(s string) *string { return &s }

// setup starts an emulator holding groups and returns it with a client.
func setup(t *testing.T, groups []emulator.LOX24Group, token string) (*emulator.Server, *lox24.Client) {
	t.Helper()
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, emu.LoadState(emulator.State{LOX24: emulator.LOX24State{Groups: groups}}))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, token)
	require.NoError(t, err)
	return emu, c
}

func manyGroups(n int) []emulator.LOX24Group {
	out := make([]emulator.LOX24Group, n)
	for i := range out {
		out[i] = emulator.LOX24Group{ID: int64(i + 1), Name: fmt.Sprintf("Group %02d", i+1)}
	}
	return out
}

// The known-pages path: the first page gives hydra:totalItems and a
// hydra:next of page=2, so pages 2..N are asked for by number.
func TestReadPagerKnownPagesAsksForPagesTwoToNByNumber(t *testing.T) {
	emu, c := setup(t, manyGroups(75), "demo:demo")
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 75)
	assert.Equal(t, "1", cur.Groups[0].Key)
	assert.Equal(t, "Group 75", cur.Groups[74].Name)
	assert.Equal(t, 3, emu.Stats().Systems["lox24"].ByRoute["GET /groups"], "three pages of 30")
}

// hydraPages serves a Hydra collection of groups at /groups in pages of
// two, keyed by the query; next names each page's hydra:next (the query of
// the following page, "" on the last) and total, when not nil, is sent as
// hydra:totalItems. It records the queries asked for, in order.
type hydraPages struct {
	pages map[string][]int // query -> group ids
	next  map[string]string
	total *int
	mu    sync.Mutex
	asked []string
}

func (h *hydraPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.RawQuery
	h.mu.Lock()
	h.asked = append(h.asked, q)
	h.mu.Unlock()
	ids, ok := h.pages[q]
	if r.URL.Path != "/groups" || !ok {
		http.NotFound(w, r)
		return
	}
	members := make([]string, len(ids))
	for i, id := range ids {
		members[i] = fmt.Sprintf(`{"id":%d,"name":"G%d"}`, id, id)
	}
	body := `{"hydra:member":[` + strings.Join(members, ",") + `]`
	if h.total != nil {
		body += fmt.Sprintf(`,"hydra:totalItems":%d`, *h.total)
	}
	if n := h.next[q]; n != "" {
		body += `,"hydra:view":{"hydra:next":"/groups?` + n + `"}`
	}
	w.Header().Set("Content-Type", "application/ld+json")
	fmt.Fprint(w, body+"}")
}

func readGroups(t *testing.T, h http.Handler) ([]string, error) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo:demo")
	require.NoError(t, err)
	cur, err := c.Read(context.Background(), nil)
	var keys []string
	for _, g := range cur.Groups {
		keys = append(keys, g.Key)
	}
	return keys, err
}

// The follow-next path, taken when the first page gives no
// hydra:totalItems: each page's hydra:next is read after the page before.
func TestReadPagerFollowNextWithoutTotalItems(t *testing.T) {
	h := &hydraPages{
		pages: map[string][]int{"page=1": {1, 2}, "page=2": {3, 4}, "page=3": {5}},
		next:  map[string]string{"page=1": "page=2", "page=2": "page=3"},
	}
	keys, err := readGroups(t, h)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, keys)
	assert.Equal(t, []string{"page=1", "page=2", "page=3"}, h.asked, "one page after another, as hydra:next says")
}

// The follow-next path, taken when hydra:next is not the page=N scheme
// (here a cursor): the pages cannot be numbered, so they are followed.
func TestReadPagerFollowNextWhenNextIsNotPageN(t *testing.T) {
	total := 5
	h := &hydraPages{
		pages: map[string][]int{"page=1": {1, 2}, "cursor=b": {3, 4}, "cursor=c": {5}},
		next:  map[string]string{"page=1": "cursor=b", "cursor=b": "cursor=c"},
		total: &total,
	}
	keys, err := readGroups(t, h)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, keys)
	assert.Equal(t, []string{"page=1", "cursor=b", "cursor=c"}, h.asked, "no page=2 is made up")
}

func TestReadPagerFollowNextStopsOnALoop(t *testing.T) {
	h := &hydraPages{
		pages: map[string][]int{"page=1": {1, 2}, "page=2": {3, 4}},
		next:  map[string]string{"page=1": "page=2", "page=2": "page=1"},
	}
	_, err := readGroups(t, h)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "returns to a page already read")
	assert.Equal(t, []string{"page=1", "page=2"}, h.asked)
}

func TestReadPagerFollowNextChecksTotalItems(t *testing.T) {
	total := 6
	h := &hydraPages{
		pages: map[string][]int{"page=1": {1, 2}, "cursor=b": {3, 4}},
		next:  map[string]string{"page=1": "cursor=b"},
		total: &total,
	}
	_, err := readGroups(t, h)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read 4 items but hydra:totalItems is 6")
}

func TestCancelledContextSendsNothing(t *testing.T) {
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, emu.LoadState(emulator.State{LOX24: emulator.LOX24State{Groups: manyGroups(1)}}))
	srv := httptest.NewServer(emu)
	defer srv.Close()
	fresh := func() *lox24.Client { // its first request has no pace to wait for
		c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo:demo")
		require.NoError(t, err)
		return c
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fresh().Read(ctx, nil)
	require.ErrorIs(t, err, context.Canceled)
	for range 8 {
		c := fresh()
		o := c.Do(ctx, &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Update, Key: "1", Name: "Group 01",
			Base: map[string]plan.Value{"name": plan.Str("Group 01")}, Fields: []plan.FieldChange{{Field: "description", After: plan.Str("x")}}})
		require.ErrorIs(t, o.Err, context.Canceled)
		assert.Equal(t, plan.Failed, o.Status)
		assert.Zero(t, o.Attempts, "nothing was sent")
	}
	outs := fresh().DoBatch(ctx, []*plan.Change{{System: plan.LOX24, Kind: plan.KindPhone, Action: plan.Create, GroupKey: "1",
		Phone: "+4915100000000", Fields: []plan.FieldChange{{Field: "phone", After: plan.Str("+4915100000000")}}}})
	require.Len(t, outs, 1)
	require.ErrorIs(t, outs[0].Err, context.Canceled)
	assert.Zero(t, outs[0].Attempts)
	assert.Zero(t, emu.Stats().Total, "no request reached the API")
}

func TestReadMapsEveryField(t *testing.T) {
	_, c := setup(t, []emulator.LOX24Group{{ID: 12344, Name: "My Clients", Description: sp("Best"), NameA: sp("prefix"), NameE: sp("e")}}, "demo:demo")
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 1)
	assert.Equal(t, plan.RemoteGroup{Key: "12344", Name: "My Clients", Fields: map[string]plan.Value{
		"description": plan.Str("Best"), "name_a": plan.Str("prefix"), "name_b": plan.Null,
		"name_c": plan.Null, "name_d": plan.Null, "name_e": plan.Str("e"),
	}}, cur.Groups[0])
}

func TestReadRefusesAPlainArrayItCannotPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":1,"name":"A"}]`)
	}))
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL}, "demo:demo")
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "plain JSON array")
}

func TestReadChecksTotalItems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/ld+json")
		fmt.Fprint(w, `{"hydra:member":[{"id":1,"name":"A"}],"hydra:totalItems":31}`)
	}))
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL}, "demo:demo")
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hydra:totalItems is 31")
}

func TestUpdateSendsTheWholeGroupKeepingUnmanagedFields(t *testing.T) {
	emu, c := setup(t, []emulator.LOX24Group{{ID: 12344, Name: "My Clients", Description: sp("Old"), NameA: sp("prefix"), NameC: sp("datetime")}}, "demo:demo")
	ctx := context.Background()
	cur, err := c.Read(ctx, nil)
	require.NoError(t, err)
	want := plan.Desired{Groups: []plan.Group{{System: plan.LOX24, Key: "12344", Name: "My Clients",
		Fields: map[string]plan.Value{"description": plan.Str("Best clients")}}}}
	p := plan.Diff(want, map[plan.System]plan.Current{plan.LOX24: cur})
	require.Len(t, p.Changes, 1)

	o := c.Do(ctx, &p.Changes[0])
	require.NoError(t, o.Err)
	assert.Equal(t, plan.Succeeded, o.Status)
	assert.Equal(t, 200, o.HTTPStatus)
	assert.Len(t, o.RequestID, 32)

	g := emu.State().LOX24.Groups[0]
	assert.Equal(t, "Best clients", *g.Description)
	require.NotNil(t, g.NameA, "the emulator nulls fields left out of a PUT; groupsync must send them")
	assert.Equal(t, "prefix", *g.NameA)
	assert.Equal(t, "datetime", *g.NameC)
	assert.Nil(t, g.NameB)
}

func TestCreateReturnsTheNewID(t *testing.T) {
	emu, c := setup(t, manyGroups(2), "demo:demo")
	ch := &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Create, Name: "New",
		Fields: []plan.FieldChange{{Field: "name", After: plan.Str("New")}, {Field: "name_b", After: plan.Str("b")}}}
	o := c.Do(context.Background(), ch)
	require.NoError(t, o.Err)
	assert.Equal(t, 201, o.HTTPStatus)
	st := emu.State().LOX24.Groups
	require.Len(t, st, 3)
	assert.Equal(t, fmt.Sprint(st[2].ID), o.NewKey)
	assert.Equal(t, "New", st[2].Name)
	assert.Equal(t, "b", *st[2].NameB)
}

func TestValidationErrorCarriesTheAPIsMessage(t *testing.T) {
	_, c := setup(t, manyGroups(1), "demo:demo")
	ch := &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Create, Name: strings.Repeat("x", 51),
		Fields: []plan.FieldChange{{Field: "name", After: plan.Str(strings.Repeat("x", 51))}}}
	o := c.Do(context.Background(), ch)
	require.Error(t, o.Err)
	assert.Equal(t, plan.Failed, o.Status)
	assert.Equal(t, 422, o.HTTPStatus)
	assert.Contains(t, o.Err.Error(), "name: ")
	assert.Contains(t, o.Err.Error(), "request id "+o.RequestID)
}

func TestBadTokenStopsAfterOneRequest(t *testing.T) {
	emu, c := setup(t, manyGroups(1), "demo:wrong")
	ctx := context.Background()
	_, err := c.Read(ctx, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, sink.ErrUnauthorized))
	assert.True(t, errors.Is(err, plan.ErrStop))
	assert.NotContains(t, err.Error(), "wrong", "the token never appears in errors")

	for range 5 {
		o := c.Do(ctx, &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Update, Key: "1", Name: "x", Base: map[string]plan.Value{"name": plan.Str("x")}})
		require.Error(t, o.Err)
		assert.Equal(t, 0, o.Attempts)
	}
	assert.Equal(t, 1, emu.Stats().Total, "no request after the 401: LOX24 locks the IP out after more than 3")
}

func TestRedirectIsRefusedAndTheTokenStaysHome(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	emu := emulator.New(emulator.Options{Redirect: other.URL})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL}, "demo:demo")
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redirect refused")
	assert.Zero(t, elsewhere.Load())
}

func TestNewRequiresHTTPSExceptLoopback(t *testing.T) {
	for _, u := range []string{"http://api.lox24.eu", "ftp://127.0.0.1", "https://user:pw@api.lox24.eu"} {
		_, err := lox24.New(sink.Config{BaseURL: u}, "a:b")
		assert.Error(t, err, u)
	}
	for _, u := range []string{"https://api.lox24.eu", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"} {
		_, err := lox24.New(sink.Config{BaseURL: u}, "a:b")
		assert.NoError(t, err, u)
	}
	_, err := lox24.New(sink.Config{BaseURL: "https://api.lox24.eu"}, "")
	assert.Error(t, err)
}

func withPhones(n int) []emulator.LOX24Group {
	g := emulator.LOX24Group{ID: 12344, Name: "My Clients", NameA: sp("title")}
	for i := range n {
		g.Phones = append(g.Phones, emulator.LOX24Phone{ID: fmt.Sprint(100 + i), Phone: fmt.Sprintf("+4915100000%03d", i), A: sp("Mr."), CallbackData: sp("crm")})
	}
	return []emulator.LOX24Group{g, {ID: 2, Name: "Other", Phones: []emulator.LOX24Phone{{ID: "9", Phone: "+4917000000000"}}}}
}

func TestReadMembersOnlyOfGroupsThatManagePhonesEveryPage(t *testing.T) {
	emu, c := setup(t, withPhones(65), "demo:demo")
	want := []plan.Group{{System: plan.LOX24, Name: "My Clients", Phones: &plan.Phones{}}, {System: plan.LOX24, Name: "Other"}}
	cur, err := c.Read(context.Background(), want)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 2)
	other, mine := cur.Groups[0], cur.Groups[1] // listed in id order
	require.Equal(t, "12344", mine.Key)
	require.Len(t, mine.Phones, 65)
	assert.Equal(t, plan.NewRemotePhone("100", "+4915100000000", []string{"Mr.", "", "", "", "", "crm"}), mine.Phones[0])
	assert.Nil(t, other.Phones, "members of a group whose phones are unmanaged are not read")
	assert.Equal(t, 3, emu.Stats().Systems["lox24"].ByRoute["GET /groups/{id}/phones"])
}

func TestReadWithMembersReadsEveryGroupsMembers(t *testing.T) {
	groups := append(withPhones(35), emulator.LOX24Group{ID: 3, Name: "Empty"})
	emu, c := setup(t, groups, "demo:demo")
	cur, err := c.ReadWithMembers(context.Background())
	require.NoError(t, err)
	require.Len(t, cur.Groups, 3)
	other, empty, mine := cur.Groups[0], cur.Groups[1], cur.Groups[2] // listed in id order
	require.Equal(t, "12344", mine.Key)
	assert.Len(t, mine.Phones, 35)
	assert.Equal(t, []plan.RemotePhone{{ID: "9", Number: "+4917000000000"}}, other.Phones)
	assert.NotNil(t, empty.Phones, "an empty group's members are read too: none")
	assert.Empty(t, empty.Phones)
	st := emu.Stats().Systems["lox24"]
	assert.Equal(t, 4, st.ByRoute["GET /groups/{id}/phones"], "two pages for the first group, one each for the others")
	assert.Zero(t, st.Writes)
}

func TestApplyPhonesBatchesAddsAndReportsEachItem(t *testing.T) {
	emu, c := setup(t, withPhones(3), "demo:demo")
	c.SetBatchSize(2)
	ctx := context.Background()
	list := []plan.Phone{
		{Number: "+4915100000000", Cols: plan.MakeColumns("Dr."), Line: 2},                     // update a, keep callback_data
		{Number: "+4915100000001", Cols: plan.MakeColumns("Mr."), Line: 3},                     // unchanged
		{Number: "+4917711111111", Cols: plan.MakeColumns("Ms."), Line: 4},                     // add
		{Number: "+4917722222222", Cols: plan.MakeColumns(strings.Repeat("x", 1531)), Line: 5}, // add, rejected by the API
		{Number: "+4917733333333", Line: 6},                                                    // add
	} // +4915100000002 is deleted
	want := plan.Desired{Groups: []plan.Group{{System: plan.LOX24, Key: "12344", Name: "My Clients", Fields: map[string]plan.Value{},
		Phones: &plan.Phones{File: "clients.csv", Mode: plan.PhonesExact, Managed: [plan.NumPhoneCols]bool{true}, List: list}}}}
	cur, err := c.Read(ctx, want.Groups)
	require.NoError(t, err)
	p := plan.Diff(want, map[plan.System]plan.Current{plan.LOX24: cur})
	emu.ResetStats()
	r := plan.Apply(ctx, p, map[plan.System]plan.Sink{plan.LOX24: c}, plan.ApplyOptions{})

	byRoute := emu.Stats().Systems["lox24"].ByRoute
	assert.Equal(t, 2, byRoute["POST /groups/{id}/phones/batch"], "three adds in batches of two")
	assert.Equal(t, 1, byRoute["PUT /phones/{id}"])
	assert.Equal(t, 1, byRoute["DELETE /phones/{id}"])
	assert.Equal(t, plan.Tally{Planned: 5, Succeeded: 4, Failed: 1, Unchanged: 2}, r.Summary, "the group and one member are unchanged")
	for _, it := range r.Items {
		if it.Phone == "+4917722222222" {
			assert.Equal(t, plan.Failed, it.Status)
			assert.Equal(t, 422, it.HTTPStatus)
			assert.Contains(t, it.Error, "a: ")
		}
	}

	members := map[string]emulator.LOX24Phone{}
	for _, g := range emu.State().LOX24.Groups {
		if g.ID == 12344 {
			for _, ph := range g.Phones {
				members[ph.Phone] = ph
			}
		}
	}
	assert.Len(t, members, 4)
	assert.Equal(t, "Dr.", *members["+4915100000000"].A)
	assert.Equal(t, "crm", *members["+4915100000000"].CallbackData, "an unmanaged column keeps its value through the PUT")
	assert.Contains(t, members, "+4917711111111")

	// The failed add is planned again; everything else is in place.
	cur, err = c.Read(ctx, want.Groups)
	require.NoError(t, err)
	again := plan.Diff(want, map[plan.System]plan.Current{plan.LOX24: cur})
	require.Len(t, again.Changes, 1)
	assert.Equal(t, "+4917722222222", again.Changes[0].Phone)
}

// gate wraps a handler and logs each request's start and end, by page.
// Requests after the first are held until want of them are in flight at
// once, so that a client that sends them side by side is seen doing so
// however loaded the machine is; a client that never has want in flight is
// let through after a long while, and its test fails on the peak.
type gate struct {
	next      http.Handler
	want      int
	mu        sync.Mutex
	events    []string
	now, peak int
	open      chan struct{}
	opened    bool
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := r.URL.Query().Get("page")
	g.mu.Lock()
	g.events = append(g.events, "start "+page)
	g.now++
	g.peak = max(g.peak, g.now)
	if g.now >= g.want && !g.opened {
		g.opened = true
		close(g.open)
	}
	g.mu.Unlock()
	if page != "1" {
		select {
		case <-g.open:
		case <-time.After(10 * time.Second):
			g.mu.Lock()
			if !g.opened {
				g.opened = true
				close(g.open)
			}
			g.mu.Unlock()
		}
	}
	// The answer is held back until its end is logged, so that no request
	// the answer leads to can be logged before it.
	rr := httptest.NewRecorder()
	g.next.ServeHTTP(rr, r)
	g.mu.Lock()
	g.events = append(g.events, "end "+page)
	g.now--
	g.mu.Unlock()
	for k, v := range rr.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rr.Code)
	_, _ = w.Write(rr.Body.Bytes())
}

func TestReadFetchesPagesSideBySideAfterTheFirstAlone(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	require.NoError(t, emu.LoadState(emulator.State{LOX24: emulator.LOX24State{Groups: manyGroups(30 * 8)}}))
	rec := &gate{next: emu, want: 3, open: make(chan struct{})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000, MaxInFlight: 3}, "demo:demo")
	require.NoError(t, err)
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 240)
	for i, g := range cur.Groups {
		require.Equal(t, fmt.Sprint(i+1), g.Key, "pages are put together in order")
	}
	require.Len(t, rec.events, 16, "eight pages, each started and ended")
	assert.Equal(t, []string{"start 1", "end 1"}, rec.events[:2], "the first page is read alone, before any other is asked for")
	assert.Equal(t, 3, rec.peak, "the other pages side by side, MaxInFlight at once")
	st := emu.Stats().Systems["lox24"]
	assert.Equal(t, 8, st.ByRoute["GET /groups"])
	assert.LessOrEqual(t, st.PeakInFlight, 3, "never more than MaxInFlight at the emulator")
}

func TestReadCarriesAScheduledDeletionAndNeverWritesIt(t *testing.T) {
	when := "2026-12-01T00:00:00+00:00"
	emu, c := setup(t, []emulator.LOX24Group{{ID: 5, Name: "Leaving", DeletedAt: &when}}, "demo:demo")
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, when, cur.Groups[0].DeletedAt)
	ch := &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Update, Key: "5", Name: "Leaving",
		Base:   map[string]plan.Value{"name": plan.Str("Leaving")},
		Fields: []plan.FieldChange{{Field: "description", After: plan.Str("x")}}}
	require.NoError(t, c.Do(context.Background(), ch).Err)
	assert.Equal(t, when, *emu.State().LOX24.Groups[0].DeletedAt, "deleted_at is not sent (the emulator would ignore it anyway)")
}

func TestDeleteGroupAfterReadingOnlyItsMembers(t *testing.T) {
	emu, c := setup(t, []emulator.LOX24Group{
		{ID: 6, Name: "HR Gone", Phones: []emulator.LOX24Phone{{Phone: "+4915112345678", A: sp("Ann"), CallbackData: sp("crm-1")}}},
		{ID: 7, Name: "HR Stays", Phones: []emulator.LOX24Phone{{Phone: "+4915112345679"}}},
	}, "demo:demo")
	ctx := context.Background()
	cur, err := c.Read(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, c.ReadMembers(ctx, &cur, []string{"6"}))
	require.Len(t, cur.Groups[0].Phones, 1)
	assert.Equal(t, "+4915112345678", cur.Groups[0].Phones[0].Number)
	assert.Equal(t, plan.MakeColumns("Ann", "", "", "", "", "crm-1"), cur.Groups[0].Phones[0].Cols)
	assert.Nil(t, cur.Groups[1].Phones, "only the groups asked for are read")
	assert.Equal(t, 1, emu.Stats().Systems["lox24"].ByRoute["GET /groups/{id}/phones"])

	o := c.Do(ctx, &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Delete, Key: "6", Name: "HR Gone"})
	require.Equal(t, plan.Succeeded, o.Status, o.Err)
	assert.Equal(t, 204, o.HTTPStatus)
	st := emu.State()
	require.Len(t, st.LOX24.Groups, 1)
	assert.Equal(t, "HR Stays", st.LOX24.Groups[0].Name)
}

func TestDeleteGroupWhoseAnswerIsLostSucceeds(t *testing.T) {
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, emu.LoadState(emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{{ID: 6, Name: "HR Gone"}}}}))
	var deletes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && deletes.Add(1) == 1 {
			emu.ServeHTTP(httptest.NewRecorder(), r) // applied, but the answer is lost
			http.Error(w, "Bad Gateway", http.StatusBadGateway)
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000, Retry: sink.RetryPolicy{MaxAttempts: 3, Base: time.Millisecond, Max: time.Millisecond}}, "demo:demo")
	require.NoError(t, err)
	o := c.Do(context.Background(), &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Delete, Key: "6", Name: "HR Gone"})
	assert.Equal(t, plan.Succeeded, o.Status, o.Err)
	assert.Equal(t, 2, o.Attempts, "the first answer was lost, the retry found the group gone")
	assert.Empty(t, emu.State().LOX24.Groups)

	o = c.Do(context.Background(), &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Delete, Key: "6", Name: "HR Gone"})
	assert.Equal(t, plan.Failed, o.Status, "a 404 on the first attempt is a failure: the group was not there")
}

// A long read of one group's members keeps as many requests in flight as the
// client's workers (not a fixed number), and reuses its connections: no more
// are opened than requests can be in flight, plus a little slack.
func TestALongMemberReadUsesEveryWorkerAndReusesConnections(t *testing.T) {
	const workers = 12 // more than any fixed cap inside the pager
	emu := emulator.New(emulator.Options{Seed: 1, Latency: 5 * time.Millisecond})
	require.NoError(t, emu.LoadState(emulator.State{LOX24: emulator.LOX24State{Groups: withPhones(3000)}}))
	srv := httptest.NewUnstartedServer(emu)
	srv.Config.ConnState = emu.ConnState
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1e6, MaxInFlight: workers}, "demo:demo")
	require.NoError(t, err)
	want := []plan.Group{{System: plan.LOX24, Key: "12344", Name: "My Clients", Phones: &plan.Phones{}}}
	cur, err := c.Read(context.Background(), want)
	require.NoError(t, err)
	require.Len(t, cur.Groups[1].Phones, 3000)
	assert.Equal(t, plan.NewRemotePhone("3099", "+49151000002999", []string{"Mr.", "", "", "", "", "crm"}), cur.Groups[1].Phones[2999])
	for i, p := range cur.Groups[1].Phones { // every page's members, in order, none overwritten by a later page's
		require.Equal(t, strconv.Itoa(100+i), p.ID, "member %d", i)
	}
	st := emu.Stats()
	assert.Equal(t, 100, st.Systems["lox24"].ByRoute["GET /groups/{id}/phones"])
	assert.Equal(t, workers, st.Systems["lox24"].PeakInFlight)
	// Connections are reused: a pool too small for the workers would open
	// one per page (100). The transport caps the connections it opens at
	// workers + 2, dialling included (without the cap, four copies of this
	// test at once opened 16 to 21 in 5 runs of 100).
	assert.LessOrEqual(t, st.Connections, workers+2)
}

// Many groups' members (of one page each) are read --lox24-workers at a
// time, not a fixed number: the plan's read and export alike.
func TestMembersOfManyGroupsAreReadWorkersAtATime(t *testing.T) {
	const workers = 6 // more than the 4 the client read with whatever the setting
	groups := make([]emulator.LOX24Group, 10)
	want := make([]plan.Group, len(groups))
	for i := range groups {
		groups[i] = emulator.LOX24Group{ID: int64(i + 1), Name: fmt.Sprintf("G%02d", i), Phones: []emulator.LOX24Phone{{ID: fmt.Sprint(100 + i), Phone: fmt.Sprintf("+4915100000%03d", i)}}}
		want[i] = plan.Group{System: plan.LOX24, Name: groups[i].Name, Phones: &plan.Phones{}}
	}
	for _, export := range []bool{false, true} {
		emu := emulator.New(emulator.Options{Seed: 1})
		require.NoError(t, emu.LoadState(emulator.State{LOX24: emulator.LOX24State{Groups: groups}}))
		srv := httptest.NewServer(emulator.HoldAnswers(emu, workers, 10*time.Second, func(r *http.Request) bool {
			return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/phones")
		}))
		c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1e6, MaxInFlight: workers}, "demo:demo")
		require.NoError(t, err)
		var cur plan.Current
		if export {
			cur, err = c.ReadWithMembers(context.Background())
		} else {
			cur, err = c.Read(context.Background(), want)
		}
		srv.Close()
		require.NoError(t, err)
		require.Len(t, cur.Groups, 10)
		for i, g := range cur.Groups {
			assert.Equal(t, []plan.RemotePhone{{ID: fmt.Sprint(100 + i), Number: fmt.Sprintf("+4915100000%03d", i)}}, g.Phones, g.Name)
		}
		st := emu.Stats().Systems["lox24"]
		assert.Equal(t, 10, st.ByRoute["GET /groups/{id}/phones"])
		assert.Equal(t, workers, st.PeakInFlight, "export %v: as many member reads in flight as the workers setting", export)
	}
}

// A create, or a batch of phone adds, answered 2xx without what the client
// needs from the answer was carried out all the same: it fails uncertain,
// so that verify's re-read decides it.
func TestWritesAnsweredWithoutTheirResultAreUncertain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/ld+json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	c, err := lox24.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo:demo")
	require.NoError(t, err)
	o := c.Do(context.Background(), &plan.Change{System: plan.LOX24, Kind: plan.KindGroup, Action: plan.Create, Name: "New",
		Fields: []plan.FieldChange{{Field: "name", After: plan.Str("New")}}})
	assert.Equal(t, plan.Failed, o.Status)
	assert.ErrorContains(t, o.Err, "the response has no usable group id")
	assert.True(t, o.Uncertain)

	adds := []*plan.Change{
		{System: plan.LOX24, Kind: plan.KindPhone, Action: plan.Create, GroupKey: "7", Phone: "+4915100000001",
			Fields: []plan.FieldChange{{Field: "phone", After: plan.Str("+4915100000001")}}},
		{System: plan.LOX24, Kind: plan.KindPhone, Action: plan.Create, GroupKey: "7", Phone: "+4915100000002",
			Fields: []plan.FieldChange{{Field: "phone", After: plan.Str("+4915100000002")}}},
	}
	for _, o := range c.DoBatch(context.Background(), adds) {
		assert.Equal(t, plan.Failed, o.Status)
		assert.True(t, o.Uncertain, "%v", o.Err)
	}
}

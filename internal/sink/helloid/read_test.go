package helloid_test

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

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/helloid"
)

func guid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// pager serves n groups at /api/v1/groups by skip/take, at most cap per
// page (0: no cap), each page shaped by wrap. It counts the requests.
type pager struct {
	n, cap int
	wrap   func(list string) string
	mu     sync.Mutex
	gets   int
}

func (p *pager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.gets++
	p.mu.Unlock()
	skip, _ := strconv.Atoi(r.URL.Query().Get("skip"))
	take, _ := strconv.Atoi(r.URL.Query().Get("take"))
	if p.cap > 0 {
		take = min(take, p.cap)
	}
	var items []string
	for i := skip; i < min(skip+take, p.n); i++ {
		items = append(items, fmt.Sprintf(`{"groupGuid":%q,"name":"G%d"}`, guid(i+1), i+1))
	}
	list := "[" + strings.Join(items, ",") + "]"
	if p.wrap != nil {
		list = p.wrap(list)
	}
	fmt.Fprint(w, list)
}

func client(t *testing.T, h http.Handler, cfg sink.Config) *helloid.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.BaseURL, cfg.Rate = srv.URL, 1000
	c, err := helloid.New(cfg, "demo", "demo")
	require.NoError(t, err)
	return c
}

// A server that caps take at 500 is still read whole.
func TestReadAServerThatCapsTake(t *testing.T) {
	p := &pager{n: 1200, cap: 500}
	cur, err := client(t, p, sink.Config{}).Read(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 1200)
	assert.Equal(t, "G1200", cur.Groups[1199].Name)
	assert.Equal(t, 4, p.gets, "500, 500, 200, then the empty page")
}

func TestReadWrappedLists(t *testing.T) {
	for name, wrap := range map[string]func(string) string{
		"data":     func(l string) string { return `{"data":` + l + `,"total":3}` },
		"pageData": func(l string) string { return `{"pageData":` + l + `}` },
	} {
		t.Run(name, func(t *testing.T) {
			cur, err := client(t, &pager{n: 3, wrap: wrap}, sink.Config{}).Read(context.Background(), nil)
			require.NoError(t, err)
			assert.Len(t, cur.Groups, 3)
		})
	}
}

// A body that is not a list is an error, never "no groups".
func TestReadRefusesWhatIsNotAList(t *testing.T) {
	for _, body := range []string{`null`, ``, `{}`, `{"data":null}`, `{"pageData":{}}`, `"groups"`, `{"data":[],"pageData":[]}`} {
		t.Run(body, func(t *testing.T) {
			_, err := client(t, &pager{n: 3, wrap: func(string) string { return body }}, sink.Config{}).Read(context.Background(), nil)
			require.ErrorContains(t, err, "unexpected response body")
		})
	}
}

func TestReadRefusesAKeyThatIsNotAGUID(t *testing.T) {
	for _, item := range []string{`{"name":"A"}`, `{"groupGuid":"..","name":"A"}`, `{"groupGuid":"","name":"A"}`, `null`} {
		t.Run(item, func(t *testing.T) {
			_, err := client(t, &pager{n: 1, wrap: func(l string) string {
				if l == "[]" {
					return l
				}
				return "[" + item + "]"
			}}, sink.Config{}).Read(context.Background(), nil)
			require.ErrorContains(t, err, "not a GUID")
		})
	}
}

func TestUpdateRefusesAKeyThatIsNotAGUID(t *testing.T) {
	p := &pager{}
	c := client(t, p, sink.Config{})
	o := c.Do(context.Background(), &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Update, Key: "..", Name: "A",
		Fields: []plan.FieldChange{{Field: "isEnabled", After: plan.Bool(true)}}})
	assert.Equal(t, plan.Failed, o.Status)
	assert.Zero(t, p.gets, "nothing was sent")
}

// A server that returns full pages forever is stopped by the bound.
func TestReadIsBounded(t *testing.T) {
	p := &pager{n: 1 << 30}
	_, err := client(t, p, sink.Config{MaxReadItems: 2500}).Read(context.Background(), nil)
	require.ErrorContains(t, err, "more than 2500 items")
	assert.Equal(t, 3, p.gets)
}

// A group listed twice among new ones (the list moved: a group was added
// before it while it was read) is read again; moving twice fails the read.
func TestReadMovedListing(t *testing.T) {
	var mu sync.Mutex
	reads := 0
	movesFor := 1
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		skip := r.URL.Query().Get("skip")
		mu.Lock()
		defer mu.Unlock()
		if skip == "0" {
			reads++
		}
		switch {
		case skip == "0":
			fmt.Fprintf(w, `[{"groupGuid":%q,"name":"A"},{"groupGuid":%q,"name":"B"}]`, guid(1), guid(2))
		case skip == "2" && reads <= movesFor:
			fmt.Fprintf(w, `[{"groupGuid":%q,"name":"B"},{"groupGuid":%q,"name":"C"}]`, strings.ToUpper(guid(2)), guid(3))
		case skip == "2":
			fmt.Fprintf(w, `[{"groupGuid":%q,"name":"C"}]`, guid(3))
		default:
			fmt.Fprint(w, `[]`)
		}
	})
	c := client(t, h, sink.Config{})
	c.SetPageSize(2)
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, cur.Groups, 3)
	assert.Equal(t, 2, reads)

	reads, movesFor = 0, 2
	_, err = c.Read(context.Background(), nil)
	require.ErrorIs(t, err, sink.ErrInconsistent)
	assert.EqualError(t, err, "helloid: listing of groups changed while it was read twice (group "+guid(2)+" listed twice)")
}

// A server that ignores skip (the same page for every skip) or whose pages
// come round again is stopped at the first page that holds only groups
// already read: the read fails after a few requests, not at the bound of
// --max-read-items.
func TestReadFailsOnAListingThatLoops(t *testing.T) {
	tests := []struct {
		name     string
		pageSize int
		page     func(skip int) []int // the groups served at skip
		gets     int
	}{
		{"one group for every skip", 1000, func(int) []int { return []int{1} }, 2},
		{"the whole list for every skip", 1000, func(int) []int { return []int{1, 2, 3} }, 2},
		{"pages that come round again", 2, func(skip int) []int {
			if (skip/2)%2 == 0 {
				return []int{1, 2}
			}
			return []int{3, 4}
		}, 3},
		{"a page of groups already read, in another order", 2, func(skip int) []int {
			if skip >= 4 {
				return []int{3, 1}
			}
			return []int{skip + 1, skip + 2}
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			gets := 0
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				gets++
				mu.Unlock()
				skip, _ := strconv.Atoi(r.URL.Query().Get("skip"))
				var items []string
				for _, n := range tt.page(skip) {
					items = append(items, fmt.Sprintf(`{"groupGuid":%q,"name":"G%d"}`, guid(n), n))
				}
				fmt.Fprint(w, "["+strings.Join(items, ",")+"]")
			})
			// The bound keeps a reader that would loop on from running long.
			c := client(t, h, sink.Config{MaxReadItems: 200})
			c.SetPageSize(tt.pageSize)
			_, err := c.Read(context.Background(), nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, sink.ErrInconsistent, "read once more, as a listing that moved, and failed")
			assert.ErrorContains(t, err, "helloid: listing of groups changed while it was read twice")
			assert.ErrorContains(t, err, "answered only groups already read: the listing moved, or it does not advance")
			assert.Equal(t, 2*tt.gets, gets, "each pass stops at the first page that repeats")
		})
	}
}

// The emulator's drift quirk moves the listing once, which the reader
// reads again, whether the page that shows it holds new groups besides
// (last page of two) or none (last page of one: read as the listing
// moving, not failed as a loop).
func TestReadEmulatorDriftIsNotALoop(t *testing.T) {
	for _, n := range []int{4, 5} { // last pages of two groups and of one
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			emu := emulator.New(emulator.Options{Seed: 1, Quirks: emulator.Quirks{TakeCap: 2, DriftOnce: true}})
			require.NoError(t, emu.LoadState(emulator.State{HelloID: emulator.HelloIDState{Groups: manyGroups(n),
				Users: []emulator.HelloIDUser{{UserGUID: userA, UserName: "ann"}}}}))
			srv := httptest.NewServer(emu)
			t.Cleanup(srv.Close)
			c, err := helloid.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo", "demo")
			require.NoError(t, err)
			cur, err := c.Read(context.Background(), nil)
			require.NoError(t, err)
			assert.Len(t, cur.Groups, n)
		})
	}
}

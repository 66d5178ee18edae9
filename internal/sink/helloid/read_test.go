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

// A group listed twice (the list moved) is read again; moving twice fails
// the read.
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
			fmt.Fprintf(w, `[{"groupGuid":%q,"name":"A"}]`, guid(1))
		case skip == "1" && reads <= movesFor:
			fmt.Fprintf(w, `[{"groupGuid":%q,"name":"A"}]`, strings.ToUpper(guid(1)))
		case skip == "1":
			fmt.Fprintf(w, `[{"groupGuid":%q,"name":"B"}]`, guid(2))
		default:
			fmt.Fprint(w, `[]`)
		}
	})
	c := client(t, h, sink.Config{})
	c.SetPageSize(1)
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, cur.Groups, 2)
	assert.Equal(t, 2, reads)

	reads, movesFor = 0, 2
	_, err = c.Read(context.Background(), nil)
	require.ErrorIs(t, err, sink.ErrInconsistent)
	assert.EqualError(t, err, "helloid: listing of groups changed while it was read twice (group "+guid(1)+" listed twice)")
}

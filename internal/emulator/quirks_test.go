package emulator

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quirky(t *testing.T, list string) *Server {
	t.Helper()
	q, err := ParseQuirks(list)
	require.NoError(t, err)
	s, _ := newServer(t, Options{Quirks: q})
	return s
}

func TestParseQuirks(t *testing.T) {
	q, err := ParseQuirks("bare-hydra, int-next,phones-next-path,short-pages,no-view,take-cap=500,data-wrapper,drift-once,drift-always")
	require.NoError(t, err)
	assert.Equal(t, Quirks{BareHydra: true, IntNext: true, PhonesNextPath: true, ShortPages: true, NoView: true,
		TakeCap: 500, DataWrapper: true, DriftOnce: true, DriftAlways: true}, q)
	for _, bad := range []string{"take-cap=0", "take-cap=x", "nope", "data-wrapper,pagedata-wrapper"} {
		_, err := ParseQuirks(bad)
		assert.Error(t, err, bad)
	}
}

func groupIDs(t *testing.T, m map[string]any, key string) []int {
	t.Helper()
	var out []int
	for _, g := range m[key].([]any) {
		out = append(out, int(g.(map[string]any)["id"].(float64)))
	}
	return out
}

func TestQuirkBareHydraAndIntNext(t *testing.T) {
	s := quirky(t, "bare-hydra,int-next")
	loadGroups(t, s, 31)
	m := object(t, call(t, s, req{method: "GET", path: "/groups"}, http.StatusOK))
	assert.Len(t, m["member"], 30)
	assert.EqualValues(t, 31, m["totalItems"])
	assert.EqualValues(t, 2, m["view"].(map[string]any)["next"])
	assert.NotContains(t, m, "hydra:member")
}

func TestQuirkShortPagesAndNoView(t *testing.T) {
	s := quirky(t, "short-pages,no-view")
	loadGroups(t, s, 70)
	var sizes []int
	for p := 1; p <= 3; p++ {
		m := object(t, call(t, s, req{method: "GET", path: fmt.Sprintf("/groups?page=%d", p)}, http.StatusOK))
		sizes = append(sizes, len(m["hydra:member"].([]any)))
		_, hasNext := m["hydra:view"].(map[string]any)["hydra:next"]
		assert.Equal(t, p < 3, hasNext)
	}
	assert.Equal(t, []int{30, 25, 15}, sizes)
	one := quirky(t, "no-view")
	loadGroups(t, one, 2)
	assert.NotContains(t, object(t, call(t, one, req{method: "GET", path: "/groups"}, http.StatusOK)), "hydra:view")
}

func TestQuirkPhonesNextPath(t *testing.T) {
	s := quirky(t, "phones-next-path")
	var st State
	g := LOX24Group{ID: 7, Name: "g"}
	for i := range 31 {
		g.Phones = append(g.Phones, LOX24Phone{Phone: fmt.Sprintf("+4915100000%03d", i)})
	}
	st.LOX24.Groups = []LOX24Group{g}
	require.NoError(t, s.LoadState(st))
	m := object(t, call(t, s, req{method: "GET", path: "/groups/7/phones"}, http.StatusOK))
	assert.Equal(t, "http://example.com/phones?group=7&page=2", m["hydra:view"].(map[string]any)["hydra:next"])
	m = object(t, call(t, s, req{method: "GET", path: "/phones?group=7&page=2"}, http.StatusOK))
	assert.Len(t, m["hydra:member"], 1)
	plain := quirky(t, "")
	call(t, plain, req{method: "GET", path: "/phones?group=7&page=2"}, http.StatusNotFound)
}

func TestQuirkTakeCapAndWrappers(t *testing.T) {
	s := quirky(t, "take-cap=2,data-wrapper")
	require.NoError(t, s.LoadState(State{HelloID: HelloIDState{Groups: []HelloIDGroup{{Name: "a"}, {Name: "b"}, {Name: "c"}}}}))
	m := object(t, call(t, s, req{method: "GET", path: "/api/v1/groups?skip=0&take=1000"}, http.StatusOK))
	assert.Len(t, m["data"], 2)
	p := quirky(t, "pagedata-wrapper")
	require.NoError(t, p.LoadState(State{HelloID: HelloIDState{Groups: []HelloIDGroup{{Name: "a"}}}}))
	assert.Len(t, object(t, call(t, p, req{method: "GET", path: "/api/v1/groups?skip=0&take=10"}, http.StatusOK))["pageData"], 1)
}

func TestQuirkDrift(t *testing.T) {
	listing := func(s *Server) []int {
		a := groupIDs(t, object(t, call(t, s, req{method: "GET", path: "/groups?page=1"}, http.StatusOK)), "hydra:member")
		return append(a, groupIDs(t, object(t, call(t, s, req{method: "GET", path: "/groups?page=2"}, http.StatusOK)), "hydra:member")...)
	}
	once := quirky(t, "drift-once")
	loadGroups(t, once, 32)
	first := listing(once)
	assert.Len(t, first, 32)
	assert.Equal(t, 30, first[31], "group 30 again, group 32 skipped")
	assert.Equal(t, 32, listing(once)[31], "later listings are right")
	always := quirky(t, "drift-always")
	loadGroups(t, always, 32)
	listing(always)
	assert.Equal(t, 30, listing(always)[31])
	small := quirky(t, "drift-always")
	loadGroups(t, small, 3)
	assert.Equal(t, []int{1, 2, 1}, groupIDs(t, object(t, call(t, small, req{method: "GET", path: "/groups"}, http.StatusOK)), "hydra:member"))
}

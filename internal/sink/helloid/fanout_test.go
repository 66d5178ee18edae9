package helloid_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/helloid"
)

// heldGroupGETs holds the emulator's answers to GET /groups/{guid} until
// want of them are in flight (emulator.HoldAnswers).
func heldGroupGETs(emu http.Handler, want int) http.Handler {
	return emulator.HoldAnswers(emu, want, 10*time.Second, func(r *http.Request) bool {
		rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/groups/")
		return r.Method == http.MethodGet && ok && !strings.Contains(rest, "/")
	})
}

const workers = 3

// parallelTenant is a tenant of n groups (manyGroups; group i+1 has user i
// as member, and the first userA too) behind heldGroupGETs of workers, read by
// a client of workers requests in flight.
func parallelTenant(t *testing.T, n int) (*emulator.Server, *helloid.Client) {
	t.Helper()
	groups := manyGroups(n)
	var users []emulator.HelloIDUser
	for i := range groups {
		groups[i].Users = append(groups[i].Users, userGUID(i))
		users = append(users, emulator.HelloIDUser{UserGUID: userGUID(i), UserName: fmt.Sprintf("user%d@acme.com", i)})
	}
	users = append(users, emulator.HelloIDUser{UserGUID: userA, UserName: "a@acme.com"})
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, emu.LoadState(emulator.State{HelloID: emulator.HelloIDState{Groups: groups, Users: users}}))
	srv := httptest.NewServer(heldGroupGETs(emu, workers))
	t.Cleanup(srv.Close)
	c, err := helloid.New(sink.Config{BaseURL: srv.URL, Rate: 1e6, MaxInFlight: workers}, "demo", "demo")
	require.NoError(t, err)
	return emu, c
}

// members is what group i+1 of parallelTenant has as members.
func wantMembers(i int) []string {
	if i == 0 {
		return []string{strings.ToLower(userA), userGUID(0)}
	}
	return []string{userGUID(i)}
}

// assertSideBySide checks that the n group GETs were all sent, workers of
// them in flight at once at the emulator: more than one, never more.
func assertSideBySide(t *testing.T, emu *emulator.Server, n int) {
	t.Helper()
	st := emu.Stats().Systems["helloid"]
	assert.Equal(t, n, st.ByRoute["GET /api/v1/groups/{group}"])
	assert.Equal(t, workers, st.PeakInFlight, "--helloid-workers GETs in flight at once, never more")
}

// The plan's read fetches the members of the groups that manage users side
// by side, and fills in each group's own.
func TestReadFetchesManagedGroupsSideBySide(t *testing.T) {
	emu, c := parallelTenant(t, 12)
	var want []plan.Group
	for i := range 10 { // G01..G10 manage users; G11 and G12 do not
		g := managing(fmt.Sprintf("G%02d", i+1))
		if i%2 == 1 {
			g.Key = strings.ToUpper(guidN(i + 1)) // by key, or by name
		}
		want = append(want, g)
	}
	cur, err := c.Read(context.Background(), want)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 12)
	for i, g := range cur.Groups {
		require.Equal(t, fmt.Sprintf("G%02d", i+1), g.Name, "the listing's order")
		if i < 10 {
			assert.Equal(t, wantMembers(i), g.Users, g.Name)
		} else {
			assert.Nil(t, g.Users, "%s does not manage users: not read", g.Name)
		}
	}
	assertSideBySide(t, emu, 10)
}

// The members a plan prunes are read side by side too.
func TestReadMembersFetchesGroupsSideBySide(t *testing.T) {
	emu, c := parallelTenant(t, 12)
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	var keys []string
	for i := range 9 {
		keys = append(keys, guidN(i+2))
	}
	emu.ResetStats()
	require.NoError(t, c.ReadMembers(context.Background(), &cur, keys))
	for i, g := range cur.Groups {
		if i >= 1 && i <= 9 {
			assert.Equal(t, wantMembers(i), g.Users, g.Name)
		} else {
			assert.Nil(t, g.Users, "%s is not pruned: not read", g.Name)
		}
	}
	assertSideBySide(t, emu, 9)
}

// export --members reads every group's members side by side, and the
// groups keep the listing's order.
func TestReadWithMembersFetchesGroupsSideBySide(t *testing.T) {
	emu, c := parallelTenant(t, 11)
	cur, err := c.ReadWithMembers(context.Background())
	require.NoError(t, err)
	require.Len(t, cur.Groups, 11)
	require.Len(t, cur.Users, 12)
	for i, g := range cur.Groups {
		require.Equal(t, fmt.Sprintf("G%02d", i+1), g.Name, "the listing's order")
		assert.Equal(t, wantMembers(i), g.Users, g.Name)
	}
	assertSideBySide(t, emu, 11)
}

// Verify's re-read fetches the groups side by side, in the order of the
// refs; a group that is gone (404) is left out, and the result is what one
// GET at a time gives.
func TestReadGroupsFetchesGroupsSideBySide(t *testing.T) {
	emu, c := parallelTenant(t, 20)
	refs := manyRefs(8) // groups 1, 3, ... 15, the first two with members, and one that is gone
	cur, err := c.ReadGroups(context.Background(), refs)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 8, "the group that is gone is left out")
	for i, g := range cur.Groups {
		require.Equal(t, fmt.Sprintf("G%02d", 2*i+1), g.Name, "the order of the refs")
	}
	assert.Equal(t, wantMembers(0), cur.Groups[0].Users)
	assert.Equal(t, wantMembers(2), cur.Groups[1].Users)
	assert.Nil(t, cur.Groups[2].Users, "members not asked for are not read")
	assertSideBySide(t, emu, 9)
	assert.Equal(t, 1, emu.Stats().Systems["helloid"].ByStatus["404"], "the group that is gone")

	assert.Equal(t, oneByOne(t, c, refs), cur)
}

// The first group read that fails is the error returned (not the
// cancellation it causes in the reads beside it), and nothing is returned
// with it.
func TestAFailedGroupReadIsTheErrorReturned(t *testing.T) {
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, emu.LoadState(emulator.State{HelloID: emulator.HelloIDState{Groups: manyGroups(10),
		Users: []emulator.HelloIDUser{{UserGUID: userA, UserName: "a@acme.com"}}}}))
	bad := "/api/v1/groups/" + guidN(4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == bad {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"groupGuid":"` + guidN(4) + `","name":"G04"}`)) // no users
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := helloid.New(sink.Config{BaseURL: srv.URL, Rate: 1e6, MaxInFlight: workers}, "demo", "demo")
	require.NoError(t, err)

	cur, err := c.ReadWithMembers(context.Background())
	require.ErrorContains(t, err, "helloid: get group "+guidN(4)+": the response has no users list")
	assert.Empty(t, cur.Groups)

	cur, err = c.ReadGroups(context.Background(), []plan.GroupRef{{Key: guidN(2), Members: true}, {Key: guidN(4), Members: true}, {Key: guidN(6), Members: true}})
	require.ErrorContains(t, err, "helloid: get group "+guidN(4)+": the response has no users list")
	assert.Empty(t, cur.Groups)
}

// A panic in any goroutine the client starts (a managed group's members,
// a pruned group's, export's, verify's re-read of a group) fails that read
// with an internal error, rather than ending the process without a report.
func TestAPanicInAReadGoroutineFailsTheRead(t *testing.T) {
	groups := manyGroups(4)
	want := []plan.Group{managing("G01"), managing("G02")}
	for _, where := range []string{"members", "prune", "export", "reread"} {
		t.Run(where, func(t *testing.T) {
			_, _, c := setup(t, groups)
			ctx := context.Background()
			var cur plan.Current
			var err error
			if where == "prune" {
				cur, err = c.Read(ctx, nil)
				require.NoError(t, err)
			}
			helloid.SetGoroutineHook(t, func(what string) {
				if what == where {
					panic("injected in " + what)
				}
			})
			switch where {
			case "members":
				_, err = c.Read(ctx, want)
			case "prune":
				err = c.ReadMembers(ctx, &cur, []string{guidN(1), guidN(2)})
			case "export":
				_, err = c.ReadWithMembers(ctx)
			case "reread":
				_, err = c.ReadGroups(ctx, []plan.GroupRef{{Key: guidN(1), Members: true}, {Key: guidN(2)}})
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "internal error: injected in "+where)
		})
	}
}

package bench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/helloid"
)

// tenant is a HelloID tenant for the membership workload: users in the
// directory, groups, and the first managed groups with 100..5,000 members
// each, of which the desired state changes a few.
type tenant struct {
	users, groups, managed int
}

// bigTenant is the size the contract names: 50,000 users and 2,000 groups,
// of which 200 manage 100-5,000 members each.
var bigTenant = tenant{users: 50_000, groups: 2_000, managed: 200}

func guidOf(kind, i int) string { return fmt.Sprintf("%08d-0000-4000-8000-%012d", kind, i) }

// size is the member count of managed group i: 100..5,000, spread evenly,
// and fewer than the users, so that the one user linked is a new one.
func (tn tenant) size(i int) int { return min(100+(i*4_900)/max(1, tn.managed-1), tn.users-1) }

func (tn tenant) state() emulator.State {
	var st emulator.State
	st.HelloID.Users = make([]emulator.HelloIDUser, tn.users)
	for i := range tn.users {
		st.HelloID.Users[i] = emulator.HelloIDUser{UserGUID: guidOf(1, i), UserName: fmt.Sprintf("user%05d@acme.example", i)}
	}
	st.HelloID.Groups = make([]emulator.HelloIDGroup, tn.groups)
	for i := range tn.groups {
		g := emulator.HelloIDGroup{GroupGUID: guidOf(2, i), Name: fmt.Sprintf("Team %04d", i), Users: []string{}}
		if i < tn.managed {
			for j := range tn.size(i) {
				g.Users = append(g.Users, guidOf(1, (i*7+j)%tn.users))
			}
		}
		st.HelloID.Groups[i] = g
	}
	return st
}

// desired names every managed group's members by userName: the current
// ones, except that each group gains one user and loses its first.
func (tn tenant) desired() []plan.Group {
	groups := make([]plan.Group, 0, tn.managed)
	for i := range tn.managed {
		n := tn.size(i)
		us := &plan.Users{Mode: plan.PhonesExact, Source: plan.Source{File: "groups.yaml", Line: i + 1}, List: make([]plan.UserRef, 0, n)}
		for j := 1; j <= n; j++ { // j = 0 is unlinked, j = n is linked
			us.List = append(us.List, plan.UserRef{Ref: fmt.Sprintf("user%05d@acme.example", (i*7+j)%tn.users),
				Source: plan.Source{File: "users.csv", Line: j + 1}})
		}
		groups = append(groups, plan.Group{System: plan.HelloID, Key: guidOf(2, i), Name: fmt.Sprintf("Team %04d", i),
			Fields: map[string]plan.Value{}, Users: us})
	}
	return groups
}

// planMembers reads the tenant through the HelloID client and diffs it.
func planMembers(tb testing.TB, tn tenant, emu *emulator.Server) *plan.Plan {
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := helloid.New(sink.Config{BaseURL: srv.URL, Rate: 1e6}, "demo", "demo")
	require.NoError(tb, err)
	want := tn.desired()
	cur, err := c.Read(context.Background(), want)
	require.NoError(tb, err)
	return plan.Diff(plan.Desired{Groups: want}, map[plan.System]plan.Current{plan.HelloID: cur})
}

func newTenant(tb testing.TB, tn tenant) *emulator.Server {
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(tb, emu.LoadState(tn.state()))
	return emu
}

// TestMembersPlanRequests pins the cost of planning HelloID members: pages
// of /users + pages of /groups + one GET per managed group, never a
// request per user.
func TestMembersPlanRequests(t *testing.T) {
	tn := bigTenant
	if testing.Short() {
		tn = tenant{users: 5_000, groups: 200, managed: 20}
	}
	emu := newTenant(t, tn)
	p := planMembers(t, tn, emu)
	// A listing ends at the first empty page.
	pages := func(n int) int { return (n+helloid.DefaultPageSize-1)/helloid.DefaultPageSize + 1 }
	routes := emu.Stats().Systems["helloid"].ByRoute
	assert.Equal(t, pages(tn.users), routes["GET /api/v1/users"], "pages of /users")
	assert.Equal(t, pages(tn.groups), routes["GET /api/v1/groups"], "pages of /groups")
	assert.Equal(t, tn.managed, routes["GET /api/v1/groups/{group}"], "one GET per managed group")
	assert.Equal(t, pages(tn.users)+pages(tn.groups)+tn.managed, emu.Stats().Systems["helloid"].Total, "and nothing else")
	c := p.Count(plan.HelloID)
	assert.Equal(t, plan.Counts{Create: tn.managed, Delete: tn.managed, Unchanged: unchangedMembers(tn)}, c)
}

func unchangedMembers(tn tenant) int {
	n := 0
	for i := range tn.managed {
		n += tn.size(i) - 1
	}
	return n + tn.managed // the groups themselves
}

// BenchmarkMembersPlan plans the membership of the big tenant: the read
// (in-process emulator, no latency) and the Diff. It reports requests and
// memory per membership read.
func BenchmarkMembersPlan(b *testing.B) {
	tn := bigTenant
	emu := newTenant(b, tn)
	memberships := 0
	for i := range tn.managed {
		memberships += tn.size(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		emu.ResetStats()
		p := planMembers(b, tn, emu)
		require.Len(b, p.Changes, 2*tn.managed)
	}
	b.ReportMetric(float64(emu.Stats().Systems["helloid"].Total), "requests/plan")
	b.ReportMetric(float64(memberships), "memberships")
	b.ReportMetric(float64(tn.users), "users")
}

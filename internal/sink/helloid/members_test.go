package helloid_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/helloid"
)

// tenant is a HelloID tenant of n users (user0@acme.com ...) and the groups.
func tenant(t *testing.T, n int, groups []emulator.HelloIDGroup) (*emulator.Server, *bodies, *helloid.Client) {
	t.Helper()
	emu := emulator.New(emulator.Options{Seed: 1})
	st := emulator.State{HelloID: emulator.HelloIDState{Groups: groups}}
	for i := range n {
		st.HelloID.Users = append(st.HelloID.Users, emulator.HelloIDUser{UserGUID: userGUID(i), UserName: fmt.Sprintf("user%d@acme.com", i)})
	}
	require.NoError(t, emu.LoadState(st))
	rec := &bodies{next: emu}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := helloid.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo", "demo")
	require.NoError(t, err)
	return emu, rec, c
}

func userGUID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func managing(name string, refs ...string) plan.Group {
	us := &plan.Users{Mode: plan.PhonesExact, Source: plan.Source{File: "groups.yaml", Line: 3}}
	for i, r := range refs {
		us.List = append(us.List, plan.UserRef{Ref: r, Source: plan.Source{File: "groups.yaml", Line: 4 + i}})
	}
	return plan.Group{System: plan.HelloID, Name: name, Fields: map[string]plan.Value{}, Users: us}
}

func TestReadPagesUsersPast1000AndReadsOnlyManagedGroups(t *testing.T) {
	emu, _, c := tenant(t, 2500, []emulator.HelloIDGroup{
		{GroupGUID: guidA, Name: "Sales", Users: []string{userGUID(7), userGUID(2100)}, Source: "Local"},
		{Name: "Other", Users: []string{userGUID(1)}},
	})
	cur, err := c.Read(context.Background(), []plan.Group{managing("SALES", "user7@acme.com")})
	require.NoError(t, err)
	require.Len(t, cur.Users, 2500)
	assert.Equal(t, "user2499@acme.com", cur.Users[2499].UserName)
	require.Len(t, cur.Groups, 2)
	assert.Equal(t, []string{userGUID(7), userGUID(2100)}, cur.Groups[0].Users)
	assert.Equal(t, "Local", cur.Groups[0].Origin)
	assert.Nil(t, cur.Groups[1].Users, "a group that does not manage users is not read")

	routes := emu.Stats().Systems["helloid"].ByRoute
	assert.Equal(t, 4, routes["GET /api/v1/users"], "take=1000: pages of 1000, 1000, 500 and an empty one")
	assert.Equal(t, 1, routes["GET /api/v1/groups/{group}"], "one GET for the one managed group")
	assert.Equal(t, 2, routes["GET /api/v1/groups"], "a page, then an empty one")
}

func TestReadWithoutManagedUsersReadsNoUsers(t *testing.T) {
	emu, _, c := tenant(t, 3, []emulator.HelloIDGroup{{Name: "Sales"}})
	cur, err := c.Read(context.Background(), []plan.Group{{System: plan.HelloID, Name: "Sales"}})
	require.NoError(t, err)
	assert.Nil(t, cur.Users)
	assert.Zero(t, emu.Stats().Systems["helloid"].ByRoute["GET /api/v1/users"])
}

func TestLinkAndUnlinkAreSuccessWhenAlreadySo(t *testing.T) {
	emu, rec, c := tenant(t, 3, []emulator.HelloIDGroup{{GroupGUID: guidA, Name: "Sales", Users: []string{userGUID(1)}}})
	ctx := context.Background()
	link := &plan.Change{System: plan.HelloID, Kind: plan.KindUser, Action: plan.Create, Key: userGUID(2), Group: guidA, Name: "Sales", User: "user2@acme.com"}
	o := c.Do(ctx, link)
	require.NoError(t, o.Err)
	assert.Equal(t, `POST /api/v1/groups/`+guidA+`/users {"userGuid":"`+userGUID(2)+`"}`, rec.seen[0])
	o = c.Do(ctx, link)
	require.NoError(t, o.Err, "linking a member again is success")

	unlink := &plan.Change{System: plan.HelloID, Kind: plan.KindUser, Action: plan.Delete, Key: userGUID(1), Group: guidA, Name: "Sales", User: "user1@acme.com"}
	require.NoError(t, c.Do(ctx, unlink).Err)
	o = c.Do(ctx, unlink)
	require.NoError(t, o.Err, "unlinking a user who is no longer a member is success")
	assert.Equal(t, plan.Succeeded, o.Status)
	assert.Equal(t, []string{userGUID(2)}, emu.State().HelloID.Groups[0].Users)

	gone := &plan.Change{System: plan.HelloID, Kind: plan.KindUser, Action: plan.Create, Key: userGUID(9), Group: guidA, Name: "Sales", User: "ghost"}
	o = c.Do(ctx, gone)
	assert.Equal(t, plan.Failed, o.Status, "linking a user that does not exist fails")
	assert.Contains(t, o.Err.Error(), "User not found")
}

func TestANewGroupGetsItsUsersInOneRequest(t *testing.T) {
	emu, rec, c := tenant(t, 5, nil)
	ctx := context.Background()
	want := []plan.Group{managing("New", "user1@acme.com", "USER3@acme.com")}
	cur, err := c.Read(ctx, want)
	require.NoError(t, err)
	p := plan.Diff(plan.Desired{Groups: want}, map[plan.System]plan.Current{plan.HelloID: cur})
	require.Len(t, p.Changes, 3)
	r := plan.Apply(ctx, p, map[plan.System]plan.Sink{plan.HelloID: c}, plan.ApplyOptions{})
	for _, it := range r.Items {
		assert.Equal(t, plan.Succeeded, it.Status, it.Error)
	}
	require.Len(t, rec.seen, 1, "one request")
	assert.True(t, strings.HasPrefix(rec.seen[0], `POST /api/v1/groups {`), rec.seen[0])
	assert.Contains(t, rec.seen[0], `"userGuids":["`+userGUID(1)+`","`+userGUID(3)+`"]`)
	assert.Equal(t, []string{userGUID(1), userGUID(3)}, emu.State().HelloID.Groups[0].Users)
}

package helloid_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

const (
	guidA = "ef24276a-cf39-44d7-b8e5-1012c0db5178"
	userA = "F0CE1E44-25E8-4B12-8151-EF3525017647"
)

// bodies records the bodies of write requests on their way to the emulator.
type bodies struct {
	mu   sync.Mutex
	seen []string
	next http.Handler
}

func (b *bodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		data, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.seen = append(b.seen, r.Method+" "+r.URL.Path+" "+string(data))
		b.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(data))
	}
	b.next.ServeHTTP(w, r)
}

func setup(t *testing.T, groups []emulator.HelloIDGroup) (*emulator.Server, *bodies, *helloid.Client) {
	t.Helper()
	emu := emulator.New(emulator.Options{Seed: 1})
	// The directory holds every user the groups have as members.
	var users []emulator.HelloIDUser
	seen := map[string]bool{}
	for _, g := range groups {
		for _, u := range g.Users {
			if k := strings.ToLower(u); !seen[k] {
				seen[k] = true
				users = append(users, emulator.HelloIDUser{UserGUID: u, UserName: "user-" + k})
			}
		}
	}
	require.NoError(t, emu.LoadState(emulator.State{HelloID: emulator.HelloIDState{Groups: groups, Users: users}}))
	rec := &bodies{next: emu}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := helloid.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo", "demo")
	require.NoError(t, err)
	return emu, rec, c
}

func TestReadPagesWithSkipTakeUntilAnEmptyPage(t *testing.T) {
	var groups []emulator.HelloIDGroup
	for i := range 5 {
		groups = append(groups, emulator.HelloIDGroup{Name: fmt.Sprintf("G%d", i)})
	}
	emu, _, c := setup(t, groups)
	c.SetPageSize(2)
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 5)
	assert.Equal(t, "G4", cur.Groups[4].Name)
	assert.Equal(t, 4, emu.Stats().Systems["helloid"].ByRoute["GET /api/v1/groups"], "2, 2, 1, then the empty page")
}

func TestReadAnExactMultipleOfThepageSizeEndsOnAnEmptyPage(t *testing.T) {
	emu, _, c := setup(t, []emulator.HelloIDGroup{{Name: "A"}, {Name: "B"}})
	c.SetPageSize(2)
	cur, err := c.Read(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, cur.Groups, 2)
	assert.Equal(t, 2, emu.Stats().Systems["helloid"].ByRoute["GET /api/v1/groups"])
}

func TestUpdateSendsOnlyTheChangedFieldsByGUID(t *testing.T) {
	emu, rec, c := setup(t, []emulator.HelloIDGroup{{GroupGUID: guidA, Name: "TestApi", IsEnabled: true, IsQrEnabled: true}})
	ctx := context.Background()
	cur, err := c.Read(ctx, nil)
	require.NoError(t, err)
	want := plan.Desired{Groups: []plan.Group{{System: plan.HelloID, Key: guidA, Name: "TestApiRenamed",
		Fields: map[string]plan.Value{"isEnabled": plan.Bool(false), "isQrEnabled": plan.Bool(true), "managedByUserGuid": plan.Str(userA)}}}}
	p := plan.Diff(want, map[plan.System]plan.Current{plan.HelloID: cur})
	require.Len(t, p.Changes, 1)
	o := c.Do(ctx, &p.Changes[0])
	require.NoError(t, o.Err)
	assert.Equal(t, 200, o.HTTPStatus)

	require.Len(t, rec.seen, 1)
	assert.Equal(t, `PUT /api/v1/groups/`+guidA+` {"isEnabled":false,"managedByUserGuid":"`+userA+`","name":"TestApiRenamed"}`, rec.seen[0])
	g := emu.State().HelloID.Groups[0]
	assert.Equal(t, "TestApiRenamed", g.Name)
	assert.False(t, g.IsEnabled)
	assert.True(t, g.IsQrEnabled, "an unchanged field is not sent and keeps its value")
}

func TestUpdateNullClearsTheManager(t *testing.T) {
	emu, rec, c := setup(t, []emulator.HelloIDGroup{{GroupGUID: guidA, Name: "Ops", ManagedByUserGUID: func() *string { s := userA; return &s }()}})
	ch := &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Update, Key: guidA, Name: "Ops",
		Fields: []plan.FieldChange{{Field: "managedByUserGuid", Before: plan.Str(userA), After: plan.Null}}}
	o := c.Do(context.Background(), ch)
	require.NoError(t, o.Err)
	assert.Equal(t, `PUT /api/v1/groups/`+guidA+` {"managedByUserGuid":null}`, rec.seen[0])
	assert.Nil(t, emu.State().HelloID.Groups[0].ManagedByUserGUID)
}

func TestCreateReturnsTheGUID(t *testing.T) {
	emu, _, c := setup(t, nil)
	ch := &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Create, Name: "Sales",
		Fields: []plan.FieldChange{{Field: "name", After: plan.Str("Sales")}, {Field: "isEnabled", After: plan.Bool(true)}}}
	o := c.Do(context.Background(), ch)
	require.NoError(t, o.Err)
	st := emu.State().HelloID.Groups
	require.Len(t, st, 1)
	assert.Equal(t, st[0].GroupGUID, o.NewKey)
	assert.True(t, st[0].IsEnabled)
}

func TestDuplicateCreateFailsWithTheAPIsMessage(t *testing.T) {
	_, _, c := setup(t, []emulator.HelloIDGroup{{Name: "Sales"}})
	ch := &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Create, Name: "sales",
		Fields: []plan.FieldChange{{Field: "name", After: plan.Str("sales")}}}
	o := c.Do(context.Background(), ch)
	require.Error(t, o.Err)
	assert.Equal(t, 400, o.HTTPStatus)
	assert.Contains(t, o.Err.Error(), `helloid: create group "sales": HTTP 400 Bad Request: `)
}

func TestBaseURLGetsAPIV1Once(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/api/v1"} {
		c, err := helloid.New(sink.Config{BaseURL: base}, "demo", "demo")
		require.NoError(t, err)
		_, err = c.Read(context.Background(), nil)
		assert.NoError(t, err, base)
	}
}

func TestBadCredentialsStopTheClient(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := helloid.New(sink.Config{BaseURL: srv.URL}, "demo", "nope")
	require.NoError(t, err)
	_, err = c.Read(context.Background(), nil)
	require.ErrorIs(t, err, sink.ErrUnauthorized)
	_, err = c.Read(context.Background(), nil)
	require.ErrorIs(t, err, plan.ErrStop)
	assert.Equal(t, 1, emu.Stats().Total)
}

func TestCancelledContextSendsNothing(t *testing.T) {
	emu := emulator.New(emulator.Options{Seed: 1})
	require.NoError(t, emu.LoadState(emulator.State{HelloID: emulator.HelloIDState{Groups: []emulator.HelloIDGroup{{GroupGUID: guidA, Name: "Staff"}}}}))
	srv := httptest.NewServer(emu)
	defer srv.Close()
	fresh := func() *helloid.Client { // its first request has no pace to wait for
		c, err := helloid.New(sink.Config{BaseURL: srv.URL, Rate: 1000}, "demo", "demo")
		require.NoError(t, err)
		return c
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fresh().Read(ctx, nil)
	require.ErrorIs(t, err, context.Canceled)
	for range 8 {
		o := fresh().Do(ctx, &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Update, Key: guidA, Name: "Staff",
			Fields: []plan.FieldChange{{Field: "isEnabled", After: plan.Bool(false)}}})
		require.ErrorIs(t, o.Err, context.Canceled)
		assert.Equal(t, plan.Failed, o.Status)
		assert.Zero(t, o.Attempts, "nothing was sent")
	}
	assert.Zero(t, emu.Stats().Total, "no request reached the API")
}

// The client, Diff and the emulator share one identity rule for names
// (plan.NameKey): a name the emulator calls taken is never planned as new.
func TestNamesTheEmulatorCallsTheSameAreOneGroup(t *testing.T) {
	for _, tc := range []struct{ remote, desired string }{
		{"Sales", "ſales"},
		{"kelvin", "\u212Aelvin"},
		{"STRASSE", "Straße"},
	} {
		t.Run(tc.desired, func(t *testing.T) {
			emu, rec, c := setup(t, []emulator.HelloIDGroup{{GroupGUID: guidA, Name: tc.remote}})
			ctx := context.Background()

			// The emulator refuses the desired name as a duplicate...
			ch := &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Create, Name: tc.desired,
				Fields: []plan.FieldChange{{Field: "name", After: plan.Str(tc.desired)}}}
			o := c.Do(ctx, ch)
			require.Error(t, o.Err)
			assert.Equal(t, 400, o.HTTPStatus)

			// ...and the plan does not try to create it.
			cur, err := c.Read(ctx, nil)
			require.NoError(t, err)
			want := plan.Desired{Groups: []plan.Group{{System: plan.HelloID, Name: tc.desired, Fields: map[string]plan.Value{}}}}
			p := plan.Diff(want, map[plan.System]plan.Current{plan.HelloID: cur})
			assert.Empty(t, p.Changes)
			assert.Equal(t, 1, p.Unchanged[plan.HelloID])
			assert.Len(t, rec.seen, 1, "only the refused create was sent")
			assert.Len(t, emu.State().HelloID.Groups, 1)
		})
	}
}

func TestDeleteGroupByGUIDAndReadTheMembersAndSourceFirst(t *testing.T) {
	const guidB = "0b6b2b1e-5a9c-4d57-9d7a-3f1e2d4c5b6a"
	emu, rec, c := setup(t, []emulator.HelloIDGroup{
		{GroupGUID: guidA, Name: "HR A", Users: []string{userA}},
		{GroupGUID: guidB, Name: "HR AD", Source: "AD"},
	})
	ctx := context.Background()
	cur, err := c.Read(ctx, nil)
	require.NoError(t, err)
	require.Len(t, cur.Groups, 2)
	assert.Equal(t, "Local", cur.Groups[0].Origin)
	assert.Equal(t, "AD", cur.Groups[1].Origin)
	assert.Nil(t, cur.Groups[0].Users, "the listing does not fill members")

	require.NoError(t, c.ReadMembers(ctx, &cur, []string{guidA}))
	assert.Equal(t, []string{"f0ce1e44-25e8-4b12-8151-ef3525017647"}, cur.Groups[0].Users)
	assert.Nil(t, cur.Groups[1].Users, "only the groups asked for are read")

	o := c.Do(ctx, &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Delete, Key: guidA, Name: "HR A"})
	require.Equal(t, plan.Succeeded, o.Status, o.Err)
	assert.Equal(t, 200, o.HTTPStatus)
	assert.Equal(t, []string{"DELETE /api/v1/groups/" + guidA + " "}, rec.seen)
	require.Len(t, emu.State().HelloID.Groups, 1)

	o = c.Do(ctx, &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Delete, Key: guidA, Name: "HR A"})
	assert.Equal(t, plan.Failed, o.Status)
	assert.Contains(t, o.Err.Error(), "Group not found")
}

// A create answered 2xx without a groupGuid was made all the same: it
// fails uncertain, so that verify looks for it by name.
func TestCreateAnsweredWithoutAGUIDIsUncertain(t *testing.T) {
	c := client(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{}`))
	}), sink.Config{})
	ch := &plan.Change{System: plan.HelloID, Kind: plan.KindGroup, Action: plan.Create, Name: "Sales",
		Fields: []plan.FieldChange{{Field: "name", After: plan.Str("Sales")}}}
	o := c.Do(context.Background(), ch)
	assert.Equal(t, plan.Failed, o.Status)
	assert.ErrorContains(t, o.Err, "the response has no groupGuid")
	assert.True(t, o.Uncertain)
}

package emulator

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	guidA    = "ef24276a-cf39-44d7-b8e5-1012c0db5178"
	manager  = "f0ce1e44-25e8-4b12-8151-ef3525017647"
	managerU = "F0CE1E44-25E8-4B12-8151-EF3525017647"
	userX    = "11111111-2222-4333-8444-555555555555"
	userY    = "22222222-2222-4333-8444-555555555555"
)

// directory is the HelloID users of helloIDServer.
var directory = []HelloIDUser{{UserGUID: userX, UserName: "xavier@acme.com"}, {UserGUID: userY, UserName: "yara@acme.com"}}

var guidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// helloIDServer has one group, "Sales" with GUID guidA.
func helloIDServer(t *testing.T) *Server {
	t.Helper()
	s, _ := newServer(t, Options{})
	require.NoError(t, s.LoadState(State{HelloID: HelloIDState{Groups: []HelloIDGroup{
		{GroupGUID: guidA, Name: "Sales", IsEnabled: true, ManagedByUserGUID: ptr(manager), Users: []string{userX}},
	}, Users: directory}}))
	return s
}

func TestHelloIDCreate(t *testing.T) {
	s := helloIDServer(t)
	w := call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"NAME":"Support","IsEnabled":true,"isqrenabled":true,"ManagedByUserGuid":"` + managerU + `"}`}, 200)
	assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	g := object(t, w)
	assert.Regexp(t, guidV4, g["groupGuid"])
	delete(g, "groupGuid")
	assert.Equal(t, map[string]any{
		"name": "Support", "isEnabled": true, "isDefault": false, "isQrEnabled": true,
		"managedByUserGuid": manager, "users": []any{}, "source": "Local",
	}, g, "keys match ignoring case; GUIDs come back lowercase; booleans default to false")

	g = object(t, call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"name":"department_x","isEnabled":true,"userGuids":["` + strings.ToUpper(userX) + `"],"userNames":["bob"],"applicationNames":[],"applicationGUIDs":null}`}, 200))
	assert.Equal(t, []any{userX}, g["users"])
	assert.Nil(t, g["managedByUserGuid"])

	tests := []struct{ name, body string }{
		{"name missing", `{"isEnabled":true}`},
		{"name empty", `{"name":""}`},
		{"name blank", `{"name":"  "}`},
		{"name null", `{"name":null}`},
		{"name a number", `{"name":5}`},
		{"duplicate name ignoring case", `{"name":"sALES"}`},
		{"boolean null", `{"name":"n","isEnabled":null}`},
		{"boolean as string", `{"name":"n","isDefault":"true"}`},
		{"manager not a GUID", `{"name":"n","managedByUserGuid":"bob"}`},
		{"manager a number", `{"name":"n","managedByUserGuid":1}`},
		{"unknown key", `{"name":"n","colour":"red"}`},
		{"same key twice in two spellings", `{"name":"n","Name":"m"}`},
		{"user GUIDs not GUIDs", `{"name":"n","userGuids":["bob"]}`},
		{"user names not a list", `{"name":"n","userNames":"bob"}`},
		{"not an object", `["n"]`},
		{"malformed", `{"name":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.State()
			w := call(t, s, req{method: "POST", path: "/api/v1/groups", body: tt.body}, 400)
			assert.NotEmpty(t, object(t, w)["message"])
			assert.Equal(t, before, s.State())
		})
	}
	call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"name":"n"}`, ctype: "text/plain"}, 415)
	call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"name":"n"}`, ctype: "-"}, 415)
}

func TestHelloIDAddressing(t *testing.T) {
	s := helloIDServer(t)
	call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"name":"R&D / Lab"}`}, 200)
	for _, ref := range []string{guidA, strings.ToUpper(guidA), "{" + guidA + "}", "Sales", "sales", "SALES"} {
		g := object(t, call(t, s, req{method: "GET", path: "/api/v1/groups/" + url.PathEscape(ref)}, 200))
		assert.Equal(t, guidA, g["groupGuid"], ref)
		assert.Equal(t, []any{userX}, g["users"])
	}
	g := object(t, call(t, s, req{method: "GET", path: "/api/v1/groups/" + url.PathEscape("r&d / LAB")}, 200))
	assert.Equal(t, "R&D / Lab", g["name"], "names are URL-decoded, slash included")

	w := call(t, s, req{method: "GET", path: "/api/v1/groups/Nobody"}, 404)
	assert.Equal(t, map[string]any{"message": "Group not found"}, object(t, w))
	call(t, s, req{method: "GET", path: "/api/v1/groups/" + userX}, 404)
}

func TestHelloIDGUIDFirstThenName(t *testing.T) {
	s, _ := newServer(t, Options{})
	// A group whose name is another group's GUID: the GUID wins.
	require.NoError(t, s.LoadState(State{HelloID: HelloIDState{Groups: []HelloIDGroup{
		{GroupGUID: userX, Name: guidA},
		{GroupGUID: guidA, Name: "real"},
	}}}))
	g := object(t, call(t, s, req{method: "GET", path: "/api/v1/groups/" + guidA}, 200))
	assert.Equal(t, "real", g["name"])
	call(t, s, req{method: "DELETE", path: "/api/v1/groups/" + guidA}, 200)
	g = object(t, call(t, s, req{method: "GET", path: "/api/v1/groups/" + guidA}, 200))
	assert.Equal(t, userX, g["groupGuid"], "no group has the GUID: the segment is tried as a name")
}

func TestHelloIDPartialPut(t *testing.T) {
	s := helloIDServer(t)
	sales := func() HelloIDGroup { return s.State().HelloID.Groups[0] }
	want := sales()

	g := object(t, call(t, s, req{method: "PUT", path: "/api/v1/groups/" + guidA, body: `{}`}, 200))
	assert.Equal(t, want, sales(), "{} changes nothing")
	assert.Equal(t, "Sales", g["name"])

	call(t, s, req{method: "PUT", path: "/api/v1/groups/sales", body: `{"IsDefault":true}`}, 200)
	want.IsDefault = true
	assert.Equal(t, want, sales(), "only the keys present change")

	call(t, s, req{method: "PUT", path: "/api/v1/groups/" + guidA, body: `{"ManagedByUserGuid":null}`}, 200)
	want.ManagedByUserGUID = nil
	assert.Equal(t, want, sales(), "a null manager clears it")

	g = object(t, call(t, s, req{method: "PUT", path: "/api/v1/groups/" + guidA, body: `{"name":"TestApiRenamed","isEnabled":false,"managedByUserGuid":"` + managerU + `"}`}, 200))
	assert.Equal(t, map[string]any{
		"groupGuid": guidA, "name": "TestApiRenamed", "isEnabled": false, "isDefault": true, "isQrEnabled": false,
		"managedByUserGuid": manager, "users": []any{userX}, "source": "Local",
	}, g, "the answer is the whole group after the change")

	call(t, s, req{method: "PUT", path: "/api/v1/groups/" + guidA, body: `{"name":"TESTAPIRENAMED"}`}, 200)
	assert.Equal(t, "TESTAPIRENAMED", sales().Name, "a group may change the case of its own name")

	call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"name":"Other"}`}, 200)
	for _, body := range []string{
		`{"name":"other"}`, `{"isEnabled":null}`, `{"isQrEnabled":"false"}`, `{"name":""}`, `{"name":null}`,
		`{"managedByUserGuid":"nope"}`, `{"userGuids":[]}`, `{"groupGuid":"` + guidA + `"}`, `[]`,
	} {
		before := s.State()
		w := call(t, s, req{method: "PUT", path: "/api/v1/groups/" + guidA, body: body}, 400)
		assert.NotEmpty(t, object(t, w)["message"], body)
		assert.Equal(t, before, s.State(), body)
	}
	call(t, s, req{method: "PUT", path: "/api/v1/groups/missing", body: `{}`}, 404)
	call(t, s, req{method: "PUT", path: "/api/v1/groups/" + guidA, body: `{}`, ctype: "text/plain"}, 415)
}

func TestHelloIDDelete(t *testing.T) {
	s := helloIDServer(t)
	w := call(t, s, req{method: "DELETE", path: "/api/v1/groups/SALES"}, 200)
	assert.Empty(t, w.Body.String())
	w = call(t, s, req{method: "DELETE", path: "/api/v1/groups/" + guidA}, 404)
	assert.Equal(t, "Group not found", object(t, w)["message"])
	assert.Empty(t, s.State().HelloID.Groups)
}

func TestHelloIDListSkipTake(t *testing.T) {
	s, _ := newServer(t, Options{})
	var st State
	for _, n := range []string{"e", "d", "c", "b", "a"} {
		st.HelloID.Groups = append(st.HelloID.Groups, HelloIDGroup{Name: n})
	}
	require.NoError(t, s.LoadState(st))
	tests := []struct {
		query string
		want  string // names in order
	}{
		{"", "edcba"},
		{"?skip=0&take=2", "ed"},
		{"?take=2&skip=2", "cb"},
		{"?skip=4&take=2", "a"},
		{"?skip=5&take=2", ""},
		{"?skip=99", ""},
		{"?skip=1", "dcba"},
		{"?take=1000", "edcba"},
		{"?Skip=3&TAKE=1", "b"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			list := array(t, call(t, s, req{method: "GET", path: "/api/v1/groups" + tt.query}, 200))
			var names string
			for _, g := range list {
				names += g["name"].(string)
				assert.Regexp(t, guidV4, g["groupGuid"])
				assert.NotContains(t, g, "users", "a listing leaves the members out")
			}
			assert.Equal(t, tt.want, names)
		})
	}
	for _, q := range []string{"?skip=-1", "?skip=x", "?take=0", "?take=-5", "?take=", "?take=1.5"} {
		call(t, s, req{method: "GET", path: "/api/v1/groups" + q}, 400)
	}
}

func TestHelloIDBatchCreate(t *testing.T) {
	s := helloIDServer(t)
	list := array(t, call(t, s, req{method: "POST", path: "/api/v1/groups/batch", body: `[{"Name":"A","IsEnabled":true},{"Name":"B"}]`}, 200))
	require.Len(t, list, 2)
	assert.Equal(t, true, list[0]["isEnabled"])
	assert.Len(t, s.State().HelloID.Groups, 3)

	for _, body := range []string{`[{"Name":"C"},{"Name":"c"}]`, `[{"Name":"D"},{"Name":"sales"}]`, `[{"Name":"E"},{}]`, `[]`, `{"Name":"F"}`} {
		call(t, s, req{method: "POST", path: "/api/v1/groups/batch", body: body}, 400)
	}
	assert.Len(t, s.State().HelloID.Groups, 3, "a bad batch creates nothing")
	// GET of a group named "batch" still works.
	call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"name":"batch"}`}, 200)
	call(t, s, req{method: "GET", path: "/api/v1/groups/batch"}, 200)
}

func TestHelloIDMembership(t *testing.T) {
	s := helloIDServer(t)
	call(t, s, req{method: "POST", path: "/api/v1/groups/Sales/users", body: `{"UserGUID":"` + strings.ToUpper(userY) + `"}`}, 200)
	call(t, s, req{method: "POST", path: "/api/v1/groups/Sales/users", body: `{"userGUID":"` + userY + `"}`}, 200) // idempotent
	assert.Equal(t, []string{userX, userY}, s.State().HelloID.Groups[0].Users)

	call(t, s, req{method: "DELETE", path: "/api/v1/groups/" + guidA + "/users/" + userX}, 200)
	w := call(t, s, req{method: "DELETE", path: "/api/v1/groups/" + guidA + "/users/" + userX}, 400)
	assert.NotEmpty(t, object(t, w)["message"])
	w = call(t, s, req{method: "DELETE", path: "/api/v1/groups/" + guidA + "/users/bob"}, 404)
	assert.Equal(t, "User not found", object(t, w)["message"])

	call(t, s, req{method: "POST", path: "/api/v1/users/" + userX + "/groups", body: `{"groupGuid":"` + guidA + `"}`}, 200)
	assert.Equal(t, []string{userY, userX}, s.State().HelloID.Groups[0].Users)
	call(t, s, req{method: "DELETE", path: "/api/v1/users/" + userX + "/groups/sales"}, 200)
	assert.Equal(t, []string{userY}, s.State().HelloID.Groups[0].Users)

	w = call(t, s, req{method: "POST", path: "/api/v1/users/" + userX + "/groups", body: `{"groupGuid":"` + userY + `"}`}, 404)
	assert.Equal(t, "Group not found", object(t, w)["message"])
	call(t, s, req{method: "POST", path: "/api/v1/groups/nope/users", body: `{"userGUID":"` + userY + `"}`}, 404)
	call(t, s, req{method: "POST", path: "/api/v1/groups/Sales/users", body: `{"userGUID":"bob"}`}, 400)
	call(t, s, req{method: "POST", path: "/api/v1/groups/Sales/users", body: `{"user":"` + userY + `"}`}, 400)
	call(t, s, req{method: "POST", path: "/api/v1/users/bob/groups", body: `{"groupGuid":"` + guidA + `"}`}, 404)
}

func TestHelloIDAuthAndRoutes(t *testing.T) {
	s := helloIDServer(t)
	for _, q := range []req{
		{method: "GET", path: "/api/v1/groups", noAuth: true},
		{method: "GET", path: "/api/v1/groups", user: "demo", pass: "wrong"},
		{method: "GET", path: "/api/v1/groups", user: "other", pass: "demo"},
		{method: "GET", path: "/api/v1/nowhere", noAuth: true},
	} {
		w := call(t, s, q, 401)
		assert.Equal(t, "Authorization has been denied for this request.", object(t, w)["message"])
	}
	// No lockout for HelloID.
	call(t, s, req{method: "GET", path: "/api/v1/groups"}, 200)

	custom, _ := newServer(t, Options{HelloIDKey: "key", HelloIDSecret: "secret"})
	call(t, custom, req{method: "GET", path: "/api/v1/groups", user: "key", pass: "secret"}, 200)
	call(t, custom, req{method: "GET", path: "/api/v1/groups"}, 401)

	w := call(t, s, req{method: "GET", path: "/api/v1/applications"}, 404)
	assert.Contains(t, object(t, w)["message"], "No HTTP resource")
	call(t, s, req{method: "GET", path: "/api/v1"}, 404)
	call(t, s, req{method: "GET", path: "/api/v1/groups/"}, 404)
	w = call(t, s, req{method: "PATCH", path: "/api/v1/groups/Sales", body: `{}`}, 405)
	assert.Equal(t, "GET, PUT, DELETE", w.Header().Get("Allow"))
	assert.NotEmpty(t, object(t, w)["message"])
	call(t, s, req{method: "DELETE", path: "/api/v1/groups"}, 405)
}

func TestHelloIDUsers(t *testing.T) {
	s := helloIDServer(t)
	var page []any
	require.NoError(t, json.Unmarshal(call(t, s, req{method: "GET", path: "/api/v1/users?skip=1&take=1"}, 200).Body.Bytes(), &page))
	assert.Equal(t, []any{map[string]any{"userGuid": userY, "userName": "yara@acme.com"}}, page, "paged with skip/take, a bare array")
	require.NoError(t, json.Unmarshal(call(t, s, req{method: "GET", path: "/api/v1/users?skip=2&take=1"}, 200).Body.Bytes(), &page))
	assert.Empty(t, page)

	assert.Equal(t, "xavier@acme.com", object(t, call(t, s, req{method: "GET", path: "/api/v1/users/XAVIER@acme.com"}, 200))["userName"])
	assert.Equal(t, userY, object(t, call(t, s, req{method: "GET", path: "/api/v1/users/" + strings.ToUpper(userY)}, 200))["userGuid"])
	w := call(t, s, req{method: "GET", path: "/api/v1/users/nobody"}, 404)
	assert.Equal(t, "User not found", object(t, w)["message"])

	const stranger = "33333333-2222-4333-8444-555555555555"
	w = call(t, s, req{method: "POST", path: "/api/v1/groups/Sales/users", body: `{"userGUID":"` + stranger + `"}`}, 404)
	assert.Equal(t, "User not found", object(t, w)["message"], "a GUID that is no user is not linked")
	w = call(t, s, req{method: "POST", path: "/api/v1/groups", body: `{"name":"X","userGuids":["` + userY + `","` + stranger + `"]}`}, 400)
	assert.Contains(t, object(t, w)["message"], stranger)
	assert.Len(t, s.State().HelloID.Groups, 1, "a create naming an unknown user creates nothing")
	call(t, s, req{method: "DELETE", path: "/api/v1/groups/Sales/users/xavier@acme.com"}, 200)
	assert.Equal(t, []string{}, s.State().HelloID.Groups[0].Users, "a user path segment may be the userName")
}

func TestHelloIDStateChecksUsersAndSource(t *testing.T) {
	s, _ := newServer(t, Options{})
	err := s.LoadState(State{HelloID: HelloIDState{Groups: []HelloIDGroup{{Name: "a", Users: []string{userX}}}}})
	require.ErrorContains(t, err, "helloid.groups[0].users[0]: "+userX+" is not a user of helloid.users")
	err = s.LoadState(State{HelloID: HelloIDState{Users: []HelloIDUser{{UserName: "Ann"}, {UserName: "ANN"}}}})
	require.ErrorContains(t, err, `helloid.users[1].userName: "ANN" is also the userName of helloid.users[0]`)
	require.NoError(t, s.LoadState(State{HelloID: HelloIDState{Groups: []HelloIDGroup{{GroupGUID: guidA, Name: "a", Source: "AzureAD"}}}}))
	assert.Equal(t, "AzureAD", object(t, call(t, s, req{method: "GET", path: "/api/v1/groups/" + guidA}, 200))["source"])
}

func TestHelloIDSource(t *testing.T) {
	s, _ := newServer(t, Options{})
	require.NoError(t, s.LoadState(State{HelloID: HelloIDState{Groups: []HelloIDGroup{
		{GroupGUID: guidA, Name: "HR Sales", Source: "AD"},
		{Name: "HR Ops"},
	}}}))
	var list []map[string]any
	w := call(t, s, req{method: "GET", path: "/api/v1/groups?skip=0&take=10"}, 200)
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &list))
	require.Len(t, list, 2)
	assert.Equal(t, "AD", list[0]["source"], "the state's source is listed")
	assert.Equal(t, "Local", list[1]["source"], "a group made in HelloID reports Local")
	assert.Equal(t, "AD", s.State().HelloID.Groups[0].Source, "source survives a state round trip")
	assert.Empty(t, s.State().HelloID.Groups[1].Source)
}

package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLOX24GroupsPagingJSONLD(t *testing.T) {
	s, _ := newServer(t, Options{})
	loadGroups(t, s, 31)

	w := call(t, s, req{method: "GET", path: "/groups"}, 200)
	assert.Equal(t, "application/ld+json; charset=utf-8", w.Header().Get("Content-Type"))
	body := object(t, w)
	assert.Equal(t, "hydra:Collection", body["@type"])
	assert.Equal(t, "/groups", body["@id"])
	assert.Equal(t, "/contexts/Groups", body["@context"])
	assert.EqualValues(t, 31, body["hydra:totalItems"])
	members := body["hydra:member"].([]any)
	require.Len(t, members, 30)
	first := members[0].(map[string]any)
	assert.Equal(t, "/groups/1", first["@id"])
	assert.Equal(t, "Groups", first["@type"])
	assert.NotContains(t, first, "@context", "collection members carry no @context")
	assert.Equal(t, map[string]any{
		"@id": "/groups?page=1", "@type": "hydra:PartialCollectionView",
		"hydra:first": "/groups?page=1", "hydra:last": "/groups?page=2", "hydra:next": "/groups?page=2",
	}, body["hydra:view"])

	body = object(t, call(t, s, req{method: "GET", path: "/groups?page=2&itemsPerPage=100"}, 200))
	assert.EqualValues(t, 31, body["hydra:totalItems"])
	members = body["hydra:member"].([]any)
	require.Len(t, members, 1, "itemsPerPage is ignored")
	assert.EqualValues(t, 31, members[0].(map[string]any)["id"])
	assert.Equal(t, map[string]any{
		"@id": "/groups?page=2", "@type": "hydra:PartialCollectionView",
		"hydra:first": "/groups?page=1", "hydra:last": "/groups?page=2", "hydra:previous": "/groups?page=1",
	}, body["hydra:view"])

	body = object(t, call(t, s, req{method: "GET", path: "/groups?page=3"}, 200))
	assert.Empty(t, body["hydra:member"])
	assert.NotContains(t, body["hydra:view"], "hydra:next")

	// The PHP client's misspelt media type is JSON-LD too.
	body = object(t, call(t, s, req{method: "GET", path: "/groups", accept: "application/json+ld"}, 200))
	assert.Contains(t, body, "hydra:member")
}

func TestLOX24FollowingNextVisitsEveryGroupOnce(t *testing.T) {
	s, _ := newServer(t, Options{})
	loadGroups(t, s, 95)
	seen := map[float64]bool{}
	next, pages := "/groups", 0
	for next != "" {
		pages++
		require.Less(t, pages, 10)
		body := object(t, call(t, s, req{method: "GET", path: next}, 200))
		for _, m := range body["hydra:member"].([]any) {
			id := m.(map[string]any)["id"].(float64)
			require.False(t, seen[id], "group %v seen twice", id)
			seen[id] = true
		}
		next, _ = body["hydra:view"].(map[string]any)["hydra:next"].(string)
	}
	assert.Len(t, seen, 95)
	assert.Equal(t, 4, pages)
}

func TestLOX24GroupsPlainJSONIsOnePageBareArray(t *testing.T) {
	s, _ := newServer(t, Options{})
	loadGroups(t, s, 31)
	for _, accept := range []string{"application/json", "-", "*/*", "text/html;q=0.5, application/json"} {
		t.Run(accept, func(t *testing.T) {
			w := call(t, s, req{method: "GET", path: "/groups", accept: accept}, 200)
			assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
			page := array(t, w)
			require.Len(t, page, 30)
			assert.Equal(t, map[string]any{
				"id": 1.0, "name": "g001", "description": nil,
				"name_a": nil, "name_b": nil, "name_c": nil, "name_d": nil, "name_e": nil,
				"count_items": 0.0, "deleted_at": nil,
			}, page[0])
		})
	}
	page := array(t, call(t, s, req{method: "GET", path: "/groups?page=2", accept: "application/json"}, 200))
	require.Len(t, page, 1)
	assert.EqualValues(t, 31, page[0]["id"])
	assert.Empty(t, array(t, call(t, s, req{method: "GET", path: "/groups?page=9", accept: "application/json"}, 200)))
}

func TestLOX24BadPageOrAccept(t *testing.T) {
	s, _ := newServer(t, Options{})
	loadGroups(t, s, 1)
	for _, path := range []string{"/groups?page=0", "/groups?page=-1", "/groups?page=x", "/groups?page=", "/groups/1/phones?page=0"} {
		w := call(t, s, req{method: "GET", path: path}, 400)
		assert.Equal(t, "Page should not be less than 1", object(t, w)["hydra:description"], path)
	}
	call(t, s, req{method: "GET", path: "/groups", accept: "text/html"}, 406)
	call(t, s, req{method: "GET", path: "/groups", accept: "application/json;q=0"}, 406)
}

func TestLOX24PhonesPaging(t *testing.T) {
	s, _ := newServer(t, Options{})
	g := LOX24Group{ID: 7, Name: "many"}
	for i := range 31 {
		g.Phones = append(g.Phones, LOX24Phone{Phone: fmt.Sprintf("+4915100000%03d", i)})
	}
	require.NoError(t, s.LoadState(State{LOX24: LOX24State{Groups: []LOX24Group{g}}}))

	body := object(t, call(t, s, req{method: "GET", path: "/groups/7/phones"}, 200))
	assert.Equal(t, "/groups/7/phones", body["@id"])
	assert.EqualValues(t, 31, body["hydra:totalItems"])
	require.Len(t, body["hydra:member"], 30)
	assert.Equal(t, "/groups/7/phones?page=2", body["hydra:view"].(map[string]any)["hydra:next"])
	p := body["hydra:member"].([]any)[0].(map[string]any)
	assert.Equal(t, "500000", p["id"], "phone ids are numeric strings")
	assert.Equal(t, "/phones/500000", p["@id"])

	body = object(t, call(t, s, req{method: "GET", path: "/groups/7/phones?page=2"}, 200))
	require.Len(t, body["hydra:member"], 1)
	assert.NotContains(t, body["hydra:view"], "hydra:next")

	page := array(t, call(t, s, req{method: "GET", path: "/groups/7/phones", accept: "application/json"}, 200))
	require.Len(t, page, 30)
	assert.Equal(t, map[string]any{
		"id": "500000", "phone": "+4915100000000", "a": nil, "b": nil, "c": nil, "d": nil, "e": nil,
		"callback_data": nil, "subscribed_at": nil, "unsubscribed_at": nil, "unsubscribe_reason": nil,
	}, page[0])

	call(t, s, req{method: "GET", path: "/groups/8/phones"}, 404)
	call(t, s, req{method: "GET", path: "/groups/x/phones"}, 404)
}

func TestLOX24GroupLifecycle(t *testing.T) {
	s, _ := newServer(t, Options{})
	w := call(t, s, req{method: "POST", path: "/groups", body: `{"name":"My Clients","description":"Best clients","name_a":"prefix"}`}, 201)
	created := object(t, w)
	assert.Equal(t, "/contexts/Groups", created["@context"])
	assert.Equal(t, "/groups/1000", created["@id"])
	assert.Equal(t, "/groups/1000", w.Header().Get("Location"))
	assert.EqualValues(t, 1000, created["id"])
	assert.Equal(t, "Best clients", created["description"])
	assert.Equal(t, "prefix", created["name_a"])
	assert.EqualValues(t, 0, created["count_items"])
	assert.Nil(t, created["deleted_at"])

	got := object(t, call(t, s, req{method: "GET", path: "/groups/1000"}, 200))
	assert.Equal(t, created, got)

	w = call(t, s, req{method: "POST", path: "/groups", body: `{"name":"My Clients"}`}, 201)
	assert.EqualValues(t, 1001, object(t, w)["id"], "ids increase; names need not be unique")

	call(t, s, req{method: "DELETE", path: "/groups/1000"}, 204)
	call(t, s, req{method: "GET", path: "/groups/1000"}, 404)
	call(t, s, req{method: "DELETE", path: "/groups/1000"}, 404)
	call(t, s, req{method: "PUT", path: "/groups/1000", body: `{"name":"x"}`}, 404)
	call(t, s, req{method: "GET", path: "/groups/abc"}, 404)
	call(t, s, req{method: "GET", path: "/groups/-1"}, 404)
}

func TestLOX24PutIsFullReplacement(t *testing.T) {
	s, _ := newServer(t, Options{})
	require.NoError(t, s.LoadState(State{LOX24: LOX24State{Groups: []LOX24Group{{
		ID: 5, Name: "old", Description: ptr("desc"), NameA: ptr("col a"), NameE: ptr("col e"),
		DeletedAt: ptr("2030-01-01T00:00:00+00:00"),
		Phones:    []LOX24Phone{{ID: "9", Phone: "+491"}},
	}}}}))

	body := object(t, call(t, s, req{method: "PUT", path: "/groups/5", body: `{"name":"new","name_b":"b"}`}, 200))
	assert.Equal(t, "new", body["name"])
	assert.Nil(t, body["description"], "an omitted nullable field becomes null")
	assert.Nil(t, body["name_a"])
	assert.Nil(t, body["name_e"])
	assert.Equal(t, "b", body["name_b"])
	assert.EqualValues(t, 1, body["count_items"], "phones absent: list unchanged")
	assert.Equal(t, "2030-01-01T00:00:00+00:00", body["deleted_at"], "deleted_at is read-only")

	// The read-only keys are accepted and ignored.
	body = object(t, call(t, s, req{method: "PUT", path: "/groups/5", body: `{"@id":"/groups/5","id":99,"name":"n","count_items":50,"deleted_at":null}`}, 200))
	assert.EqualValues(t, 5, body["id"])
	assert.EqualValues(t, 1, body["count_items"])
	assert.Equal(t, "2030-01-01T00:00:00+00:00", body["deleted_at"])

	// name is required on PUT too.
	call(t, s, req{method: "PUT", path: "/groups/5", body: `{"description":"d"}`}, 422)
}

func TestLOX24GroupPhonesField(t *testing.T) {
	s, _ := newServer(t, Options{})
	w := call(t, s, req{method: "POST", path: "/groups", body: `{"name":"g","phones":[{"phone":"+491","a":"x"},{"phone":"+491"}]}`}, 201)
	assert.EqualValues(t, 2, object(t, w)["count_items"])
	phones := s.State().LOX24.Groups[0].Phones
	require.Len(t, phones, 2)
	assert.Equal(t, "+491", phones[1].Phone, "duplicate numbers are allowed")

	// PUT with phones (object form, document order) replaces the list.
	w = call(t, s, req{method: "PUT", path: "/groups/1000", body: `{"name":"g","phones":{"z":{"phone":"+49z"},"a":{"phone":"+49a"}}}`}, 200)
	assert.EqualValues(t, 2, object(t, w)["count_items"])
	phones = s.State().LOX24.Groups[0].Phones
	require.Len(t, phones, 2)
	assert.Equal(t, []string{"+49z", "+49a"}, []string{phones[0].Phone, phones[1].Phone})
	call(t, s, req{method: "PUT", path: "/phones/500000", body: `{"phone":"+1"}`}, 404)

	w = call(t, s, req{method: "PUT", path: "/groups/1000", body: `{"name":"g","phones":[]}`}, 200)
	assert.EqualValues(t, 0, object(t, w)["count_items"])

	w = call(t, s, req{method: "PUT", path: "/groups/1000", body: `{"name":"g","phones":[{"phone":""}]}`}, 422)
	assert.Equal(t, "phones[0].phone", object(t, w)["violations"].([]any)[0].(map[string]any)["propertyPath"])
	call(t, s, req{method: "PUT", path: "/groups/1000", body: `{"name":"g","phones":null}`}, 400)
	call(t, s, req{method: "PUT", path: "/groups/1000", body: `{"name":"g","phones":["+49"]}`}, 400)
}

func TestLOX24Violations(t *testing.T) {
	ae := func(n int) string { return strings.Repeat("ä", n) } // two bytes each
	tooLong := func(n int) string {
		return fmt.Sprintf("This value is too long. It should have %d characters or less.", n)
	}
	const blank = "This value should not be blank."
	tests := []struct {
		name, path, body string
		want             []violation // nil: accepted
	}{
		{"group name of 50 two-byte letters", "/groups", `{"name":"` + ae(50) + `"}`, nil},
		{"group name of 51 two-byte letters", "/groups", `{"name":"` + ae(51) + `"}`, []violation{{"name", tooLong(50)}}},
		{"group name missing", "/groups", `{"description":"d"}`, []violation{{"name", blank}}},
		{"group name empty", "/groups", `{"name":""}`, []violation{{"name", blank}}},
		{"group name null", "/groups", `{"name":null}`, []violation{{"name", blank}}},
		{"description of 255", "/groups", `{"name":"n","description":"` + ae(255) + `"}`, nil},
		{"description of 256", "/groups", `{"name":"n","description":"` + ae(256) + `"}`, []violation{{"description", tooLong(255)}}},
		{"column names of 51", "/groups", `{"name":"n","name_a":"` + ae(51) + `","name_e":"` + ae(51) + `"}`,
			[]violation{{"name_a", tooLong(50)}, {"name_e", tooLong(50)}}},
		{"every group violation at once", "/groups", `{"name":"","description":"` + ae(256) + `"}`,
			[]violation{{"name", blank}, {"description", tooLong(255)}}},
		{"phone of 30", "/groups/1/phones", `{"phone":"` + ae(30) + `"}`, nil},
		{"phone of 31", "/groups/1/phones", `{"phone":"` + ae(31) + `"}`, []violation{{"phone", tooLong(30)}}},
		{"phone missing", "/groups/1/phones", `{"a":"x"}`, []violation{{"phone", blank}}},
		{"column value of 1530", "/groups/1/phones", `{"phone":"1","a":"` + ae(1530) + `"}`, nil},
		{"column value of 1531", "/groups/1/phones", `{"phone":"1","c":"` + ae(1531) + `"}`, []violation{{"c", tooLong(1530)}}},
		{"callback_data of 36", "/groups/1/phones", `{"phone":"1","callback_data":"` + ae(36) + `"}`, nil},
		{"callback_data of 37", "/groups/1/phones", `{"phone":"1","callback_data":"` + ae(37) + `"}`, []violation{{"callback_data", tooLong(36)}}},
		{"phone put of 31", "/phones/500000", `{"phone":"` + ae(31) + `"}`, []violation{{"phone", tooLong(30)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newServer(t, Options{})
			require.NoError(t, s.LoadState(State{LOX24: LOX24State{Groups: []LOX24Group{{ID: 1, Name: "g", Phones: []LOX24Phone{{Phone: "1"}}}}}}))
			before := s.State()
			method := "POST"
			if strings.HasPrefix(tt.path, "/phones/") {
				method = "PUT"
			}
			w := serve(s, req{method: method, path: tt.path, body: tt.body})
			if tt.want == nil {
				assert.Contains(t, []int{200, 201}, w.Code, w.Body.String())
				return
			}
			require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
			assert.Equal(t, "application/ld+json; charset=utf-8", w.Header().Get("Content-Type"))
			var lines []string
			var want []any
			for _, v := range tt.want {
				lines = append(lines, v.PropertyPath+": "+v.Message)
				want = append(want, map[string]any{"propertyPath": v.PropertyPath, "message": v.Message})
			}
			assert.Equal(t, map[string]any{
				"@context": "/contexts/ConstraintViolationList", "@type": "ConstraintViolationList",
				"hydra:title": "An error occurred", "hydra:description": strings.Join(lines, "\n"),
				"violations": want,
			}, object(t, w))
			assert.Equal(t, before, s.State(), "a rejected write changes nothing")
		})
	}
}

func TestLOX24BadRequests(t *testing.T) {
	tests := []struct {
		name   string
		q      req
		status int
	}{
		{"malformed JSON", req{method: "POST", path: "/groups", body: `{"name":`}, 400},
		{"trailing data", req{method: "POST", path: "/groups", body: `{"name":"a"} {}`}, 400},
		{"not an object", req{method: "POST", path: "/groups", body: `["name"]`}, 400},
		{"name is a number", req{method: "POST", path: "/groups", body: `{"name":12}`}, 400},
		{"description is a boolean", req{method: "POST", path: "/groups", body: `{"name":"a","description":true}`}, 400},
		{"unknown key", req{method: "POST", path: "/groups", body: `{"name":"a","colour":"red"}`}, 400},
		{"duplicate key", req{method: "POST", path: "/groups", body: `{"name":"a","name":"b"}`}, 400},
		{"read-only keys are accepted", req{method: "POST", path: "/groups", body: `{"@context":"/contexts/Groups","@type":"Groups","id":5,"name":"a","count_items":3,"deleted_at":"2030-01-01T00:00:00Z"}`}, 201},
		{"phone unknown key", req{method: "POST", path: "/groups/1/phones", body: `{"phone":"1","f":"x"}`}, 400},
		{"phone is a number", req{method: "POST", path: "/groups/1/phones", body: `{"phone":491}`}, 400},
		{"phone read-only keys are accepted", req{method: "POST", path: "/groups/1/phones", body: `{"id":"1","phone":"1","subscribed_at":1,"unsubscribe_reason":2}`}, 201},
		{"text/plain body", req{method: "POST", path: "/groups", body: `{"name":"a"}`, ctype: "text/plain"}, 415},
		{"no content type", req{method: "POST", path: "/groups", body: `{"name":"a"}`, ctype: "-"}, 415},
		{"ld+json body", req{method: "POST", path: "/groups", body: `{"name":"a"}`, ctype: "application/ld+json; charset=utf-8"}, 201},
		{"put with text/plain", req{method: "PUT", path: "/groups/1", body: `{"name":"a"}`, ctype: "text/plain"}, 415},
		{"empty body", req{method: "PUT", path: "/phones/500000", ctype: "application/json", header: map[string]string{"Content-Type": "application/json"}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newServer(t, Options{})
			require.NoError(t, s.LoadState(State{LOX24: LOX24State{Groups: []LOX24Group{{ID: 1, Name: "g", Phones: []LOX24Phone{{Phone: "1"}}}}}}))
			w := call(t, s, tt.q, tt.status)
			if tt.status >= 400 {
				body := object(t, w)
				assert.Equal(t, "hydra:Error", body["@type"])
				assert.NotEmpty(t, body["hydra:description"])
			}
		})
	}
}

func TestLOX24PhoneEndpoints(t *testing.T) {
	s, _ := newServer(t, Options{})
	require.NoError(t, s.LoadState(State{LOX24: LOX24State{Groups: []LOX24Group{{ID: 1, Name: "g", Phones: []LOX24Phone{
		{ID: "10", Phone: "+491", A: ptr("a"), CallbackData: ptr("cb"), SubscribedAt: ptr(int64(1700000000)), UnsubscribeReason: ptr(3)},
	}}}}}))

	w := call(t, s, req{method: "POST", path: "/groups/1/phones", body: `{"phone":"+4917663804817","a":"o2"}`}, 201)
	p := object(t, w)
	assert.Equal(t, "500000", p["id"], "new phone ids start at 500000")
	assert.Equal(t, "/phones/500000", w.Header().Get("Location"))
	assert.Equal(t, "/contexts/Phones", p["@context"])
	assert.Equal(t, "Phones", p["@type"])
	assert.Equal(t, "o2", p["a"])

	// PUT replaces the writable fields; subscription fields are read-only.
	p = object(t, call(t, s, req{method: "PUT", path: "/phones/10", accept: "application/json", body: `{"phone":"+492","b":"B","subscribed_at":5}`}, 200))
	assert.Equal(t, map[string]any{
		"id": "10", "phone": "+492", "a": nil, "b": "B", "c": nil, "d": nil, "e": nil,
		"callback_data": nil, "subscribed_at": 1700000000.0, "unsubscribed_at": nil, "unsubscribe_reason": 3.0,
	}, p)

	w = call(t, s, req{method: "GET", path: "/phones/10"}, 405)
	assert.Equal(t, "PUT, DELETE", w.Header().Get("Allow"))

	call(t, s, req{method: "DELETE", path: "/phones/10"}, 204)
	call(t, s, req{method: "DELETE", path: "/phones/10"}, 404)
	call(t, s, req{method: "PUT", path: "/phones/10", body: `{"phone":"1"}`}, 404)
	call(t, s, req{method: "POST", path: "/groups/2/phones", body: `{"phone":"1"}`}, 404)
	assert.EqualValues(t, 1, object(t, call(t, s, req{method: "GET", path: "/groups/1"}, 200))["count_items"])

	// Deleting the group deletes its phones.
	call(t, s, req{method: "DELETE", path: "/groups/1"}, 204)
	call(t, s, req{method: "DELETE", path: "/phones/500000"}, 404)
}

func TestLOX24Batch(t *testing.T) {
	s, _ := newServer(t, Options{})
	loadGroups(t, s, 1)
	body := `[{"phone":"+93701234567","a":"Mr. ","b":"Smith"}, {"phone":"` + strings.Repeat("9", 31) + `"}, "+49", {"phone":"+93701234567"}]`
	w := call(t, s, req{method: "POST", path: "/groups/1/phones/batch", body: body}, 201)
	out := object(t, w)
	assert.Equal(t, "hydra:Collection", out["@type"])
	assert.Equal(t, "/groups/1/phones/batch", out["@id"])
	assert.EqualValues(t, 4, out["hydra:totalItems"])
	members := out["hydra:member"].([]any)
	require.Len(t, members, 4)
	status := func(i int) float64 { return members[i].(map[string]any)["status"].(float64) }
	itemBody := func(i int) map[string]any { return members[i].(map[string]any)["body"].(map[string]any) }
	assert.EqualValues(t, 201, status(0))
	assert.Equal(t, "+93701234567", itemBody(0)["phone"])
	assert.Equal(t, "Smith", itemBody(0)["b"])
	assert.EqualValues(t, 422, status(1))
	assert.Equal(t, "ConstraintViolationList", itemBody(1)["@type"])
	assert.Equal(t, "phone", itemBody(1)["violations"].([]any)[0].(map[string]any)["propertyPath"])
	assert.EqualValues(t, 400, status(2))
	assert.Equal(t, "hydra:Error", itemBody(2)["@type"])
	assert.EqualValues(t, 201, status(3), "a duplicate number is its own entry")
	assert.NotEqual(t, itemBody(0)["id"], itemBody(3)["id"])

	assert.EqualValues(t, 2, object(t, call(t, s, req{method: "GET", path: "/groups/1"}, 200))["count_items"])

	call(t, s, req{method: "POST", path: "/groups/1/phones/batch", body: `[]`}, 400)
	call(t, s, req{method: "POST", path: "/groups/1/phones/batch", body: `{"phone":"1"}`}, 400)
	call(t, s, req{method: "POST", path: "/groups/2/phones/batch", body: `[{"phone":"1"}]`}, 404)
	call(t, s, req{method: "GET", path: "/groups/1/phones/batch"}, 405)
}

func TestLOX24Auth(t *testing.T) {
	s, _ := newServer(t, Options{LOX24Token: "1234567:secret"})
	call(t, s, req{method: "GET", path: "/groups", token: "1234567:secret"}, 200)
	call(t, s, req{method: "GET", path: "/groups", token: "-", header: map[string]string{
		"X-LOX24-CLIENT-ID": "1234567", "X-LOX24-AUTH-TOKEN": "secret",
	}}, 200)

	for _, q := range []req{
		{method: "GET", path: "/groups", token: "-"},
		{method: "GET", path: "/groups", token: "1234567:wrong", remote: otherIP},
		{method: "GET", path: "/groups", token: "secret", header: map[string]string{"X-LOX24-CLIENT-ID": "7654321"}, remote: "192.0.2.30:1"},
		{method: "GET", path: "/nowhere", token: "-", remote: "192.0.2.40:1"},
	} {
		w := call(t, s, q, 401)
		assert.Equal(t, map[string]any{
			"@context": "/contexts/Error", "@type": "hydra:Error", "hydra:title": "An error occurred",
			"hydra:description": "Client ID or API key isn't active or invalid!",
		}, object(t, w))
	}
}

func TestLOX24Lockout(t *testing.T) {
	s, clock := newServer(t, Options{})
	bad := req{method: "GET", path: "/groups", token: "demo:wrong"}
	good := req{method: "GET", path: "/groups"}

	for range 4 {
		call(t, s, bad, 401) // the 4th crosses the limit but is still a 401
		clock.Advance(time.Second)
	}
	w := call(t, s, good, 429)
	assert.Contains(t, object(t, w)["hydra:description"], "temporary blocked")
	call(t, s, bad, 429)
	call(t, s, req{method: "POST", path: "/groups", body: `{"name":"x"}`}, 429)
	assert.Empty(t, s.State().LOX24.Groups, "a locked-out request changes nothing")

	// Other addresses and HelloID are unaffected.
	call(t, s, req{method: "GET", path: "/groups", remote: otherIP}, 200)
	call(t, s, req{method: "GET", path: "/api/v1/groups"}, 200)

	// The clock is 1s past the 4th failure; the block ends 10 minutes after it.
	clock.Advance(10*time.Minute - 2*time.Second)
	call(t, s, good, 429)
	clock.Advance(time.Second)
	call(t, s, good, 200)
}

func TestLOX24LockoutNeedsFourFailuresWithinAMinute(t *testing.T) {
	s, clock := newServer(t, Options{})
	bad := req{method: "GET", path: "/groups", token: "-"}
	for range 6 {
		call(t, s, bad, 401)
		clock.Advance(25 * time.Second) // never more than 3 within a minute
	}
	call(t, s, req{method: "GET", path: "/groups"}, 200)
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

func TestLOX24RequestIDOnEveryResponse(t *testing.T) {
	s, _ := newServer(t, Options{})
	loadGroups(t, s, 1)
	seen := map[string]bool{}
	check := func(t *testing.T, s *Server, q req, status int) {
		t.Helper()
		w := call(t, s, q, status)
		id := w.Header().Get("X-LOX24-REQUEST-ID")
		assert.Regexp(t, requestIDPattern, id)
		assert.False(t, seen[id], "request ids are fresh")
		seen[id] = true
	}
	check(t, s, req{method: "GET", path: "/groups"}, 200)
	check(t, s, req{method: "POST", path: "/groups", body: `{"name":"x"}`}, 201)
	check(t, s, req{method: "DELETE", path: "/groups/1"}, 204)
	check(t, s, req{method: "GET", path: "/groups/1"}, 404)
	check(t, s, req{method: "GET", path: "/nowhere"}, 404)
	check(t, s, req{method: "PATCH", path: "/groups/1"}, 405)
	check(t, s, req{method: "POST", path: "/groups", body: `{}`}, 422)
	check(t, s, req{method: "POST", path: "/groups", body: `{`}, 400)
	check(t, s, req{method: "GET", path: "/groups", accept: "text/csv"}, 406)
	check(t, s, req{method: "GET", path: "/groups", token: "-", remote: otherIP}, 401)

	failing, _ := newServer(t, Options{FailRate: 1, Seed: 1})
	check(t, failing, req{method: "GET", path: "/groups"}, 503)
	redirecting, _ := newServer(t, Options{Redirect: "http://127.0.0.1:1", Seed: 2})
	check(t, redirecting, req{method: "GET", path: "/groups"}, 307)

	// HelloID responses carry none.
	w := call(t, s, req{method: "GET", path: "/api/v1/groups"}, 200)
	assert.Empty(t, w.Header().Get("X-LOX24-REQUEST-ID"))
}

func TestLOX24UnknownRoutes(t *testing.T) {
	s, _ := newServer(t, Options{})
	for _, path := range []string{"/", "/groups/", "/groups//phones", "/me", "/groups/1/phones/batch/x", "/phones"} {
		w := call(t, s, req{method: "GET", path: path}, 404)
		assert.Equal(t, "hydra:Error", object(t, w)["@type"], path)
	}
	w := call(t, s, req{method: "DELETE", path: "/groups"}, 405)
	assert.Equal(t, "GET, POST", w.Header().Get("Allow"))
}

func TestLOX24IDsFromState(t *testing.T) {
	s, _ := newServer(t, Options{})
	require.NoError(t, s.LoadState(State{LOX24: LOX24State{Groups: []LOX24Group{
		{Name: "no id"}, {ID: 5000, Name: "high"},
	}}}))
	st := s.State()
	require.Len(t, st.LOX24.Groups, 2)
	assert.Equal(t, int64(5000), st.LOX24.Groups[0].ID, "groups are listed in id order")
	assert.Equal(t, int64(5001), st.LOX24.Groups[1].ID, "missing ids come after the largest given one")
	w := call(t, s, req{method: "POST", path: "/groups", body: `{"name":"new"}`}, 201)
	assert.EqualValues(t, 5002, object(t, w)["id"])
}

func TestLOX24DeleteGroupDeletesItsMembers(t *testing.T) {
	s, _ := newServer(t, Options{})
	require.NoError(t, s.LoadState(State{LOX24: LOX24State{Groups: []LOX24Group{
		{ID: 7, Name: "HR Sales", Phones: []LOX24Phone{{ID: "70", Phone: "+4915112345678"}, {ID: "71", Phone: "+4915112345679"}}},
		{ID: 8, Name: "HR Ops", Phones: []LOX24Phone{{ID: "80", Phone: "+4915112345670"}}},
	}}}))
	call(t, s, req{method: "DELETE", path: "/groups/7"}, 204)
	call(t, s, req{method: "GET", path: "/groups/7/phones"}, 404)
	call(t, s, req{method: "DELETE", path: "/phones/70"}, 404)
	call(t, s, req{method: "PUT", path: "/phones/71", body: `{"phone":"+4915112345679"}`}, 404)
	st := s.State()
	require.Len(t, st.LOX24.Groups, 1)
	assert.Equal(t, "HR Ops", st.LOX24.Groups[0].Name)
	assert.Len(t, st.LOX24.Groups[0].Phones, 1, "the other group keeps its members")
}

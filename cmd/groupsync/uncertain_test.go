package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"groupsync/internal/plan"
)

// The demo's HelloID groups Marketing and HR.
const (
	marketingGUID = "5d2e8f14-6a3b-4c7d-9e0f-1a2b3c4d5e6f"
	hrGUID        = "8c1d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f"
)

// lossyHelloID stands between groupsync and the emulator's HelloID:
//   - the create of "Finance" (sent with its users) is carried out when
//     applyCreate is set, and its answer is lost either way; the next
//     checks listings of the groups after it are answered 503, so that the
//     check of whether the create happened fails;
//   - the first PUT to Marketing is carried out and its answer lost; every
//     later one is answered 503;
//   - the PUT to HR is carried out, but answered 422: a certain failure,
//     though the group ends up as wanted.
func lossyHelloID(t *testing.T, w *world, applyCreate bool, checks int) string {
	var mu sync.Mutex
	lost, failed, puts := false, 0, 0
	forward := func(req *http.Request, body []byte) {
		req.Body = io.NopCloser(bytes.NewReader(body))
		w.emu.ServeHTTP(httptest.NewRecorder(), req)
	}
	loseAnswer := func(rw http.ResponseWriter) {
		conn, _, err := rw.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		defer mu.Unlock()
		switch {
		case req.Method == http.MethodPost && req.URL.Path == "/api/v1/groups" && bytes.Contains(body, []byte(`"Finance"`)):
			if applyCreate {
				forward(req, body)
			}
			lost = true
			loseAnswer(rw)
			return
		case req.Method == http.MethodGet && req.URL.Path == "/api/v1/groups" && lost && failed < checks:
			failed++
			http.Error(rw, `{"message":"unavailable"}`, http.StatusServiceUnavailable)
			return
		case req.Method == http.MethodPut && req.URL.Path == "/api/v1/groups/"+marketingGUID:
			puts++
			if puts == 1 {
				forward(req, body)
				loseAnswer(rw)
				return
			}
			http.Error(rw, `{"message":"unavailable"}`, http.StatusServiceUnavailable)
			return
		case req.Method == http.MethodPut && req.URL.Path == "/api/v1/groups/"+hrGUID:
			forward(req, body)
			http.Error(rw, `{"message":"refused"}`, http.StatusUnprocessableEntity)
			return
		}
		w.emu.ServeHTTP(rw, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// helloIDItem returns the report's HelloID item that is a group named
// name, or a member user of it.
func helloIDItem(t *testing.T, rep *plan.Report, kind plan.Kind, name, user string) plan.Item {
	t.Helper()
	for _, it := range rep.Items {
		if it.System == plan.HelloID && it.Kind == kind && it.Name == name && it.User == user {
			return it
		}
	}
	t.Fatalf("no helloid %s %q %q in the report", kind, name, user)
	return plan.Item{}
}

func TestVerifyDecidesUncertainFailures(t *testing.T) {
	t.Parallel()
	const attempts = 3
	w := newWorld(t)
	env := append(w.env(), "HELLOID_URL="+lossyHelloID(t, w, true, attempts))
	report := filepath.Join(w.dir, "report.json")
	r := runCLI(t, env, append([]string{"apply", "--yes", "--max-attempts", "3", "--report", report}, w.files...)...)
	assert.Equal(t, exitFailed, r.code, "HR's update was refused: %s", r.stderr)
	rep := readReport(t, report)

	create := helloIDItem(t, &rep, plan.KindGroup, "Finance", "")
	assert.Equal(t, plan.Succeeded, create.Status, "the create whose check failed was applied: %+v", create)
	assert.True(t, create.Verified)
	assert.True(t, create.Uncertain)
	assert.Empty(t, create.Error)
	assert.NotEmpty(t, create.NewKey, "the id the re-read found")
	for _, user := range []string{"dave@acme.example", "tom@acme.example"} {
		m := helloIDItem(t, &rep, plan.KindUser, "Finance", user)
		assert.Equal(t, plan.Succeeded, m.Status, "a member sent with the create: %+v", m)
		assert.True(t, m.Verified)
		assert.Equal(t, create.NewKey, m.Group)
	}

	upd := helloIDItem(t, &rep, plan.KindGroup, "Marketing", "")
	assert.Equal(t, plan.Succeeded, upd.Status, "the update whose answer was lost was applied: %+v", upd)
	assert.True(t, upd.Verified)
	assert.True(t, upd.Uncertain)
	assert.Equal(t, attempts, upd.Attempts)

	refused := helloIDItem(t, &rep, plan.KindGroup, "HR", "")
	assert.Equal(t, plan.Failed, refused.Status, "a refused write stays failed, though the group is as wanted")
	assert.False(t, refused.Verified)
	assert.False(t, refused.Uncertain)
	assert.Contains(t, refused.Error, "HTTP 422")

	assert.Equal(t, 1, rep.Summary.Failed)
	assert.Equal(t, 1, rep.Systems[plan.HelloID].Failed)
	assert.Empty(t, rep.Systems[plan.HelloID].Error)
	finance := 0
	for _, g := range w.emu.State().HelloID.Groups {
		if strings.EqualFold(g.Name, "Finance") {
			finance++
		}
	}
	assert.Equal(t, 1, finance, "created once")

	replan := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, w.files...)...)
	assert.Equal(t, exitOK, replan.code, replan.stdout+replan.stderr)
}

func TestVerifyKeepsTheErrorOfAnUncertainFailureItCannotConfirm(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// The create's answer is lost, but it was never carried out.
	env := append(w.env(), "HELLOID_URL="+lossyHelloID(t, w, false, 3))
	report := filepath.Join(w.dir, "report.json")
	r := runCLI(t, env, append([]string{"apply", "--yes", "--max-attempts", "3", "--report", report}, w.files...)...)
	assert.Equal(t, exitFailed, r.code, r.stderr)
	rep := readReport(t, report)

	create := helloIDItem(t, &rep, plan.KindGroup, "Finance", "")
	assert.Equal(t, plan.Failed, create.Status)
	assert.True(t, create.Uncertain)
	assert.False(t, create.Verified)
	assert.Contains(t, create.Error, "checking whether it happened anyway failed", "its own error, not %q", plan.NotObserved)
	for _, user := range []string{"dave@acme.example", "tom@acme.example"} {
		m := helloIDItem(t, &rep, plan.KindUser, "Finance", user)
		assert.Equal(t, plan.Failed, m.Status)
		assert.Equal(t, create.Error, m.Error)
	}
	assert.Equal(t, 4, rep.Summary.Failed, "Finance, its two users, HR")

	replan := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, w.files...)...)
	assert.Equal(t, exitPending, replan.code, "Finance is still to create")
}

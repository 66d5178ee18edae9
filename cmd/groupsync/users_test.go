package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
)

// members returns the userNames of a HelloID group's members in the
// emulator, sorted.
func members(t *testing.T, st emulator.State, name string) []string {
	t.Helper()
	names := map[string]string{}
	for _, u := range st.HelloID.Users {
		names[u.UserGUID] = u.UserName
	}
	for _, g := range st.HelloID.Groups {
		if g.Name == name {
			out := []string{}
			for _, u := range g.Users {
				out = append(out, names[u])
			}
			slices.Sort(out)
			return out
		}
	}
	t.Fatalf("no helloid group %q", name)
	return nil
}

func TestHelloIDMembersApplyReplanReapply(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := runCLI(t, w.env(), append([]string{"plan"}, w.files...)...)
	require.Equal(t, exitOK, p.code, p.stderr)
	assert.Contains(t, p.stdout, "    group 3b1f6c2e-8d4a-4f7b-9c1e-2a5d7e9f0b13 \"Sales\"\n      members: +1 ~0 -0\n      + user bob@acme.example  (")
	assert.Contains(t, p.stdout, "  + group \"Finance\"")
	assert.Contains(t, p.stdout, "      + user tom@acme.example  (")
	stats := w.emu.Stats().Systems["helloid"].ByRoute
	assert.Equal(t, 2, stats["GET /api/v1/users"], "one listing of the directory: a page, then the empty page that ends it")
	assert.Equal(t, 3, stats["GET /api/v1/groups/{group}"], "one GET per existing group that manages users: Sales, Marketing, HR (Finance is new)")

	report := filepath.Join(w.dir, "report.json")
	w.emu.ResetStats()
	apply := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, w.files...)...)
	require.Equal(t, exitOK, apply.code, apply.stderr)
	st := w.emu.State()
	assert.Equal(t, []string{"alice@acme.example", "bob@acme.example"}, members(t, st, "Sales"))
	assert.Equal(t, []string{"carol@acme.example", "dave@acme.example"}, members(t, st, "Marketing"))
	assert.Equal(t, []string{"dave@acme.example", "tom@acme.example"}, members(t, st, "Finance"))
	assert.Equal(t, []string{"carol@acme.example", "mia@acme.example"}, members(t, st, "HR"))
	routes := w.emu.Stats().Systems["helloid"].ByRoute
	assert.Equal(t, 2, routes["POST /api/v1/groups"], "Finance and Contractors: each created in one request, Finance with its users")
	assert.Equal(t, 5, routes["POST /api/v1/groups/{group}/users"], "bob to Sales, carol and dave to Marketing, mia and carol to HR")

	replan := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, w.files...)...)
	require.Equal(t, exitOK, replan.code, replan.stdout+replan.stderr)
	assert.Contains(t, replan.stdout, "No changes.")

	w.emu.ResetStats()
	again := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, w.files...)...)
	require.Equal(t, exitOK, again.code, again.stderr)
	assert.Zero(t, w.emu.Stats().Systems["helloid"].Writes, "a re-run sends no writes")
}

func TestHelloIDUserErrorsNameTheirLine(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	files := writeFiles(t, w.dir, map[string]string{
		"u.yaml": "helloid:\n  groups:\n    - name: Sales\n      users: u.csv\n    - name: IT Admins\n      users: [carol@acme.example]\n",
		"u.csv":  "user\nalice@acme.example\nnobody@acme.example\n",
	}, "u.yaml")
	p := runCLI(t, w.env(), append([]string{"plan"}, files...)...)
	assert.Equal(t, exitFatal, p.code)
	assert.Contains(t, p.stdout, "u.csv:3")
	assert.Contains(t, p.stdout, `user "nobody@acme.example" does not exist in helloid`)
	assert.Contains(t, p.stdout, `synced from source "AzureAD"`)
	assert.Contains(t, p.stdout, "allow_external_source")

	files = writeFiles(t, w.dir, map[string]string{
		"ok.yaml": "helloid:\n  groups:\n    - name: IT Admins\n      users: [carol@acme.example, alice@acme.example]\n      allow_external_source: true\n",
	}, "ok.yaml")
	apply := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", filepath.Join(w.dir, "r.json")}, files...)...)
	require.Equal(t, exitOK, apply.code, apply.stdout+apply.stderr)
	assert.Equal(t, []string{"alice@acme.example", "carol@acme.example"}, members(t, w.emu.State(), "IT Admins"))
}

func TestHelloIDUnlinkGuardAndSavedPlanStale(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// A group of 10 members, of which the file keeps one.
	var users, refs []string
	st := w.emu.State()
	for i := range 10 {
		guid := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		st.HelloID.Users = append(st.HelloID.Users, emulator.HelloIDUser{UserGUID: guid, UserName: fmt.Sprintf("u%d@acme.example", i)})
		users = append(users, guid)
		refs = append(refs, fmt.Sprintf("u%d@acme.example", i))
	}
	for i := range st.HelloID.Groups {
		if st.HelloID.Groups[i].Name == "Support" {
			st.HelloID.Groups[i].Users = users
		}
	}
	require.NoError(t, w.emu.LoadState(st))
	files := writeFiles(t, w.dir, map[string]string{
		"few.yaml": "helloid:\n  groups:\n    - name: Support\n      users: [" + refs[0] + "]\n",
	}, "few.yaml")
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, files...)...)
	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stderr, "deletes 9 of its 10 members")
	assert.Zero(t, w.emu.Stats().Systems["helloid"].Writes)

	// Saved plan: keep 8 (2 unlinks); someone unlinks one of them meanwhile.
	files = writeFiles(t, w.dir, map[string]string{
		"most.yaml": "helloid:\n  groups:\n    - name: Support\n      users: [" + strings.Join(refs[:8], ", ") + "]\n",
	}, "most.yaml")
	saved := filepath.Join(w.dir, "plan.json")
	p := runCLI(t, w.env(), append([]string{"plan", "--out", saved}, files...)...)
	require.Equal(t, exitOK, p.code, p.stderr)
	st = w.emu.State()
	for i := range st.HelloID.Groups {
		if st.HelloID.Groups[i].Name == "Support" {
			st.HelloID.Groups[i].Users = users[:9]
		}
	}
	require.NoError(t, w.emu.LoadState(st))
	a := runCLI(t, w.env(), "apply", "--yes", "--report", report, "--plan", saved)
	assert.Equal(t, exitFailed, a.code, a.stderr)
	assert.Contains(t, a.stderr, "is no longer a member")
	assert.Len(t, members(t, w.emu.State(), "Support"), 8, "the other unlink was applied")
}

func TestExportMembersReadsBackToNoChanges(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	st := w.emu.State()
	// A userName that a file cannot hold as it is (trailing space) is written as its GUID.
	st.HelloID.Users = append(st.HelloID.Users, emulator.HelloIDUser{UserGUID: "e2a7c5d4-5f6b-4c93-8e3f-4a5b6c7d8e9f", UserName: "spaced "})
	st.HelloID.Groups[1].Users = append(st.HelloID.Groups[1].Users, "e2a7c5d4-5f6b-4c93-8e3f-4a5b6c7d8e9f")
	require.NoError(t, w.emu.LoadState(st))

	yaml, _, stderr := exportThenPlan(t, w, false, "--members")
	assert.Contains(t, yaml, "      name: Sales\n")
	assert.Contains(t, yaml, "      users:\n        - alice@acme.example\n        - e2a7c5d4-5f6b-4c93-8e3f-4a5b6c7d8e9f\n")
	assert.Contains(t, yaml, "      users: []\n", "a group without members is managed as empty")
	assert.Contains(t, stderr, `members are not exported (unmanaged): source "AzureAD" syncs them`)
	assert.Contains(t, yaml, "phones: members-12344.csv", "--members includes the LOX24 phones")
	routes := w.emu.Stats().Systems["helloid"].ByRoute
	assert.Equal(t, 4, routes["GET /api/v1/users"], "one listing of the directory (a page and an empty one) by export, one by the plan that reads it back")
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
)

// withNewGroupMembers adds to w's files a LOX24 group that is created
// with two members.
func withNewGroupMembers(t *testing.T, w *world) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, "new.yaml"), []byte("lox24:\n  groups:\n    - name: New Members\n      phones: new.csv\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, "new.csv"), []byte("phone,a\n+4915100000001,One\n+4915100000002,Two\n"), 0o600))
	w.files = append(w.files, filepath.Join(w.dir, "new.yaml"))
}

// pointTo returns env with both URLs set to url.
func pointTo(env []string, url string) []string {
	return append(append([]string{}, env...), "LOX24_URL="+url, "HELLOID_URL="+url)
}

func totalWrites(emu *emulator.Server) int {
	st := emu.Stats()
	return st.Systems["lox24"].Writes + st.Systems["helloid"].Writes
}

// After apply, verify reads again exactly the touched groups (and the
// members of those whose members changed), and finds every item. The LOX24
// groups' records come from the listing, one page where a GET each would be
// more requests; the HelloID ones, few against the listing's pages and the
// empty one that ends it, one GET each.
func TestVerifyReReadsOnlyTheTouchedGroups(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	report := filepath.Join(w.dir, "r.json")
	plan0 := runCLI(t, w.env(), append([]string{"plan"}, w.files...)...)
	require.Equal(t, exitOK, plan0.code, plan0.stderr)
	planReads := w.emu.Stats()
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, w.files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	rep := readReport(t, report)
	assert.Equal(t, rep.Summary.Succeeded, rep.Summary.Verified)
	for _, it := range rep.Items {
		assert.True(t, it.Verified, "%+v", it)
	}
	touched := plan.Touched(&rep)
	st := w.emu.Stats()
	lox, hid := st.Systems["lox24"].ByRoute, st.Systems["helloid"].ByRoute
	require.Greater(t, len(touched[plan.LOX24]), planReads.Systems["lox24"].ByRoute["GET /groups"], "more touched groups than listing pages")
	assert.Zero(t, lox["GET /groups/{id}"], "no GET per touched LOX24 group")
	assert.Equal(t, len(touched[plan.HelloID])+2*planReads.Systems["helloid"].ByRoute["GET /api/v1/groups/{group}"],
		hid["GET /api/v1/groups/{group}"], "the plan's member reads, then one GET per touched HelloID group")
	assert.Equal(t, 3*planReads.Systems["lox24"].ByRoute["GET /groups"], lox["GET /groups"], "the plan's listing, apply's, then verify's")
	withMembers := 0
	for _, ref := range touched[plan.LOX24] {
		if ref.Members {
			withMembers++
		}
	}
	require.Positive(t, withMembers, "the samples change members")
	assert.Equal(t, 2*planReads.Systems["lox24"].ByRoute["GET /groups/{id}/phones"]+withMembers, lox["GET /groups/{id}/phones"],
		"the plan's member reads, then once per group whose members changed")

	w.emu.ResetStats()
	none := runCLI(t, w.env(), append([]string{"apply", "--yes", "--no-verify", "--report", report}, w.files...)...)
	require.Equal(t, exitOK, none.code, none.stderr)
	again := w.emu.Stats().Systems["lox24"].ByRoute
	assert.Equal(t, planReads.Systems["lox24"].ByRoute["GET /groups"], again["GET /groups"], "--no-verify reads nothing back: apply's listing only")
	assert.Zero(t, again["GET /groups/{id}"], "--no-verify reads nothing back")
}

// A write the API acknowledges but does not apply is caught by verify: the
// item fails with the contract's words and apply exits 3. The LOX24 groups
// are re-read from the listing (cheaper here than a GET each), and it
// catches them as a GET would.
func TestVerifyCatchesAWriteThatDidNotStick(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	drop := emulator.New(emulator.Options{Seed: 7, DropRate: 1})
	require.NoError(t, drop.LoadState(w.emu.State()))
	url, stop, err := drop.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, pointTo(w.env(), url), append([]string{"apply", "--yes", "--report", report}, w.files...)...)
	assert.Equal(t, exitFailed, r.code, r.stderr)
	rep := readReport(t, report)
	require.Positive(t, rep.Summary.Planned)
	assert.Zero(t, rep.Summary.Verified)
	for _, it := range rep.Items {
		if it.Status == plan.Failed && it.Error == plan.NotObserved {
			continue
		}
		// Members of a group whose create was dropped fail on the missing group.
		assert.Equal(t, plan.Kind(plan.KindPhone), it.Kind, "%+v", it)
		assert.Equal(t, plan.Failed, it.Status, "%+v", it)
	}
	assert.Contains(t, r.stderr, plan.NotObserved)
	loxGroups := 0
	for _, it := range rep.Items {
		if it.System == plan.LOX24 && it.Kind == plan.KindGroup {
			loxGroups++
			assert.Equal(t, plan.NotObserved, it.Error, "%+v", it)
		}
	}
	require.Greater(t, loxGroups, 1)
	assert.Zero(t, drop.Stats().Systems["lox24"].ByRoute["GET /groups/{id}"], "the LOX24 groups were re-read from the listing")
}

// Retry replays exactly the failed and skipped items: one write per item
// (one per batch for added members), none for what succeeded, and the
// state then matches the files.
// Which writes a drop rate below 1 loses depends on the order the two
// systems' requests reach the emulator, so the test asserts in terms of
// what the first report says failed, whatever that is; a drop rate of 1
// loses every write, group creates included, and is the same every time.
func TestRetryFailedSendsExactlyTheFailedWrites(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.5, 1} {
		t.Run(fmt.Sprint("drop rate ", rate), func(t *testing.T) {
			t.Parallel()
			retryFailedWrites(t, rate)
		})
	}
}

func retryFailedWrites(t *testing.T, rate float64) {
	w := newWorld(t)
	withNewGroupMembers(t, w)
	// Writes are acknowledged and not applied: verify fails them.
	flaky := emulator.New(emulator.Options{Seed: 11, DropRate: rate})
	require.NoError(t, flaky.LoadState(w.emu.State()))
	url, stop, err := flaky.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	first := filepath.Join(w.dir, "first.json")
	r := runCLI(t, pointTo(w.env(), url), append([]string{"apply", "--yes", "--lox24-workers", "1", "--report", first}, w.files...)...)
	rep := readReport(t, first)
	if rep.Summary.Failed > 0 {
		require.Equal(t, exitFailed, r.code, r.stderr)
	} else {
		require.Equal(t, exitOK, r.code, r.stderr)
	}
	if rate == 1 {
		require.Zero(t, rep.Summary.Verified)
		created := 0
		for _, it := range rep.Items {
			assert.Equal(t, plan.Failed, it.Status, "%+v", it)
			if it.Kind == plan.KindGroup && it.Action == plan.Create && it.System == plan.LOX24 {
				created++
				assert.Equal(t, plan.NotObserved, it.Error, "%+v", it)
			}
		}
		require.Positive(t, created, "a LOX24 group create is lost")
	}

	// The retry runs against the state the first run left, without faults.
	require.NoError(t, w.emu.LoadState(flaky.State()))
	w.emu.ResetStats()
	want := 0
	batches := map[string]bool{}
	for _, it := range rep.Items {
		if it.Status != plan.Failed && it.Status != plan.Skipped {
			continue
		}
		if it.Kind == plan.KindUser && it.Action == plan.Create && it.DependsOn > 0 {
			if d := rep.Items[it.DependsOn-1]; d.Status == plan.Failed || d.Status == plan.Skipped {
				continue // sent in the body of its group's create (userGuids)
			}
		}
		if it.Kind == plan.KindPhone && it.Action == plan.Create {
			g := it.Group
			if g == "" {
				g = rep.Items[it.DependsOn-1].Name
			}
			if !batches[g] {
				batches[g] = true
				want++
			}
			continue
		}
		want++
	}
	second := filepath.Join(w.dir, "second.json")
	retry := runCLI(t, w.env(), "apply", "--yes", "--retry-failed", first, "--report", second)
	require.Equal(t, exitOK, retry.code, retry.stderr)
	assert.NotContains(t, retry.stderr, "stale, will not be written")
	assert.Equal(t, want, totalWrites(w.emu), "exactly the failed items' writes")
	again := readReport(t, second)
	assert.Zero(t, again.Summary.Stale)
	assert.Equal(t, rep.Summary.Failed+rep.Summary.Skipped, again.Summary.Planned)
	assert.Equal(t, again.Summary.Succeeded, again.Summary.Verified)

	replan := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, w.files...)...)
	assert.Equal(t, exitOK, replan.code, replan.stdout+replan.stderr)

	// Nothing is left to retry: an item already as wanted costs no write.
	w.emu.ResetStats()
	third := runCLI(t, w.env(), "apply", "--yes", "--retry-failed", first, "--report", filepath.Join(w.dir, "third.json"))
	require.Equal(t, exitOK, third.code, third.stderr)
	assert.Zero(t, totalWrites(w.emu))
	assert.Equal(t, rep.Summary.Failed+rep.Summary.Skipped, readReport(t, filepath.Join(w.dir, "third.json")).Summary.Unchanged)
}

// withoutIDs drops what a re-created entry cannot keep (its id) and what
// groupsync does not manage (subscription times), and orders members.
func withoutIDs(st emulator.State) emulator.State {
	for i := range st.LOX24.Groups {
		g := &st.LOX24.Groups[i]
		for j := range g.Phones {
			p := &g.Phones[j]
			p.ID, p.SubscribedAt, p.UnsubscribedAt, p.UnsubscribeReason = "", nil, nil, nil
		}
		sort.Slice(g.Phones, func(a, b int) bool { return g.Phones[a].Phone < g.Phones[b].Phone })
	}
	return st
}

// Undo of an apply that updated groups, created groups (one with members),
// and added, changed and deleted members puts the state back as it was.
func TestUndoRestoresTheStateBeforeTheApply(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	withNewGroupMembers(t, w)
	before := w.emu.State()
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, w.files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	rep := readReport(t, report)
	kinds := map[string]bool{}
	for _, it := range rep.Items {
		kinds[string(it.System)+" "+string(it.Kind)+" "+string(it.Action)] = true
	}
	for _, k := range []string{"lox24 group update", "lox24 group create", "lox24 phone create", "lox24 phone update", "lox24 phone delete", "helloid group update", "helloid group create"} {
		require.True(t, kinds[k], "the apply covers %s", k)
	}

	undo := filepath.Join(w.dir, "undo.json")
	u := runCLI(t, nil, "undo", report, "--out", undo)
	require.Equal(t, exitOK, u.code, u.stderr)
	// The undo plan is printed as show prints it, in any format show takes.
	s := runCLI(t, nil, "show", undo)
	require.Equal(t, exitOK, s.code, s.stderr)
	assert.Equal(t, s.stdout, u.stdout)
	md := runCLI(t, nil, "undo", report, "--out", filepath.Join(w.dir, "undo2.json"), "--format", "markdown")
	require.Equal(t, exitOK, md.code, md.stderr)
	assert.Equal(t, runCLI(t, nil, "show", "--format", "markdown", undo).stdout, md.stdout)
	a := runCLI(t, w.env(), "apply", "--yes", "--plan", undo, "--report", filepath.Join(w.dir, "undo-report.json"))
	require.Equal(t, exitOK, a.code, a.stderr)
	assert.Equal(t, withoutIDs(before), withoutIDs(w.emu.State()))
}

// An undo whose target changed since is stale: a group the run created is
// not deleted once it has a member the run did not add, and a member the
// run updated is not put back once someone edited it again.
func TestUndoIsStaleWhereTheTargetChanged(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	withNewGroupMembers(t, w)
	report := filepath.Join(w.dir, "r.json")
	r := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, w.files...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	undo := filepath.Join(w.dir, "undo.json")
	require.Equal(t, exitOK, runCLI(t, nil, "undo", report, "--out", undo).code)

	st := w.emu.State()
	for i := range st.LOX24.Groups {
		if st.LOX24.Groups[i].Name == "New Members" {
			st.LOX24.Groups[i].Phones = append(st.LOX24.Groups[i].Phones, emulator.LOX24Phone{Phone: "+4915100000009"})
		}
	}
	require.NoError(t, w.emu.LoadState(st))
	undoReport := filepath.Join(w.dir, "undo-report.json")
	a := runCLI(t, w.env(), "apply", "--yes", "--plan", undo, "--report", undoReport)
	assert.Equal(t, exitFailed, a.code, a.stderr)
	stale := 0
	for _, it := range readReport(t, undoReport).Items {
		if it.Status == plan.Stale {
			stale++
			assert.Equal(t, "New Members", it.Name)
			assert.Equal(t, plan.Delete, it.Action)
			assert.Contains(t, it.Error, "members are not those the run added")
		}
	}
	assert.Equal(t, 1, stale)
	names := map[string]bool{}
	for _, g := range w.emu.State().LOX24.Groups {
		names[g.Name] = true
	}
	assert.True(t, names["New Members"], "the group with a foreign member is kept")
}

// A retry cannot send the members of a group whose create went stale (the
// group it would have made is not known); they are reported failed, with
// why and what to do, and the retry exits 3. They were dropped from the
// report, and the retry said "No changes" and exited 0.
func TestRetryReportsMembersOfAStaleCreate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	saved := filepath.Join(w.dir, "plan.json")
	p := runCLI(t, w.env(), append([]string{"plan", "--out", saved}, w.files...)...)
	require.Equal(t, exitOK, p.code, p.stderr)
	st := w.emu.State()
	st.HelloID.Groups = append(st.HelloID.Groups, emulator.HelloIDGroup{Name: "Finance"}) // made by someone else since
	require.NoError(t, w.emu.LoadState(st))

	first := filepath.Join(w.dir, "first.json")
	a := runCLI(t, w.env(), "apply", "--yes", "--plan", saved, "--report", first)
	require.Equal(t, exitFailed, a.code, a.stderr)
	rep := readReport(t, first)
	var members []plan.Item
	for _, it := range rep.Items {
		if it.System == plan.HelloID && it.Name == "Finance" && it.Kind == plan.KindUser {
			members = append(members, it)
		}
	}
	require.Len(t, members, 2)
	for _, it := range members {
		require.Equal(t, plan.Skipped, it.Status, "%+v", it)
	}

	w.emu.ResetStats()
	second := filepath.Join(w.dir, "second.json")
	r := runCLI(t, w.env(), "apply", "--yes", "--retry-failed", first, "--report", second)
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "No changes")
	assert.Zero(t, totalWrites(w.emu))
	again := readReport(t, second)
	require.Len(t, again.Items, 2, "both members are in the retry's report")
	for _, it := range again.Items {
		assert.Equal(t, plan.Failed, it.Status, "%+v", it)
		assert.Equal(t, "cannot be retried: its group was to be created by an item that is stale, so it has no group; plan again from the files", it.Error)
		assert.Equal(t, "Finance", it.Name)
		assert.NotEmpty(t, it.User)
	}
	assert.Equal(t, 2, again.Summary.Failed)
}

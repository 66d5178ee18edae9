package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
)

// quirkWorld is an emulator answering with quirks, holding 40 LOX24 groups
// and 5 HelloID groups that no file manages (so that listings have several
// pages), and files that create 2 LOX24 groups of 70 members and 3 HelloID
// groups.
func quirkWorld(t *testing.T, quirks string) (*world, []string) {
	t.Helper()
	q, err := emulator.ParseQuirks(quirks)
	require.NoError(t, err)
	emu := emulator.New(emulator.Options{Seed: 3, Quirks: q})
	var st emulator.State
	for i := range 40 {
		st.LOX24.Groups = append(st.LOX24.Groups, emulator.LOX24Group{ID: int64(100 + i), Name: fmt.Sprintf("Other %02d", i)})
	}
	for i := range 5 {
		st.HelloID.Groups = append(st.HelloID.Groups, emulator.HelloIDGroup{Name: fmt.Sprintf("Other %02d", i)})
	}
	require.NoError(t, emu.LoadState(st))
	url, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	dir := t.TempDir()
	return &world{emu: emu, url: url, dir: dir}, chaosFiles(t, dir, 2, 70, 3)
}

func writes(w *world) int {
	st := w.emu.Stats()
	return st.Systems["lox24"].Writes + st.Systems["helloid"].Writes
}

// Under every quirk of spec.md, plan, apply, re-plan (no changes) and
// re-apply (no writes) come out as without it.
func TestUnderEachQuirk(t *testing.T) {
	t.Parallel()
	for _, quirks := range []string{"bare-hydra", "int-next", "phones-next-path", "short-pages", "no-view", "take-cap=2",
		"data-wrapper", "pagedata-wrapper", "drift-once", "bare-hydra,int-next,phones-next-path,short-pages,take-cap=2,pagedata-wrapper"} {
		t.Run(quirks, func(t *testing.T) {
			t.Parallel()
			w, files := quirkWorld(t, quirks)
			report := filepath.Join(w.dir, "report.json")
			p := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, files...)...)
			require.Equal(t, exitPending, p.code, p.stdout+p.stderr)
			assert.Contains(t, p.stdout, "Chaos 01")
			a := runCLI(t, w.env(), append([]string{"apply", "--yes", "--report", report}, files...)...)
			require.Equal(t, exitOK, a.code, a.stdout+a.stderr)
			st := w.emu.State()
			assert.Len(t, st.LOX24.Groups, 42)
			assert.Len(t, st.HelloID.Groups, 8)
			re := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, files...)...)
			require.Equal(t, exitOK, re.code, "no changes: "+re.stdout+re.stderr)
			before := writes(w)
			again := runCLI(t, w.env(), append([]string{"apply", "--yes"}, files...)...)
			require.Equal(t, exitOK, again.code, again.stdout+again.stderr)
			assert.Equal(t, before, writes(w), "re-apply writes nothing")
		})
	}
}

// A server whose listings move on every read fails the read closed: no
// write reaches it, and the run says why.
func TestDriftAlwaysFailsClosed(t *testing.T) {
	t.Parallel()
	w, files := quirkWorld(t, "drift-always")
	p := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, files...)...)
	assert.Equal(t, exitFatal, p.code, p.stdout+p.stderr)
	assert.Contains(t, p.stdout+p.stderr, "lox24: listing of groups changed while it was read twice")
	a := runCLI(t, w.env(), append([]string{"apply", "--yes"}, files...)...)
	assert.Equal(t, exitFatal, a.code, a.stdout+a.stderr)
	assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes, "nothing written to LOX24")
	assert.Len(t, w.emu.State().LOX24.Groups, 40)
}

// --max-read-items bounds each listing: past it the system is not read.
func TestMaxReadItems(t *testing.T) {
	t.Parallel()
	w, files := quirkWorld(t, "")
	p := runCLI(t, w.env(), append([]string{"plan", "--max-read-items", "35"}, files...)...)
	assert.Equal(t, exitFatal, p.code, p.stdout+p.stderr)
	assert.Contains(t, p.stdout+p.stderr, "lox24: get groups page 1: hydra:totalItems 40 is over the bound of 35 items per listing (--max-read-items)")
	u := runCLI(t, w.env(), append([]string{"plan", "--max-read-items", "0"}, files...)...)
	assert.Equal(t, exitUsage, u.code)
}

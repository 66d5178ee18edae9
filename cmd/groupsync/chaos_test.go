package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
)

// chaosFiles writes a desired state of lox new LOX24 groups with members
// of their own per group, and hid new HelloID groups.
func chaosFiles(t *testing.T, dir string, lox, members, hid int) []string {
	var y strings.Builder
	y.WriteString("lox24:\n  groups:\n")
	for i := range lox {
		fmt.Fprintf(&y, "    - name: Chaos %02d\n      description: group %d\n      phones: chaos-%02d.csv\n", i, i, i)
		var c strings.Builder
		c.WriteString("phone,a\n")
		for j := range members {
			fmt.Fprintf(&c, "+49151%04d%04d,member %d\n", i, j, j)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("chaos-%02d.csv", i)), []byte(c.String()), 0o644))
	}
	y.WriteString("helloid:\n  groups:\n")
	for i := range hid {
		fmt.Fprintf(&y, "    - name: Chaos %02d\n      isEnabled: true\n", i)
	}
	path := filepath.Join(dir, "chaos.yaml")
	require.NoError(t, os.WriteFile(path, []byte(y.String()), 0o644))
	return []string{path}
}

// TestChaos applies a plan of about a hundred writes while the emulator
// answers 10% of requests with 503, loses the answer of 5% of writes after
// applying them, and throttles each system below groupsync's pace. Every
// item must converge, nothing may be created twice, and the report must say
// exactly what happened.
func TestChaos(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("chaos takes a few seconds")
	}
	// The clients send faster than the emulator's throttle allows, and its
	// bucket holds one request: any two requests of a system less than 25 ms
	// apart meet 429, which happens even on a machine too loaded to reach
	// 40 requests a second (with a larger bucket, such a machine met none).
	// Workers racing for the bucket can each meet 429 several times in a
	// row, so each request gets more attempts than the default five.
	chaos(t, emulator.Options{FailRate: 0.10, LoseRate: 0.05, Throttle: 40, ThrottleBurst: 1, Seed: 42}, 0, 20, 10,
		"--lox24-rate", "60", "--helloid-rate", "60", "--max-attempts", "10")
}

// TestChaosEightWorkers loses the answers of many creates and answers 5xx
// while eight writes are in flight per system: the check of whether a
// create happened must work while the other creates move the listing, so
// that one run converges with no duplicate and no false failed. 100 other
// groups make the group listing several pages long.
func TestChaosEightWorkers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("chaos takes a few seconds")
	}
	chaos(t, emulator.Options{FailRate: 0.05, LoseRate: 0.25, Latency: 5 * time.Millisecond, Seed: 11}, 100, 32, 16,
		"--lox24-workers", "8", "--helloid-workers", "8", "--lox24-rate", "200", "--helloid-rate", "200")
}

// chaos applies lox new LOX24 groups of 5 members and hid new HelloID
// groups next to others unmanaged groups in each system, under opts' faults.
func chaos(t *testing.T, opts emulator.Options, others, lox, hid int, flags ...string) {
	emu := emulator.New(opts)
	var seed emulator.State
	for i := range others {
		seed.LOX24.Groups = append(seed.LOX24.Groups, emulator.LOX24Group{ID: int64(1000 + i), Name: fmt.Sprintf("Other %03d", i)})
		seed.HelloID.Groups = append(seed.HelloID.Groups, emulator.HelloIDGroup{Name: fmt.Sprintf("Other %03d", i)})
	}
	require.NoError(t, emu.LoadState(seed))
	url, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer func() { assert.NoError(t, stop()) }()
	dir := t.TempDir()
	const members = 5
	files := chaosFiles(t, dir, lox, members, hid)
	w := &world{emu: emu, url: url, dir: dir}
	report := filepath.Join(dir, "report.json")
	args := append(append([]string{"apply", "--yes", "--report", report}, flags...), files...)
	r := runCLI(t, w.env(), args...)
	require.Equal(t, exitOK, r.code, r.stderr)

	var rep plan.Report
	raw, err := os.ReadFile(report)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &rep))
	planned := lox + lox*members + hid
	assert.Equal(t, plan.Tally{Planned: planned, Succeeded: planned, Verified: planned}, rep.Summary, "every item is seen on re-read")
	for _, it := range rep.Items {
		assert.Equal(t, plan.Succeeded, it.Status, "%+v", it)
		assert.NotEmpty(t, it.Key, "%+v", it)
	}
	// Faults were met (which requests meet them depends on how the workers
	// interleave, so no item is required to have needed a second attempt).
	st := emu.Stats()
	assert.Positive(t, st.Systems["lox24"].ByStatus["503"]+st.Systems["helloid"].ByStatus["503"], "faults were injected")
	if opts.Throttle > 0 {
		assert.Positive(t, st.Systems["lox24"].ByStatus["429"]+st.Systems["helloid"].ByStatus["429"])
	}

	// Nothing was created twice, though some answers were lost.
	state := emu.State()
	names := map[string]int{}
	for _, g := range state.LOX24.Groups {
		names[g.Name]++
		seen := map[string]bool{}
		for _, p := range g.Phones {
			assert.False(t, seen[p.Phone], "member %s of %s added twice", p.Phone, g.Name)
			seen[p.Phone] = true
		}
		if strings.HasPrefix(g.Name, "Chaos") {
			assert.Len(t, g.Phones, members, g.Name)
		}
	}
	for i := range lox {
		assert.Equal(t, 1, names[fmt.Sprintf("Chaos %02d", i)])
	}
	assert.Len(t, state.HelloID.Groups, others+hid)

	replan := runCLI(t, w.env(), append([]string{"plan", "--detailed-exitcode"}, files...)...)
	assert.Equal(t, exitOK, replan.code, replan.stdout+replan.stderr)
}

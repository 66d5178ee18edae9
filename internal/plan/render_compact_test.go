package plan

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newGroupPlan is the plan of a new LOX24 group of n new members, as Diff
// makes it: n compact phone creates.
func newGroupPlan(t *testing.T, n int) *Plan {
	t.Helper()
	list := make([]Phone, n)
	for i := range list {
		list[i] = want(fmt.Sprintf("+49151%08d", i), i+2, "Mr.", fmt.Sprintf("Customer %d", i))
	}
	p := Diff(Desired{Groups: []Group{{System: LOX24, Name: "New", Fields: map[string]Value{},
		Phones: &Phones{File: "/base/new.csv", Mode: PhonesExact, Managed: managedAB, List: list}}}}, map[System]Current{LOX24: {}})
	require.Len(t, p.Changes, n+1)
	require.NotNil(t, p.Changes[1].member, "Diff makes compact creates")
	return p
}

// Compact phone creates render in every format exactly as the same items
// with their field lists written out, as a plan read back from JSON holds
// them.
func TestRenderCompactCreatesAsExpanded(t *testing.T) {
	compact := samplePlanWithPhones()
	extra, at := newGroupPlan(t, 30).Changes, len(compact.Changes)
	for i := range extra {
		if extra[i].DependsOn != 0 {
			extra[i].DependsOn += at // the new group's create, in the whole plan
		}
	}
	compact.Changes = append(compact.Changes, extra...)
	n := 0
	for i := range compact.Changes {
		if compact.Changes[i].member != nil {
			n++
		}
	}
	require.Greater(t, n, 30, "the plan holds compact creates")
	full := expanded(compact)
	for _, opt := range []RenderOptions{{}, {Detail: true}, {Detail: true, Color: true}, {Detail: true, ShowPhones: true},
		{Detail: true, BaseDir: "/base"}, {Summary: true}} {
		for _, f := range []struct {
			name  string
			write func(io.Writer, *Plan) error
		}{
			{"text", func(w io.Writer, p *Plan) error { return WriteText(w, p, opt) }},
			{"markdown", func(w io.Writer, p *Plan) error { return WriteMarkdown(w, p, opt) }},
			{"markdown cut", func(w io.Writer, p *Plan) error { return writeMarkdownLimit(w, p, opt, 3000) }},
			{"json", WriteJSON},
		} {
			var a, b bytes.Buffer
			require.NoError(t, f.write(&a, compact))
			require.NoError(t, f.write(&b, full))
			assert.Equal(t, b.String(), a.String(), "%s %+v", f.name, opt)
		}
	}
}

// Every member line of a new group is rendered in a fixed number of
// allocations, not some per member: a million of them are printed in the
// memory the plan already holds.
func TestWriteTextDetailOfANewGroupAllocatesPerPlanNotPerMember(t *testing.T) {
	const n = 5000
	p := newGroupPlan(t, n)
	for _, opt := range []RenderOptions{{Detail: true}, {Detail: true, BaseDir: "/base", Color: true}} {
		var out bytes.Buffer
		require.NoError(t, WriteText(&out, p, opt))
		require.Equal(t, n, bytes.Count(out.Bytes(), []byte(" phone +49151")), "every member line is shown")
		allocs := testing.AllocsPerRun(2, func() {
			if err := WriteText(io.Discard, p, opt); err != nil {
				panic(err)
			}
		})
		assert.Less(t, allocs, float64(n/50), "allocations must not grow with the members (%+v)", opt)
	}
}

// A Markdown plan renders only the member rows its size limit can show: a
// group of many members costs no allocation for the rows it cuts.
func TestWriteMarkdownOfANewGroupAllocatesForTheRowsShownOnly(t *testing.T) {
	const n = 40000
	p := newGroupPlan(t, n)
	var out bytes.Buffer
	require.NoError(t, writeMarkdownLimit(&out, p, RenderOptions{}, 1000))
	shown := bytes.Count(out.Bytes(), []byte("| `+` | phone "))
	require.Positive(t, shown)
	require.Contains(t, out.String(), fmt.Sprintf("\n%d member lines cut to keep this comment under 1000 characters", n-shown))
	allocs := testing.AllocsPerRun(2, func() {
		if err := writeMarkdownLimit(io.Discard, p, RenderOptions{}, 1000); err != nil {
			panic(err)
		}
	})
	assert.Less(t, allocs, float64(n/50), "allocations must not grow with the members")
}

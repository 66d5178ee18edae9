package plan

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeMarkdown(t *testing.T, p *Plan, opt RenderOptions) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteMarkdown(&buf, p, opt))
	return buf.String()
}

func TestWriteMarkdownGolden(t *testing.T) {
	golden(t, "plan.md.golden", []byte(writeMarkdown(t, samplePlanWithPhones(), RenderOptions{})))
}

func TestWriteMarkdownIsByteIdentical(t *testing.T) {
	assert.Equal(t, writeMarkdown(t, samplePlanWithPhones(), RenderOptions{}), writeMarkdown(t, samplePlanWithPhones(), RenderOptions{}))
}

func TestWriteMarkdownMasksPhonesUnlessAsked(t *testing.T) {
	numbers := []string{"+4915112345678", "+4917663804817", "+4930123456", "+12025550123"}
	masked := writeMarkdown(t, samplePlanWithPhones(), RenderOptions{})
	shown := writeMarkdown(t, samplePlanWithPhones(), RenderOptions{ShowPhones: true})
	for _, n := range numbers {
		assert.NotContains(t, masked, n)
		assert.Contains(t, shown, "| phone "+n+" |")
	}
	// The * of a mask is escaped, or two masks in a cell would be emphasis.
	assert.Contains(t, masked, `| phone +49151\*\*\*\*\*678 |`)
}

func TestWriteMarkdownNoChanges(t *testing.T) {
	p := Diff(Desired{Groups: []Group{{System: LOX24, Name: "Same", Fields: map[string]Value{}}}},
		map[System]Current{LOX24: {Groups: []RemoteGroup{loxRemote("5", "Same", nil)}}})
	assert.Equal(t, "## groupsync plan: No changes\n\nThe remote state matches the files.\n\n"+
		"### lox24\n\n0 to create, 0 to update, 0 to delete, 1 unchanged\n", writeMarkdown(t, p, RenderOptions{}))
	assert.Equal(t, "## groupsync plan: No system to plan for\n", writeMarkdown(t, &Plan{}, RenderOptions{}))
}

// cells splits a table row as GFM does: at every | that no backslash
// escapes, a backslash escaping the character after it.
func cells(row string) []string {
	var out []string
	var cell strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row):
			cell.WriteString(row[i : i+2])
			i++
		case row[i] == '|':
			out = append(out, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(row[i])
		}
	}
	return append(out, strings.TrimSpace(cell.String()))
}

func TestWriteMarkdownEscapes(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 0}, Changes: []Change{
		{System: LOX24, Kind: KindGroup, Action: Create, Name: "a|b", Source: Source{"groups.yaml", 3},
			Fields: []FieldChange{{Field: "name", After: Str("a|b")}, {Field: "description", After: Str("x | y\nz")}}},
		{System: LOX24, Kind: KindGroup, Action: Update, Key: "12", Name: "tick`s", Source: Source{"we`ird |file.yaml", 4},
			Fields: []FieldChange{{Field: "description", Before: Str("``code``"), After: Str(`back\slash "q"`)}}},
		{System: LOX24, Kind: KindGroup, Action: Update, Key: "13", Name: "*bold* _it_ [l](u) <b>&amp; ~~s~~ $x$", Source: Source{"`edge`", 5},
			Error: "the API said:\nname | taken"},
		{System: LOX24, Kind: KindPhone, Action: Delete, Key: "9", Name: "n", GroupKey: "12", Phone: "+4915112345678",
			Source: Source{"g.yaml", 6}, Note: "not in a|b.csv"},
	}}
	out := writeMarkdown(t, p, RenderOptions{})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 19, "no value adds a line:\n%s", out)
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "|") {
			rows = append(rows, l)
		}
	}
	assert.Equal(t, "<details><summary>group 12 &#34;tick`s&#34;: members: +0 ~0 -1</summary>", lines[12])
	for _, row := range rows {
		assert.Len(t, cells(row), 6, "four cells between the outer pipes: %s", row)
	}
	assert.Equal(t, []string{
		"| | Item | Source | Change |",
		"|---|---|---|---|",
		"| `+` | group \"a\\|b\" | `groups.yaml:3` | name: \"a\\|b\"<br>description: \"x \\| y\\\\nz\" |",
		"| `~` | group 12 \"tick\\`s\" | ``we`ird \\|file.yaml:4`` | description: \"\\`\\`code\\`\\`\" → \"back\\\\\\\\slash \\\\\"q\\\\\"\" |",
		"| `!` | group 13 \"\\*bold\\* \\_it\\_ \\[l\\](u) \\<b\\>\\&amp; \\~\\~s\\~\\~ \\$x\\$\" | `` `edge`:5 `` | error: the API said:<br>name \\| taken |",
		"| | Member | Source | Change |",
		"|---|---|---|---|",
		"| `-` | phone +49151\\*\\*\\*\\*\\*678 | `g.yaml:6`; id 9, not in a\\|b.csv |  |",
	}, rows)
}

// A summary sits in raw HTML, where Markdown's backslashes do not apply: a
// group name in it is HTML-escaped, so it can neither close the block nor
// add a tag.
func TestWriteMarkdownSummaryIsHTMLEscaped(t *testing.T) {
	const evil = "<img src=x onerror=alert(1)></details>"
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 0}, Changes: []Change{
		{System: LOX24, Kind: KindGroup, Action: Update, Key: "14", Name: evil, Source: Source{"g.yaml", 3},
			Fields: []FieldChange{{Field: "description", Before: Str("a"), After: Str("b")}}},
		{System: LOX24, Kind: KindPhone, Action: Create, Name: evil, GroupKey: "14", Phone: "+4915112345678",
			Source: Source{"g.yaml", 6}},
	}}
	out := writeMarkdown(t, p, RenderOptions{})
	assert.Equal(t, 1, strings.Count(out, "</details>"), out)
	assert.NotContains(t, strings.ReplaceAll(out, `\<img`, ""), "<img", "only escaped in the table")
	var summary string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "<details><summary>") {
			summary = l
		}
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(summary, "<details><summary>"), "</summary>")
	assert.Equal(t, "group 14 &#34;&lt;img src=x onerror=alert(1)&gt;&lt;/details&gt;&#34;: members: +1 ~0 -0", inner)
}

func TestMarkdownEscapeHelpers(t *testing.T) {
	text := map[string]string{
		"plain words":          "plain words",
		"name_a callback_data": "name_a callback_data", // inside a word: not emphasis
		"_lead trail_":         `\_lead trail\_`,
		`a\b`:                  `a\\b`,
		"line\r\nbreak":        "line<br>break",
		"|`*[]<>&~$":           `\|\` + "`" + `\*\[\]\<\>\&\~\$`,
	}
	for in, want := range text {
		assert.Equal(t, want, mdText(in), "mdText(%q)", in)
	}
	code := map[string]string{
		"groups.yaml:3": "`groups.yaml:3`",
		"a`b":           "``a`b``",
		"a``b`":         "``` a``b` ```",
		"`x":            "`` `x ``",
		" both ":        "`  both  `",
		" lead":         "` lead`",
		"a|b":           "`a\\|b`",
		`a\|b`:          "`a\\|b`", // already escaped for the row: one backslash less shows
		`a\\|b`:         "`a\\\\\\|b`",
		"two\nlines":    "`two lines`",
	}
	for in, want := range code {
		assert.Equal(t, want, mdCode(in), "mdCode(%q)", in)
	}
}

// manyNewGroups is a plan of n new LOX24 groups with m new members each.
func manyNewGroups(n, m int) *Plan {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 0}}
	for g := range n {
		name := fmt.Sprintf("Team %03d", g)
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindGroup, Action: Create, Name: name,
			Source: Source{"groups.yaml", 3*g + 2}, Fields: []FieldChange{{Field: "name", After: Str(name)}}})
		dep := len(p.Changes)
		for i := range m {
			phone := fmt.Sprintf("+49151%04d%04d", g, i)
			p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Create, Name: name, DependsOn: dep,
				Phone: phone, Source: Source{fmt.Sprintf("team%03d.csv", g), i + 2}, Fields: []FieldChange{{Field: "phone", After: Str(phone)}}})
		}
	}
	return p
}

// The wrappers of groups whose member lines are cut count against the
// limit too: 400 new groups of 20 members stay under it, with every group
// line and the count of member lines cut.
func TestWriteMarkdownManyGroupsStaysUnderTheLimit(t *testing.T) {
	md := writeMarkdown(t, manyNewGroups(400, 20), RenderOptions{})
	assert.Less(t, len(md), MarkdownLimit)
	assert.Greater(t, len(md), MarkdownLimit-1000, "it fills the room it has")
	for g := range 400 {
		assert.Contains(t, md, fmt.Sprintf("| `+` | group \"Team %03d\" | `groups.yaml:%d` |", g, 3*g+2))
	}
	rows := strings.Count(md, "| `+` | phone ")
	assert.Positive(t, rows)
	cut := 8000 - rows
	assert.Contains(t, md, fmt.Sprintf("\n%d member lines cut to keep this comment under 60000 characters", cut))
	assert.Equal(t, strings.Count(md, "<details>"), strings.Count(md, "</details>"))
	assert.Equal(t, strings.Count(md, "<details>"), strings.Count(md, "| | Member | Source | Change |"),
		"no <details> block is left empty")
	// Cut from the end: the groups shown in full come first.
	assert.Contains(t, md, "phone +49151\\*\\*\\*\\*\\*000 | `team000.csv:2`")
	golden(t, "many-groups-cut.md.golden", []byte(md))
}

// When the group-level lines alone are over the limit, they are all kept
// (they are never cut), every member line is cut, and it says so.
func TestWriteMarkdownGroupLinesOverTheLimitAreKept(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, writeMarkdownLimit(&buf, manyNewGroups(40, 2), RenderOptions{}, 2000))
	md := buf.String()
	for g := range 40 {
		assert.Contains(t, md, fmt.Sprintf("group \"Team %03d\"", g))
	}
	assert.NotContains(t, md, "<details>")
	assert.Contains(t, md, "\n80 member lines cut")
	assert.Contains(t, md, "the group-level changes alone are over 2000 characters")
}

package plan

import (
	"bytes"
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
		{System: LOX24, Kind: KindPhone, Action: Delete, Key: "9", Name: "n", Group: "12", Phone: "+4915112345678",
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
	assert.Equal(t, "<details><summary>group 12 \"tick\\`s\": members: +0 \\~0 -1</summary>", lines[12])
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

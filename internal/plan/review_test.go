package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reviewPlan is a plan as a reviewer meets it at its worst: HelloID could
// not be read, the plan breaks a guard, and one group gains 200 members
// (and changes 5, loses 3) besides its own update, next to a new group.
func reviewPlan() *Plan {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 4}, Members: map[string]int{"1": 40},
		Unread: []Unreadable{{System: HelloID, Error: "helloid: get groups: 401 Unauthorized: the API key is not valid"}}}
	p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindGroup, Action: Update, Key: "1", Name: "Big",
		Source: Source{"groups.yaml", 3}, Fields: []FieldChange{{Field: "description", Before: Str("old"), After: Str("new")}}})
	for i := range 200 {
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Create, Name: "Big", Group: "1",
			Phone: fmt.Sprintf("+4915100%06d", i), Source: Source{"big.csv", i + 2},
			Fields: []FieldChange{{Field: "phone", After: Str(fmt.Sprintf("+4915100%06d", i))}, {Field: "a", After: Str(fmt.Sprintf("Person %d", i))}}})
	}
	for i := range 5 {
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Update, Key: fmt.Sprint(100 + i), Name: "Big", Group: "1",
			Phone: fmt.Sprintf("+4917600%06d", i), Source: Source{"big.csv", 300 + i},
			Fields: []FieldChange{{Field: "b", Before: Null, After: Str("VIP")}}})
	}
	for i := range 3 {
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Delete, Key: fmt.Sprint(200 + i), Name: "Big", Group: "1",
			Phone: fmt.Sprintf("+4930000%06d", i), Source: Source{"groups.yaml", 5}, Note: "not in big.csv",
			Base: map[string]Value{"phone": Str(fmt.Sprintf("+4930000%06d", i)), "a": Str(fmt.Sprintf("Leaver %d", i)), "b": Str("Sales"), "callback_data": Null}})
	}
	p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindGroup, Action: Create, Name: "New", Source: Source{"groups.yaml", 9},
		Fields: []FieldChange{{Field: "name", After: Str("New")}}})
	dep := len(p.Changes)
	p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Create, Name: "New", DependsOn: dep,
		Phone: "+4915199999999", Source: Source{"new.csv", 2}, Fields: []FieldChange{{Field: "phone", After: Str("+4915199999999")}}})
	for _, err := range p.Check(Guards{MaxDeletePct: DefaultMaxDeletePct, MaxChanges: 100}) {
		p.Refused = append(p.Refused, err.Error())
	}
	return p
}

func render(t *testing.T, write func(*bytes.Buffer) error) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, write(&buf))
	return buf.String()
}

func TestReviewGolden(t *testing.T) {
	p := reviewPlan()
	require.Len(t, p.Refused, 1, "the plan breaks --max-changes")
	text := render(t, func(b *bytes.Buffer) error { return WriteText(b, p, RenderOptions{}) })
	md := render(t, func(b *bytes.Buffer) error { return WriteMarkdown(b, p, RenderOptions{}) })
	js := render(t, func(b *bytes.Buffer) error { return WriteJSON(b, p) })
	golden(t, "review.golden", []byte(text))
	golden(t, "review.md.golden", []byte(md))
	golden(t, "review.json.golden", []byte(js))

	for name, out := range map[string]string{"text": text, "markdown": md, "json": js} {
		assert.Contains(t, out, "helloid", name)
		assert.NotContains(t, out, "No changes", name)
	}
	unread := "helloid: NOT READ (helloid: get groups: 401 Unauthorized: the API key is not valid); nothing planned for it"
	assert.Contains(t, text, "  "+unread+"\n")
	assert.Contains(t, md, "**"+mdText(unread)+"**")
	assert.True(t, strings.HasPrefix(text, refusedIntro+"\n  - the plan has 211 changes, more than --max-changes 100\n"), "the refusal leads")
	assert.Contains(t, md, "> [!CAUTION]")
	assert.Less(t, strings.Index(md, "REFUSED"), strings.Index(md, "### lox24"))
	// The roll-up: counts, the first ten member lines, and what is left out.
	assert.Contains(t, text, "      members: +200 ~5 -3\n")
	assert.Equal(t, MemberLines+1, strings.Count(text, "      + phone "), "ten lines of Big and the one of New")
	assert.Contains(t, text, "      … 198 more member lines (--detail shows all)\n")

	back, err := ReadJSON(strings.NewReader(js))
	require.NoError(t, err)
	assert.Equal(t, p.Unread, back.Unread)
	assert.Equal(t, p.Refused, back.Refused)
}

func TestWriteTextDetailShowsEveryMember(t *testing.T) {
	text := render(t, func(b *bytes.Buffer) error { return WriteText(b, reviewPlan(), RenderOptions{Detail: true}) })
	assert.Equal(t, 201, strings.Count(text, "      + phone "))
	assert.NotContains(t, text, "more member lines")
}

func TestDeletedMembersShowWhoIsRemoved(t *testing.T) {
	text := render(t, func(b *bytes.Buffer) error { return WriteText(b, reviewPlan(), RenderOptions{Detail: true}) })
	assert.Contains(t, text, "      - phone +49300*****000  (groups.yaml:5; id 200, not in big.csv)\n          a: \"Leaver 0\"\n          b: \"Sales\"\n")
}

func TestUnreadSystemIsNeverNoChanges(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 1},
		Unread: []Unreadable{{System: HelloID, Error: "dial tcp 127.0.0.1:1: connection refused"}}}
	text := render(t, func(b *bytes.Buffer) error { return WriteText(b, p, RenderOptions{}) })
	assert.Equal(t, "lox24\n  lox24: 0 to create, 0 to update, 0 to delete, 1 unchanged\n\n"+
		"helloid\n  helloid: NOT READ (dial tcp 127.0.0.1:1: connection refused); nothing planned for it\n\n"+
		"Nothing to change in the systems that were read; 1 system was NOT READ, so this is not the whole plan.\n", text)
	md := render(t, func(b *bytes.Buffer) error { return WriteMarkdown(b, p, RenderOptions{}) })
	assert.True(t, strings.HasPrefix(md, "## groupsync plan: 1 system NOT READ\n"), md)
	js := render(t, func(b *bytes.Buffer) error { return WriteJSON(b, p) })
	assert.Contains(t, js, `"errors": [
    {
      "system": "helloid",
      "error": "dial tcp 127.0.0.1:1: connection refused"
    }
  ]`)
}

func TestWriteMarkdownOverTheLimitCutsMemberLinesOnly(t *testing.T) {
	p := reviewPlan()
	for i := range 2000 { // a second big group, after the first
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Create, Name: "Huge", Group: "2",
			Phone: fmt.Sprintf("+4916000%06d", i), Source: Source{"huge.csv", i + 2}})
	}
	p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindGroup, Action: Update, Key: "3", Name: "Last",
		Source: Source{"groups.yaml", 30}, Fields: []FieldChange{{Field: "description", Before: Null, After: Str("kept")}}})
	md := render(t, func(b *bytes.Buffer) error { return WriteMarkdown(b, p, RenderOptions{}) })
	assert.Less(t, len(md), MarkdownLimit)
	assert.Greater(t, len(md), MarkdownLimit-500, "it fills the room it has")
	// Every group-level item is there, however late in the plan.
	for _, want := range []string{`group 1 "Big"`, `group "New"`, `group 3 "Last"`, `group 2 "Huge": members: +2000 \~0 -0`} {
		assert.Contains(t, md, want)
	}
	rows := strings.Count(md, "| `+` | phone ") + strings.Count(md, "| `~` | phone ") + strings.Count(md, "| `-` | phone ")
	cut := 2209 - rows
	assert.Positive(t, cut)
	assert.Contains(t, md, fmt.Sprintf("\n%d member lines cut to keep this comment under 60000 characters", cut))
	assert.Contains(t, md, "of this group cut for size")

	// A small limit shows the shape in a golden file.
	var buf bytes.Buffer
	require.NoError(t, writeMarkdownLimit(&buf, reviewPlan(), RenderOptions{}, 4000))
	assert.LessOrEqual(t, buf.Len(), 4000)
	golden(t, "review-cut.md.golden", buf.Bytes())
}

func TestWriteTextColor(t *testing.T) {
	text := render(t, func(b *bytes.Buffer) error {
		return WriteText(b, reviewPlan(), RenderOptions{Color: true, Detail: true})
	})
	assert.Contains(t, text, "  \x1b[33m~\x1b[0m group 1 \"Big\"")
	assert.Contains(t, text, "      \x1b[32m+\x1b[0m phone ")
	assert.Contains(t, text, "      \x1b[31m-\x1b[0m phone ")
	md := render(t, func(b *bytes.Buffer) error { return WriteMarkdown(b, reviewPlan(), RenderOptions{Color: true}) })
	assert.NotContains(t, md, "\x1b[")
}

func TestRelSource(t *testing.T) {
	assert.Equal(t, "groups.yaml:8", RelSource(Source{"/tmp/demo-1/groups.yaml", 8}, "/tmp/demo-1").String())
	assert.Equal(t, "/etc/x.yaml:1", RelSource(Source{"/etc/x.yaml", 1}, "/tmp/demo-1").String())
	assert.Equal(t, "a.yaml:1", RelSource(Source{"a.yaml", 1}, "").String())
}

func TestReadJSONChecksTheUnreadSystems(t *testing.T) {
	p := reviewPlan()
	p.Unread = append(p.Unread, Unreadable{System: LOX24, Error: "x"})
	assert.ErrorContains(t, WriteJSON(&bytes.Buffer{}, p), "errors[1]: lox24 was read")
	p.Unread = []Unreadable{{System: "ldap", Error: "x"}}
	assert.ErrorContains(t, WriteJSON(&bytes.Buffer{}, p), `errors[0]: unknown system "ldap"`)
}

func TestWriteTextSummaryOnly(t *testing.T) {
	text := render(t, func(b *bytes.Buffer) error { return WriteText(b, reviewPlan(), RenderOptions{Summary: true}) })
	assert.Equal(t, refusedIntro+"\n  - the plan has 211 changes, more than --max-changes 100\n\n"+
		"lox24: 202 to create, 6 to update, 3 to delete, 4 unchanged\n"+
		"helloid: NOT READ (helloid: get groups: 401 Unauthorized: the API key is not valid); nothing planned for it\n"+
		"Plan: 202 to create, 6 to update, 3 to delete, 4 unchanged. 1 system NOT READ.\n", text)
}

// guardedPlan prunes one of three groups in its prefix and shrank since its
// baseline, and a system could not be read: every safety-guard output at
// once.
func guardedPlan() *Plan {
	two := 2
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{LOX24: 1},
		Unread: []Unreadable{{System: HelloID, Error: "helloid: get groups: 401 Unauthorized"}},
		Prune: map[System]PruneScope{LOX24: {NamePrefix: "HR ", InScope: 3, Kept: []KeptGroup{
			{Key: "1", Name: "HR Sales", Why: "named by the files"}, {Key: "2", Name: "HR Ops", Why: "named by the files"}}}},
		Shrinks: []Shrink{{What: "group", Name: "lox24:HR Sales", Before: 8, After: 3, MaxPct: 50}}}
	p.Changes = []Change{{System: LOX24, Kind: KindGroup, Action: Delete, Key: "6", Name: "HR Gone", Members: &two,
		Source: Source{"groups.yaml", 2}, Note: "no file names it (prune: name_prefix \"HR \")",
		Base: map[string]Value{"name": Str("HR Gone")}}}
	for _, err := range p.Check(Guards{MaxDeletePct: DefaultMaxDeletePct}) {
		p.Refused = append(p.Refused, err.Error())
	}
	return p
}

func TestSafetyGuardsLeadThePlanInTheRefusedBlock(t *testing.T) {
	p := guardedPlan()
	const shrink = "shrink guard: group lox24:HR Sales shrank from 8 to 3 since the baseline (-62.5%, more than --max-shrink-pct 50%)"
	require.Equal(t, []string{shrink}, p.Refused)

	text := render(t, func(b *bytes.Buffer) error { return WriteText(b, p, RenderOptions{}) })
	assert.True(t, strings.HasPrefix(text, refusedIntro+"\n  - "+shrink+"\n\n"), "the shrink refusal leads the plan in the REFUSED block:\n%s", text)
	assert.Equal(t, 1, strings.Count(text, "shrink guard"), "said once, in the block:\n%s", text)
	assert.Regexp(t, `- group 6 "HR Gone".*\n +members: 2 \(deleted with the group\)\n`, text)
	assert.Contains(t, text, `  prune "HR ": 1 of 3 groups in the prefix to delete, 2 stay`)
	assert.Contains(t, text, `stays: group 1 "HR Sales" (named by the files)`)
	assert.Contains(t, text, `stays: group 2 "HR Ops" (named by the files)`)

	md := render(t, func(b *bytes.Buffer) error { return WriteMarkdown(b, p, RenderOptions{}) })
	box := md[strings.Index(md, "> [!CAUTION]"):strings.Index(md, "### lox24")]
	assert.Contains(t, box, "> - shrink guard: group lox24:HR Sales shrank", "the shrink refusal is in the caution box")
	assert.Equal(t, 1, strings.Count(md, "shrink guard"), md)
	assert.Contains(t, md, "members: 2 (deleted with the group)")
	assert.Contains(t, md, `prune "HR ": 1 of 3 groups in the prefix to delete, 2 stay`)

	js := writeJSON(t, p)
	var doc struct {
		Errors  []Unreadable          `json:"errors"`
		Refused []string              `json:"refused"`
		Prune   map[System]PruneScope `json:"prune"`
		Shrinks []Shrink              `json:"shrinks"`
	}
	require.NoError(t, json.Unmarshal(js, &doc))
	assert.Equal(t, p.Unread, doc.Errors)
	assert.Equal(t, p.Refused, doc.Refused)
	assert.Equal(t, p.Prune, doc.Prune)
	assert.Equal(t, p.Shrinks, doc.Shrinks)
	whole, err := json.MarshalIndent(planFile{Version: FileVersion, Systems: p.Systems, Summary: countsOf(p.Count("")),
		SummaryBySystem: map[System]planCounts{LOX24: countsOf(p.Count(LOX24))}, Changes: p.Changes, Unchanged: p.Unchanged,
		Members: map[string]int{}, Errors: p.Unread, Refused: p.Refused, Prune: p.Prune, Shrinks: p.Shrinks}, "", "  ")
	require.NoError(t, err)
	assert.Equal(t, string(whole)+"\n", string(js), "the streamed plan is the whole document, field for field")
	got, err := ReadJSON(bytes.NewReader(js))
	require.NoError(t, err)
	assert.Equal(t, p, got, "a saved plan keeps its errors, refusals, prune scope and shrinks")
}

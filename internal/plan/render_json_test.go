package plan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeJSON(t *testing.T, p *Plan) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, p))
	return buf.Bytes()
}

func TestWriteJSONGolden(t *testing.T) {
	golden(t, "plan.json.golden", writeJSON(t, samplePlanWithPhones()))
}

func TestWriteJSONIsByteIdentical(t *testing.T) {
	assert.Equal(t, writeJSON(t, samplePlanWithPhones()), writeJSON(t, samplePlanWithPhones()))
}

func TestWriteJSONHoldsPlanDataOnly(t *testing.T) {
	out := writeJSON(t, samplePlanWithPhones())
	assert.True(t, bytes.HasSuffix(out, []byte("}\n")), "ends in a newline")
	assert.True(t, bytes.HasPrefix(out, []byte("{\n  \"version\": 1,\n  \"systems\": [")), "indented by two spaces, version first")

	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out, &doc))
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	assert.Equal(t, []string{"changes", "errors", "members", "refused", "summary", "summary_by_system", "systems", "unchanged", "version"}, keys)
	assert.JSONEq(t, `{"create": 5, "update": 3, "delete": 1, "errors": 1, "unchanged": 1}`, string(doc["summary"]))
	assert.JSONEq(t, `{"lox24": {"create": 4, "update": 2, "delete": 1, "errors": 1, "unchanged": 1},
		"helloid": {"create": 1, "update": 1, "delete": 0, "errors": 0, "unchanged": 0}}`, string(doc["summary_by_system"]))
	// Machine-readable: the numbers in full, never masked.
	for _, n := range []string{"+4915112345678", "+4917663804817", "+4930123456", "+12025550123"} {
		assert.Contains(t, string(out), `"phone": "`+n+`"`)
	}
	assert.NotContains(t, string(out), "*")
}

func TestWriteJSONOfAnEmptyPlanHasEmptyCollections(t *testing.T) {
	out := writeJSON(t, &Plan{})
	assert.JSONEq(t, `{"version": 1, "systems": [], "summary": {"create": 0, "update": 0, "delete": 0, "errors": 0, "unchanged": 0},
		"summary_by_system": {}, "changes": [], "unchanged": {}, "members": {}, "errors": [], "refused": []}`, string(out))
}

func TestWriteJSONRefusesAPlanItCouldNotReadBack(t *testing.T) {
	p := samplePlanWithPhones()
	i := slices.IndexFunc(p.Changes, func(c Change) bool { return c.DependsOn != 0 })
	require.Positive(t, i)
	p.Changes[i].DependsOn = i + 2 // itself, plus one
	var buf bytes.Buffer
	err := WriteJSON(&buf, p)
	assert.EqualError(t, err, "plan: changes[7]: depends_on 9 does not point at an earlier change (want 1..7)")
	assert.Zero(t, buf.Len(), "nothing written")
}

func TestJSONRoundTrip(t *testing.T) {
	withPhones := samplePlanWithPhones()
	// The plan exercises every optional field of a change.
	has := func(f func(c Change) bool) bool { return slices.ContainsFunc(withPhones.Changes, f) }
	require.True(t, has(func(c Change) bool { return c.DependsOn != 0 }), "DependsOn")
	require.True(t, has(func(c Change) bool { return c.Note != "" }), "Note")
	require.True(t, has(func(c Change) bool { return c.Kind == KindPhone && c.Base != nil }), "phone Base")
	require.True(t, has(func(c Change) bool { return c.Kind == KindGroup && c.Base != nil }), "group Base")
	require.True(t, has(func(c Change) bool { return c.Error != "" }), "Error")
	require.NotEmpty(t, withPhones.Members)

	noChanges := Diff(Desired{Groups: []Group{{System: LOX24, Name: "Same", Fields: map[string]Value{}}}},
		map[System]Current{LOX24: {Groups: []RemoteGroup{loxRemote("5", "Same", nil)}}})
	odd := samplePlan()
	odd.Changes[0].Fields[0].After = Str("line one\nline two \"quoted\" <b>R&D</b> \u2028 ✓")
	odd.Changes[0].Base["name_b"] = Str("")

	withBaseline := samplePlanWithPhones()
	withBaseline.Baseline = &Baseline{Version: BaselineVersion, Groups: map[string]int{"lox24:12345": 8}, Files: map[string]int{"hr.csv": 8, "groups.yaml": 2}}

	tests := map[string]*Plan{
		"with a baseline":    withBaseline,
		"sample":             samplePlan(),
		"sample with phones": withPhones,
		"no changes":         noChanges,
		"no systems":         Diff(Desired{}, nil),
		"odd values":         odd,
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			out := writeJSON(t, p)
			got, err := ReadJSON(bytes.NewReader(out))
			require.NoError(t, err)
			assert.Equal(t, expanded(p), got)
			assert.Equal(t, string(out), string(writeJSON(t, got)), "written again, byte-identical")
		})
	}
}

// edit returns the JSON of samplePlanWithPhones after f changed it as a
// generic document; changes are []any of map[string]any.
func edit(t *testing.T, f func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(writeJSON(t, samplePlanWithPhones()), &doc))
	f(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	return out
}

// editPlan returns the JSON of samplePlanWithPhones after f changed the
// plan, written unchecked but with summaries that match.
func editPlan(t *testing.T, f func(p *Plan)) []byte {
	t.Helper()
	p := samplePlanWithPhones()
	f(p)
	var buf bytes.Buffer
	require.NoError(t, encodePlan(&buf, p))
	return buf.Bytes()
}

func change(doc map[string]any, i int) map[string]any {
	return doc["changes"].([]any)[i].(map[string]any)
}

func TestReadJSONRejects(t *testing.T) {
	p := samplePlanWithPhones()
	var lines []string
	for i, c := range p.Changes {
		lines = append(lines, strings.Join([]string{string(rune('0' + i)), string(c.System), string(c.Kind), string(c.Action), c.Error}, " "))
	}
	require.Equal(t, []string{
		"0 lox24 group update ",
		"1 lox24 phone update ",
		"2 lox24 phone create ",
		"3 lox24 phone delete ",
		"4 lox24 group create ",
		"5 lox24 group update id 404 does not exist",
		"6 lox24 group create ",
		"7 lox24 phone create ",
		"8 helloid group update ",
		"9 helloid group create ",
	}, lines, "the cases below rely on samplePlanWithPhones' order")
	require.Equal(t, 7, p.Changes[7].DependsOn)

	tests := []struct {
		name string
		in   []byte
		err  string // the whole message, or with a trailing "…" its start
	}{
		{"another version", edit(t, func(d map[string]any) { d["version"] = 2; d["new_in_v2"] = true }),
			"plan file version 2 is not supported (want 1)"},
		{"no version", edit(t, func(d map[string]any) { delete(d, "version") }),
			"plan file has no version; is it a plan saved by groupsync plan --out?"},
		{"a version that is not a number", edit(t, func(d map[string]any) { d["version"] = "1" }),
			"plan file: line 290, column 16: json: cannot unmarshal string into Go struct field .version of type int"},
		{"not JSON", []byte("lox24:\n  groups: []\n"), "plan file: line 1, column 1: invalid character 'l' looking for beginning of value"},
		{"a truncated file", writeJSON(t, samplePlanWithPhones())[:500], "plan file: line 33, column 13: unexpected end of JSON input"},
		{"data after the plan", append(writeJSON(t, samplePlanWithPhones()), "{}"...), "plan file: line 292, column 1: invalid character '{' after top-level value"},
		{"an unknown top-level field", edit(t, func(d map[string]any) { d["token"] = "secret" }),
			`plan file: unknown field "token"`},
		{"an unknown field in a change", edit(t, func(d map[string]any) { change(d, 3)["colour"] = "red" }),
			`plan file: changes[3] (line 88): json: unknown field "colour"`},
		{"an unknown field in a change's source", edit(t, func(d map[string]any) { change(d, 0)["source"].(map[string]any)["column"] = 3 }),
			`plan file: changes[0] (line 3): json: unknown field "column"`},
		{"a repeated field", bytes.Replace(writeJSON(t, samplePlanWithPhones()), []byte(`"version": 1,`), []byte(`"version": 1, "version": 1,`), 1),
			`plan file: field "version" appears twice`},
		{"an unknown system in the plan", edit(t, func(d map[string]any) { d["systems"] = []any{"lox24", "helloid", "twilio"} }),
			`plan file: systems: unknown system "twilio" (want lox24 or helloid)`},
		{"an unknown system in a change", edit(t, func(d map[string]any) { change(d, 8)["system"] = "HelloID" }),
			`plan file: changes[8]: unknown system "HelloID" (want lox24 or helloid)`},
		{"a change of a system the plan did not read", editPlan(t, func(p *Plan) { p.Systems = p.Systems[:1]; delete(p.Unchanged, HelloID) }),
			"plan file: changes[8]: system helloid is not one of the plan's systems (lox24)"},
		{"an unknown kind", edit(t, func(d map[string]any) { change(d, 0)["kind"] = "member" }),
			`plan file: changes[0]: unknown kind "member" (want group, phone or user)`},
		{"an unknown action", edit(t, func(d map[string]any) { change(d, 0)["action"] = "replace" }),
			`plan file: changes[0]: unknown action "replace" (want create, update or delete)`},
		{"a missing action", edit(t, func(d map[string]any) { delete(change(d, 0), "action") }),
			`plan file: changes[0]: unknown action "" (want create, update or delete)`},
		{"depends_on a later change", editPlan(t, func(p *Plan) { p.Changes[7].DependsOn = 9 }),
			"plan file: changes[7]: depends_on 9 does not point at an earlier change (want 1..7)"},
		{"depends_on itself", editPlan(t, func(p *Plan) { p.Changes[7].DependsOn = 8 }),
			"plan file: changes[7]: depends_on 8 does not point at an earlier change (want 1..7)"},
		{"depends_on that is negative", editPlan(t, func(p *Plan) { p.Changes[7].DependsOn = -1 }),
			"plan file: changes[7]: depends_on -1 does not point at an earlier change (want 1..7)"},
		{"depends_on a group update", editPlan(t, func(p *Plan) { p.Changes[7].DependsOn = 1 }),
			"plan file: changes[7]: depends_on 1 points at changes[0], a lox24 group update, not a lox24 group create"},
		{"depends_on a phone create", editPlan(t, func(p *Plan) { p.Changes[7].DependsOn = 3 }),
			"plan file: changes[7]: depends_on 3 points at changes[2], a lox24 phone create, not a lox24 group create"},
		{"depends_on a create of the other system", editPlan(t, func(p *Plan) {
			p.Changes[7], p.Changes[9] = p.Changes[9], p.Changes[7]
			p.Changes[9].DependsOn = 9 // the helloid create, now at 8
		}), "plan file: changes[9]: depends_on 9 points at changes[8], a helloid group update, not a lox24 group create"},
		{"depends_on on a group item", editPlan(t, func(p *Plan) { p.Changes[6].DependsOn = 5 }),
			"plan file: changes[6]: depends_on 5 on a group item: only member items wait for a group create"},
		{"a phone item in helloid", editPlan(t, func(p *Plan) { p.Changes[9].Kind = KindPhone }),
			"plan file: changes[9]: a phone item in helloid: only lox24 groups have phone members"},
		{"a user item in lox24", editPlan(t, func(p *Plan) { p.Changes[3].Kind = KindUser }),
			"plan file: changes[3]: a user item in lox24: only helloid groups have user members"},
		{"a user item whose key is not a GUID", editPlan(t, func(p *Plan) {
			p.Changes[9] = Change{System: HelloID, Kind: KindUser, Action: Delete, Key: "../x", Name: "n", GroupKey: "g"}
		}), `plan file: changes[9]: a user delete whose key "../x" is not a userGuid`},
		// A plan edited by hand sends nothing a file could not have asked for.
		{"an empty name", editPlan(t, func(p *Plan) { p.Changes[8].Fields[0].After = Str("") }),
			"plan file: changes[8]: name: empty"},
		{"a null name", editPlan(t, func(p *Plan) { p.Changes[9].Fields[0].After = Null }),
			"plan file: changes[9]: name: null, but it cannot be cleared"},
		{"a boolean that is not one", editPlan(t, func(p *Plan) { p.Changes[8].Fields[1].After = Str("yes") }),
			`plan file: changes[8]: isEnabled: "yes" is not true or false`},
		{"a null boolean", editPlan(t, func(p *Plan) { p.Changes[9].Fields[1].After = Null }),
			"plan file: changes[9]: isEnabled: null, but it cannot be cleared"},
		{"a manager that is not a GUID", editPlan(t, func(p *Plan) { p.Changes[8].Fields[2].After = Str("bob") }),
			`plan file: changes[8]: managedByUserGuid: "bob" is not a GUID`},
		{"a LOX24 key that is a path", editPlan(t, func(p *Plan) { p.Changes[0].Key = "12344/../../me" }),
			`plan file: changes[0]: key "12344/../../me" is not a LOX24 id (a positive integer)`},
		{"a LOX24 group key with a leading zero", editPlan(t, func(p *Plan) { p.Changes[3].GroupKey = "012344" }),
			`plan file: changes[3]: group "012344" is not a LOX24 id (a positive integer)`},
		{"a HelloID group key that is not a GUID", editPlan(t, func(p *Plan) { p.Changes[8].Key = "sales" }),
			`plan file: changes[8]: key "sales" is not a groupGuid`},
		{"a phone item with neither group nor depends_on", editPlan(t, func(p *Plan) { p.Changes[7].DependsOn = 0 }),
			"plan file: changes[7]: a phone item needs either a group or depends_on, and not both"},
		{"a phone item with both group and depends_on", editPlan(t, func(p *Plan) { p.Changes[7].GroupKey = "12344" }),
			"plan file: changes[7]: a phone item needs either a group or depends_on, and not both"},
		{"a phone item without a number", editPlan(t, func(p *Plan) { p.Changes[3].Phone = "" }),
			"plan file: changes[3]: a phone delete without a phone number"},
		{"an update without a key", editPlan(t, func(p *Plan) { p.Changes[8].Key = "" }),
			"plan file: changes[8]: a group update without a key"},
		{"a field the system does not have", editPlan(t, func(p *Plan) { p.Changes[8].Fields[1].Field = "description" }),
			`plan file: changes[8]: unknown field "description" for a helloid group`},
		{"a column phones do not have", editPlan(t, func(p *Plan) { p.Changes[1].Fields[0].Field = "f" }),
			`plan file: changes[1]: unknown field "f" for a lox24 phone`},
		{"unchanged of an unknown system", edit(t, func(d map[string]any) { d["unchanged"].(map[string]any)["twilio"] = 1 }),
			`plan file: unchanged: system "twilio" is not one of the plan's systems (lox24, helloid)`},
		{"a change removed before a phone item that waits for a create", edit(t, func(d map[string]any) {
			d["changes"] = slices.Delete(d["changes"].([]any), 3, 4) // the phone delete
		}), "plan file: changes[6]: depends_on 7 does not point at an earlier change (want 1..6)"},
		{"a summary that does not match the changes", edit(t, func(d map[string]any) {
			d["changes"] = slices.Delete(d["changes"].([]any), 9, 10) // the helloid create
		}), "plan file: summary says 5 to create, 3 to update, 1 to delete, 1 unchanged, 1 error, but the changes give 4 to create, 3 to update, 1 to delete, 1 unchanged, 1 error"},
		{"a system's summary that does not match", edit(t, func(d map[string]any) {
			d["summary_by_system"].(map[string]any)["helloid"].(map[string]any)["unchanged"] = 3
		}), "plan file: summary_by_system: helloid says 1 to create, 1 to update, 0 to delete, 3 unchanged, but the changes give 1 to create, 1 to update, 0 to delete, 0 unchanged"},
		{"a missing system summary", edit(t, func(d map[string]any) { delete(d["summary_by_system"].(map[string]any), "lox24") }),
			"plan file: summary_by_system: lox24 is missing"},
		{"a baseline of another version", edit(t, func(d map[string]any) {
			d["baseline"] = map[string]any{"version": 2, "groups": map[string]any{}, "files": map[string]any{}}
		}), "plan file: baseline: version 2 is not supported (want 1)"},
		{"a baseline with a negative count", edit(t, func(d map[string]any) {
			d["baseline"] = map[string]any{"version": 1, "groups": map[string]any{"lox24:1": 3}, "files": map[string]any{"hr.csv": -1}}
		}), "plan file: baseline: files: hr.csv: -1 is negative"},
		{"an unknown field in the baseline", edit(t, func(d map[string]any) {
			d["baseline"] = map[string]any{"version": 1, "groups": map[string]any{}, "files": map[string]any{}, "path": "/tmp/b.json"}
		}), `plan file: baseline: json: unknown field "path"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadJSON(bytes.NewReader(tt.in))
			require.Error(t, err)
			assert.Nil(t, p)
			if start, ok := strings.CutSuffix(tt.err, "…"); ok {
				assert.True(t, strings.HasPrefix(err.Error(), start), "%q does not start with %q", err, start)
				return
			}
			assert.EqualError(t, err, tt.err)
		})
	}
}

func TestReadJSONAcceptsWhatDiffMakes(t *testing.T) {
	// A plan whose phones wait for a create that has an error still reads:
	// Apply skips them when the create is not sent.
	p := samplePlanWithPhones()
	p.Changes[6].Error = "name: 51 characters, at most 50"
	got, err := ReadJSON(bytes.NewReader(writeJSON(t, p)))
	require.NoError(t, err)
	assert.Equal(t, expanded(p), got)
}

// A value past a documented length that a system held is sent back by
// undo: the plan holding it is written and read, and the API, not the
// plan file, says whether it takes it.
func TestReadJSONAcceptsValuesPastTheDocumentedLengths(t *testing.T) {
	p := samplePlanWithPhones()
	p.Changes[0].Fields[0].After = Str(strings.Repeat("x", 300))
	got, err := ReadJSON(bytes.NewReader(writeJSON(t, p)))
	require.NoError(t, err)
	assert.Equal(t, expanded(p), got)
}

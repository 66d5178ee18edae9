package export

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
	"groupsync/internal/source"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenState is a small state with what export must handle: a LOX24 group
// with labelled member columns, a null field, a name YAML would read as a
// boolean, text YAML must quote, a group it must leave out, and HelloID
// groups with both values of every flag.
func goldenState() map[plan.System]plan.Current {
	lox := []plan.RemoteGroup{
		{Key: "17", Name: "Drivers", Fields: map[string]plan.Value{
			"description": plan.Str("Night shift: 22:00-06:00"), "name_a": plan.Str("Surname"), "name_b": plan.Str("a"),
			"name_c": plan.Null, "name_d": plan.Null, "name_e": plan.Null,
		}, Phones: []plan.RemotePhone{
			{ID: "1", Number: "+4915100000001", Cols: plan.MakeColumns("Meier", "x", "", "", "", "cb")},
			{ID: "2", Number: "0049 151 0000 0002", Cols: plan.MakeColumns("Müller", "", "", "", "", "")},
			{ID: "3", Number: "+4915100000001", Cols: plan.MakeColumns("again", "", "", "", "", "")},
		}},
		{Key: "18", Name: "yes", Fields: map[string]plan.Value{
			"description": plan.Null, "name_a": plan.Null, "name_b": plan.Null, "name_c": plan.Null, "name_d": plan.Null, "name_e": plan.Null,
		}},
		{Key: "019", Name: "not addressable", Fields: map[string]plan.Value{}},
	}
	hid := []plan.RemoteGroup{
		{Key: "6f1c0d7e-1111-4a2b-9c3d-000000000001", Name: "Office", Fields: map[string]plan.Value{
			"isEnabled": plan.Bool(true), "isDefault": plan.Bool(false), "isQrEnabled": plan.Bool(true),
			"managedByUserGuid": plan.Str("6f1c0d7e-1111-4a2b-9c3d-0000000000ff"),
		}},
		{Key: "6f1c0d7e-1111-4a2b-9c3d-000000000002", Name: "123", Fields: map[string]plan.Value{
			"isEnabled": plan.Bool(false), "isDefault": plan.Bool(true), "isQrEnabled": plan.Bool(false), "managedByUserGuid": plan.Null,
		}},
	}
	return map[plan.System]plan.Current{
		plan.LOX24:   {System: plan.LOX24, Groups: lox},
		plan.HelloID: {System: plan.HelloID, Groups: hid},
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// The writer's output is fixed by golden files, and the readers of package
// source read it back as the state it was written from.
func TestBuildGoldenAndReadBack(t *testing.T) {
	t.Parallel()
	cur := goldenState()
	x := Build(plan.Systems, cur, true, plan.MaskPhone, "")
	golden(t, "export.yaml", x.YAML)
	require.Len(t, x.Members, 2)
	golden(t, x.Members[0].Name, x.Members[0].Data)
	golden(t, x.Members[1].Name, x.Members[1].Data)
	assert.Equal(t, map[plan.System]int{plan.LOX24: 2, plan.HelloID: 2}, x.Groups)
	require.Len(t, x.Warnings, 2)
	assert.Contains(t, x.Warnings[0], `lox24 group 17 "Drivers": 1 member left out of members-17.csv`)
	assert.Contains(t, x.Warnings[1], `lox24 group 019 "not addressable" is left out: its key is not one the desired state can address`)

	groups, errs := source.ReadYAML("export.yaml", bytes.NewReader(x.YAML))
	require.Empty(t, errs)
	byKey := map[string]plan.Group{}
	for _, g := range groups {
		byKey[g.Key] = g
	}
	require.Len(t, byKey, 4)
	for _, sys := range plan.Systems {
		for _, rg := range cur[sys].Groups {
			if rg.Key == "019" {
				continue
			}
			g, ok := byKey[rg.Key]
			require.True(t, ok, rg.Key)
			assert.Equal(t, sys, g.System)
			assert.Equal(t, rg.Name, g.Name)
			assert.Equal(t, rg.Fields, g.Fields, "every field is managed with its current value")
		}
	}
	drivers := byKey["17"]
	require.NotNil(t, drivers.Phones)
	assert.Equal(t, plan.PhonesAdditive, drivers.Phones.Mode, "a member left out keeps the group additive")
	m := x.Members[0]
	require.Equal(t, filepath.Base(drivers.Phones.File), m.Name)
	ph, errs := source.ReadPhones(m.Name, bytes.NewReader(m.Data), m.Labels)
	require.Empty(t, errs)
	require.Len(t, ph.List, 2)
	assert.Equal(t, "+4915100000001", ph.List[0].Number)
	assert.Equal(t, plan.MakeColumns("Meier", "x", "", "", "", "cb"), ph.List[0].Cols)
	assert.Equal(t, "+4915100000002", ph.List[1].Number)
	assert.Equal(t, plan.MakeColumns("Müller", "", "", "", "", ""), ph.List[1].Cols)
	require.NoError(t, x.Check(cur))
}

// The writer takes ids and GUIDs exactly as the readers accept them: a key
// the readers reject, or would read as another key, is left out.
func TestBuildAddressesGroupsAsTheReadersDo(t *testing.T) {
	t.Parallel()
	keys := map[plan.System][]string{
		plan.LOX24:   {"1", "9223372036854775807", "9223372036854775808", "0", "01", "-1", "1.0", " 1"},
		plan.HelloID: {"6F1C0D7E-1111-4A2B-9C3D-000000000001", "6f1c0d7e11114a2b9c3d000000000001", "{6f1c0d7e-1111-4a2b-9c3d-000000000001}", "6f1c0d7e-1111-4a2b-9c3d-00000000000g"},
	}
	for sys, list := range keys {
		for _, key := range list {
			fields := map[string]plan.Value{}
			for _, spec := range plan.GroupFields[sys] {
				fields[spec.Name] = plan.Null
				if spec.Kind == plan.FieldBool {
					fields[spec.Name] = plan.Bool(false)
				}
			}
			cur := map[plan.System]plan.Current{sys: {System: sys, Groups: []plan.RemoteGroup{{Key: key, Name: "g", Fields: fields}}}}
			x := Build([]plan.System{sys}, cur, false, plan.MaskPhone, "")
			require.NoError(t, x.Check(cur), "%s %q", sys, key)
			var want bool
			if sys == plan.LOX24 {
				id, ok := source.ParseID(key)
				want = ok && id == key
			} else {
				want = source.IsGUID(key)
			}
			assert.Equal(t, want, x.Groups[sys] == 1, "%s %q", sys, key)
		}
	}
}

func TestMemberHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		labels  map[string]string // name_x -> value
		header  []string
		dropped []string
	}{
		{"no labels", nil, []string{"phone", "a", "b", "c", "d", "e", "callback_data"}, nil},
		{"labels that clash with nothing", map[string]string{"name_a": "prefix", "name_b": "surname"}, []string{"phone", "a", "b", "c", "d", "e", "callback_data"}, nil},
		{"a letter taken by another column's label, trimmed", map[string]string{"name_a": "prefix", "name_b": " a "}, []string{"phone", "prefix", "b", "c", "d", "e", "callback_data"}, nil},
		{"a label that is its own column's letter", map[string]string{"name_a": "a"}, []string{"phone", "a", "b", "c", "d", "e", "callback_data"}, nil},
		{"a letter taken by another column's label", map[string]string{"name_a": "b", "name_b": "Surname"}, []string{"phone", "a", "Surname", "c", "d", "e", "callback_data"}, nil},
		{"swapped letters", map[string]string{"name_a": "b", "name_b": "a"}, []string{"phone", "c", "d", "e", "callback_data"}, []string{"a", "b"}},
		{"callback_data as a label", map[string]string{"name_c": "callback_data"}, []string{"phone", "a", "b", "c", "d", "e"}, []string{"callback_data"}},
		{"a shared label", map[string]string{"name_a": "x", "name_b": "x"}, []string{"phone", "a", "b", "c", "d", "e", "callback_data"}, nil},
		{"phone as a label", map[string]string{"name_d": "phone"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := map[string]plan.Value{}
			for k, v := range tt.labels {
				fields[k] = plan.Str(v)
			}
			header, _, dropped := memberHeader(source.Labels(fields))
			assert.Equal(t, tt.header, header)
			assert.Equal(t, tt.dropped, dropped)
		})
	}
}

// TestBuildExportRoundTripsAnyText checks, without a network, that values
// YAML would reinterpret or that need escaping read back unchanged: Check
// (the export's own proof) reads the YAML and member files back and plans
// them against the state they came from.
func TestBuildExportRoundTripsAnyText(t *testing.T) {
	t.Parallel()
	texts := []string{"yes", "No", "ON", "y", "~", "null", "Null", "NULL", "true", "False", "123", "-1", "0o17", "0x1F", "1e3",
		".inf", ".NaN", "2024-01-01", "12:30", "1:20:30", "", " ", " lead", "trail ", "a: b", "a:b", "#x", "x #y", "- x", "-",
		"? x", "[x", "{x", "*x", "&x", "!x", "%x", "@x", "`x", "|", ">", "'", "\"", "\\", "<<", "=", "...", "---",
		"line\nbreak", "trailing\n", "\n", "crlf\r\nx", "\r", "tab\t", "\x01ctl", "\x7f", "\u00a0nbsp", "\u2028", "\ufeffbom",
		"Grüße 日本 🎉"}
	var lox, hid []plan.RemoteGroup
	for i, s := range texts {
		name := s
		if name == "" {
			name = "empty"
		}
		lox = append(lox, plan.RemoteGroup{Key: strconv.Itoa(i + 1), Name: name, Fields: map[string]plan.Value{
			"description": plan.Str(s), "name_a": plan.Str(s), "name_b": plan.Null, "name_c": plan.Null, "name_d": plan.Null, "name_e": plan.Null,
		}, Phones: []plan.RemotePhone{{ID: "1", Number: "+4915100000001", Cols: plan.MakeColumns(s, s, s, s, s, "")}}})
		hid = append(hid, plan.RemoteGroup{Key: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: name + " h", Fields: map[string]plan.Value{
			"isEnabled": plan.Bool(i%2 == 0), "isDefault": plan.Bool(false), "isQrEnabled": plan.Bool(true), "managedByUserGuid": plan.Null,
		}})
	}
	cur := map[plan.System]plan.Current{
		plan.LOX24:   {System: plan.LOX24, Groups: lox},
		plan.HelloID: {System: plan.HelloID, Groups: hid},
	}
	x := Build(plan.Systems, cur, true, plan.MaskPhone, "")
	err := x.Check(cur)
	require.NoError(t, err)
	// Text the readers refuse (control characters, white space at either
	// end) cannot be exported; a group whose name is such text is left out
	// with a warning, the others are exported.
	kept, refused := 0, 0
	for _, s := range texts {
		name := s
		if name == "" {
			name = "empty"
		}
		if source.CheckText(name, 0) == "" {
			kept++
		} else {
			refused++
		}
		if source.CheckText(name+" h", 0) != "" {
			refused++
		}
	}
	assert.Len(t, x.Members, kept)
	leftOut := 0
	for _, w := range x.Warnings {
		if strings.Contains(w, "is left out: name:") {
			leftOut++
		}
	}
	assert.Equal(t, refused, leftOut, "every group whose name the readers refuse is left out")

	empty := Build(plan.Systems, map[plan.System]plan.Current{plan.LOX24: {}, plan.HelloID: {}}, true, plan.MaskPhone, "")
	assert.Contains(t, string(empty.YAML), "lox24:\n  groups: []\nhelloid:\n  groups: []\n")
	require.NoError(t, empty.Check(map[plan.System]plan.Current{plan.LOX24: {}, plan.HelloID: {}}))
}

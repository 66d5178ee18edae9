package source

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"groupsync/internal/plan"
)

func TestReadYAML(t *testing.T) {
	tests := []struct {
		name     string
		file     string // default "g.yaml"
		in       string
		want     []plan.Group // checked when wantErrs is empty
		wantErrs []string
	}{
		{name: "an empty file has no groups", in: ""},
		{name: "a file of comments has no groups", in: "# nothing yet\n"},
		{name: "empty sections have no groups", in: "lox24:\nhelloid:\n  groups:\n"},
		{
			name: "a lox24 group with every field",
			in: `lox24:
  groups:
    - id: 12344
      name: My Clients
      description: Best clients
      name_a: prefix
      name_b: b
      name_c: c
      name_d: d
      name_e: e
      phones: clients.csv
      phones_mode: additive
`,
			want: []plan.Group{{
				System: plan.LOX24, Key: "12344", Name: "My Clients",
				Fields: fields("description", plan.Str("Best clients"), "name_a", plan.Str("prefix"),
					"name_b", plan.Str("b"), "name_c", plan.Str("c"), "name_d", plan.Str("d"), "name_e", plan.Str("e")),
				Phones: &plan.Phones{File: "clients.csv", Mode: plan.PhonesAdditive, Source: src("g.yaml", 11)},
				Source: src("g.yaml", 3),
			}},
		},
		{
			name: "a helloid group with every field",
			in: `helloid:
  groups:
    - groupGuid: EF24276A-cf39-44d7-b8e5-1012c0db5178
      name: Sales
      isEnabled: true
      isDefault: false
      isQrEnabled: True
      managedByUserGuid: f0ce1e44-25e8-4b12-8151-ef3525017647
`,
			want: []plan.Group{{
				System: plan.HelloID, Key: "EF24276A-cf39-44d7-b8e5-1012c0db5178", Name: "Sales",
				Fields: fields("isEnabled", plan.Bool(true), "isDefault", plan.Bool(false), "isQrEnabled", plan.Bool(true),
					"managedByUserGuid", plan.Str("f0ce1e44-25e8-4b12-8151-ef3525017647")),
				Source: src("g.yaml", 3),
			}},
		},
		{
			name: "an absent field is unmanaged and null clears a nullable field",
			in:   "lox24:\n  groups:\n    - name: A\n      description: null\n      name_a: ~\n      name_b:\nhelloid:\n  groups:\n    - name: B\n      managedByUserGuid: null\n",
			want: []plan.Group{
				{System: plan.LOX24, Name: "A", Fields: fields("description", plan.Null, "name_a", plan.Null, "name_b", plan.Null), Source: src("g.yaml", 3)},
				{System: plan.HelloID, Name: "B", Fields: fields("managedByUserGuid", plan.Null), Source: src("g.yaml", 9)},
			},
		},
		{
			name: "Source is the line where the group's mapping starts",
			in:   "lox24:\n  groups:\n\n    # first\n    - name: A\n\n    -\n      name: B\n",
			want: []plan.Group{
				{System: plan.LOX24, Name: "A", Fields: fields(), Source: src("g.yaml", 5)},
				{System: plan.LOX24, Name: "B", Fields: fields(), Source: src("g.yaml", 8)},
			},
		},
		{
			name: "an id is the key in decimal",
			in:   "lox24:\n  groups:\n    - id: 007\n      name: A\n",
			want: []plan.Group{{System: plan.LOX24, Key: "7", Name: "A", Fields: fields(), Source: src("g.yaml", 3)}},
		},
		{
			name: "a text field takes the value as written",
			in:   "lox24:\n  groups:\n    - name: 2025\n      description: 1.50\n",
			want: []plan.Group{{System: plan.LOX24, Name: "2025", Fields: fields("description", plan.Str("1.50")), Source: src("g.yaml", 3)}},
		},
		{
			name: "phones is relative to the file's directory",
			file: "conf/groups.yaml",
			in:   "lox24:\n  groups:\n    - name: A\n      phones: members/a.csv\n",
			want: []plan.Group{{
				System: plan.LOX24, Name: "A", Fields: fields(),
				Phones: &plan.Phones{File: "conf/members/a.csv", Mode: plan.PhonesExact, Source: src("conf/groups.yaml", 4)},
				Source: src("conf/groups.yaml", 3),
			}},
		},
		{
			name: "a name of 50 two-byte characters is valid",
			in:   "lox24:\n  groups:\n    - name: " + letters("ä", 50) + "\n",
			want: []plan.Group{{System: plan.LOX24, Name: letters("ä", 50), Fields: fields(), Source: src("g.yaml", 3)}},
		},
		{
			name: "a helloid name has no length limit",
			in:   "helloid:\n  groups:\n    - name: " + letters("x", 300) + "\n",
			want: []plan.Group{{System: plan.HelloID, Name: letters("x", 300), Fields: fields(), Source: src("g.yaml", 3)}},
		},
		{
			name:     "a name of 51 two-byte characters is too long",
			in:       "lox24:\n  groups:\n    - name: " + letters("ä", 51) + "\n",
			wantErrs: []string{"g.yaml:3:13: name: 51 characters, at most 50"},
		},
		{
			name:     "a description of 256 characters is too long",
			in:       "lox24:\n  groups:\n    - name: A\n      description: " + letters("d", 256) + "\n",
			wantErrs: []string{"g.yaml:4:20: description: 256 characters, at most 255"},
		},
		{
			name:     "a column label of 51 characters is too long",
			in:       "lox24:\n  groups:\n    - name: A\n      name_e: " + letters("e", 51) + "\n",
			wantErrs: []string{"g.yaml:4:15: name_e: 51 characters, at most 50"},
		},
		{
			name:     "unknown top-level keys are errors",
			in:       "lox24:\n  groups: []\nsms:\n  groups: []\n",
			wantErrs: []string{`g.yaml:3:1: unknown key "sms" (want lox24 or helloid)`},
		},
		{
			name:     "a system section holds only groups",
			in:       "helloid:\n  group: []\n",
			wantErrs: []string{`g.yaml:2:3: unknown key "group" in helloid (want groups or prune)`},
		},
		{
			name:     "unknown group keys are errors",
			in:       "helloid:\n  groups:\n    - name: A\n      GroupGuid: x\n      colour: red\n",
			wantErrs: []string{`g.yaml:4:7: unknown key "GroupGuid" (did you mean "groupGuid"?)`, `g.yaml:5:7: unknown key "colour"`},
		},
		{
			name:     "duplicate keys are errors",
			in:       "lox24:\n  groups:\n    - name: A\n      name: B\n",
			wantErrs: []string{`g.yaml:4:7: duplicate key "name" (first at line 3)`},
		},
		{
			name:     "several documents in one file are an error",
			in:       "lox24:\n  groups: []\n---\nhelloid:\n  groups: []\n",
			wantErrs: []string{"g.yaml:3:1: a second document: one file holds one document"},
		},
		{
			name:     "a list where a name belongs is an error",
			in:       "lox24:\n  groups:\n    - name: [a, b]\n",
			wantErrs: []string{"g.yaml:3:13: name: want a single value, got a list"},
		},
		{
			name:     "groups must be a list",
			in:       "lox24:\n  groups:\n    name: A\n",
			wantErrs: []string{"g.yaml:3:5: groups: want a list of groups, got a mapping"},
		},
		{
			name:     "a group must be a mapping",
			in:       "lox24:\n  groups:\n    - A\n",
			wantErrs: []string{`g.yaml:3:7: want a group (a mapping of fields), got the value "A"`},
		},
		{
			name:     "a boolean must be true or false",
			in:       "helloid:\n  groups:\n    - name: A\n      isEnabled: maybe\n      isDefault: \"true\"\n",
			wantErrs: []string{`g.yaml:4:18: isEnabled: "maybe" is not a boolean (want true or false)`, `g.yaml:5:18: isDefault: "true" is not a boolean (want true or false)`},
		},
		{
			name: "an id must be a positive integer",
			in:   "lox24:\n  groups:\n    - id: abc\n      name: A\n    - id: 0\n      name: B\n    - id: -5\n      name: C\n",
			wantErrs: []string{
				`g.yaml:3:11: id: "abc" is not a positive integer`,
				`g.yaml:5:11: id: "0" is not a positive integer`,
				`g.yaml:7:11: id: "-5" is not a positive integer`,
			},
		},
		{
			name: "GUIDs must be 8-4-4-4-12 hex digits",
			in:   "helloid:\n  groups:\n    - groupGuid: ef24276a-cf39-44d7-b8e5\n      name: A\n      managedByUserGuid: xyz\n",
			wantErrs: []string{
				`g.yaml:3:18: groupGuid: "ef24276a-cf39-44d7-b8e5" is not a GUID (want 8-4-4-4-12 hex digits)`,
				`g.yaml:5:26: managedByUserGuid: "xyz" is not a GUID (want 8-4-4-4-12 hex digits)`,
			},
		},
		{
			name: "null is an error for fields that cannot be cleared",
			in:   "lox24:\n  groups:\n    - name: null\n      id: null\nhelloid:\n  groups:\n    - name: A\n      isEnabled: null\n",
			wantErrs: []string{
				"g.yaml:3:13: name: null is not allowed (a name is required)",
				"g.yaml:4:11: id: null is not allowed",
				"g.yaml:8:18: isEnabled: null is not allowed (want true or false)",
			},
		},
		{
			name:     "a name is required",
			in:       "lox24:\n  groups:\n    - description: x\n    - name: \"\"\n",
			wantErrs: []string{"g.yaml:3:7: name: missing (required)", "g.yaml:4:13: name: must not be empty"},
		},
		{
			name:     "phones_mode is only valid with phones",
			in:       "lox24:\n  groups:\n    - name: A\n      phones_mode: exact\n",
			wantErrs: []string{"g.yaml:4:20: phones_mode: only valid with phones"},
		},
		{
			name:     "phones_mode is exact or additive",
			in:       "lox24:\n  groups:\n    - name: A\n      phones: a.csv\n      phones_mode: replace\n",
			wantErrs: []string{`g.yaml:5:20: phones_mode: "replace" is not a phones mode (want exact or additive)`},
		},
		{
			name:     "a helloid group has no phones",
			in:       "helloid:\n  groups:\n    - name: A\n      phones: a.csv\n",
			wantErrs: []string{"g.yaml:4:7: phones: helloid groups have no phones (only lox24 groups have members)"},
		},
		{
			name:     "a field of the other system is an error",
			in:       "helloid:\n  groups:\n    - name: A\n      description: x\nlox24:\n  groups:\n    - name: B\n      isEnabled: true\n",
			wantErrs: []string{"g.yaml:4:7: description: not a helloid field (it belongs to lox24 groups)", "g.yaml:8:7: isEnabled: not a lox24 field (it belongs to helloid groups)"},
		},
		{
			name:     "a syntax error has file and line",
			in:       "lox24:\n  groups:\n    - name: A\n      description: x: y\n",
			wantErrs: []string{"g.yaml:4: mapping values are not allowed in this context"},
		},
		{
			name:     "bytes that are not UTF-8 are an error at their line and column",
			in:       "lox24:\n  groups:\n    - name: \"\u00e4\xff\"\n",
			wantErrs: []string{"g.yaml:3:15: not valid UTF-8 (a file must be UTF-8 text)"},
		},
		{
			name:     "a control character is an error at its line and column",
			in:       "lox24:\n  groups:\n    - name: A\n      description: \"a\x07b\"\n",
			wantErrs: []string{"g.yaml:4:22: control character U+0007 is not allowed"},
		},
		{
			name: "a UTF-8 byte order mark and CRLF line ends are accepted",
			in:   "\uFEFFlox24:\r\n  groups:\r\n    - name: A\r\n      description: x\r\n",
			want: []plan.Group{{System: plan.LOX24, Name: "A", Fields: fields("description", plan.Str("x")), Source: src("g.yaml", 3)}},
		},
		{
			name: "one run reports every error",
			in:   "lox24:\n  groups:\n    - id: x\n      name: A\n      colour: red\n    - name: " + letters("n", 51) + "\n",
			wantErrs: []string{
				`g.yaml:3:11: id: "x" is not a positive integer`,
				`g.yaml:5:7: unknown key "colour"`,
				"g.yaml:6:13: name: 51 characters, at most 50",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = "g.yaml"
			}
			got, errs := ReadYAML(file, strings.NewReader(tt.in))
			assert.Equal(t, tt.wantErrs, errStrings(errs))
			if len(tt.wantErrs) == 0 {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

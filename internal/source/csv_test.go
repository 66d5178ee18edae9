package source

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"groupsync/internal/plan"
)

func TestReadGroupsCSV(t *testing.T) {
	const guid = "ef24276a-cf39-44d7-b8e5-1012c0db5178"
	tests := []struct {
		name     string
		in       string
		want     []plan.Group // checked when wantErrs is empty
		wantErrs []string
	}{
		{
			name: "a column absent from the header is unmanaged for every row",
			in:   "system,name,description\nlox24,A,x\nhelloid,B,\n",
			want: []plan.Group{
				{System: plan.LOX24, Name: "A", Fields: fields("description", plan.Str("x")), Source: src("g.csv", 2)},
				{System: plan.HelloID, Name: "B", Fields: fields(), Source: src("g.csv", 3)},
			},
		},
		{
			name: "an empty cell clears a nullable field",
			in:   "system,name,description,name_a,managedByUserGuid\nlox24,A,,,\nhelloid,B,,,\n",
			want: []plan.Group{
				{System: plan.LOX24, Name: "A", Fields: fields("description", plan.Null, "name_a", plan.Null), Source: src("g.csv", 2)},
				{System: plan.HelloID, Name: "B", Fields: fields("managedByUserGuid", plan.Null), Source: src("g.csv", 3)},
			},
		},
		{
			name: "an empty boolean cell leaves the field unmanaged",
			in:   "system,name,isEnabled,isDefault\nhelloid,B,,\n",
			want: []plan.Group{{System: plan.HelloID, Name: "B", Fields: fields(), Source: src("g.csv", 2)}},
		},
		{
			name: "booleans are true/false/yes/no/1/0 in any letter case",
			in:   "system,name,isEnabled,isDefault,isQrEnabled\nhelloid,A,TRUE,No,1\nhelloid,B,false,yes,0\n",
			want: []plan.Group{
				{System: plan.HelloID, Name: "A", Fields: fields("isEnabled", plan.Bool(true), "isDefault", plan.Bool(false), "isQrEnabled", plan.Bool(true)), Source: src("g.csv", 2)},
				{System: plan.HelloID, Name: "B", Fields: fields("isEnabled", plan.Bool(false), "isDefault", plan.Bool(true), "isQrEnabled", plan.Bool(false)), Source: src("g.csv", 3)},
			},
		},
		{
			name: "empty key, phones and phones_mode cells mean not given",
			in:   "system,name,id,groupGuid,phones,phones_mode\nlox24,A,,,,\nlox24,B,12,,m.csv,additive\nhelloid,C,,,,\nhelloid,D,," + guid + ",,\n",
			want: []plan.Group{
				{System: plan.LOX24, Name: "A", Fields: fields(), Source: src("g.csv", 2)},
				{System: plan.LOX24, Key: "12", Name: "B", Fields: fields(), Source: src("g.csv", 3),
					Phones: &plan.Phones{File: "m.csv", Mode: plan.PhonesAdditive, Source: src("g.csv", 3)}},
				{System: plan.HelloID, Name: "C", Fields: fields(), Source: src("g.csv", 4)},
				{System: plan.HelloID, Key: guid, Name: "D", Fields: fields(), Source: src("g.csv", 5)},
			},
		},
		{
			name: "a UTF-8 byte order mark and CRLF line ends are accepted",
			in:   "\uFEFFsystem,name,description\r\nlox24,A,x\r\nlox24,B,y\r\n",
			want: []plan.Group{
				{System: plan.LOX24, Name: "A", Fields: fields("description", plan.Str("x")), Source: src("g.csv", 2)},
				{System: plan.LOX24, Name: "B", Fields: fields("description", plan.Str("y")), Source: src("g.csv", 3)},
			},
		},
		{
			name: "Source is the line where the row starts",
			in:   "system,name,description\nlox24,A,\"two, \"\"quoted\"\"\"\n\nlox24,B,\n,,\nlox24,C,\n",
			want: []plan.Group{
				{System: plan.LOX24, Name: "A", Fields: fields("description", plan.Str(`two, "quoted"`)), Source: src("g.csv", 2)},
				{System: plan.LOX24, Name: "B", Fields: fields("description", plan.Null), Source: src("g.csv", 4)},
				{System: plan.LOX24, Name: "C", Fields: fields("description", plan.Null), Source: src("g.csv", 6)},
			},
		},
		{
			name:     "a cell over several lines holds a line break, which text may not",
			in:       "system,name,description\nlox24,A,\"two\nlines\"\n\nlox24,,\n",
			wantErrs: []string{"g.csv:2: description: contains control character U+000A (not allowed in text)", "g.csv:5: name: must not be empty"},
		},
		{
			name: "cells are not trimmed: white space at either end of text is refused",
			in:   "system,name,description\nlox24, Staff,x\nhelloid,Sales ,\nlox24,B,\" note\"\n",
			wantErrs: []string{
				"g.csv:2: name: has leading or trailing white space (not allowed in text)",
				"g.csv:3: name: has leading or trailing white space (not allowed in text)",
				"g.csv:4: description: has leading or trailing white space (not allowed in text)",
			},
		},
		{
			name:     "a long unknown header is quoted in 80 characters, control characters escaped",
			in:       "system,name,\x1b[31m" + strings.Repeat("x", 1000) + "\nlox24,A,\n",
			wantErrs: []string{`g.csv:1: unknown column "\x1b[31m` + strings.Repeat("x", 75) + `"...`},
		},
		{
			name: "an empty cell of the other system's field is fine",
			in:   "system,name,description,isEnabled\nlox24,A,x,\nhelloid,B,,true\n",
			want: []plan.Group{
				{System: plan.LOX24, Name: "A", Fields: fields("description", plan.Str("x")), Source: src("g.csv", 2)},
				{System: plan.HelloID, Name: "B", Fields: fields("isEnabled", plan.Bool(true)), Source: src("g.csv", 3)},
			},
		},
		{
			name: "a name of 50 two-byte characters is valid",
			in:   "system,name\nlox24," + letters("é", 50) + "\n",
			want: []plan.Group{{System: plan.LOX24, Name: letters("é", 50), Fields: fields(), Source: src("g.csv", 2)}},
		},
		{
			name:     "a name of 51 characters is too long",
			in:       "system,name\nlox24," + letters("é", 51) + "\n",
			wantErrs: []string{"g.csv:2: name: 51 characters, at most 50"},
		},
		{
			name:     "an empty name is an error",
			in:       "system,name\nlox24,\n",
			wantErrs: []string{"g.csv:2: name: must not be empty"},
		},
		{
			name:     "a filled cell of the other system's field is an error naming the column",
			in:       "system,name,description,isEnabled,id\nhelloid,B,x,,\nlox24,A,,yes,\nhelloid,C,,,3\n",
			wantErrs: []string{"g.csv:2: description: not a helloid field (it belongs to lox24 groups)", "g.csv:3: isEnabled: not a lox24 field (it belongs to helloid groups)", "g.csv:4: id: not a helloid field (it belongs to lox24 groups)"},
		},
		{
			name:     "a helloid row has no phones",
			in:       "system,name,phones\nhelloid,B,m.csv\n",
			wantErrs: []string{"g.csv:2: phones: helloid groups have no phones (only lox24 groups have members)"},
		},
		{
			name:     "phones_mode is only valid with phones",
			in:       "system,name,phones,phones_mode\nlox24,A,,exact\n",
			wantErrs: []string{"g.csv:2: phones_mode: only valid with phones"},
		},
		{
			name:     "a boolean must be one of the known words",
			in:       "system,name,isEnabled\nhelloid,B,maybe\n",
			wantErrs: []string{`g.csv:2: isEnabled: "maybe" is not a boolean (want true, false, yes, no, 1 or 0)`},
		},
		{
			name:     "keys are checked",
			in:       "system,name,id,groupGuid,managedByUserGuid\nlox24,A,abc,,\nhelloid,B,,nope,xyz\n",
			wantErrs: []string{`g.csv:2: id: "abc" is not a positive integer`, `g.csv:3: groupGuid: "nope" is not a GUID (want 8-4-4-4-12 hex digits)`, `g.csv:3: managedByUserGuid: "xyz" is not a GUID (want 8-4-4-4-12 hex digits)`},
		},
		{
			name:     "system is lox24 or helloid",
			in:       "system,name\nsms,A\n,B\nLOX24,C\n",
			wantErrs: []string{`g.csv:2: system: "sms" is not a system (want lox24 or helloid)`, "g.csv:3: system: missing (want lox24 or helloid)", `g.csv:4: system: "LOX24" is not a system (want lox24 or helloid)`},
		},
		{
			name:     "a header row is required",
			in:       "",
			wantErrs: []string{"g.csv:1: empty file: a header row is required"},
		},
		{
			name:     "the system and name columns are required",
			in:       "description\nx\n",
			wantErrs: []string{`g.csv:1: missing column "system" (required)`, `g.csv:1: missing column "name" (required)`},
		},
		{
			name:     "unknown and repeated columns are errors",
			in:       "system,name,Description,colour,name\nlox24,A,x,red,A\n",
			wantErrs: []string{`g.csv:1: unknown column "Description" (did you mean "description"?)`, `g.csv:1: unknown column "colour"`, `g.csv:1: column "name" repeated (first is column 2)`},
		},
		{
			name:     "a column without a name is an error",
			in:       "system,name,,\nlox24,A,,\n",
			wantErrs: []string{"g.csv:1: column 3 has no name", "g.csv:1: column 4 has no name"},
		},
		{
			name:     "a row with the wrong number of cells is an error",
			in:       "system,name,description\nlox24,A\nlox24,B,x,y\nlox24,C,z\n",
			wantErrs: []string{"g.csv:2: 2 cells, but the header has 3", "g.csv:3: 4 cells, but the header has 3"},
		},
		{
			name:     "a second header row is an error",
			in:       "system,name\nlox24,A\nsystem,name\nlox24,B\n",
			wantErrs: []string{"g.csv:3: the header row again: a file has one header row"},
		},
		{
			name:     "a syntax error has file, line and column",
			in:       "system,name\nlox24,A\"b\nlox24,C\n",
			wantErrs: []string{`g.csv:2:8: bare " in non-quoted-field`},
		},
		{
			name: "one run reports every error",
			in:   "system,name,id,isEnabled\nlox24,A,0,\nhelloid,,,\nlox24," + letters("n", 51) + ",,\n",
			wantErrs: []string{
				`g.csv:2: id: "0" is not a positive integer`,
				"g.csv:3: name: must not be empty",
				"g.csv:4: name: 51 characters, at most 50",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ReadGroupsCSV("g.csv", strings.NewReader(tt.in))
			assert.Equal(t, tt.wantErrs, errStrings(errs))
			if len(tt.wantErrs) == 0 {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

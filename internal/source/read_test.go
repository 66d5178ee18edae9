package source

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

// inDir writes files (path -> content) into a fresh directory and makes it
// the working directory, so that paths in errors read as a user's would.
func inDir(t *testing.T, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	t.Chdir(dir)
}

func TestError(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"file, line, column and field", Error{File: "g.yaml", Line: 3, Column: 5, Field: "name", Msg: "must not be empty"}, "g.yaml:3:5: name: must not be empty"},
		{"file, line and field", Error{File: "groups.csv", Line: 12, Field: "name", Msg: "51 characters, at most 50"}, "groups.csv:12: name: 51 characters, at most 50"},
		{"file and line", Error{File: "m.csv", Line: 9, Msg: "phone +4915112345678 is also on line 3"}, "m.csv:9: phone +4915112345678 is also on line 3"},
		{"the whole file", Error{File: "x.txt", Msg: "no such file"}, "x.txt: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
	t.Run("Errors puts one error on each line", func(t *testing.T) {
		es := Errors{{File: "a", Line: 1, Msg: "x"}, {File: "b", Msg: "y"}}
		assert.Equal(t, "a:1: x\nb: y", es.Error())
	})
	t.Run("Errors unwraps to each error", func(t *testing.T) {
		es := Errors{{File: "a", Line: 1, Msg: "x"}, {File: "b", Msg: "y"}}
		assert.Equal(t, []error{es[0], es[1]}, es.Unwrap())
		assert.ErrorIs(t, es, es[1])
	})
}

func TestRead(t *testing.T) {
	t.Run("reads every file and loads each lox24 group's members", func(t *testing.T) {
		inDir(t, map[string]string{
			"conf/groups.yaml":   "lox24:\n  groups:\n    - id: 1\n      name: A\n      name_a: prefix\n      name_b: null\n      phones: members/a.csv\n      phones_mode: additive\n",
			"conf/more.csv":      "system,name,phones\nlox24,B,members/b.csv\nhelloid,C,\n",
			"conf/members/a.csv": "phone,prefix,callback_data\n+49 151 1234-5678,Mr.,crm-1\n",
			"conf/members/b.csv": "phone\n0049 170 1234567\n",
		})
		got, err := Read([]string{"conf/groups.yaml", "conf/more.csv"})
		require.NoError(t, err)
		var a, b [plan.NumPhoneCols]bool
		a[0], a[5] = true, true
		want := plan.Desired{Groups: []plan.Group{
			{
				System: plan.LOX24, Key: "1", Name: "A", Fields: fields("name_a", plan.Str("prefix"), "name_b", plan.Null),
				Phones: &plan.Phones{
					File: filepath.Join("conf", "members", "a.csv"), Mode: plan.PhonesAdditive, Source: src("conf/groups.yaml", 7), Managed: a,
					List: []plan.Phone{{Number: "+4915112345678", Cols: plan.MakeColumns("Mr.", "", "", "", "", "crm-1"), Line: 2}},
				},
				Source: src("conf/groups.yaml", 3),
			},
			{
				System: plan.LOX24, Name: "B", Fields: fields(),
				Phones: &plan.Phones{
					File: filepath.Join("conf", "members", "b.csv"), Mode: plan.PhonesExact, Source: src("conf/more.csv", 2), Managed: b,
					List: []plan.Phone{{Number: "+491701234567", Line: 2}},
				},
				Source: src("conf/more.csv", 2),
			},
			{System: plan.HelloID, Name: "C", Fields: fields(), Source: src("conf/more.csv", 3)},
		}, Rows: map[string]int{
			"conf/groups.yaml": 1, "conf/more.csv": 2,
			filepath.Join("conf", "members", "a.csv"): 1, filepath.Join("conf", "members", "b.csv"): 1,
		}}
		assert.Equal(t, want, got)
	})

	tests := []struct {
		name  string
		files map[string]string
		read  []string
		want  []string
	}{
		{
			name: "a group defined twice is an error naming both places",
			files: map[string]string{
				"groups.yaml": `lox24:
  groups:
    - id: 7
      name: A
    - name: Clients
helloid:
  groups:
    - name: Sales
    - groupGuid: ef24276a-cf39-44d7-b8e5-1012c0db5178
      name: X
`,
				"groups.csv": "system,name,id,groupGuid\n" +
					"lox24,Other,7,\n" + // same id
					"lox24,Clients,,\n" + // same lox24 name
					"lox24,clients,,\n" + // lox24 names match exactly: not a duplicate
					"lox24,Clients,8,\n" + // addressed by id: not a duplicate
					"helloid,SALES,,\n" + // helloid names match in any case
					"helloid,Y,,EF24276A-CF39-44D7-B8E5-1012C0DB5178\n" + // same GUID
					"lox24,Sales,,\n", // other system
			},
			read: []string{"groups.yaml", "groups.csv"},
			want: []string{
				"groups.csv:2: lox24 group id 7 is also defined at groups.yaml:3",
				`groups.csv:3: lox24 group "Clients" is also defined at groups.yaml:5`,
				`groups.csv:6: helloid group "SALES" is also defined at groups.yaml:8`,
				"groups.csv:7: helloid group groupGuid EF24276A-CF39-44D7-B8E5-1012C0DB5178 is also defined at groups.yaml:9",
			},
		},
		{
			name:  "a group defined twice in one file is an error",
			files: map[string]string{"g.yaml": "helloid:\n  groups:\n    - name: Sales\n    - name: sales\n"},
			read:  []string{"g.yaml"},
			want:  []string{`g.yaml:4: helloid group "sales" is also defined at g.yaml:3`},
		},
		{
			name:  "helloid names are one group under full case folding, as plan.NameKey says",
			files: map[string]string{"g.yaml": "helloid:\n  groups:\n    - name: Straße\n    - name: STRASSE\n    - name: Sales\n    - name: ſales\nlox24:\n  groups:\n    - name: Sales\n    - name: ſales\n"},
			read:  []string{"g.yaml"},
			want: []string{
				`g.yaml:4: helloid group "STRASSE" is also defined at g.yaml:3`,
				`g.yaml:6: helloid group "ſales" is also defined at g.yaml:5`,
			},
		},
		{
			name:  "a file that is neither YAML nor CSV is an error",
			files: map[string]string{"groups.txt": "lox24:\n"},
			read:  []string{"groups.txt"},
			want:  []string{`groups.txt: unknown kind of file ".txt" (want .yaml, .yml or .csv)`},
		},
		{
			name:  "a file given twice is read once and is an error",
			files: map[string]string{"g.yaml": "lox24:\n  groups:\n    - name: A\n"},
			read:  []string{"g.yaml", "./g.yaml", "g.yaml"},
			want:  []string{"./g.yaml: the same file as g.yaml; give each file once", "g.yaml: given twice; give each file once"},
		},
		{
			name: "a missing file is an error",
			read: []string{"nowhere.yml"},
			want: []string{"nowhere.yml: no such file"},
		},
		{
			name:  "a missing member file is an error at the group's phones line",
			files: map[string]string{"conf/g.yaml": "lox24:\n  groups:\n    - name: A\n      phones: gone.csv\n"},
			read:  []string{"conf/g.yaml"},
			want:  []string{"conf/g.yaml:4: phones: cannot open " + filepath.Join("conf", "gone.csv") + ": no such file"},
		},
		{
			name: "member file errors cite the path joined with the group file's directory",
			files: map[string]string{
				"conf/g.yaml": "lox24:\n  groups:\n    - name: A\n      phones: m.csv\n",
				"conf/m.csv":  "phone\n0151 123\n",
			},
			read: []string{"conf/g.yaml"},
			want: []string{filepath.Join("conf", "m.csv") + `:2: phone: "0151 123" is a national number: set default_country for its group (or --default-country), or write it with its country code (+...)`},
		},
		{
			name: "only managed, non-null name_a..name_e are labels",
			files: map[string]string{
				"g.yaml": "lox24:\n  groups:\n    - name: A\n      name_a: null\n      phones: m.csv\n",
				"m.csv":  "phone,prefix\n+4915112345678,Mr.\n",
			},
			read: []string{"g.yaml"},
			want: []string{`m.csv:1: unknown column "prefix" (want phone, a..e, callback_data, or a label from the group's name_a..name_e)`},
		},
		{
			name: "a label that two columns share is ambiguous",
			files: map[string]string{
				"g.yaml": "lox24:\n  groups:\n    - name: A\n      name_a: x\n      name_c: x\n      phones: m.csv\n",
				"m.csv":  "phone,x\n+4915112345678,Mr.\n",
			},
			read: []string{"g.yaml"},
			want: []string{`m.csv:1: column "x" is ambiguous: several of name_a..name_e have this label`},
		},
		{
			name: "errors of every file are reported, sorted by file and line",
			files: map[string]string{
				"b.yaml": "lox24:\n  groups:\n    - name: B\n      colour: red\n    - name: \"\"\n",
				"a.csv":  "system,name\nsms,A\n",
				"m.csv":  "phone\n+4915112345678\n+4915112345678\n",
				"c.yaml": "lox24:\n  groups:\n    - name: C\n      phones: m.csv\n",
			},
			read: []string{"b.yaml", "a.csv", "c.yaml"},
			want: []string{
				`a.csv:2: system: "sms" is not a system (want lox24 or helloid)`,
				`b.yaml:4:7: unknown key "colour"`,
				"b.yaml:5:13: name: must not be empty",
				"m.csv:3: phone +4915112345678 is also on line 2",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tt.files)
			got, err := Read(tt.read)
			require.Error(t, err)
			var errs Errors
			require.True(t, errors.As(err, &errs), "Read returns Errors")
			assert.Equal(t, tt.want, errStrings(errs))
			assert.Equal(t, plan.Desired{}, got)
		})
	}
}

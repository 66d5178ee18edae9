package source

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

const aliceGUID = "a7c3e1f0-1b2d-4e5f-8a9b-0c1d2e3f4a5b"

func TestReadUsersFromYAMLAndCSV(t *testing.T) {
	inDir(t, map[string]string{
		"conf/groups.yaml": "helloid:\n  groups:\n    - name: Sales\n      users: people/sales.csv\n      users_mode: additive\n      allow_external_source: true\n" +
			"    - name: Support\n      users:\n        - alice@acme.com\n        - " + aliceGUID + "\n",
		"conf/people/sales.csv": "user\nbob@acme.com\n" + aliceGUID + "\n",
		"conf/more.csv":         "system,name,users,users_mode,allow_external_source\nhelloid,HR,people/sales.csv,,yes\nhelloid,IT,,,\n",
	})
	d, err := Read([]string{"conf/groups.yaml", "conf/more.csv"})
	require.NoError(t, err)
	require.Len(t, d.Groups, 4)
	sales := plan.Users{File: "conf/people/sales.csv", Mode: plan.PhonesAdditive, AllowExternalSource: true,
		Source: src("conf/groups.yaml", 4), List: []plan.UserRef{
			{Ref: "bob@acme.com", Source: src("conf/people/sales.csv", 2)},
			{Ref: aliceGUID, Source: src("conf/people/sales.csv", 3)}}}
	assert.Equal(t, &sales, d.Groups[0].Users)
	assert.Equal(t, &plan.Users{Mode: plan.PhonesExact, Source: src("conf/groups.yaml", 8), List: []plan.UserRef{
		{Ref: "alice@acme.com", Source: src("conf/groups.yaml", 9)},
		{Ref: aliceGUID, Source: src("conf/groups.yaml", 10)}}}, d.Groups[1].Users)
	hr := sales
	hr.Mode, hr.Source = plan.PhonesExact, src("conf/more.csv", 2)
	assert.Equal(t, &hr, d.Groups[2].Users, "the groups CSV's users column names a users file")
	assert.Nil(t, d.Groups[3].Users, "an empty users cell leaves the members unmanaged")
}

func TestUsersErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"a users file lists a user twice, names in any case",
			map[string]string{"g.yaml": "helloid:\n  groups:\n    - name: S\n      users: u.csv\n", "u.csv": "user\nAlice\nbob\nALICE\n"},
			[]string{`u.csv:4: user: user "ALICE" is listed twice (first on line 2)`}},
		{"a users file has one column, user",
			map[string]string{"g.yaml": "helloid:\n  groups:\n    - name: S\n      users: u.csv\n", "u.csv": "user,name\nalice,A\n"},
			[]string{`u.csv:1: unknown column "name" in column 2 (a users file has one column, "user")`}},
		{"a missing users file names the group's line",
			map[string]string{"g.yaml": "helloid:\n  groups:\n    - name: S\n      users: nope.csv\n"},
			[]string{`g.yaml:4: users: cannot open nope.csv: no such file`}},
		{"an inline list repeats a user",
			map[string]string{"g.yaml": "helloid:\n  groups:\n    - name: S\n      users: [alice, bob, Alice]\n"},
			[]string{`g.yaml:4:27: users: user "Alice" is listed twice (first at line 4)`}},
		{"lox24 groups have no users",
			map[string]string{"g.yaml": "lox24:\n  groups:\n    - name: S\n      users: [alice]\n"},
			[]string{`g.yaml:4:7: users: lox24 groups have no users (only helloid groups have user members)`}},
		{"users_mode and allow_external_source need users",
			map[string]string{"g.yaml": "helloid:\n  groups:\n    - name: S\n      users_mode: exact\n      allow_external_source: false\n"},
			[]string{`g.yaml:4:19: users_mode: only valid with users`, `g.yaml:5:30: allow_external_source: only valid with users`}},
		{"a bad users mode",
			map[string]string{"g.csv": "system,name,users,users_mode\nhelloid,S,u.csv,some\n", "u.csv": "user\na\n"},
			[]string{`g.csv:2: users_mode: "some" is not a users mode (want exact or additive)`}},
		{"user cells are trimmed of nothing",
			map[string]string{"g.yaml": "helloid:\n  groups:\n    - name: S\n      users: u.csv\n", "u.csv": "user\n\" alice\"\n"},
			[]string{`u.csv:2: user: user " alice" has leading or trailing white space`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tt.files)
			var paths []string
			for _, p := range []string{"g.yaml", "g.csv"} {
				if _, ok := tt.files[p]; ok {
					paths = append(paths, p)
				}
			}
			_, err := Read(paths)
			require.Error(t, err)
			assert.Equal(t, tt.want, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestUsersFileWithADialect(t *testing.T) {
	inDir(t, map[string]string{
		"g.yaml": "helloid:\n  groups:\n    - name: S\n      users: {path: u.csv, encoding: windows-1252}\n",
		"u.csv":  "user\nj\xfcrgen@acme.example\n",
	})
	d, err := Read([]string{"g.yaml"})
	require.NoError(t, err)
	require.Len(t, d.Groups[0].Users.List, 1)
	assert.Equal(t, "jürgen@acme.example", d.Groups[0].Users.List[0].Ref)
}

func TestUsersFileWithBytesItsEncodingDoesNotDefine(t *testing.T) {
	inDir(t, map[string]string{
		"g.yaml": "helloid:\n  groups:\n    - name: S\n      users: {path: u.csv, encoding: windows-1252}\n",
		"u.csv":  "user\nann@acme.example\nj\x81rgen@acme.example\n",
	})
	_, err := Read([]string{"g.yaml"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `u.csv:3: not valid windows-1252 (the first bad byte is on this line): save the file as "CSV UTF-8"`)
	assert.NotContains(t, err.Error(), "\uFFFD")
}

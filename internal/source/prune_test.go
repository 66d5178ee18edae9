package source

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

func TestReadPrune(t *testing.T) {
	t.Run("prune is read per system with where it stands", func(t *testing.T) {
		inDir(t, map[string]string{
			"a.yaml": "lox24:\n  prune: {name_prefix: \"HR \"}\n  groups:\n    - name: HR Sales\nhelloid:\n  prune:\n    name_prefix: \"HR-\"\n",
			"b.yaml": "lox24:\n  prune: {name_prefix: \"HR \"}\n  groups:\n    - name: HR Ops\n",
		})
		got, err := Read([]string{"a.yaml", "b.yaml"})
		require.NoError(t, err)
		assert.Equal(t, map[plan.System]plan.Prune{
			plan.LOX24:   {NamePrefix: "HR ", Source: src("a.yaml", 2)},
			plan.HelloID: {NamePrefix: "HR-", Source: src("a.yaml", 6)},
		}, got.Prune)
		assert.Equal(t, []plan.System{plan.LOX24, plan.HelloID}, got.Systems(), "a system with a prune scope and no group is still read")
	})

	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "two files that set prune differently are an input error naming both",
			files: map[string]string{
				"a.yaml": "lox24:\n  prune: {name_prefix: \"HR \"}\n",
				"b.yaml": "lox24:\n  prune: {name_prefix: \"HR\"}\n",
			},
			want: []string{`b.yaml:2: prune: lox24 prune name_prefix "HR" differs from "HR " at a.yaml:2; every file must set the same scope`},
		},
		{
			name:  "an empty prefix is refused: it would prune everything",
			files: map[string]string{"a.yaml": "lox24:\n  prune: {name_prefix: \"\"}\n", "b.yaml": ""},
			want:  []string{`a.yaml:2:24: name_prefix: empty: a prune scope needs a prefix (an empty one would delete every group no file names)`},
		},
		{
			name:  "prune takes only name_prefix",
			files: map[string]string{"a.yaml": "helloid:\n  prune: {name_prefix: X, match: all}\n", "b.yaml": ""},
			want:  []string{`a.yaml:2:27: prune: unknown key "match" in prune (want name_prefix)`},
		},
		{
			name:  "prune is YAML only: a groups CSV has no such column",
			files: map[string]string{"a.csv": "system,name,prune\nlox24,A,HR\n", "b.yaml": ""},
			want:  []string{`a.csv:1: unknown column "prune"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tt.files)
			var names []string
			for n := range tt.files {
				names = append(names, n)
			}
			if len(names) == 2 && names[0] > names[1] {
				names[0], names[1] = names[1], names[0]
			}
			_, err := Read(names)
			var es Errors
			require.True(t, errors.As(err, &es), "want Errors, got %v", err)
			assert.Equal(t, tt.want, errStrings(es))
		})
	}
}

func TestReadRows(t *testing.T) {
	inDir(t, map[string]string{
		"g.yaml": "lox24:\n  groups:\n    - name: A\n      phones: a.csv\n    - name: B\n",
		"a.csv":  "phone\n+4915112345678\n+4915112345679\n+4915112345670\n",
	})
	got, err := Read([]string{"g.yaml"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"g.yaml": 2, "a.csv": 3}, got.Rows)
}

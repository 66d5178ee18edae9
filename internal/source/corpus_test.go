package source

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the .want files of testdata/bad from what Read reports")

// badDir holds the corpus of bad inputs: one case per input rule, each
// with the exact errors `groupsync validate` prints for it.
//
// A case is a file (x.yaml, x.csv, ...), read on its own, or a directory
// whose file args lists the files to read, one a line, for cases that need
// several files (member lists, the same group in two files). The case's
// errors are in <case>.want beside it, one a line, exactly as
// `groupsync validate` prints them when run in the case's directory (so
// paths are relative, with forward slashes). `go test -run
// TestBadInputCorpus -update` rewrites the .want files; review the diff.
const badDir = "testdata/bad"

// badCase is one case of the corpus.
type badCase struct {
	name  string   // the entry's name without its extension; <name>.want holds the errors
	dir   string   // where to run: badDir, or the case's directory
	files []string // the files to read, relative to dir
}

// badCases lists the corpus. It fails t if two entries share a name.
func badCases(t testing.TB) []badCase {
	t.Helper()
	entries, err := os.ReadDir(badDir)
	require.NoError(t, err)
	var cases []badCase
	seen := map[string]string{}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".want" {
			continue
		}
		c := badCase{name: strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), dir: badDir, files: []string{e.Name()}}
		if e.IsDir() {
			c.name, c.dir = e.Name(), filepath.Join(badDir, e.Name())
			raw, err := os.ReadFile(filepath.Join(c.dir, "args"))
			require.NoError(t, err, "a directory case lists the files to read in its args file")
			c.files = strings.Fields(string(raw))
			require.NotEmpty(t, c.files, "%s/args names no file", e.Name())
		}
		if prev, dup := seen[c.name]; dup {
			t.Fatalf("%s and %s both make case %q; rename one", prev, e.Name(), c.name)
		}
		seen[c.name] = e.Name()
		cases = append(cases, c)
	}
	return cases
}

// readCase runs Read as `groupsync validate` does, in the case's directory,
// and returns the errors as validate prints them.
func readCase(t *testing.T, c badCase) []string {
	t.Helper()
	t.Chdir(c.dir)
	_, err := Read(c.files)
	if err == nil {
		return nil
	}
	var errs Errors
	require.True(t, errors.As(err, &errs), "Read returns Errors, got %v", err)
	lines := errStrings(errs)
	for i, l := range lines {
		lines[i] = filepath.ToSlash(l)
	}
	return lines
}

func TestBadInputCorpus(t *testing.T) {
	cases := badCases(t)
	require.GreaterOrEqual(t, len(cases), 40, "the corpus has a case for every input rule")
	names := map[string]bool{}
	for _, c := range cases {
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			wantPath, err := filepath.Abs(filepath.Join(badDir, c.name+".want"))
			require.NoError(t, err)
			got := readCase(t, c)
			require.NotEmpty(t, got, "a bad input must give at least one error")
			if *update {
				require.NoError(t, os.WriteFile(wantPath, []byte(strings.Join(got, "\n")+"\n"), 0o644))
				return
			}
			raw, err := os.ReadFile(wantPath)
			require.NoError(t, err, "case %s has no .want file; run go test -run TestBadInputCorpus -update", c.name)
			want := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
			assert.Equal(t, want, got)
		})
	}
	t.Run("every .want file has its case", func(t *testing.T) {
		wants, err := filepath.Glob(filepath.Join(badDir, "*.want"))
		require.NoError(t, err)
		for _, w := range wants {
			name := strings.TrimSuffix(filepath.Base(w), ".want")
			assert.True(t, names[name], "%s has no case beside it; delete it or add the case", w)
		}
		assert.Len(t, wants, len(names))
	})
}

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badFiles are inputs that each break one rule the readers check before any
// request: a GUID, a phone number, an id, and the shape of a CSV.
var badFiles = map[string]string{
	"bad-guid.yaml":  "helloid:\n  groups:\n    - groupGuid: ef24276a-cf39-44d7-b8e5\n      name: Bad GUID\n",
	"bad-phone.yaml": "lox24:\n  groups:\n    - name: Bad Phone\n      phones: bad-phone.csv\n",
	"bad-phone.csv":  "phone,a\n+4915112345678,Mr.\n0151 1234567,Ms.\n",
	"bad-id.csv":     "system,name,id\nlox24,Bad Id,12x\n",
	"ragged.csv":     "system,name,description\nlox24,Ragged\n",
}

// badErrors are the errors validate, plan and apply print for badFiles.
var badErrors = map[string]string{
	"bad-guid.yaml":  `bad-guid.yaml:3:18: groupGuid: "ef24276a-cf39-44d7-b8e5" is not a GUID (want 8-4-4-4-12 hex digits)`,
	"bad-phone.yaml": `bad-phone.csv:3: phone: "0151 1234567" is a national number: set default_country for its group (or --default-country), or write it with its country code (+...)`,
	"bad-id.csv":     `bad-id.csv:2: id: "12x" is not a positive integer`,
	"ragged.csv":     "ragged.csv:2: 2 cells, but the header has 3",
}

// TestBinaryBadInputSendsNoRequest runs plan and apply on files with bad
// input, alone and together: exit 1, every error printed, not one request
// (a GET would already count), and apply still writes its report, listing
// the errors.
func TestBadInputSendsNoRequest(t *testing.T) {
	t.Parallel()
	runs := [][]string{{"bad-guid.yaml"}, {"bad-phone.yaml"}, {"bad-id.csv"}, {"ragged.csv"},
		{"bad-guid.yaml", "bad-phone.yaml", "bad-id.csv", "ragged.csv"}}
	for _, files := range runs {
		for _, cmd := range [][]string{{"plan"}, {"apply", "--yes", "--report"}} {
			t.Run(strings.Join(append(cmd[:1:1], files...), " "), func(t *testing.T) {
				t.Parallel()
				w := newWorld(t)
				writeFiles(t, w.dir, badFiles)
				if cmd[0] == "apply" {
					cmd = append(cmd[:len(cmd):len(cmd)], filepath.Join(w.dir, "report.json"))
				}
				// The sample files go along: good input does not make bad input pass.
				args := append(append(append([]string{}, cmd...), w.files...), inDir(w.dir, files...)...)
				r := runCLIIn(t, w.dir, w.env(), args...)
				assert.Equal(t, exitFatal, r.code, r.stderr)
				assert.Empty(t, r.stdout, "no plan is printed")
				var want []string
				for _, f := range files {
					want = append(want, badErrors[f])
					assert.Contains(t, r.stderr, badErrors[f]+"\n")
				}
				assert.Contains(t, r.stderr, "nothing was sent")
				assert.Zero(t, w.emu.Stats().Total, "bad input means no request at all")
				if cmd[0] != "apply" {
					assert.NoFileExists(t, filepath.Join(w.dir, "report.json"))
					return
				}
				rep := readReport(t, filepath.Join(w.dir, "report.json"))
				var got []string
				for _, e := range rep.Errors {
					got = append(got, strings.ReplaceAll(e, w.dir+string(filepath.Separator), ""))
				}
				assert.ElementsMatch(t, want, got, "the report lists each input error")
				assert.Empty(t, rep.Items)
				assert.Zero(t, rep.Summary.Planned)
			})
		}
	}
}

// TestBinarySavedPlanThatDoesNotReadSendsNoRequest: a saved plan that is not
// a plan is an input error too.
func TestSavedPlanThatDoesNotReadSendsNoRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	writeFiles(t, w.dir, map[string]string{"plan.json": `{"version": 1, "changes": [{"system": "lox24", "kind": "group", "action": "explode"}]}`})
	r := runCLIIn(t, w.dir, w.env(), "apply", "--yes", "--plan", filepath.Join(w.dir, "plan.json"), "--report", filepath.Join(w.dir, "report.json"))
	assert.Equal(t, exitFatal, r.code, r.stderr)
	assert.Contains(t, r.stderr, "plan file")
	assert.Zero(t, w.emu.Stats().Total)
	assert.NotEmpty(t, readReport(t, filepath.Join(w.dir, "report.json")).Errors)
}

// corpusDir is the bad-input corpus of internal/source (see its
// corpus_test.go): cases with the exact errors validate prints.
const corpusDir = "../../internal/source/testdata/bad"

// TestBinaryValidatePrintsTheCorpusErrors proves that the corpus's .want
// files are what users see: validate, run in each case's directory, prints
// exactly those lines, then a count, and exits 1.
func TestValidatePrintsTheCorpusErrors(t *testing.T) {
	t.Parallel()
	corpus, err := filepath.Abs(corpusDir)
	require.NoError(t, err)
	entries, err := os.ReadDir(corpus)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".want" {
			continue
		}
		n++
		name := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		dir, files := corpus, []string{e.Name()}
		if e.IsDir() {
			name, dir = e.Name(), filepath.Join(corpus, e.Name())
			raw, err := os.ReadFile(filepath.Join(dir, "args"))
			require.NoError(t, err)
			files = strings.Fields(string(raw))
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join(corpusDir, name+".want"))
			require.NoError(t, err)
			want := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
			noun := "errors"
			if len(want) == 1 {
				noun = "error"
			}
			r := runCLIIn(t, dir, nil, append([]string{"validate"}, inDir(dir, files...)...)...)
			assert.Equal(t, exitFatal, r.code)
			assert.Empty(t, r.stdout)
			got := strings.Split(strings.TrimSuffix(filepath.ToSlash(r.stderr), "\n"), "\n")
			summary := "groupsync: " + strconv.Itoa(len(want)) + " input " + noun + "; nothing was sent"
			assert.Equal(t, append(want, summary), got)
		})
	}
	assert.GreaterOrEqual(t, n, 40)
}

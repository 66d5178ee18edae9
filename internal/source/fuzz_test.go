package source

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

// seed adds a sample file, every file of the bad-input corpus (testdata/bad)
// of the same kind (.yaml and .yml, or .csv), and a few awkward inputs to
// f's corpus.
func seed(f *testing.F, sample string, extra ...string) {
	b, err := os.ReadFile(filepath.Join(samplesDir, sample))
	require.NoError(f, err)
	f.Add(b)
	kind := func(path string) string {
		if ext := filepath.Ext(path); ext != ".yml" {
			return ext
		}
		return ".yaml"
	}
	n := 0
	err = filepath.WalkDir(badDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || kind(path) != kind(sample) {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil {
			f.Add(b)
			n++
		}
		return err
	})
	require.NoError(f, err)
	require.Positive(f, n, "the bad-input corpus seeds %s", sample)
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// assertCited checks that every error names the file it was read as.
func assertCited(t *testing.T, name string, errs Errors) {
	for _, e := range errs {
		assert.Equal(t, name, e.File, "error %q", e.Error())
	}
}

func FuzzReadYAML(f *testing.F) {
	seed(f, "groups.yaml", "", "---\n---\n", "lox24: {groups: [{name: a, name: b}]}", "a: &x [*x]", "helloid:\n  groups:\n    - name: [1]\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, errs := ReadYAML("f.yaml", bytes.NewReader(data))
		assertCited(t, "f.yaml", errs)
	})
}

func FuzzReadGroupsCSV(f *testing.F) {
	seed(f, "groups.csv", "", "system\n", "system,name\n\"x", "\uFEFFsystem,name,isEnabled\r\nhelloid,a,yes\r\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, errs := ReadGroupsCSV("f.csv", bytes.NewReader(data))
		assertCited(t, "f.csv", errs)
	})
}

func FuzzReadPhones(f *testing.F) {
	seed(f, "clients.csv", "", "phone\n", "phone,prefix,a\n0049,x,y\n", "phone\n+4915112345678\n+4915112345678\n",
		"phone;a\n+49 (0)176 3077052;x\n", "\xff\xfep\x00h\x00o\x00n\x00e\x00\n\x00", "phone\tb\n0151 12345678\t\xfc\n",
		"Mobile;Name;Email\n0151 12345678;x;y\n", "phone\n4.91511E+12\n4915112345678\n")
	labels := map[string]int{"prefix": 0, "a": 1, "shared": -1}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []PhoneOptions{
			{Labels: labels},
			{Country: "DE", Columns: map[string]string{"phone": "Mobile", "a": "Name"}, Dialect: Dialect{Encoding: "windows-1252"}},
		} {
			ph, errs := ReadPhonesWith("f.csv", bytes.NewReader(data), opts)
			assertCited(t, "f.csv", errs)
			if len(errs) == 0 {
				for _, p := range ph.List {
					n, ok := plan.NormalizePhone(p.Number)
					assert.True(t, ok && n == p.Number, "numbers are E.164 as plan.Diff matches them: %q", p.Number)
				}
			}
		}
	})
}

func FuzzReadUsers(f *testing.F) {
	seed(f, "marketing-users.csv", "", "user\n", "user\nalice\nALICE\n", "user,x\na,b\n", "user\n\" a\"\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		list, errs := ReadUsers("u.csv", bytes.NewReader(data), Dialect{})
		assertCited(t, "u.csv", errs)
		if len(errs) == 0 {
			seen := map[string]bool{}
			for _, u := range list {
				assert.Empty(t, CheckUser(u.Ref), "every user read is a valid reference")
				assert.False(t, seen[UserKey(u.Ref)], "no user twice: %q", u.Ref)
				seen[UserKey(u.Ref)] = true
			}
		}
	})
}

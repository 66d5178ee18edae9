package source

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

// samplesDir is the repository's samples/ folder, seen from this package.
const samplesDir = "../../samples"

// sampleGroupFiles are the desired-state files of the samples, as the demo
// reads them; clients.csv is read through groups.yaml.
var sampleGroupFiles = []string{"groups.yaml", "groups.csv"}

// sampleState is the emulator state of samples/emulator-state.json, as far
// as these tests need it.
type sampleState struct {
	LOX24 struct {
		Groups []struct {
			ID     int64   `json:"id"`
			Name   string  `json:"name"`
			NameA  *string `json:"name_a"`
			Phones []struct {
				ID    string  `json:"id"`
				Phone string  `json:"phone"`
				A     *string `json:"a"`
				B     *string `json:"b"`
			} `json:"phones"`
		} `json:"groups"`
	} `json:"lox24"`
	HelloID struct {
		Groups []struct {
			GroupGUID string `json:"groupGuid"`
			Name      string `json:"name"`
		} `json:"groups"`
	} `json:"helloid"`
}

func readSamples(t *testing.T) plan.Desired {
	t.Helper()
	var paths []string
	for _, f := range sampleGroupFiles {
		paths = append(paths, filepath.Join(samplesDir, f))
	}
	d, err := Read(paths)
	require.NoError(t, err)
	return d
}

func readSampleState(t *testing.T) sampleState {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, "emulator-state.json"))
	require.NoError(t, err)
	var st sampleState
	require.NoError(t, json.Unmarshal(b, &st))
	return st
}

func TestSamples(t *testing.T) {
	t.Run("the users files are read through the groups that name them", func(t *testing.T) {
		users := map[string][]string{}
		for _, g := range readSamples(t).Groups {
			if g.Users == nil {
				continue
			}
			for _, u := range g.Users.List {
				users[g.Name] = append(users[g.Name], u.Ref)
			}
		}
		assert.Equal(t, []string{"carol@acme.example", "dave@acme.example"}, users["Marketing"])
		assert.Equal(t, []string{"mia@acme.example", "c9e5a3b2-3d4f-4a71-8c1d-2e3f4a5b6c7d"}, users["HR"])
		assert.Len(t, users, 4)
	})
	t.Run("every file in samples/ is parsed by a test", func(t *testing.T) {
		entries, err := os.ReadDir(samplesDir)
		require.NoError(t, err)
		covered := append(slices.Clone(sampleGroupFiles), "clients.csv", "field-team-hr.csv", "emulator-state.json", "marketing-users.csv", "hr-users.csv")
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), ".go") {
				continue
			}
			assert.Contains(t, covered, e.Name(), "a sample file that no test reads")
		}
	})

	t.Run("the desired-state samples read without errors", func(t *testing.T) {
		d := readSamples(t)
		var names []string
		for _, g := range d.Groups {
			names = append(names, string(g.System)+"/"+g.Name)
		}
		assert.Equal(t, []string{
			"lox24/My Clients", "lox24/Newsletter", "lox24/Staff", "lox24/Event Guests 2025", "lox24/Field Team",
			"helloid/TestApiRenamed", "helloid/sales", "helloid/Marketing", "helloid/Finance",
			"lox24/Suppliers", "lox24/VIP Waitlist",
			"helloid/Support", "helloid/HR", "helloid/Contractors",
		}, names)
		assert.Equal(t, fields("description", plan.Str("Best clients"), "name_a", plan.Str("prefix")), d.Groups[0].Fields,
			"name_b is not mentioned: unmanaged")
		assert.Equal(t, fields("description", plan.Null), d.Groups[2].Fields, "null clears")
		assert.Equal(t, fields("isQrEnabled", plan.Bool(true)), d.Groups[12].Fields, "absent columns are unmanaged")
	})

	t.Run("clients.csv reads its label header and every number format", func(t *testing.T) {
		ph := readSamples(t).Groups[0].Phones
		require.NotNil(t, ph)
		assert.Equal(t, filepath.Join(samplesDir, "clients.csv"), ph.File)
		assert.Equal(t, [plan.NumPhoneCols]bool{true, true}, ph.Managed, "prefix is column a, by its label")
		var numbers []string
		for _, p := range ph.List {
			numbers = append(numbers, p.Number)
		}
		assert.Equal(t, []string{
			"+4915112345678", "+4915123456789", "+4917612345670", "+4916098765432", "+4930123456",
			"+43664123456", "+41791234567", "+4915771234567", "+33612345678", "+4915255512345",
			"+491712345678", "+491723456789", "+491734567890", "+447911123456", "+4915901234567",
		}, numbers)
	})

	t.Run("field-team-hr.csv, an HR export, reads through its group's mapping and country", func(t *testing.T) {
		g := readSamples(t).Groups[4]
		require.Equal(t, "Field Team", g.Name)
		ph := g.Phones
		require.NotNil(t, ph)
		assert.Equal(t, "DE", ph.Country)
		assert.Equal(t, [plan.NumPhoneCols]bool{true, true}, ph.Managed, "only the mapped columns; e-mail and department are left out")
		var got []string
		for _, p := range ph.List {
			got = append(got, p.Number+" "+p.Cols.Get(0)+" "+p.Cols.Get(1))
		}
		assert.Equal(t, []string{
			"+4915123456789 Anna Schmidt", "+491763077052 Jürgen Müller", "+491705556677 Sabine Koch",
			"+4916098765431 Mehmet Yilmaz", "+33698765432 Claire Dubois", "+436649876543 Lukas Gruber",
			"+4915234567890 Thomas Weber", "+4915771234568 Eva Brandt",
		}, got)
	})

	t.Run("the emulator state gives the plan the samples promise", func(t *testing.T) {
		st := readSampleState(t)
		d := readSamples(t)
		assert.GreaterOrEqual(t, len(st.LOX24.Groups), 35, "more than one page of 30 lox24 groups")
		assert.Len(t, st.HelloID.Groups, 8)

		var creates []string
		touched := 0
		for _, g := range d.Groups {
			found := 0
			switch g.System {
			case plan.LOX24:
				for _, r := range st.LOX24.Groups {
					if g.Key != "" && g.Key == strconv.FormatInt(r.ID, 10) || g.Key == "" && g.Name == r.Name {
						found++
					}
				}
			default:
				for _, r := range st.HelloID.Groups {
					if g.Key != "" && strings.EqualFold(g.Key, r.GroupGUID) || g.Key == "" && strings.EqualFold(g.Name, r.Name) {
						found++
					}
				}
			}
			require.LessOrEqual(t, found, 1, "%s group %q matches unambiguously", g.System, g.Name)
			if found == 0 {
				require.Empty(t, g.Key, "a group addressed by key exists remotely")
				creates = append(creates, g.Name)
			} else {
				touched++
			}
		}
		assert.Equal(t, []string{"Event Guests 2025", "Field Team", "Finance", "VIP Waitlist", "Contractors"}, creates)
		assert.Less(t, touched*2, len(st.LOX24.Groups)+len(st.HelloID.Groups), "most remote groups are left alone")

		// Members of 12344: adds, updates and deletes, deletes under the
		// 30% guard of a group of 10 or more.
		var remote []string
		for _, r := range st.LOX24.Groups {
			if r.ID == 12344 {
				require.NotNil(t, r.NameA)
				assert.Equal(t, "prefix", *r.NameA)
				for _, p := range r.Phones {
					remote = append(remote, p.Phone)
				}
			}
		}
		require.GreaterOrEqual(t, len(remote), 10)
		var want []string
		for _, p := range d.Groups[0].Phones.List {
			want = append(want, p.Number)
		}
		deletes, adds := 0, 0
		for _, n := range remote {
			if !slices.Contains(want, n) {
				deletes++
			}
		}
		for _, n := range want {
			if !slices.Contains(remote, n) {
				adds++
			}
		}
		assert.Positive(t, deletes)
		assert.Positive(t, adds)
		assert.Less(t, deletes*100, 30*len(remote), "deletions stay under the safety guard")
	})
}

package plan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func samplePlan() *Plan { return Diff(sampleState()) }

// sampleState is the desired and current state samplePlan diffs.
func sampleState() (Desired, map[System]Current) {
	want := Desired{Groups: []Group{
		{System: LOX24, Key: "12344", Name: "My Clients", Source: Source{"groups.yaml", 3},
			Fields: map[string]Value{"description": Str("Best clients"), "name_a": Str("prefix")}},
		{System: LOX24, Name: "Newsletter", Source: Source{"groups.yaml", 9},
			Fields: map[string]Value{"description": Str("Weekly"), "name_b": Null}},
		{System: LOX24, Key: "404", Name: "Gone", Source: Source{"groups.yaml", 14}, Fields: map[string]Value{}},
		{System: LOX24, Name: "Same", Source: Source{"groups.yaml", 17}, Fields: map[string]Value{}},
		{System: HelloID, Key: guidA, Name: "TestApiRenamed", Source: Source{"groups.csv", 2},
			Fields: map[string]Value{"isEnabled": Bool(false), "managedByUserGuid": Str(userA)}},
		{System: HelloID, Name: "Sales", Source: Source{"groups.csv", 3},
			Fields: map[string]Value{"isEnabled": Bool(true)}},
	}}
	have := map[System]Current{
		LOX24: {Groups: []RemoteGroup{
			loxRemote("12344", "My Clients", map[string]Value{"description": Str("Old text"), "name_a": Str("prefix")}),
			loxRemote("5", "Same", nil),
		}},
		HelloID: {Groups: []RemoteGroup{hidRemote(guidA, "TestApi", map[string]Value{"isEnabled": Bool(true)})}},
	}
	return want, have
}

// samplePlanWithPhones is samplePlan plus members: "My Clients" gets a
// phone update (that keeps the unmanaged callback_data, in Base), an add
// and a delete (with its Note), and a new group "VIP" gets a member that
// waits for its create (DependsOn).
func samplePlanWithPhones() *Plan {
	desired, current := sampleState()
	desired.Groups[0].Phones = members(PhonesExact, managedAB,
		want("+4915112345678", 2, "Mrs.", "Smith"),
		want("+4917663804817", 3, "Mr.", "Jones"))
	desired.Groups = append(desired.Groups, Group{System: LOX24, Name: "VIP", Source: Source{"groups.yaml", 20},
		Fields: map[string]Value{"description": Str("Top ten")},
		Phones: &Phones{File: "vip.csv", Mode: PhonesExact, Source: Source{"groups.yaml", 22}, Managed: managedAB,
			List: []Phone{want("+12025550123", 2, "Ms.", "Doe")}}})
	lox := current[LOX24]
	lox.Groups[0].Phones = []RemotePhone{
		have("7", "+4915112345678", "Mr.", "Smith", "", "", "", "crm-1"),
		have("8", "+4930123456", "Dr.", "Who"),
	}
	current[LOX24] = lox
	return Diff(desired, current)
}

func TestWriteTextGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, samplePlan(), RenderOptions{}))
	golden(t, "plan.golden", buf.Bytes())
}

func TestWriteTextNoChanges(t *testing.T) {
	want := Desired{Groups: []Group{{System: LOX24, Name: "Same", Fields: map[string]Value{}}}}
	p := Diff(want, map[System]Current{LOX24: {Groups: []RemoteGroup{loxRemote("5", "Same", nil)}}})
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, p, RenderOptions{}))
	assert.Equal(t, "lox24\n  lox24: 0 to create, 0 to update, 0 to delete, 1 unchanged\n\nNo changes. The remote state matches the files.\n", buf.String())
}

func TestWriteTextIsByteIdentical(t *testing.T) {
	var a, b bytes.Buffer
	require.NoError(t, WriteText(&a, samplePlan(), RenderOptions{}))
	require.NoError(t, WriteText(&b, samplePlan(), RenderOptions{}))
	assert.Equal(t, a.Bytes(), b.Bytes())
}

func TestMaskPhone(t *testing.T) {
	tests := map[string]string{
		"+4915112345817": "+49151*****817",
		"+4917663804817": "+49176*****817",
		"+12025550123":   "+12025***123",
		"+4930123":       "+4****23", // short numbers hide at least half
		"+491":           "+**1",
	}
	for in, want := range tests {
		assert.Equal(t, want, MaskPhone(in), in)
	}
}

// A group's own change that comes after changes of its members (an undo
// plan lists them latest first) is shown in the members' block, with the
// group named once.
func TestGroupChangeAfterItsMembersIsOneBlock(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{},
		Changes: []Change{
			{System: LOX24, Kind: KindPhone, Action: Delete, Key: "8", GroupKey: "12344", Name: "My Clients", Phone: "+4915100000008"},
			{System: LOX24, Kind: KindGroup, Action: Update, Key: "12344", Name: "My Clients",
				Fields: []FieldChange{{Field: "description", Before: Str("Best clients"), After: Str("Old text")}}},
		}}
	var text bytes.Buffer
	require.NoError(t, WriteText(&text, p, RenderOptions{}))
	assert.Equal(t, 1, strings.Count(text.String(), "group 12344"), text.String())
	assert.Contains(t, text.String(), "  ~ group 12344 \"My Clients\"\n      description: \"Best clients\" -> \"Old text\"\n      members: +0 ~0 -1\n")
}

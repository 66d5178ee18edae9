package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reflectChange is Change without its MarshalJSON: encoding/json writes
// it field by field, as the plan was written before appendChange.
type reflectChange Change

// reflectJSON writes c as encoding/json does at prefix, text not
// HTML-escaped: what appendChange must write, byte for byte.
func reflectJSON(t testing.TB, c Change, prefix string) string {
	t.Helper()
	c.expand()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	rc := reflectChange(c)
	require.NoError(t, enc.Encode(&rc))
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// oddStrings are texts whose JSON spelling differs from their bytes.
var oddStrings = []string{"", "plain", `quote " and \ backslash`, "R&D <team>", "tab\there\nnew\rline\b\f",
	"\x00\x01\x1f\x7f", "\u2028 and \u2029", "caf\xe9 invalid", "ünïcødé ✓ 😀", "\xff\xfe", "e\u0301"}

func TestAppendChangeWritesWhatEncodingJSONWrites(t *testing.T) {
	members := 3
	changes := []Change{
		{System: LOX24, Kind: KindGroup, Action: Create, Name: "New", Source: Source{"groups.yaml", 4},
			Fields: []FieldChange{{Field: "name", Before: Null, After: Str("New")}, {Field: "description", Before: Null, After: Null}}},
		{System: HelloID, Kind: KindGroup, Action: Update, Key: "0b5c6f4e-1e2f-4f6a-9a3b-2c1d0e9f8a7b", Name: "Sales",
			Fields: []FieldChange{{Field: "isEnabled", Before: Str("false"), After: Str("true")}},
			Base:   map[string]Value{"name": Str("Sales"), "isEnabled": Str("false"), "managedByUserGuid": Null}},
		{System: LOX24, Kind: KindGroup, Action: Delete, Key: "7", Name: "Gone", Note: "pruned", Members: &members,
			Snapshot: &Snapshot{Fields: map[string]Value{"name": Str("Gone")}, Phones: []SnapshotPhone{{ID: "1", Phone: "+4915112345678"}}},
			Expect:   &Expect{Members: []string{"+4915112345678"}}, Country: "DE"},
		{System: LOX24, Kind: KindPhone, Action: Delete, Key: "9", Name: "G", GroupKey: "7", Phone: "+1 23", Note: "not in a.csv"},
		{System: HelloID, Kind: KindUser, Action: Create, Key: "0b5c6f4e-1e2f-4f6a-9a3b-2c1d0e9f8a7c", Name: "Sales",
			DependsOn: 2, User: "jane", Error: "no such user", Fields: []FieldChange{}},
		{System: LOX24, Kind: KindGroup, Action: Update, Key: "8", Name: "Empty base", Base: map[string]Value{}},
	}
	// Compact phone creates, as Diff makes them, with every mix of columns.
	list := make([]Phone, 0, 64)
	for i := range 64 {
		cols := make([]string, NumPhoneCols)
		for col := range cols {
			if i&(1<<col) != 0 || col == NumPhoneCols-1 && i%3 == 0 {
				cols[col] = oddStrings[(i+col)%len(oddStrings)]
			}
		}
		list = append(list, want(fmt.Sprintf("+49151%08d", i), i+2, cols...))
	}
	managed := [NumPhoneCols]bool{true, true, false, true, false, true}
	p := Diff(Desired{Groups: []Group{{System: LOX24, Name: "New & <odd>", Fields: map[string]Value{},
		Phones: &Phones{File: "m\u2028.csv", Mode: PhonesExact, Managed: managed, Country: "DE", List: list}}}},
		map[System]Current{LOX24: {}})
	require.Len(t, p.Changes, 65)
	require.NotNil(t, p.Changes[1].member, "Diff makes compact creates")
	changes = append(changes, p.Changes...)
	// Every text field through every odd string.
	for i, s := range oddStrings {
		changes = append(changes, Change{System: LOX24, Kind: KindPhone, Action: Update, Key: s, Name: s, GroupKey: s,
			Phone: s, User: s, Country: s, Note: s, Error: s, Source: Source{File: s, Line: -i},
			Fields: []FieldChange{{Field: s, Before: Str(s), After: Null}}, Base: map[string]Value{s: Str(s), "x": Null}})
	}
	var buf []byte
	var scratch []FieldChange
	for i := range changes {
		for _, prefix := range []string{"", "    "} {
			var err error
			buf, scratch, err = appendChange(buf[:0], &changes[i], prefix, scratch)
			require.NoError(t, err)
			require.Equal(t, reflectJSON(t, changes[i], prefix), string(buf), "change %d, prefix %q", i, prefix)
		}
		// MarshalJSON, as any encoder calls it, agrees once compacted.
		got, err := json.Marshal(changes[i])
		require.NoError(t, err)
		var want bytes.Buffer
		require.NoError(t, json.Compact(&want, []byte(reflectJSON(t, changes[i], ""))))
		var escaped bytes.Buffer
		json.HTMLEscape(&escaped, want.Bytes())
		require.Equal(t, escaped.String(), string(got), "change %d: json.Marshal", i)
	}
}

// Random strings, every byte value included, are spelled as encoding/json
// spells them, with and without HTML escaping.
func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = byte(rng.IntN(256))
			case 1:
				b[i] = byte(rng.IntN(0x20))
			default:
				const pool = "<>&\"\\ aZ\xe2\x80\xa8\xa9\xc3"
				b[i] = pool[rng.IntN(len(pool))]
			}
		}
		s := string(b)
		for _, html := range []bool{false, true} {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(html)
			require.NoError(t, enc.Encode(s))
			require.Equal(t, string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), string(appendJSONString(nil, s, html)), "%q html=%v", s, html)
		}
	}
}

// A compact phone create is written without allocating: a million of them
// cost no memory beyond the plan's own.
func TestAppendChangeOfAMemberCreateAllocatesNothing(t *testing.T) {
	p := Diff(Desired{Groups: []Group{{System: LOX24, Name: "New", Fields: map[string]Value{},
		Phones: members(PhonesExact, managedAB, want("+4915112345678", 2, "Mr.", "Doe"))}}}, map[System]Current{LOX24: {}})
	c := &p.Changes[1]
	require.NotNil(t, c.member)
	buf := make([]byte, 0, 4096)
	scratch := make([]FieldChange, 0, NumPhoneCols+1)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, scratch, err = appendChange(buf[:0], c, "    ", scratch)
		if err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
}

// Writing the JSON plan of a new group costs a fixed number of
// allocations, not some per member: the plan of a million members is
// written in the memory the plan already holds.
func TestWriteJSONOfANewGroupAllocatesPerPlanNotPerMember(t *testing.T) {
	const n = 5000
	list := make([]Phone, n)
	for i := range list {
		list[i] = want(fmt.Sprintf("+49151%08d", i), i+2, "Mr.", fmt.Sprintf("Customer %d", i))
	}
	p := Diff(Desired{Groups: []Group{{System: LOX24, Name: "New", Fields: map[string]Value{},
		Phones: members(PhonesExact, managedAB, list...)}}}, map[System]Current{LOX24: {}})
	require.Len(t, p.Changes, n+1)
	allocs := testing.AllocsPerRun(2, func() {
		if err := WriteJSON(io.Discard, p); err != nil {
			panic(err)
		}
	})
	assert.Less(t, allocs, float64(n/50), "allocations must not grow with the members")
}

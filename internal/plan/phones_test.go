package plan

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// managedAB manages columns a and b only.
var managedAB = [NumPhoneCols]bool{true, true}

func members(mode PhonesMode, managed [NumPhoneCols]bool, list ...Phone) *Phones {
	return &Phones{File: "clients.csv", Mode: mode, Source: Source{"groups.yaml", 6}, Managed: managed, List: list}
}

func want(number string, line int, cols ...string) Phone {
	return NewPhone(number, cols, line)
}

func have(id, number string, cols ...string) RemotePhone {
	return NewRemotePhone(id, number, cols)
}

func phoneDiff(t *testing.T, ph *Phones, remote []RemotePhone) *Plan {
	t.Helper()
	g := Group{System: LOX24, Key: "12344", Name: "My Clients", Fields: map[string]Value{}, Phones: ph, Source: Source{"groups.yaml", 3}}
	r := loxRemote("12344", "My Clients", nil)
	r.Phones = remote
	return Diff(Desired{Groups: []Group{g}}, map[System]Current{LOX24: {Groups: []RemoteGroup{r}}})
}

func TestDiffPhones(t *testing.T) {
	tests := []struct {
		name      string
		ph        *Phones
		remote    []RemotePhone
		changes   []Change
		unchanged int // groups + phones
	}{
		{
			name:      "members equal on managed columns are unchanged",
			ph:        members(PhonesExact, managedAB, want("+4915112345678", 2, "Mr.", "Smith")),
			remote:    []RemotePhone{have("1", "+4915112345678", "Mr.", "Smith", "", "", "", "crm-1")},
			unchanged: 2,
		},
		{
			name:      "remote numbers are compared in E.164 form",
			ph:        members(PhonesExact, managedAB, want("+4915112345678", 2, "Mr.")),
			remote:    []RemotePhone{have("1", "0049 151 1234-5678", "Mr.")},
			unchanged: 2,
		},
		{
			name:   "a number missing remotely is added with its managed columns",
			ph:     members(PhonesExact, managedAB, want("+4915112345678", 2, "Mr.", "")),
			remote: nil,
			changes: []Change{{System: LOX24, Kind: KindPhone, Action: Create, Name: "My Clients", GroupKey: "12344", Phone: "+4915112345678",
				Source: Source{"clients.csv", 2},
				Fields: []FieldChange{{Field: "phone", After: Str("+4915112345678")}, {Field: "a", After: Str("Mr.")}}}},
			unchanged: 1,
		},
		{
			name:   "a changed managed column is an update that keeps unmanaged columns as read",
			ph:     members(PhonesExact, managedAB, want("+4915112345678", 2, "Mrs.", "Smith")),
			remote: []RemotePhone{have("7", "+4915112345678", "Mr.", "Smith", "", "", "", "crm-1")},
			changes: []Change{{System: LOX24, Kind: KindPhone, Action: Update, Key: "7", Name: "My Clients", GroupKey: "12344", Phone: "+4915112345678",
				Source: Source{"clients.csv", 2},
				Fields: []FieldChange{{Field: "a", Before: Str("Mr."), After: Str("Mrs.")}},
				Base: map[string]Value{"phone": Str("+4915112345678"), "a": Str("Mr."), "b": Str("Smith"), "c": Null, "d": Null, "e": Null,
					"callback_data": Str("crm-1")}}},
			unchanged: 1,
		},
		{
			name:   "an empty managed cell clears the column",
			ph:     members(PhonesExact, managedAB, want("+4915112345678", 2, "Mr.", "")),
			remote: []RemotePhone{have("7", "+4915112345678", "Mr.", "Smith")},
			changes: []Change{{System: LOX24, Kind: KindPhone, Action: Update, Key: "7", Name: "My Clients", GroupKey: "12344", Phone: "+4915112345678",
				Source: Source{"clients.csv", 2},
				Fields: []FieldChange{{Field: "b", Before: Str("Smith"), After: Null}},
				Base:   map[string]Value{"phone": Str("+4915112345678"), "a": Str("Mr."), "b": Str("Smith"), "c": Null, "d": Null, "e": Null, "callback_data": Null}}},
			unchanged: 1,
		},
		{
			name:   "exact mode deletes members not in the file",
			ph:     members(PhonesExact, managedAB, want("+4915112345678", 2)),
			remote: []RemotePhone{have("1", "+4915112345678"), have("2", "+4915199999999", "x")},
			changes: []Change{{System: LOX24, Kind: KindPhone, Action: Delete, Key: "2", Name: "My Clients", GroupKey: "12344", Phone: "+4915199999999",
				Source: Source{"groups.yaml", 6}, Note: "not in clients.csv",
				Base: map[string]Value{"phone": Str("+4915199999999"), "a": Str("x"), "b": Null, "c": Null, "d": Null, "e": Null, "callback_data": Null}}},
			unchanged: 2,
		},
		{
			name:      "additive mode never deletes",
			ph:        members(PhonesAdditive, managedAB, want("+4915112345678", 2)),
			remote:    []RemotePhone{have("1", "+4915112345678"), have("2", "+4915199999999"), have("3", "+4915112345678")},
			unchanged: 4,
		},
		{
			name:   "remote duplicates of a number are deleted, the first entry is kept",
			ph:     members(PhonesExact, managedAB, want("+4915112345678", 5)),
			remote: []RemotePhone{have("1", "+4915112345678"), have("2", "+49 151 12345678")},
			changes: []Change{{System: LOX24, Kind: KindPhone, Action: Delete, Key: "2", Name: "My Clients", GroupKey: "12344", Phone: "+4915112345678",
				Source: Source{"clients.csv", 5}, Note: "duplicate",
				Base: map[string]Value{"phone": Str("+49 151 12345678"), "a": Null, "b": Null, "c": Null, "d": Null, "e": Null, "callback_data": Null}}},
			unchanged: 2,
		},
		{
			name:   "a remote number that is not E.164 matches nothing and is deleted in exact mode",
			ph:     members(PhonesExact, managedAB),
			remote: []RemotePhone{have("9", "not a number")},
			changes: []Change{{System: LOX24, Kind: KindPhone, Action: Delete, Key: "9", Name: "My Clients", GroupKey: "12344", Phone: "not a number",
				Source: Source{"groups.yaml", 6}, Note: "not in clients.csv",
				Base: map[string]Value{"phone": Str("not a number"), "a": Null, "b": Null, "c": Null, "d": Null, "e": Null, "callback_data": Null}}},
			unchanged: 1,
		},
		{
			name: "a remote number in national form is read in the group's country and does not flap",
			ph: func() *Phones {
				ph := members(PhonesExact, managedAB, want("+4915112345678", 2, "Mr."))
				ph.Country = "DE"
				return ph
			}(),
			remote:    []RemotePhone{have("1", "0151 12345678", "Mr.")},
			unchanged: 2,
		},
		{
			name:      "a remote number with the trunk zero written after the country code is the same number",
			ph:        members(PhonesExact, managedAB, want("+491763077052", 2)),
			remote:    []RemotePhone{have("1", "+49 (0)176 3077052")},
			unchanged: 2,
		},
		{
			name:   "a remote number that cannot be parsed is never deleted as a duplicate of another",
			ph:     members(PhonesAdditive, managedAB, want("+4915112345678", 2)),
			remote: []RemotePhone{have("1", "+4915112345678"), have("2", "4.91511E+12"), have("3", "+1 23")},
			// additive: nothing is deleted, and neither unparsable entry is a "duplicate"
			unchanged: 4,
		},
		{
			name:   "two remote entries written alike that cannot be parsed are kept apart from valid ones",
			ph:     members(PhonesExact, managedAB, want("+4915112345678", 2)),
			remote: []RemotePhone{have("1", "+4915112345678"), have("2", "+1 23")},
			changes: []Change{{System: LOX24, Kind: KindPhone, Action: Delete, Key: "2", Name: "My Clients", GroupKey: "12344", Phone: "+1 23",
				Source: Source{"groups.yaml", 6}, Note: "not in clients.csv",
				Base: map[string]Value{"phone": Str("+1 23"), "a": Null, "b": Null, "c": Null, "d": Null, "e": Null, "callback_data": Null}}},
			unchanged: 2,
		},
		{
			name:      "unmanaged columns are not compared",
			ph:        members(PhonesExact, [NumPhoneCols]bool{}, want("+4915112345678", 2)),
			remote:    []RemotePhone{have("1", "+4915112345678", "anything", "else", "", "", "", "cb")},
			unchanged: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := phoneDiff(t, tt.ph, tt.remote)
			assert.Equal(t, tt.changes, expandAll(p.Changes))
			assert.Equal(t, tt.unchanged, p.Unchanged[LOX24])
			assert.Equal(t, len(tt.remote), p.Members["12344"])
		})
	}
}

func TestDiffPhonesOfANewGroupWaitForItsCreate(t *testing.T) {
	g := Group{System: LOX24, Name: "New", Fields: map[string]Value{},
		Phones: members(PhonesExact, managedAB, want("+4915112345678", 2, "a"))}
	p := Diff(Desired{Groups: []Group{{System: LOX24, Name: "Other", Fields: map[string]Value{}}, g}},
		map[System]Current{LOX24: {}})
	require.Len(t, p.Changes, 3)
	assert.Equal(t, Create, p.Changes[1].Action)
	assert.Equal(t, KindPhone, p.Changes[2].Kind)
	assert.Equal(t, 2, p.Changes[2].DependsOn, "index of the create plus one")
	assert.Empty(t, p.Changes[2].GroupKey)
}

// A new group of many members is planned with a fixed number of
// allocations, not a few per member: its creates are one array, sized
// once, and hold their desired member instead of a field list; the fields
// are built when read, each create's its own.
func TestDiffPhonesOfANewGroupAllocateOnce(t *testing.T) {
	const n = 2000
	list := make([]Phone, n)
	for i := range list {
		cols := []string{"Mr.", fmt.Sprintf("Customer %d", i)}
		if i%2 == 1 {
			cols = cols[:1] // column b empty: no field for it
		}
		list[i] = want(fmt.Sprintf("+49151%08d", i), i+2, cols...)
	}
	g := Group{System: LOX24, Name: "New", Fields: map[string]Value{}, Phones: members(PhonesExact, managedAB, list...)}
	diff := func() *Plan {
		return Diff(Desired{Groups: []Group{g}}, map[System]Current{LOX24: {}})
	}
	p := diff()
	require.Len(t, p.Changes, n+1)
	for i, c := range p.Changes[1:] {
		wantFields := []FieldChange{
			{Field: "phone", Before: Null, After: Str(list[i].Number)},
			{Field: "a", Before: Null, After: Str("Mr.")},
		}
		if i%2 == 0 {
			wantFields = append(wantFields, FieldChange{Field: "b", Before: Null, After: Str(fmt.Sprintf("Customer %d", i))})
		}
		require.Nil(t, c.Fields, "member %d: held compactly", i)
		got := c.FieldList()
		require.Equal(t, wantFields, got, "member %d", i)
		got[0].After = Str("changed") // a copy: the next read is whole again
		require.Equal(t, wantFields, c.FieldList(), "member %d", i)
		rec := map[string]Value{}
		for _, f := range wantFields {
			rec[f.Field] = f.After
		}
		require.Equal(t, rec, c.Record(), "member %d: the record a sink sends", i)
	}
	allocs := testing.AllocsPerRun(3, func() { diff() })
	assert.Less(t, allocs, float64(n/10), "allocations must not grow with the members")
}

// A remote duplicate of a number that no file lists is not in the file: it
// is not taken for a duplicate of whichever listed number came first.
func TestDiffPhonesDuplicateOfAnUnlistedNumber(t *testing.T) {
	p := phoneDiff(t, members(PhonesExact, managedAB, want("+4915112345678", 5)), []RemotePhone{
		have("1", "+4915112345678"), have("2", "+4915199999999"), have("3", "+4915199999999"),
	})
	require.Len(t, p.Changes, 2)
	for _, c := range p.Changes {
		assert.Equal(t, Delete, c.Action, c.Key)
		assert.Equal(t, "not in clients.csv", c.Note, c.Key)
		assert.Equal(t, Source{"groups.yaml", 6}, c.Source, c.Key)
	}
}

func TestGuards(t *testing.T) {
	// A group of n members of which del are deleted.
	planWith := func(n, del int) *Plan {
		var remote []RemotePhone
		var keep []Phone
		for i := range n {
			num := fmt.Sprintf("+49151000000%02d", i)
			remote = append(remote, have(fmt.Sprint(i), num))
			if i >= del {
				keep = append(keep, want(num, i+2))
			}
		}
		return phoneDiff(t, members(PhonesExact, managedAB, keep...), remote)
	}
	tests := []struct {
		name   string
		p      *Plan
		g      Guards
		refuse bool
	}{
		{"deleting 30% of 10 members is allowed", planWith(10, 3), Guards{MaxDeletePct: 30}, false},
		{"deleting 40% of 10 members is refused", planWith(10, 4), Guards{MaxDeletePct: 30}, true},
		{"--force overrides the delete guard", planWith(10, 4), Guards{MaxDeletePct: 30, Force: true}, false},
		{"groups under 10 members are not guarded", planWith(9, 9), Guards{MaxDeletePct: 30}, false},
		{"--max-delete-pct is honoured", planWith(20, 10), Guards{MaxDeletePct: 50}, false},
		{"more changes than --max-changes are refused", planWith(10, 3), Guards{MaxDeletePct: 30, MaxChanges: 2}, true},
		{"--max-changes 0 means no limit", planWith(10, 3), Guards{MaxDeletePct: 30}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.p.Check(tt.g)
			assert.Equal(t, tt.refuse, len(errs) > 0, "%v", errs)
		})
	}
	errs := planWith(10, 4).Check(Guards{MaxDeletePct: 30})
	require.Len(t, errs, 1)
	assert.Equal(t, `lox24 group 12344 "My Clients": the plan deletes 4 of its 10 members (40.0%), more than --max-delete-pct 30%`, errs[0].Error())
}

// TestParsePhone is a table of numbers as people write them, from several
// countries, with the E.164 form libphonenumber gives or the error.
func TestParsePhone(t *testing.T) {
	const national = "is a national number: set default_country for its group (or --default-country), or write it with its country code (+...)"
	tests := []struct {
		in, country string
		want        string // E.164, or the error after the quoted number
	}{
		// Germany
		{"+4915112345678", "", "+4915112345678"},
		{"+49 151 1234-5678", "", "+4915112345678"},
		{"0049 151 12345678", "", "+4915112345678"},
		{"(+49) 151 12345678", "", "+4915112345678"},
		{"[+49] 151.1234.5678", "", "+4915112345678"},
		{"+49\t151\u00a012345678", "", "+4915112345678"}, // tab, no-break space
		{"+49 (0)176 3077052", "", "+491763077052"},      // the trunk zero is dropped
		{"0049 176 3077052", "", "+491763077052"},        // the same person
		{"+49 (0)30 123456", "", "+4930123456"},
		{"+49/30/123456", "", "+4930123456"},
		{"0151 12345678", "DE", "+4915112345678"},
		{"030 123456", "DE", "+4930123456"},
		{"0151 12345678", "", `"0151 12345678" ` + national},
		{"4915112345678", "", `"4915112345678" has no country code: did you mean +4915112345678?`},
		// a number that lost its + is not read as a national one when the
		// country's national numbers start with a trunk prefix it lacks
		{"4915112345678", "DE", `"4915112345678" is not a national number of DE (those start with 0): did you mean +4915112345678?`},
		{"49 151 1234 5678", "DE", `"49 151 1234 5678" is not a national number of DE (those start with 0): did you mean +4915112345678?`},
		{"4366412345", "DE", `"4366412345" is not a national number of DE (those start with 0): did you mean +4366412345?`},
		{"447911123456", "GB", `"447911123456" is not a national number of GB (those start with 0): did you mean +447911123456?`},
		{"4.91511E+12", "", `"4.91511E+12" is in scientific notation: a spreadsheet rounded this number; format the column as text and export the file again`},
		{"+49 151 123", "", `"+49 151 123" is not a valid number: no such number range in +49 (DE)`},
		{"+49 151 1234-5678 x12", "", `"+49 151 1234-5678 x12" has 'x', which a phone number cannot have`},
		// Austria, Switzerland
		{"+43 664 123456", "", "+43664123456"},
		{"0664 123456", "AT", "+43664123456"},
		{"0041 79 123 45 67", "", "+41791234567"},
		{"079 123 45 67", "CH", "+41791234567"},
		{"+41 (0)79 123 45 67", "", "+41791234567"},
		// United Kingdom, France, Netherlands
		{"+44 7911 123456", "", "+447911123456"},
		{"+44 (0)20 7946 0958", "", "+442079460958"},
		{"07911 123456", "GB", "+447911123456"},
		{"+33 6 12 34 56 78", "", "+33612345678"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"+33 (0)6 12 34 56 78", "", "+33612345678"},
		{"+31 6 12345678", "", "+31612345678"},
		{"06-12345678", "NL", "+31612345678"},
		// United States
		{"+1 (201) 555-0123", "", "+12015550123"},
		{"(201) 555-0123", "US", "+12015550123"},
		{"1-201-555-0123", "US", "+12015550123"},
		{"212 555 0100", "US", "+12125550100"}, // no trunk prefix to miss
		{"2125550100", "US", "+12125550100"},
		{"+1 23", "", `"+1 23" is too short`},
		// a number with a country code needs no default country, and one
		// of another country is read as written
		{"+43 664 123456", "DE", "+43664123456"},
		// not numbers
		{"", "", `"" is empty`},
		{"+0049151", "", `"+0049151" has an unknown country code`},
		{"+999 1234567", "", `"+999 1234567" has an unknown country code`},
		{"+49 151 +123", "", `"+49 151 +123" has a + that is not at its start`},
		{"+1234567890123456", "", `"+1234567890123456" is too long`},
		{"+49210 000 000000000", "", `"+49210 000 000000000" is too long: an international number has at most 15 digits`}, // valid for libphonenumber, not E.164
	}
	for _, tt := range tests {
		t.Run(tt.country+" "+tt.in, func(t *testing.T) {
			got, err := ParsePhone(tt.in, tt.country)
			if strings.HasPrefix(tt.want, "+") {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				again, err := ParsePhone(got, "")
				require.NoError(t, err)
				assert.Equal(t, got, again, "an E.164 form parses back to itself")
				b, digits, err := AppendE164([]byte("x"), tt.in, tt.country)
				require.NoError(t, err)
				assert.Equal(t, "x"+tt.want, string(b))
				assert.Equal(t, tt.want[1:], fmt.Sprint(digits))
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			var pe *PhoneError
			assert.ErrorAs(t, err, &pe)
			b, _, _ := AppendE164([]byte("x"), tt.in, tt.country)
			assert.Equal(t, "x", string(b), "dst is left as it was")
		})
	}
}

// FuzzNormalizePhone checks that any accepted number is E.164 and that
// normalising is idempotent (a remote number already in E.164 form matches
// itself).
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+49 151 1234-5678", "0049 (151) 1234", "+0", "00", "+1234567890123456"} {
		f.Add(s)
	}
	e164 := regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	f.Add("+49 (0)176 3077052")
	f.Add("4.91511E+12")
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := NormalizePhone(s)
		if !ok {
			assert.Empty(t, n)
			return
		}
		assert.Regexp(t, e164, n)
		again, ok := NormalizePhone(n)
		assert.True(t, ok)
		assert.Equal(t, n, again)
	})
}

func TestNumberIndex(t *testing.T) {
	list := []Phone{{Number: "+4915112345678"}, {Number: "+33612345678"}, {Number: "+4915112345678"}, {Number: "+12125550100"}}
	x := newNumberIndex(list)
	assert.Len(t, x.keys, 3, "a number listed twice is indexed once")
	assert.Equal(t, []int32{-1, -1, -1}, x.remote)
	for _, n := range []string{"+4915112345678", "+33612345678", "+12125550100"} {
		k := x.find(e164Digits(n))
		require.GreaterOrEqual(t, k, 0, n)
		assert.Equal(t, e164Digits(n), x.keys[k], n)
	}
	for _, n := range []string{"+4915112345679", "+1", "+999999999999999"} {
		assert.Equal(t, -1, x.find(e164Digits(n)), n)
	}
	var empty numberIndex
	assert.Equal(t, -1, empty.find(e164Digits("+4915112345678")))
}

// A group's member changes are one array sized once, creates, updates and
// deletes alike, not grown by doubling.
func TestDiffPhonesChangesAllocatedOnce(t *testing.T) {
	const n = 2000
	var list []Phone
	remote := make([]RemotePhone, 0, n+2)
	for i := range n {
		remote = append(remote, have(fmt.Sprint(i+1), fmt.Sprintf("+49151%08d", i), "Mr."))
	}
	remote = append(remote, have("dup", "+4915100000007", "Mr."), have("bad", "not a number"))
	for i := range n {
		a := "Mr."
		if i%10 == 3 {
			a = "Dr."
		}
		j := i
		if i >= n*3/4 {
			j += n // not listed remotely: a create, and the remote one a delete
		}
		list = append(list, want(fmt.Sprintf("+49151%08d", j), i+2, a))
	}
	p := phoneDiff(t, members(PhonesExact, managedAB, list...), remote)
	count := map[Action]int{}
	for _, c := range p.Changes {
		count[c.Action]++
	}
	assert.Equal(t, map[Action]int{Create: 500, Update: 150, Delete: 502}, count)
	// Rounded up to the allocator's size class at most.
	assert.LessOrEqual(t, cap(p.Changes), len(p.Changes)*21/20)
}

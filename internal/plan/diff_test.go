package plan

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loxRemote(id, name string, fields map[string]Value) RemoteGroup {
	all := map[string]Value{}
	for _, f := range GroupFields[LOX24] {
		all[f.Name] = Null
	}
	for k, v := range fields {
		all[k] = v
	}
	return RemoteGroup{Key: id, Name: name, Fields: all}
}

func hidRemote(guid, name string, fields map[string]Value) RemoteGroup {
	all := map[string]Value{"isEnabled": Bool(false), "isDefault": Bool(false), "isQrEnabled": Bool(false), "managedByUserGuid": Null}
	for k, v := range fields {
		all[k] = v
	}
	return RemoteGroup{Key: guid, Name: name, Fields: all}
}

func src(line int) Source { return Source{File: "groups.yaml", Line: line} }

const (
	guidA = "ef24276a-cf39-44d7-b8e5-1012c0db5178"
	guidB = "0b6b2b1e-5a9c-4d57-9d7a-3f1e2d4c5b6a"
	userA = "F0CE1E44-25E8-4B12-8151-EF3525017647"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name      string
		want      []Group
		lox, hid  []RemoteGroup
		changes   []Change
		unchanged map[System]int
	}{
		{
			name:      "lox24 group matched by exact name with equal fields is unchanged and costs no write",
			want:      []Group{{System: LOX24, Name: "Clients", Fields: map[string]Value{"description": Str("Best")}, Source: src(1)}},
			lox:       []RemoteGroup{loxRemote("7", "Clients", map[string]Value{"description": Str("Best")})},
			hid:       nil,
			unchanged: map[System]int{LOX24: 1, HelloID: 0},
		},
		{
			name:      "absent field is unmanaged: a remote value it does not mention is never changed",
			want:      []Group{{System: LOX24, Name: "Clients", Fields: map[string]Value{}, Source: src(1)}},
			lox:       []RemoteGroup{loxRemote("7", "Clients", map[string]Value{"description": Str("keep me"), "name_a": Str("x")})},
			unchanged: map[System]int{LOX24: 1, HelloID: 0},
		},
		{
			name: "null clears a nullable field",
			want: []Group{{System: LOX24, Name: "Clients", Fields: map[string]Value{"description": Null}, Source: src(1)}},
			lox:  []RemoteGroup{loxRemote("7", "Clients", map[string]Value{"description": Str("old"), "name_a": Str("x")})},
			changes: []Change{{System: LOX24, Kind: KindGroup, Action: Update, Key: "7", Name: "Clients", Source: src(1),
				Fields: []FieldChange{{Field: "description", Before: Str("old"), After: Null}},
				Base:   map[string]Value{"name": Str("Clients"), "description": Str("old"), "name_a": Str("x"), "name_b": Null, "name_c": Null, "name_d": Null, "name_e": Null}}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name: "lox24 name match is exact: another letter case is a different group, so it is created",
			want: []Group{{System: LOX24, Name: "clients", Fields: map[string]Value{"description": Str("d"), "name_a": Null}, Source: src(2)}},
			lox:  []RemoteGroup{loxRemote("7", "Clients", nil)},
			changes: []Change{{System: LOX24, Kind: KindGroup, Action: Create, Name: "clients", Source: src(2),
				Fields: []FieldChange{{Field: "name", Before: Null, After: Str("clients")}, {Field: "description", Before: Null, After: Str("d")}}}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name: "lox24 group addressed by id is renamed",
			want: []Group{{System: LOX24, Key: "7", Name: "New name", Fields: map[string]Value{}, Source: src(3)}},
			lox:  []RemoteGroup{loxRemote("7", "Old name", nil)},
			changes: []Change{{System: LOX24, Kind: KindGroup, Action: Update, Key: "7", Name: "Old name", Source: src(3),
				Fields: []FieldChange{{Field: "name", Before: Str("Old name"), After: Str("New name")}},
				Base:   map[string]Value{"name": Str("Old name"), "description": Null, "name_a": Null, "name_b": Null, "name_c": Null, "name_d": Null, "name_e": Null}}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name: "lox24 id not found remotely is an error for that item only",
			want: []Group{
				{System: LOX24, Key: "99", Name: "Gone", Fields: map[string]Value{}, Source: src(1)},
				{System: LOX24, Name: "Clients", Fields: map[string]Value{}, Source: src(5)},
			},
			lox: []RemoteGroup{loxRemote("7", "Clients", nil)},
			changes: []Change{{System: LOX24, Kind: KindGroup, Action: Update, Key: "99", Name: "Gone", Source: src(1),
				Error: "id 99 does not exist"}},
			unchanged: map[System]int{LOX24: 1, HelloID: 0},
		},
		{
			name: "two lox24 groups with the wanted name make the item ambiguous",
			want: []Group{{System: LOX24, Name: "Twins", Fields: map[string]Value{}, Source: src(1)}},
			lox:  []RemoteGroup{loxRemote("9", "Twins", nil), loxRemote("3", "Twins", nil)},
			changes: []Change{{System: LOX24, Kind: KindGroup, Action: Update, Name: "Twins", Source: src(1),
				Error: `ambiguous: 2 groups are named "Twins" (id 3, 9); address the group by id`}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name: "two desired groups matching one remote group: the second is an error",
			want: []Group{
				{System: LOX24, Key: "7", Name: "Clients", Fields: map[string]Value{}, Source: src(1)},
				{System: LOX24, Name: "Clients", Fields: map[string]Value{}, Source: src(9)},
			},
			lox: []RemoteGroup{loxRemote("7", "Clients", nil)},
			changes: []Change{{System: LOX24, Kind: KindGroup, Action: Update, Name: "Clients", Source: src(9),
				Error: "matches the same lox24 group (id 7) as the group at groups.yaml:1"}},
			unchanged: map[System]int{LOX24: 1, HelloID: 0},
		},
		{
			name: "a lox24 group scheduled for deletion is not changed: an error for that item",
			want: []Group{{System: LOX24, Name: "Leaving", Fields: map[string]Value{"description": Str("x")}, Source: src(1),
				Phones: &Phones{File: "m.csv", List: []Phone{NewPhone("+4915112345678", nil, 2)}}}},
			lox: []RemoteGroup{func() RemoteGroup {
				g := loxRemote("8", "Leaving", nil)
				g.DeletedAt = "2026-12-01T00:00:00+00:00"
				return g
			}()},
			changes: []Change{{System: LOX24, Kind: KindGroup, Action: Update, Name: "Leaving", Source: src(1),
				Error: `lox24 group 8 "Leaving" is scheduled for deletion (deleted_at 2026-12-01T00:00:00+00:00); groupsync does not change it`}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name:      "helloid name match is case-insensitive and keeps the remote spelling",
			want:      []Group{{System: HelloID, Name: "sales TEAM", Fields: map[string]Value{"isEnabled": Bool(true)}, Source: src(1)}},
			hid:       []RemoteGroup{hidRemote(guidA, "Sales Team", map[string]Value{"isEnabled": Bool(true)})},
			unchanged: map[System]int{LOX24: 0, HelloID: 1},
		},
		{
			name:      "helloid name match folds case fully: a long s is an s",
			want:      []Group{{System: HelloID, Name: "ſales", Fields: map[string]Value{"isEnabled": Bool(true)}, Source: src(1)}},
			hid:       []RemoteGroup{hidRemote(guidA, "Sales", map[string]Value{"isEnabled": Bool(true)})},
			unchanged: map[System]int{LOX24: 0, HelloID: 1},
		},
		{
			name: "helloid name match folds case fully: ß is ss, and the group is updated, not created",
			want: []Group{{System: HelloID, Name: "Straße", Fields: map[string]Value{"isEnabled": Bool(true)}, Source: src(1)}},
			hid:  []RemoteGroup{hidRemote(guidA, "STRASSE", nil)},
			changes: []Change{{System: HelloID, Kind: KindGroup, Action: Update, Key: guidA, Name: "STRASSE", Source: src(1),
				Fields: []FieldChange{{Field: "isEnabled", Before: Bool(false), After: Bool(true)}},
				Base:   map[string]Value{"name": Str("STRASSE"), "isEnabled": Bool(false), "isDefault": Bool(false), "isQrEnabled": Bool(false), "managedByUserGuid": Null}}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name: "helloid group addressed by guid is renamed, letter case included",
			want: []Group{{System: HelloID, Key: "EF24276A-CF39-44D7-B8E5-1012C0DB5178", Name: "sales team", Fields: map[string]Value{}, Source: src(1)}},
			hid:  []RemoteGroup{hidRemote(guidA, "Sales Team", nil)},
			changes: []Change{{System: HelloID, Kind: KindGroup, Action: Update, Key: guidA, Name: "Sales Team", Source: src(1),
				Fields: []FieldChange{{Field: "name", Before: Str("Sales Team"), After: Str("sales team")}},
				Base:   map[string]Value{"name": Str("Sales Team"), "isEnabled": Bool(false), "isDefault": Bool(false), "isQrEnabled": Bool(false), "managedByUserGuid": Null}}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name:      "helloid manager guid compares case-insensitively",
			want:      []Group{{System: HelloID, Name: "Ops", Fields: map[string]Value{"managedByUserGuid": Str(userA)}, Source: src(1)}},
			hid:       []RemoteGroup{hidRemote(guidB, "Ops", map[string]Value{"managedByUserGuid": Str("f0ce1e44-25e8-4b12-8151-ef3525017647")})},
			unchanged: map[System]int{LOX24: 0, HelloID: 1},
		},
		{
			name: "helloid flags and manager changes are field-level before and after",
			want: []Group{{System: HelloID, Name: "Ops", Fields: map[string]Value{"isEnabled": Bool(false), "isQrEnabled": Bool(true), "managedByUserGuid": Null}, Source: src(4)}},
			hid:  []RemoteGroup{hidRemote(guidB, "Ops", map[string]Value{"isEnabled": Bool(true), "managedByUserGuid": Str(userA)})},
			changes: []Change{{System: HelloID, Kind: KindGroup, Action: Update, Key: guidB, Name: "Ops", Source: src(4),
				Fields: []FieldChange{
					{Field: "isEnabled", Before: Bool(true), After: Bool(false)},
					{Field: "isQrEnabled", Before: Bool(false), After: Bool(true)},
					{Field: "managedByUserGuid", Before: Str(userA), After: Null},
				},
				Base: map[string]Value{"name": Str("Ops"), "isEnabled": Bool(true), "isDefault": Bool(false), "isQrEnabled": Bool(false), "managedByUserGuid": Str(userA)}}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name: "helloid group not found by name is created with its managed fields",
			want: []Group{{System: HelloID, Name: "New", Fields: map[string]Value{"isEnabled": Bool(true), "managedByUserGuid": Null}, Source: src(2)}},
			hid:  []RemoteGroup{hidRemote(guidB, "Ops", nil)},
			changes: []Change{{System: HelloID, Kind: KindGroup, Action: Create, Name: "New", Source: src(2),
				Fields: []FieldChange{{Field: "name", Before: Null, After: Str("New")}, {Field: "isEnabled", Before: Null, After: Bool(true)}}}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
		{
			name: "helloid guid not found remotely is an error for that item",
			want: []Group{{System: HelloID, Key: guidA, Name: "X", Fields: map[string]Value{}, Source: src(1)}},
			hid:  []RemoteGroup{hidRemote(guidB, "X", nil)},
			changes: []Change{{System: HelloID, Kind: KindGroup, Action: Update, Key: guidA, Name: "X", Source: src(1),
				Error: "groupGuid " + guidA + " does not exist"}},
			unchanged: map[System]int{LOX24: 0, HelloID: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			have := map[System]Current{
				LOX24:   {System: LOX24, Groups: tt.lox},
				HelloID: {System: HelloID, Groups: tt.hid},
			}
			p := Diff(Desired{Groups: tt.want}, have)
			assert.Equal(t, tt.changes, p.Changes)
			assert.Equal(t, tt.unchanged, p.Unchanged)
			assert.Equal(t, []System{LOX24, HelloID}, p.Systems)
		})
	}
}

func TestDiffLeavesOutSystemsNotRead(t *testing.T) {
	want := Desired{Groups: []Group{
		{System: LOX24, Name: "A", Fields: map[string]Value{}},
		{System: HelloID, Name: "B", Fields: map[string]Value{}},
	}}
	p := Diff(want, map[System]Current{HelloID: {System: HelloID}})
	require.Len(t, p.Changes, 1)
	assert.Equal(t, HelloID, p.Changes[0].System)
	assert.Equal(t, []System{HelloID}, p.Systems)
}

func TestDiffIsDeterministic(t *testing.T) {
	want := Desired{Groups: []Group{
		{System: LOX24, Name: "B", Fields: map[string]Value{"description": Str("x"), "name_a": Str("a"), "name_e": Null}},
		{System: LOX24, Name: "A", Fields: map[string]Value{"description": Str("y")}},
		{System: HelloID, Name: "C", Fields: map[string]Value{"isEnabled": Bool(true), "isDefault": Bool(true)}},
	}}
	have := map[System]Current{
		LOX24:   {Groups: []RemoteGroup{loxRemote("1", "A", nil), loxRemote("2", "B", map[string]Value{"name_e": Str("e")})}},
		HelloID: {Groups: []RemoteGroup{hidRemote(guidA, "c", nil)}},
	}
	first := Diff(want, have)
	for range 20 {
		assert.Equal(t, first, Diff(want, have))
	}
	// Items keep input order, fields keep the schema's order.
	require.Len(t, first.Changes, 3)
	assert.Equal(t, "B", first.Changes[0].Name)
	assert.Equal(t, []string{"description", "name_a", "name_e"}, fieldNames(first.Changes[0]))
}

func fieldNames(c Change) []string {
	var out []string
	for _, f := range c.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestRecordSendsUnmanagedFieldsAsRead(t *testing.T) {
	c := Change{
		Fields: []FieldChange{{Field: "description", Before: Str("old"), After: Str("new")}},
		Base:   map[string]Value{"name": Str("N"), "description": Str("old"), "name_a": Str("keep")},
	}
	assert.Equal(t, map[string]Value{"name": Str("N"), "description": Str("new"), "name_a": Str("keep")}, c.Record())
}

// countdownCtx is done after its Err has been asked n times: it stops a
// diff at a chosen check, without timing.
type countdownCtx struct {
	context.Context
	n, asked int
}

func (c *countdownCtx) Err() error {
	c.asked++
	if c.asked > c.n {
		return context.Canceled
	}
	return nil
}

// DiffContext stops at every check it makes, between groups and inside a
// group's members, and gives no plan; Diff (never stopped) gives the
// whole plan.
func TestDiffContextStopsWhileThePlanIsComputed(t *testing.T) {
	list := make([]Phone, 50)
	for i := range list {
		list[i] = want(fmt.Sprintf("+49151%08d", i), i+2)
	}
	remote := []RemotePhone{have("1", "+4915100000000"), have("2", "+4915199999999")}
	want := Desired{Groups: []Group{
		{System: LOX24, Key: "7", Name: "A", Fields: map[string]Value{}, Phones: members(PhonesExact, managedAB, list...)},
		{System: LOX24, Name: "B", Fields: map[string]Value{}},
	}}
	have := map[System]Current{LOX24: {System: LOX24, Groups: []RemoteGroup{{Key: "7", Name: "A", Fields: map[string]Value{}, Phones: remote}}}}
	whole := Diff(want, have)
	require.NotEmpty(t, whole.Changes)
	checks := 0
	for n := 0; ; n++ {
		ctx := &countdownCtx{Context: context.Background(), n: n}
		p, err := DiffContext(ctx, want, have)
		if err == nil {
			assert.Equal(t, whole, p, "not stopped: the whole plan")
			checks = n
			break
		}
		assert.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, p)
	}
	assert.GreaterOrEqual(t, checks, 6, "checks between groups and between the member phases")
}

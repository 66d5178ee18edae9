// Package plan is groupsync's domain: the desired and current state of groups,
// the Diff that turns them into a Plan of Changes, the safety guards, Apply,
// and the Report of every item's outcome.
//
// plan imports neither the sources (files) nor the sinks (HTTP clients); it
// defines the small interfaces it consumes and the data that flows between them.
package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// System names one remote system.
type System string

// The two systems groupsync reconciles.
const (
	LOX24   System = "lox24"
	HelloID System = "helloid"
)

// Systems lists every system in the fixed order used for output.
var Systems = []System{LOX24, HelloID}

// ParseSystem returns the System named s, or an error.
func ParseSystem(s string) (System, error) {
	switch System(s) {
	case LOX24, HelloID:
		return System(s), nil
	}
	return "", fmt.Errorf("unknown system %q (want lox24 or helloid)", s)
}

// Value is one field's value: either null or a string. Booleans are held as
// "true" or "false". The zero Value is null. In JSON a Value is null or a
// string.
type Value struct {
	Valid bool   // false means null
	S     string // the value when Valid
}

// Null is the null Value.
var Null = Value{}

// Str returns a non-null Value holding s.
func Str(s string) Value { return Value{Valid: true, S: s} }

// Bool returns a non-null Value holding "true" or "false".
func Bool(b bool) Value {
	if b {
		return Str("true")
	}
	return Str("false")
}

// String renders v for humans: null, or the string quoted.
func (v Value) String() string {
	if !v.Valid {
		return "null"
	}
	return fmt.Sprintf("%q", v.S)
}

// MarshalJSON encodes v as null or a JSON string.
func (v Value) MarshalJSON() ([]byte, error) {
	if !v.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(v.S)
}

// UnmarshalJSON decodes null, a string, a boolean or a number.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*v = Null
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = Str(s)
		return nil
	}
	switch string(b) {
	case "true", "false":
		*v = Str(string(b))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("value: want null, string, boolean or number, got %s", b)
	}
	*v = Str(n.String())
	return nil
}

// FieldKind says how a field's values are written and compared.
type FieldKind int

// Field kinds.
const (
	FieldText FieldKind = iota // free text, compared exactly
	FieldBool                  // "true"/"false"
	FieldGUID                  // a GUID, compared case-insensitively
)

// FieldSpec describes one managed attribute of a group (name and the
// addressing key are not FieldSpecs; Group holds them directly).
type FieldSpec struct {
	Name     string    // the API's own field name
	Kind     FieldKind // how to compare and encode it
	Max      int       // maximum length in characters; 0 = no documented limit
	Nullable bool      // whether null is allowed (clears the field)
}

// NameMax is the maximum length, in characters, of a group name per system
// (0: no documented limit).
var NameMax = map[System]int{LOX24: 50, HelloID: 0}

// GroupFields lists, per system and in output order, the group attributes
// groupsync can manage besides the name.
var GroupFields = map[System][]FieldSpec{
	LOX24: {
		{Name: "description", Kind: FieldText, Max: 255, Nullable: true},
		{Name: "name_a", Kind: FieldText, Max: 50, Nullable: true},
		{Name: "name_b", Kind: FieldText, Max: 50, Nullable: true},
		{Name: "name_c", Kind: FieldText, Max: 50, Nullable: true},
		{Name: "name_d", Kind: FieldText, Max: 50, Nullable: true},
		{Name: "name_e", Kind: FieldText, Max: 50, Nullable: true},
	},
	HelloID: {
		{Name: "isEnabled", Kind: FieldBool},
		{Name: "isDefault", Kind: FieldBool},
		{Name: "isQrEnabled", Kind: FieldBool},
		{Name: "managedByUserGuid", Kind: FieldGUID, Nullable: true},
	},
}

// FieldSpecFor returns the spec of a system's group field and whether it exists.
func FieldSpecFor(sys System, name string) (FieldSpec, bool) {
	for _, f := range GroupFields[sys] {
		if f.Name == name {
			return f, true
		}
	}
	return FieldSpec{}, false
}

// Equal reports whether a and b are the same value of a field of this kind.
func (k FieldKind) Equal(a, b Value) bool {
	if a.Valid != b.Valid {
		return false
	}
	if k == FieldGUID {
		return strings.EqualFold(a.S, b.S)
	}
	return a.S == b.S
}

// Source is where in the input an item came from.
type Source struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// String renders s as file:line, or "" when unknown.
func (s Source) String() string {
	if s.File == "" {
		return ""
	}
	if s.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// PhonesMode says whether members missing from the member file are removed.
type PhonesMode string

// Phone modes.
const (
	PhonesExact    PhonesMode = "exact"    // remove members not in the file (default)
	PhonesAdditive PhonesMode = "additive" // never remove
)

// PhoneColumns names the managed columns of a LOX24 phone entry besides the
// number, in output order. Phone.Cols and Phones.Managed are indexed alike.
var PhoneColumns = [NumPhoneCols]string{"a", "b", "c", "d", "e", "callback_data"}

// NumPhoneCols is len(PhoneColumns).
const NumPhoneCols = 6

// PhoneColumnMax is the maximum length, in characters, of each phone column;
// PhoneMax that of the number itself.
var PhoneColumnMax = [NumPhoneCols]int{1530, 1530, 1530, 1530, 1530, 36}

// PhoneMax is the maximum length, in characters, of a phone number as written.
const PhoneMax = 30

// Phone is one desired member of a LOX24 group. It is kept small because a
// member file can hold a million of them.
type Phone struct {
	Number string  // E.164, e.g. +4915112345678
	Cols   Columns // a..e, callback_data; "" is empty (sent as null)
	Line   int     // line in the member file
}

// Phones is a LOX24 group's complete desired member list, read from a CSV.
type Phones struct {
	File    string             // path to the CSV, resolved relative to the group's file
	Mode    PhonesMode         // exact or additive
	Source  Source             // where the `phones` key stands
	Managed [NumPhoneCols]bool // which columns the CSV has; the others are unmanaged
	// Country is the ISO 3166 alpha-2 code in whose national form numbers
	// without a country code are read, in the file and remotely; "" for none.
	Country string
	// Columns maps LOX24's member fields (phone, a..e, callback_data) to
	// the member file's own headers; nil when the file uses their names.
	Columns map[string]string
	// Delimiter (0: detected) and Encoding ("": UTF-8 or as its byte order
	// mark says) are how the member file is written.
	Delimiter rune
	Encoding  string
	List      []Phone // in file order, numbers unique
}

// RemotePhone is one phone entry of a LOX24 group as the API reports it.
type RemotePhone struct {
	ID     string  // phone entry id
	Number string  // as stored remotely
	Cols   Columns // a..e, callback_data; null reads as ""
}

// Group is one desired group, as read from the files.
type Group struct {
	System System
	// Key addresses the group remotely: the LOX24 id (decimal) or the HelloID
	// groupGuid. Empty means "match by name".
	Key string
	// Name is the desired name (required).
	Name string
	// Fields holds the managed attributes other than the name. A field that is
	// absent from the map is unmanaged; a Null value clears the field.
	Fields map[string]Value
	// Phones is the LOX24 member list, or nil when members are unmanaged.
	Phones *Phones
	// Users is the HelloID member list, or nil when members are unmanaged.
	Users *Users
	// Source is where the group is defined.
	Source Source
}

// Desired is the whole desired state: every group of every file, in input order.
type Desired struct {
	Groups []Group
	// Prune holds, per system, the scope in which groups that no file names
	// are deleted; a system without an entry is never pruned.
	Prune map[System]Prune
	// Rows counts, per input file (group files and member files, as they
	// are cited), the rows it held: groups, or members. The shrink guard
	// compares them with the baseline.
	Rows map[string]int
}

// Systems returns the systems that have at least one group or a prune
// scope, in output order.
func (d Desired) Systems() []System {
	var out []System
	for _, s := range Systems {
		if _, ok := d.Prune[s]; ok {
			out = append(out, s)
			continue
		}
		for _, g := range d.Groups {
			if g.System == s {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// For returns the groups of one system, in input order.
func (d Desired) For(sys System) []Group {
	var out []Group
	for _, g := range d.Groups {
		if g.System == sys {
			out = append(out, g)
		}
	}
	return out
}

// UserRef is one desired member of a HelloID group: a userName (matched
// with NameKey) or a userGuid, and where it was written.
type UserRef struct {
	Ref    string // userName or userGuid, as written
	Source Source // the users CSV's line, or the YAML list item's line
}

// Users is a HelloID group's desired member list, from an inline YAML list
// or a users CSV (column `user`).
type Users struct {
	File string     // the users CSV, resolved relative to the group's file; "" for an inline list
	Mode PhonesMode // exact (remove members not listed) or additive (never remove)
	// AllowExternalSource lets groupsync manage the members of a group whose
	// HelloID `source` is another system (allow_external_source: true).
	AllowExternalSource bool
	Source              Source    // where the `users` key stands
	List                []UserRef // in file order
	// Delimiter (0: detected) and Encoding ("": UTF-8 or as its byte order
	// mark says) are how the users CSV is written.
	Delimiter rune
	Encoding  string
}

// RemoteUser is one HelloID user as GET /users reports it.
type RemoteUser struct {
	GUID     string // userGuid
	UserName string // userName
}

// RemoteGroup is one group as a system reports it.
type RemoteGroup struct {
	Key    string           // LOX24 id (decimal) or HelloID groupGuid
	Name   string           // as the system spells it
	Fields map[string]Value // every field of GroupFields[system]
	// Phones holds the LOX24 group's members when they were read (only for
	// groups whose desired state manages phones); nil otherwise.
	Phones []RemotePhone
	// DeletedAt is, for a LOX24 group scheduled for deletion, when it will
	// be deleted (the API's deleted_at); "" otherwise.
	DeletedAt string
	// Origin is, for a HelloID group, its source as the API reports it:
	// "" or "Local" for a group made in HelloID, otherwise the system that
	// synchronises it (which would overwrite changes made here).
	Origin string
	// Users holds the HelloID group's member user GUIDs when they were read
	// (groups whose desired state manages users, groups to be pruned); nil
	// otherwise.
	Users []string
}

// Current is the state of one system as read from its API.
type Current struct {
	System System
	Groups []RemoteGroup // in the order the API listed them
	// Users is the HelloID user directory, read (once, whole) only when
	// some group manages users; nil otherwise.
	Users []RemoteUser
}

// ManagesUsers reports whether any of the groups manages its HelloID users.
func ManagesUsers(groups []Group) bool {
	for i := range groups {
		if groups[i].Users != nil {
			return true
		}
	}
	return false
}

// IsExternalSource reports whether a HelloID group `source` names another
// system than HelloID itself ("" and "Local" are HelloID's own).
func IsExternalSource(source string) bool {
	return source != "" && !strings.EqualFold(source, "Local")
}

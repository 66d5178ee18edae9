package source

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"groupsync/internal/plan"
)

// The keys of a group besides plan.GroupFields. Field names are the APIs' own.
const (
	fieldSystem     = "system"      // groups CSV only: lox24 or helloid
	fieldID         = "id"          // LOX24: the group's id
	fieldGUID       = "groupGuid"   // HelloID: the group's GUID
	fieldName       = "name"        // both: required
	fieldPhones     = "phones"      // LOX24: path of the member CSV
	fieldPhonesMode = "phones_mode" // LOX24: exact or additive
	fieldUsers      = "users"       // HelloID: path of the users CSV, or (YAML) an inline list
	fieldUsersMode  = "users_mode"  // HelloID: exact or additive
	fieldAllowExt   = "allow_external_source"
	fieldCountry    = "default_country"
	fieldColumns    = "columns" // YAML only: the member file's own headers
)

// keyFields lists the keys a group of sys may have besides its
// plan.GroupFields.
func keyFields(sys plan.System) []string {
	switch sys {
	case plan.LOX24:
		return []string{fieldID, fieldName, fieldPhones, fieldPhonesMode, fieldCountry, fieldColumns}
	case plan.HelloID:
		return []string{fieldGUID, fieldName, fieldUsers, fieldUsersMode, fieldAllowExt}
	}
	return nil
}

// belongs reports whether field is a key of a group of sys.
func belongs(sys plan.System, field string) bool {
	for _, k := range keyFields(sys) {
		if k == field {
			return true
		}
	}
	_, ok := plan.FieldSpecFor(sys, field)
	return ok
}

// owner returns the system a field belongs to ("" for none, and for name,
// which belongs to both).
func owner(field string) plan.System {
	var found plan.System
	for _, sys := range plan.Systems {
		if belongs(sys, field) {
			if found != "" {
				return ""
			}
			found = sys
		}
	}
	return found
}

// known reports whether field is a key of a group of any system.
func known(field string) bool { return belongs(plan.LOX24, field) || belongs(plan.HelloID, field) }

// isBoolField reports whether field holds a boolean.
func isBoolField(field string) bool {
	if field == fieldAllowExt {
		return true
	}
	for _, sys := range plan.Systems {
		if f, ok := plan.FieldSpecFor(sys, field); ok {
			return f.Kind == plan.FieldBool
		}
	}
	return false
}

// suggest returns a hint for an unknown field name that differs from a known
// one only in letter case, or "".
func suggest(field string) string {
	for _, sys := range plan.Systems {
		names := append([]string{fieldSystem}, keyFields(sys)...)
		for _, f := range plan.GroupFields[sys] {
			names = append(names, f.Name)
		}
		for _, n := range names {
			if strings.EqualFold(n, field) {
				return fmt.Sprintf(" (did you mean %q?)", n)
			}
		}
	}
	return ""
}

// pos is a place in a file.
type pos struct{ line, col int }

// groupBuilder checks the fields of one group as a reader finds them and
// assembles the plan.Group. YAML and CSV differ in how values are written;
// once a reader has turned a value into a plan.Value (booleans as plan.Bool),
// the rules are the same and live here.
type groupBuilder struct {
	errs *errorList
	at   pos
	g    plan.Group

	hasName   bool
	phones    string
	phonesAt  pos
	hasPhones bool
	mode      plan.PhonesMode
	modeAt    pos
	hasMode   bool

	users         string         // the users CSV, or "" for an inline list
	userList      []plan.UserRef // the inline list
	usersAt       pos
	hasUsers      bool
	usersMode     plan.PhonesMode
	usersModeAt   pos
	hasUsersMode  bool
	allowExternal bool
	allowExtAt    pos
	hasAllowExt   bool
	usersDialect  Dialect
	country       string
	countryAt     pos
	columns       map[string]string
	columnsAt     pos
	dialect       Dialect
}

// newGroup starts a group of sys defined at at.
func newGroup(errs *errorList, sys plan.System, at pos) *groupBuilder {
	return &groupBuilder{
		errs: errs,
		at:   at,
		g:    plan.Group{System: sys, Fields: map[string]plan.Value{}, Source: plan.Source{File: errs.file, Line: at.line}},
	}
}

// accepts reports whether field belongs to the group's system, and records
// an error if it does not.
func (b *groupBuilder) accepts(field string, at pos) bool {
	sys := b.g.System
	if belongs(sys, field) {
		return true
	}
	if field == fieldPhones || field == fieldPhonesMode || field == fieldCountry || field == fieldColumns {
		b.errs.add(at.line, at.col, field, "%s groups have no phones (only %s groups have members)", sys, plan.LOX24)
		return false
	}
	if field == fieldUsers || field == fieldUsersMode || field == fieldAllowExt {
		b.errs.add(at.line, at.col, field, "%s groups have no users (only %s groups have user members)", sys, plan.HelloID)
		return false
	}
	b.errs.add(at.line, at.col, field, "not a %s field (it belongs to %s groups)", sys, owner(field))
	return false
}

// set records field = v, found at at. The field must belong to the group's
// system (see accepts).
func (b *groupBuilder) set(field string, v plan.Value, at pos) {
	bad := func(format string, args ...any) { b.errs.add(at.line, at.col, field, format, args...) }
	if spec, ok := plan.FieldSpecFor(b.g.System, field); ok {
		switch {
		case !v.Valid && !spec.Nullable:
			if spec.Kind == plan.FieldBool {
				bad("null is not allowed (want true or false)")
			} else {
				bad("null is not allowed")
			}
			return
		case !v.Valid:
		case spec.Kind == plan.FieldGUID && !IsGUID(v.S):
			bad("%s is not a GUID (want 8-4-4-4-12 hex digits)", quote(v.S))
			return
		case spec.Kind == plan.FieldText:
			if msg := CheckText(v.S, spec.Max); msg != "" {
				bad("%s", msg)
				return
			}
		}
		b.g.Fields[field] = v
		return
	}
	b.mark(field, at)
	if !v.Valid {
		if field == fieldName {
			bad("null is not allowed (a name is required)")
		} else {
			bad("null is not allowed")
		}
		return
	}
	switch field {
	case fieldName:
		if v.S == "" {
			bad("must not be empty")
			return
		}
		if msg := CheckText(v.S, plan.NameMax[b.g.System]); msg != "" {
			bad("%s", msg)
			return
		}
		b.g.Name = v.S
	case fieldID:
		id, ok := ParseID(v.S)
		if !ok {
			bad("%s is not a positive integer", quote(v.S))
			return
		}
		b.g.Key = id
	case fieldGUID:
		if !IsGUID(v.S) {
			bad("%s is not a GUID (want 8-4-4-4-12 hex digits)", quote(v.S))
			return
		}
		b.g.Key = v.S
	case fieldPhones:
		if msg := checkFileRef(v.S); msg != "" {
			bad("%s", msg)
			return
		}
		b.phones = v.S
	case fieldCountry:
		c := strings.ToUpper(v.S)
		if !plan.ValidCountry(c) {
			bad("%s is not a country code (want ISO 3166 alpha-2, as DE or GB)", quote(v.S))
			return
		}
		b.country = c
	case fieldPhonesMode:
		switch m := plan.PhonesMode(v.S); m {
		case plan.PhonesExact, plan.PhonesAdditive:
			b.mode = m
		default:
			bad("%s is not a phones mode (want %s or %s)", quote(v.S), plan.PhonesExact, plan.PhonesAdditive)
		}
	case fieldUsers:
		if msg := checkFileRef(v.S); msg != "" {
			bad("%s", msg)
			return
		}
		b.users = v.S
	case fieldUsersMode:
		switch m := plan.PhonesMode(v.S); m {
		case plan.PhonesExact, plan.PhonesAdditive:
			b.usersMode = m
		default:
			bad("%s is not a users mode (want %s or %s)", quote(v.S), plan.PhonesExact, plan.PhonesAdditive)
		}
	case fieldAllowExt:
		b.allowExternal = v.S == "true"
	}
}

// setUserList records an inline list of users (YAML), found at at.
func (b *groupBuilder) setUserList(list []plan.UserRef, at pos) {
	b.mark(fieldUsers, at)
	b.userList = list
	if b.userList == nil {
		b.userList = []plan.UserRef{}
	}
}

// mark records that the group has field, at at, whether or not its value
// turns out valid, so that finish does not report it missing as well.
func (b *groupBuilder) mark(field string, at pos) {
	switch field {
	case fieldName:
		b.hasName = true
	case fieldPhones:
		b.hasPhones, b.phonesAt = true, at
	case fieldPhonesMode:
		b.hasMode, b.modeAt = true, at
	case fieldUsers:
		b.hasUsers, b.usersAt = true, at
	case fieldUsersMode:
		b.hasUsersMode, b.usersModeAt = true, at
	case fieldAllowExt:
		b.hasAllowExt, b.allowExtAt = true, at
	case fieldCountry:
		b.countryAt = at
	case fieldColumns:
		b.columnsAt = at
	}
}

// finish checks what concerns the group as a whole and returns it. Its
// phones, if any, are not loaded yet: Phones holds File, Mode and Source.
func (b *groupBuilder) finish() plan.Group {
	if !b.hasName {
		b.errs.add(b.at.line, b.at.col, fieldName, "missing (required)")
	}
	if b.hasMode && !b.hasPhones {
		b.errs.add(b.modeAt.line, b.modeAt.col, fieldPhonesMode, "only valid with phones")
	}
	if !b.hasPhones {
		if b.countryAt.line > 0 {
			b.errs.add(b.countryAt.line, b.countryAt.col, fieldCountry, "only valid with phones")
		}
		if b.columnsAt.line > 0 {
			b.errs.add(b.columnsAt.line, b.columnsAt.col, fieldColumns, "only valid with phones")
		}
	}
	if b.phones != "" {
		mode := b.mode
		if mode == "" {
			mode = plan.PhonesExact
		}
		b.g.Phones = &plan.Phones{
			File:      resolve(b.errs.file, b.phones),
			Mode:      mode,
			Source:    plan.Source{File: b.errs.file, Line: b.phonesAt.line},
			Country:   b.country,
			Columns:   b.columns,
			Delimiter: b.dialect.Delimiter,
			Encoding:  b.dialect.Encoding,
		}
	}
	if b.hasUsersMode && !b.hasUsers {
		b.errs.add(b.usersModeAt.line, b.usersModeAt.col, fieldUsersMode, "only valid with users")
	}
	if b.hasAllowExt && !b.hasUsers {
		b.errs.add(b.allowExtAt.line, b.allowExtAt.col, fieldAllowExt, "only valid with users")
	}
	if b.users != "" || b.userList != nil {
		mode := b.usersMode
		if mode == "" {
			mode = plan.PhonesExact
		}
		b.g.Users = &plan.Users{
			Mode:                mode,
			AllowExternalSource: b.allowExternal,
			Source:              plan.Source{File: b.errs.file, Line: b.usersAt.line},
			List:                b.userList,
		}
		if b.users != "" {
			b.g.Users.File = resolve(b.errs.file, b.users)
			b.g.Users.Delimiter, b.g.Users.Encoding = b.usersDialect.Delimiter, b.usersDialect.Encoding
		}
	}
	return b.g
}

// resolve returns the path of a file named in the file from, relative to
// from's directory (absolute paths stay as they are).
func resolve(from, name string) string {
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(filepath.Dir(from), name)
}

// CheckText checks a text value against a limit in characters (0: none) and
// the characters text may hold, and returns what is wrong, or "". Text may
// not hold control characters (C0, DEL, C1), line or paragraph separators,
// or bidirectional controls, nor begin or end with white space.
func CheckText(s string, limit int) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, r := range s {
		if IsControl(r) {
			return fmt.Sprintf("contains control character %U (not allowed in text)", r)
		}
	}
	if strings.TrimFunc(s, unicode.IsSpace) != s {
		return "has leading or trailing white space (not allowed in text)"
	}
	if limit > 0 {
		if n := utf8.RuneCountInString(s); n > limit {
			return fmt.Sprintf("%d characters, at most %d", n, limit)
		}
	}
	return ""
}

// IsControl reports whether r is a character text fields may not hold: a C0
// or C1 control, DEL, U+2028 or U+2029, or a bidirectional control (U+061C,
// U+200E, U+200F, U+202A..U+202E, U+2066..U+2069).
func IsControl(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7F && r <= 0x9F:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r == 0x061C, r == 0x200E, r == 0x200F:
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// ParseID returns the decimal form of a positive integer id (a LOX24 group
// id), and whether s is one.
func ParseID(s string) (string, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return "", false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return "", false
	}
	return strconv.FormatInt(n, 10), true
}

// IsGUID reports whether s is a GUID written as 8-4-4-4-12 hex digits, in
// either letter case (plan.IsGUID: one rule for the reader and the plan).
func IsGUID(s string) bool { return plan.IsGUID(s) }

// parseBool reads a CSV boolean: true/false/yes/no/1/0, in any letter case.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// checkFileRef checks a file reference (phones:, users:) and returns what
// is wrong with it, or "".
func checkFileRef(ref string) string {
	if ref == "" {
		return "must not be empty"
	}
	if msg := CheckText(ref, MaxPathChars); msg != "" {
		return quote(ref) + ": " + msg
	}
	return ""
}

// MaxPathChars is the longest file reference (phones:, users:) accepted,
// in characters.
const MaxPathChars = 1024

// shownPath is a file's path as an error message shows it: as it is when
// it is plain text, quoted and escaped otherwise (see quote). A path is not
// cut: the references in files are at most MaxPathChars, and a long
// directory on the command line is the user's own.
func shownPath(s string) string {
	if CheckText(s, 0) == "" {
		return s
	}
	return quote(s)
}

// excerptMax is how many characters of a cell, header or value an input
// error quotes at most.
const excerptMax = 80

// quote quotes a value for an error message: at most excerptMax characters
// of it, with control and other invisible characters escaped, so that a
// message stays short and shows what the file really holds.
func quote(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	n := 0
	for i := range s {
		if n == excerptMax {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}

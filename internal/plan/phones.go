package plan

import (
	"path/filepath"
	"unicode"
)

// NormalizePhone returns number in E.164 form and whether it is a valid
// E.164 number (see AppendE164). Members are matched by this form, in the
// files and remotely alike.
func NormalizePhone(number string) (string, bool) {
	var buf [20]byte
	b, _, ok := AppendE164(buf[:0], number)
	return string(b), ok
}

// AppendE164 appends number in E.164 form to dst and returns the result,
// the number's digits as an integer (a compact key for duplicate checks),
// and whether it is a valid E.164 number. Spaces, dashes, dots and brackets
// are dropped and a leading 00 becomes +; the result must be +, a digit 1..9
// and 1..14 more digits. On failure dst is returned unchanged. It does not
// allocate when dst has room, so a member file of a million rows costs no
// garbage here.
func AppendE164(dst []byte, number string) ([]byte, uint64, bool) {
	start := len(dst)
	for _, r := range number {
		switch {
		case '0' <= r && r <= '9' || r == '+':
			if len(dst)-start > 16 {
				return dst[:start], 0, false
			}
			dst = append(dst, byte(r))
		case r == '-' || r == '.' || r == '(' || r == ')' || r == '[' || r == ']' || unicode.IsSpace(r):
		default:
			return dst[:start], 0, false
		}
	}
	if b := dst[start:]; len(b) >= 2 && b[0] == '0' && b[1] == '0' {
		b[0] = '+'
		dst = append(dst[:start+1], b[2:]...)
	}
	b := dst[start:]
	if len(b) < 3 || len(b) > 16 || b[0] != '+' || b[1] == '0' {
		return dst[:start], 0, false
	}
	var v uint64
	for _, c := range b[1:] {
		if c < '0' || c > '9' {
			return dst[:start], 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return dst, v, true
}

// phoneRecord is a remote phone entry as plan values, for Change.Base.
func phoneRecord(r *RemotePhone) map[string]Value {
	m := make(map[string]Value, NumPhoneCols+1)
	m["phone"] = Str(r.Number)
	cols := r.Cols.Array()
	for i, col := range PhoneColumns {
		m[col] = colValue(cols[i])
	}
	return m
}

// colValue is how a phone column is written: empty is null.
func colValue(s string) Value {
	if s == "" {
		return Null
	}
	return Str(s)
}

// phones adds the member items of one LOX24 group: adds and updates in the
// member file's order, then deletes in the remote order. key is the remote
// group id ("" when the group is created in this run, createIdx then being
// the create's index in p.Changes); remote is nil for a new group.
func (d *differ) phones(p *Plan, g Group, key, name string, createIdx int, remote []RemotePhone) {
	ph := g.Phones
	dependsOn := 0
	if key == "" {
		dependsOn = createIdx + 1
	}
	// The first remote entry of each number, keyed by the number's digits
	// (E.164 numbers are at most 15 digits, so they fit a uint64 and the
	// index stays small at a million members). A remote number that is not
	// valid E.164 matches nothing; it is keyed by its raw form, apart. Later
	// entries of a number are duplicates.
	first := make(map[uint64]int32, len(remote))
	var invalid map[string]int32
	var dups []int32 // remote indexes of entries whose number came earlier
	var buf [PhoneMax + 2]byte
	for i := range remote {
		_, digits, ok := AppendE164(buf[:0], remote[i].Number)
		if !ok {
			if invalid == nil {
				invalid = map[string]int32{}
			}
			if _, seen := invalid[remote[i].Number]; seen {
				dups = append(dups, int32(i))
			} else {
				invalid[remote[i].Number] = int32(i)
			}
			continue
		}
		if _, seen := first[digits]; seen {
			dups = append(dups, int32(i))
			continue
		}
		first[digits] = int32(i)
	}
	// wantLine[i] is the member file's line of remote entry i's number, 0
	// when the file does not list it.
	wantLine := make([]int32, len(remote))
	file := ph.File
	for i := range ph.List {
		want := &ph.List[i]
		src := Source{File: file, Line: want.Line}
		j, ok := first[e164Digits(want.Number)]
		if !ok {
			c := Change{System: LOX24, Kind: KindPhone, Action: Create, Name: name, Group: key,
				DependsOn: dependsOn, Phone: want.Number, Source: src,
				Fields: []FieldChange{{Field: "phone", Before: Null, After: Str(want.Number)}}}
			for col, managed := range ph.Managed {
				if v := want.Cols.Get(col); managed && v != "" {
					c.Fields = append(c.Fields, FieldChange{Field: PhoneColumns[col], Before: Null, After: Str(v)})
				}
			}
			p.Changes = append(p.Changes, c)
			continue
		}
		r := &remote[j]
		wantLine[j] = int32(want.Line)
		var fields []FieldChange
		if want.Cols != r.Cols { // equal packed columns: nothing to compare
			for col, managed := range ph.Managed {
				if w, h := want.Cols.Get(col), r.Cols.Get(col); managed && w != h {
					fields = append(fields, FieldChange{Field: PhoneColumns[col], Before: colValue(h), After: colValue(w)})
				}
			}
		}
		if len(fields) == 0 {
			p.Unchanged[LOX24]++
			continue
		}
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Update, Key: r.ID,
			Name: name, Group: key, Phone: want.Number, Source: src, Fields: fields, Base: phoneRecord(r)})
	}
	for _, j := range dups {
		// A duplicate of a listed number carries minus that number's line.
		if _, digits, ok := AppendE164(buf[:0], remote[j].Number); ok {
			wantLine[j] = -wantLine[first[digits]]
		}
	}
	for i := range remote {
		line := wantLine[i]
		if line > 0 {
			continue // matched
		}
		if ph.Mode == PhonesAdditive {
			p.Unchanged[LOX24]++ // additive never deletes, duplicates included
			continue
		}
		// A delete cites the group's `phones:` line, or for a duplicate the
		// member file's line of the number it duplicates.
		src, note := ph.Source, "not in "+filepath.Base(file)
		if line < 0 {
			src, note = Source{File: file, Line: int(-line)}, "duplicate"
		}
		r := &remote[i]
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Delete, Key: r.ID,
			Name: name, Group: key, Phone: remoteNumber(buf[:0], r.Number), Source: src, Note: note, Base: phoneRecord(r)})
	}
}

// e164Digits returns the digits of a number already in E.164 form.
func e164Digits(n string) uint64 {
	var v uint64
	for i := 1; i < len(n); i++ {
		v = v*10 + uint64(n[i]-'0')
	}
	return v
}

// remoteNumber returns a remote number's E.164 form, or the number as it is
// when it is not valid E.164. It allocates only when the two differ.
func remoteNumber(buf []byte, number string) string {
	b, _, ok := AppendE164(buf, number)
	switch {
	case !ok:
		return number
	case string(b) == number:
		return number
	}
	return string(b)
}

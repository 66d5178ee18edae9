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
	for i, col := range PhoneColumns {
		m[col] = colValue(r.Cols[i])
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
	// Remote entries by number, in remote order; a number that is not valid
	// E.164 remotely matches nothing and is kept under its raw form.
	byNumber := make(map[string][]int, len(remote))
	for i := range remote {
		n, ok := NormalizePhone(remote[i].Number)
		if !ok {
			n = remote[i].Number
		}
		byNumber[n] = append(byNumber[n], i)
	}
	matched := make([]bool, len(remote))
	dupOf := make(map[int]int) // remote index -> line of the number it duplicates
	file := ph.File
	for i := range ph.List {
		want := &ph.List[i]
		src := Source{File: file, Line: want.Line}
		idx := byNumber[want.Number]
		if len(idx) == 0 {
			c := Change{System: LOX24, Kind: KindPhone, Action: Create, Name: name, Group: key,
				DependsOn: dependsOn, Phone: want.Number, Source: src,
				Fields: []FieldChange{{Field: "phone", Before: Null, After: Str(want.Number)}}}
			for col, managed := range ph.Managed {
				if managed && want.Cols[col] != "" {
					c.Fields = append(c.Fields, FieldChange{Field: PhoneColumns[col], Before: Null, After: Str(want.Cols[col])})
				}
			}
			p.Changes = append(p.Changes, c)
			continue
		}
		first := &remote[idx[0]]
		matched[idx[0]] = true
		for _, j := range idx[1:] {
			matched[j] = true
			dupOf[j] = want.Line
		}
		var fields []FieldChange
		for col, managed := range ph.Managed {
			if managed && want.Cols[col] != first.Cols[col] {
				fields = append(fields, FieldChange{Field: PhoneColumns[col], Before: colValue(first.Cols[col]), After: colValue(want.Cols[col])})
			}
		}
		if len(fields) == 0 {
			p.Unchanged[LOX24]++
			continue
		}
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Update, Key: first.ID,
			Name: name, Group: key, Phone: want.Number, Source: src, Fields: fields, Base: phoneRecord(first)})
	}
	for i := range remote {
		r := &remote[i]
		line, dup := dupOf[i]
		if matched[i] && !dup {
			continue
		}
		if ph.Mode == PhonesAdditive {
			p.Unchanged[LOX24]++ // additive never deletes, duplicates included
			continue
		}
		// A delete cites the group's `phones:` line, or for a duplicate the
		// member file's line of the number it duplicates.
		src, note := ph.Source, "not in "+filepath.Base(file)
		if dup {
			src, note = Source{File: file, Line: line}, "duplicate"
		}
		number, ok := NormalizePhone(r.Number)
		if !ok {
			number = r.Number
		}
		p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Delete, Key: r.ID,
			Name: name, Group: key, Phone: number, Source: src, Note: note, Base: phoneRecord(r)})
	}
}

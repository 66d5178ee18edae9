package plan

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone returns number in E.164 form and whether libphonenumber
// accepts it as a valid number written with its country code (see
// ParsePhone). Members are matched by this form, in the files and remotely
// alike.
func NormalizePhone(number string) (string, bool) {
	return NormalizePhoneIn(number, "")
}

// NormalizePhoneIn is NormalizePhone for a number that may be written in the
// national form of country (ISO 3166 alpha-2, "" for none).
func NormalizePhoneIn(number, country string) (string, bool) {
	var buf [24]byte
	b, _, err := AppendE164(buf[:0], number, country)
	return string(b), err == nil
}

// ParsePhone returns number in E.164 form, or a *PhoneError that says why
// it is not accepted. See AppendE164.
func ParsePhone(number, country string) (string, error) {
	var buf [24]byte
	b, _, err := AppendE164(buf[:0], number, country)
	return string(b), err
}

// PhoneError is a number that ParsePhone does not accept, and why.
type PhoneError struct {
	Number string // as written
	Reason string // what is wrong, lowercase
	Hint   string // what to do about it, or ""
}

// Error renders e as `"0151 1234567" is a national number: set ...`.
func (e *PhoneError) Error() string {
	q := strconv.Quote(e.Number)
	if utf8.RuneCountInString(e.Number) > 40 {
		q = strconv.Quote(string([]rune(e.Number)[:40])) + "..."
	}
	msg := q + " " + e.Reason
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// ValidCountry reports whether country is an ISO 3166 alpha-2 code that
// libphonenumber knows the numbering plan of (upper case, as "DE").
func ValidCountry(country string) bool {
	return len(country) == 2 && phonenumbers.GetSupportedRegions()[country]
}

// AppendE164 appends number in E.164 form to dst and returns the result,
// the number's digits as an integer (a compact key for duplicate checks),
// and nil; or dst unchanged, 0 and a *PhoneError.
//
// The number is parsed and validated by libphonenumber: a leading 00 is read
// as + first; a number without + is read in the national form of country
// (ISO 3166 alpha-2), and without a country it is refused; a national trunk
// prefix written after the country code, as in +49 (0)176 ..., is dropped.
// The number must be valid (a number range in use), not merely of a possible
// length, and must have no extension. Letters are refused.
func AppendE164(dst []byte, number, country string) ([]byte, uint64, error) {
	bad := func(reason, hint string) ([]byte, uint64, error) {
		return dst, 0, &PhoneError{Number: number, Reason: reason, Hint: hint}
	}
	s := strings.TrimSpace(number)
	if s == "" {
		return bad("is empty", "")
	}
	if len(s) > 64 {
		return bad("is too long to be a phone number", "")
	}
	if scientific(s) {
		return bad("is in scientific notation",
			"a spreadsheet rounded this number; format the column as text and export the file again")
	}
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9', r == '+', r == '-', r == '.', r == '/',
			r == '(', r == ')', r == '[', r == ']', unicode.IsSpace(r):
		default:
			return bad(fmt.Sprintf("has %q, which a phone number cannot have", r), "")
		}
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && unicode.IsSpace(r) }) {
		s = strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return ' '
			}
			return r
		}, s)
	}
	if rest, ok := strings.CutPrefix(s, "00"); ok {
		s = "+" + rest
	}
	if strings.Count(s, "+") > 1 || strings.Contains(s, "+") && strings.TrimLeft(s, "([ ")[0] != '+' {
		return bad("has a + that is not at its start", "")
	}
	b, digits, ok, key := fastE164(dst, s)
	if ok {
		return b, digits, nil
	}
	international := strings.Contains(s, "+")
	if !international && country == "" {
		if alt := "+" + digitsOf(s); alt[1] != '0' {
			if _, ok := NormalizePhone(alt); ok {
				return bad("has no country code", fmt.Sprintf("did you mean %s?", alt))
			}
		}
		if digitsOf(s)[0] == '0' {
			return bad("is a national number",
				"set default_country for its group (or --default-country), or write it with its country code (+...)")
		}
		return bad("has no country code", "write it as + then the country code and the number")
	}
	if !international {
		if prefix, alt := lostPlus(s, country); alt != "" {
			return bad(fmt.Sprintf("is not a national number of %s (those start with %s)", country, prefix),
				fmt.Sprintf("did you mean %s?", alt))
		}
	}
	var n phonenumbers.PhoneNumber
	if err := phonenumbers.ParseToNumber(s, country, &n); err != nil {
		return bad(parseReason(err), didYouMean(s, international))
	}
	if n.GetExtension() != "" {
		return bad("has an extension", "a member's number cannot have one")
	}
	if !phonenumbers.IsValidNumber(&n) {
		return bad(invalidReason(&n), didYouMean(s, international))
	}
	start := len(dst)
	dst = append(dst, '+')
	dst = strconv.AppendInt(dst, int64(n.GetCountryCode()), 10)
	dst = append(dst, phonenumbers.GetNationalSignificantNumber(&n)...)
	e164 := dst[start:]
	if len(e164) > 16 {
		dst = dst[:start]
		return bad("is too long", "an international number has at most 15 digits")
	}
	if key != "" && string(e164) == compact(s) {
		rememberValid(key)
	}
	return dst, e164Digits(string(e164)), nil
}

// scientific reports whether s looks like a number a spreadsheet wrote in
// scientific notation, as 4.91511E+12.
func scientific(s string) bool {
	mant, exp, ok := strings.Cut(strings.ToUpper(s), "E")
	if !ok || mant == "" || exp == "" {
		return false
	}
	exp = strings.TrimPrefix(exp, "+")
	return strings.Trim(mant, "0123456789.,") == "" && exp != "" && strings.Trim(exp, "0123456789") == ""
}

// digitsOf returns the digits of s ("0" when it has none, so that callers
// may look at the first).
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	if b.Len() == 0 {
		return "0"
	}
	return b.String()
}

// didYouMean returns a hint for a number written without + that is valid
// with one (a spreadsheet drops a leading +), or "".
func didYouMean(s string, international bool) string {
	if international {
		return ""
	}
	alt := "+" + digitsOf(s)
	if alt[1] == '0' {
		return ""
	}
	if _, ok := NormalizePhone(alt); ok {
		return fmt.Sprintf("did you mean %s?", alt)
	}
	return ""
}

// lostPlus returns, for a number s written without + in the national form
// of country, the country's trunk prefix and s with + in front when s is
// rather a number that lost its + (a spreadsheet drops it): the country's
// national numbers start with a trunk prefix (0 in DE, AT, CH, GB, FR, NL)
// that s lacks, and s read with + is a valid number. Reading it as a
// national number would store another number, without a word. Countries
// whose trunk prefix is their own country code (the +1 countries, where
// "212 555 0100" is how a national number is written) are left out.
func lostPlus(s, country string) (prefix, alt string) {
	md := metadataByRegion()[country]
	if md == nil {
		return "", ""
	}
	prefix = md.GetNationalPrefix()
	if prefix == "" || prefix == strconv.Itoa(int(md.GetCountryCode())) {
		return "", ""
	}
	digits := digitsOf(s)
	if strings.HasPrefix(digits, prefix) || digits[0] == '0' {
		return "", ""
	}
	alt = "+" + digits
	if _, ok := NormalizePhone(alt); !ok {
		return "", ""
	}
	return prefix, alt
}

// parseReason says why libphonenumber could not parse a number.
func parseReason(err error) string {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "has an unknown country code"
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return "is too short"
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return "is too long"
	}
	return "is not a phone number"
}

// invalidReason says why libphonenumber finds a parsed number not valid.
func invalidReason(n *phonenumbers.PhoneNumber) string {
	region := phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	switch phonenumbers.IsPossibleNumberWithReason(n) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "has an unknown country code"
	case phonenumbers.TOO_SHORT:
		return "is too short"
	case phonenumbers.TOO_LONG:
		return "is too long"
	case phonenumbers.INVALID_LENGTH:
		return fmt.Sprintf("has a wrong number of digits for +%d (%s)", n.GetCountryCode(), region)
	}
	return fmt.Sprintf("is not a valid number: no such number range in +%d (%s)", n.GetCountryCode(), region)
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
	// Every desired number, keyed by its digits (E.164 numbers are at most
	// 15 digits, so they fit a uint64), with the first remote entry that
	// holds it; the remote numbers that no file lists are kept apart. A
	// remote number that libphonenumber does not accept matches nothing; it
	// is keyed by its raw form, apart. Later entries of a number are
	// duplicates. A new or empty group has nothing to match: it needs no
	// index.
	var idx numberIndex
	if len(remote) > 0 {
		idx = newNumberIndex(ph.List)
	}
	// remoteOf is the first remote entry of a desired number, -1 for none.
	remoteOf := func(number string) int32 {
		if k := idx.find(e164Digits(number)); k >= 0 {
			return idx.remote[k]
		}
		return -1
	}
	matched := 0 // remote entries that hold a desired number, first of it
	var (
		other   map[uint64]int32
		invalid map[string]int32
		dups    []int32 // remote indexes of entries whose number came earlier
		buf     [PhoneMax + 2]byte
	)
	keyOf := func(number string) (uint64, bool) {
		// A number written exactly as the E.164 form of a desired number
		// is that number (an E.164 form of a valid number parses back to
		// itself), so a current member list, mostly such numbers, is
		// matched without parsing.
		if digits, ok := canonicalDigits(number); ok {
			if idx.find(digits) >= 0 {
				return digits, true
			}
		}
		_, digits, err := AppendE164(buf[:0], number, ph.Country)
		return digits, err == nil
	}
	if d.stopped() {
		return
	}
	for i := range remote {
		digits, ok := keyOf(remote[i].Number)
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
		if k := idx.find(digits); k >= 0 {
			if idx.remote[k] >= 0 {
				dups = append(dups, int32(i))
			} else {
				idx.remote[k] = int32(i)
				matched++
			}
			continue
		}
		if other == nil {
			other = map[uint64]int32{}
		}
		if _, seen := other[digits]; seen {
			dups = append(dups, int32(i))
			continue
		}
		other[digits] = int32(i)
	}
	// wantLine[i] is the member file's line of remote entry i's number, 0
	// when the file does not list it.
	wantLine := make([]int32, len(remote))
	file := ph.File
	// The member changes are sized once: a group of a million members then
	// costs one array of changes, instead of one grown by doubling (two
	// copies live at each growth). A create holds its desired member, not
	// a field list of its own (see Change.member).
	if d.stopped() {
		return
	}
	creates, updates := 0, 0
	for i := range ph.List {
		j := remoteOf(ph.List[i].Number)
		switch {
		case j < 0:
			creates++
		case ph.List[i].Cols != remote[j].Cols && managedDiffer(ph.Managed, ph.List[i].Cols, remote[j].Cols):
			updates++
		}
	}
	deletes := 0
	if ph.Mode != PhonesAdditive {
		deletes = len(remote) - matched
	}
	if d.stopped() {
		return
	}
	p.Changes = slices.Grow(p.Changes, creates+updates+deletes)
	managed := columnSetOf(ph.Managed)
	for i := range ph.List {
		want := &ph.List[i]
		src := Source{File: file, Line: want.Line}
		j := remoteOf(want.Number)
		if j < 0 {
			p.Changes = append(p.Changes, Change{System: LOX24, Kind: KindPhone, Action: Create, Name: name, GroupKey: key,
				DependsOn: dependsOn, Phone: want.Number, Country: ph.Country, Source: src, member: want, managed: managed})
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
			Name: name, GroupKey: key, Phone: want.Number, Country: ph.Country, Source: src, Fields: fields, Base: phoneRecord(r)})
	}
	for _, j := range dups {
		// A duplicate of a listed number carries minus that number's line.
		// (A duplicate of a number no file lists stays 0: not in the file.)
		if digits, ok := keyOf(remote[j].Number); ok {
			if k := idx.find(digits); k >= 0 && idx.remote[k] >= 0 {
				wantLine[j] = -wantLine[idx.remote[k]]
			}
		}
	}
	// The index is not needed past this point: let the deletes' records
	// have its memory.
	idx = numberIndex{}
	if d.stopped() {
		return
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
			Name: name, GroupKey: key, Phone: remoteNumber(buf[:0], r.Number, ph.Country), Country: ph.Country, Source: src, Note: note, Base: phoneRecord(r)})
	}
}

// managedDiffer reports whether a managed column differs between want and
// have.
func managedDiffer(managed [NumPhoneCols]bool, want, have Columns) bool {
	for col, m := range managed {
		if m && want.Get(col) != have.Get(col) {
			return true
		}
	}
	return false
}

// e164Digits returns the digits of a number already in E.164 form.
func e164Digits(n string) uint64 {
	var v uint64
	for i := 1; i < len(n); i++ {
		v = v*10 + uint64(n[i]-'0')
	}
	return v
}

// remoteNumber returns a remote number's E.164 form (read in the national
// form of country when it has no country code), or the number as it is when
// libphonenumber does not accept it. It allocates only when the two differ.
func remoteNumber(buf []byte, number, country string) string {
	b, _, err := AppendE164(buf, number, country)
	switch {
	case err != nil:
		return number
	case string(b) == number:
		return number
	}
	return string(b)
}

// numberIndex is the desired numbers of a group by their digits, as sorted
// keys with, at the same position, the number's first remote entry (-1:
// none). Against a map it is compact (12 bytes a number, allocated once, no
// buckets or spare slots), which matters at a million members; a lookup is
// a binary search.
type numberIndex struct {
	keys   []uint64
	remote []int32
}

// newNumberIndex indexes the numbers of list (E.164), each once.
func newNumberIndex(list []Phone) numberIndex {
	keys := make([]uint64, len(list))
	for i := range list {
		keys[i] = e164Digits(list[i].Number)
	}
	slices.Sort(keys)
	keys = slices.Clip(slices.Compact(keys))
	remote := make([]int32, len(keys))
	for i := range remote {
		remote[i] = -1
	}
	return numberIndex{keys: keys, remote: remote}
}

// find returns the position of digits in x, or -1 when x does not hold it.
func (x *numberIndex) find(digits uint64) int {
	if k, ok := slices.BinarySearch(x.keys, digits); ok {
		return k
	}
	return -1
}

// canonicalDigits returns the digits of a number written as + and 2..15
// digits, the first not 0.
func canonicalDigits(n string) (uint64, bool) {
	if len(n) < 3 || len(n) > 16 || n[0] != '+' || n[1] == '0' {
		return 0, false
	}
	for i := 1; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return 0, false
		}
	}
	return e164Digits(n), true
}

// compact returns s without spaces and dashes.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
}

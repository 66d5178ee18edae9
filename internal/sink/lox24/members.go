package lox24

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"groupsync/internal/plan"
)

// Members are the bulk of what a run reads (a million members are 33,334
// pages), so their pages are decoded by hand: straight from the response
// buffer into plan.RemotePhone, one allocation per member, with no
// intermediate records. The rules are decodePage's: either spelling of
// every key (both is an error), a next link that is an IRI or a page
// number, a totalItems that is a non-negative integer, never a bare array;
// and each member's id is checked as checkID checks it. A key given twice
// in one object is refused too.

// decodePhones decodes one page of GET /groups/{id}/phones, appending its
// members to items (an empty slice to reuse, or nil).
func decodePhones(body []byte, items []plan.RemotePhone) (page[plan.RemotePhone], error) {
	var out page[plan.RemotePhone]
	d := &scanner{b: body}
	if d.peek() == '[' {
		return out, errors.New("the API answered a plain JSON array, which carries no paging; cannot tell whether more pages exist")
	}
	// Each value is kept as found: the spellings are compared at the end.
	var member, bareMember, total, bareTotal, next, bareNext found
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "hydra:member", "member":
			f := &member
			if string(key) == "member" {
				f = &bareMember
			}
			if err := f.once(key); err != nil {
				return err
			}
			if d.peek() == 'n' {
				return d.null()
			}
			f.set = true
			return d.array(func() error {
				p, err := d.member()
				if err != nil {
					return fmt.Errorf("item %d: %w", len(items)+1, err)
				}
				items = append(items, p)
				return nil
			})
		case "hydra:totalItems", "totalItems":
			f := &total
			if string(key) == "totalItems" {
				f = &bareTotal
			}
			return d.raw(key, f)
		case "hydra:view", "view":
			if d.peek() != '{' {
				return d.skip() // null, or no view worth reading
			}
			return d.object(func(key []byte) error {
				switch string(key) {
				case "hydra:next":
					return d.raw(key, &next)
				case "next":
					return d.raw(key, &bareNext)
				}
				return d.skip()
			})
		}
		return d.skip()
	})
	if err == nil && d.peek() != 0 {
		err = d.errorf("data after the page")
	}
	if err != nil {
		if errors.As(err, new(itemError)) {
			return out, err
		}
		return out, fmt.Errorf("unexpected response body: %w", err)
	}
	if member.set && bareMember.set {
		return out, errors.New("the response has both hydra:member and member")
	}
	if !member.set && !bareMember.set {
		return out, errors.New("the response has no hydra:member")
	}
	out.Items = items
	t, err := either2("totalItems", total, bareTotal)
	if err != nil {
		return out, err
	}
	if t != nil {
		n, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil || n < 0 {
			return out, fmt.Errorf("hydra:totalItems is %s, not a count", trimRaw(t))
		}
		out.Total, out.HasTotal = n, true
	}
	nx, err := either2("next", next, bareNext)
	if err != nil || nx == nil {
		return out, err
	}
	var iri string
	if json.Unmarshal(nx, &iri) == nil {
		out.NextIRI = iri
		return out, nil
	}
	n, err := strconv.ParseInt(string(nx), 10, 64)
	if err != nil || n < 1 {
		return out, fmt.Errorf("hydra:next is %s, neither a link nor a page number", trimRaw(nx))
	}
	out.NextPage = n
	return out, nil
}

// found is one key's value: set when the key was given with a value other
// than null, raw the value's text (for scalars).
type found struct {
	given bool
	set   bool
	raw   json.RawMessage
}

// once records that the key was given, refusing it a second time.
func (f *found) once(key []byte) error {
	if f.given {
		return fmt.Errorf("key %q given twice", key)
	}
	f.given = true
	return nil
}

// raw records the value at the scanner (a scalar, or skipped whole).
func (d *scanner) raw(key []byte, f *found) error {
	if err := f.once(key); err != nil {
		return err
	}
	start := d.i
	if err := d.skip(); err != nil {
		return err
	}
	v := json.RawMessage(trimSpace(d.b[start:d.i]))
	if string(v) != "null" {
		f.set, f.raw = true, v
	}
	return nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// either2 is either for values found by the scanner.
func either2(key string, prefixed, bare found) (json.RawMessage, error) {
	if prefixed.set && bare.set {
		return nil, fmt.Errorf("the response has both hydra:%s and %s", key, key)
	}
	if prefixed.set {
		return prefixed.raw, nil
	}
	if bare.set {
		return bare.raw, nil
	}
	return nil, nil
}

// itemError is a member that is well-formed JSON but not a phone entry
// (its id): reported as readAll reports a bad key, not as a bad body.
type itemError struct{ err error }

func (e itemError) Error() string { return e.err.Error() }
func (e itemError) Unwrap() error { return e.err }

// memberSlot is the place of a phone entry's key among id, phone and the
// columns (2 + the column's index), -1 for a key that is not read.
func memberSlot(key []byte) int {
	switch string(key) {
	case "id":
		return 0
	case "phone":
		return 1
	case "a":
		return 2
	case "b":
		return 3
	case "c":
		return 4
	case "d":
		return 5
	case "e":
		return 6
	case "callback_data":
		return 7
	}
	return -1
}

// member decodes one phone entry. It is object with the field function
// written in, as it runs for every member.
func (d *scanner) member() (plan.RemotePhone, error) {
	var id, number []byte
	var cols [plan.NumPhoneCols][]byte
	var seen uint16
	if err := d.expect('{'); err != nil {
		return plan.RemotePhone{}, err
	}
	if d.peek() == '}' {
		d.i++
	} else {
		for {
			key, err := d.str()
			if err != nil {
				return plan.RemotePhone{}, err
			}
			if err := d.expect(':'); err != nil {
				return plan.RemotePhone{}, err
			}
			slot := memberSlot(key)
			switch {
			case slot < 0:
				err = d.skip()
			case seen&(1<<slot) != 0:
				err = fmt.Errorf("key %q given twice in a member", key)
			case slot == 0:
				seen |= 1 << slot
				start := d.i
				if err = d.skip(); err == nil {
					id = trimSpace(d.b[start:d.i])
				}
			case d.peek() == 'n':
				seen |= 1 << slot
				err = d.null()
			case slot == 1:
				seen |= 1 << slot
				number, err = d.str()
			default:
				seen |= 1 << slot
				cols[slot-2], err = d.str()
			}
			if err != nil {
				return plan.RemotePhone{}, err
			}
			c := d.peek()
			d.i++
			if c == '}' {
				break
			}
			if c != ',' {
				d.i--
				return plan.RemotePhone{}, d.errorf("expected ',' or '}'")
			}
		}
	}
	key, err := phoneKey(id)
	if err != nil {
		return plan.RemotePhone{}, itemError{err}
	}
	return plan.NewRemotePhoneBytes(key, number, &cols), nil
}

// phoneKey is checkID for a phone's raw id, without allocating for the
// usual canonical decimal (a JSON number, or a string holding one).
func phoneKey(raw []byte) ([]byte, error) {
	digits := raw
	if len(digits) >= 2 && digits[0] == '"' && digits[len(digits)-1] == '"' {
		digits = digits[1 : len(digits)-1]
	}
	canonical := len(digits) > 0 && len(digits) <= 18 && digits[0] != '0'
	for _, c := range digits {
		canonical = canonical && c >= '0' && c <= '9'
	}
	if canonical {
		return digits, nil
	}
	key, err := checkID("phone", raw)
	return []byte(key), err
}

// scanner reads JSON from a buffer. Strings without escapes are returned as
// slices of the buffer; the caller copies what it keeps.
type scanner struct {
	b []byte
	i int
}

func (d *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *scanner) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end.
func (d *scanner) peek() byte {
	if d.i < len(d.b) && d.b[d.i] > ' ' { // no white space: the usual case
		return d.b[d.i]
	}
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *scanner) expect(c byte) error {
	if d.peek() != c {
		return d.errorf("expected %q", c)
	}
	d.i++
	return nil
}

// object reads an object, calling field for each key with the scanner at
// its value.
func (d *scanner) object(field func(key []byte) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errorf("expected ',' or '}'")
		}
	}
}

// array reads an array, calling elem with the scanner at each element.
func (d *scanner) array(elem func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		d.ws()
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.errorf("expected ',' or ']'")
		}
	}
}

// plainByte marks the bytes a string's text may hold as they are: not the
// closing quote, a backslash, a control character or a byte of a
// multi-byte UTF-8 sequence.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string. Without escapes (and valid UTF-8) it is a slice of
// the buffer; otherwise encoding/json decodes it, with its rules.
func (d *scanner) str() ([]byte, error) {
	if err := d.expect('"'); err != nil {
		return nil, err
	}
	start, b := d.i, d.b
	i := start
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	if i < len(b) && b[i] == '"' { // printable ASCII only, the usual case
		d.i = i + 1
		return b[start:i], nil
	}
	d.i = i
	plain := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if plain && utf8.Valid(s) {
				return s, nil
			}
			var v string
			if err := json.Unmarshal(d.b[start-1:d.i], &v); err != nil {
				return nil, d.errorf("%v", err)
			}
			return []byte(v), nil
		case c == '\\':
			plain = false
			d.i += 2
		case c < 0x20:
			return nil, d.errorf("control character in a string")
		default:
			d.i++
		}
	}
	return nil, d.errorf("unterminated string")
}

// number reads a JSON number and returns its text.
func (d *scanner) number() ([]byte, error) {
	d.ws()
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	n := digits()
	ok := n == 1 || n > 1 && d.b[d.i-n] != '0'
	if ok && d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		ok = digits() > 0
	}
	if ok && d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		ok = digits() > 0
	}
	if !ok {
		return nil, d.errorf("expected a number")
	}
	return d.b[start:d.i], nil
}

func (d *scanner) null() error { return d.literal("null") }

func (d *scanner) literal(word string) error {
	d.ws()
	if !bytes.HasPrefix(d.b[d.i:], []byte(word)) {
		return d.errorf("expected %s", word)
	}
	d.i += len(word)
	return nil
}

// skip reads past any value.
func (d *scanner) skip() error {
	switch d.peek() {
	case '{':
		return d.object(func([]byte) error { return d.skip() })
	case '[':
		return d.array(d.skip)
	case '"':
		_, err := d.str()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.null()
	default:
		_, err := d.number()
		return err
	}
}

package lox24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// Members are the bulk of what a run reads (a million members are 33,334
// pages), so their pages are decoded by hand: straight from the response
// buffer into plan.RemotePhone, one allocation per member, with no
// intermediate records. The rules are those of the collection type in
// hydra.go: an object, never a bare array; hydra:member (or member) present,
// once; hydra:totalItems (or totalItems) and hydra:view.hydra:next (or
// view.next) read when given.

// pageMeta is what a page says besides its members.
type pageMeta struct {
	total *int   // hydra:totalItems, when given
	next  string // hydra:view.hydra:next, when given
	count int    // members on the page
}

// readMembers reads every member of the group at path, as readAll reads a
// collection: page 1 alone, then pages 2..N side by side (as many as the
// client has requests in flight), each decoded into its place in the
// result; or page by page after hydra:next when the first page does not say
// how many there are.
func readMembers(ctx context.Context, api *sink.Client, what, path string) ([]plan.RemotePhone, error) {
	var out []plan.RemotePhone
	first, err := readMemberPage(ctx, api, what, path, url.Values{"page": {"1"}}, &out, -1)
	if err != nil {
		return nil, err
	}
	if first.next == "" {
		return checkTotal(what, out, first.total)
	}
	size := first.count
	next, perr := url.Parse(first.next)
	if first.total == nil || size == 0 || perr != nil || next.Path != path || next.Query().Get("page") != "2" {
		return followMembers(ctx, api, what, path, first, out)
	}
	total := *first.total
	if total < size {
		return nil, fmt.Errorf("lox24: get %s: hydra:totalItems is %d but page 1 has %d items", what, total, size)
	}
	pages := (total + size - 1) / size
	all := make([]plan.RemotePhone, total)
	copy(all, out)
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(api.MaxInFlight())
	for n := 2; n <= pages; n++ {
		eg.Go(func() error {
			start, end := (n-1)*size, min(n*size, total)
			dst := all[start:start:end]
			meta, err := readMemberPage(ctx, api, what, path, url.Values{"page": {strconv.Itoa(n)}}, &dst, end-start)
			if err != nil {
				return err
			}
			if meta.count != end-start {
				return fmt.Errorf("lox24: get %s page %d: %d items where %d were due (did they change while reading?)", what, n, meta.count, end-start)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return all, nil
}

// followMembers reads the pages after first one by one, as hydra:next says.
func followMembers(ctx context.Context, api *sink.Client, what, path string, first pageMeta, out []plan.RemotePhone) ([]plan.RemotePhone, error) {
	meta := first
	seen := map[string]bool{"page=1": true}
	for meta.next != "" {
		op := fmt.Sprintf("get %s: hydra:next %q", what, meta.next)
		next, err := url.Parse(meta.next)
		if err != nil {
			return nil, fmt.Errorf("lox24: %s: %w", op, err)
		}
		if next.Host != "" || next.Path != path {
			return nil, fmt.Errorf("lox24: %s leaves %s", op, path)
		}
		query := next.Query()
		if seen[query.Encode()] {
			return nil, fmt.Errorf("lox24: %s points back to a page already read", op)
		}
		seen[query.Encode()] = true
		if meta, err = readMemberPage(ctx, api, what, path, query, &out, -1); err != nil {
			return nil, err
		}
	}
	return checkTotal(what, out, first.total)
}

// readMemberPage reads one page of members and appends them to *out; a
// page of more than limit members (when limit >= 0) is an error.
func readMemberPage(ctx context.Context, api *sink.Client, what, path string, query url.Values, out *[]plan.RemotePhone, limit int) (pageMeta, error) {
	op := fmt.Sprintf("get %s page %s", what, query.Get("page"))
	var meta pageMeta
	_, err := api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: path, Query: query,
		Decode: func(body []byte) error {
			var err error
			meta, err = decodeMemberPage(body, out, limit)
			if err != nil {
				return fmt.Errorf("lox24: %s: %w", op, err)
			}
			return nil
		}})
	return meta, err
}

// errPageOverflow is a page with more members than its place holds.
var errPageOverflow = errors.New("more items than the page size")

// decodeMemberPage decodes a Hydra collection page of phone entries,
// appending the members to *out; more than limit of them (when limit >= 0)
// is an error.
func decodeMemberPage(body []byte, out *[]plan.RemotePhone, limit int) (pageMeta, error) {
	var meta pageMeta
	d := &scanner{b: body}
	d.ws()
	if d.peek() == '[' {
		return meta, errors.New("the API answered a plain JSON array, which carries no paging; cannot tell whether more pages exist")
	}
	var seen [3]bool // member, totalItems, view
	haveMembers := false
	err := d.object(func(key []byte) error {
		slot := -1
		switch string(key) {
		case "hydra:member", "member":
			slot = 0
		case "hydra:totalItems", "totalItems":
			slot = 1
		case "hydra:view", "view":
			slot = 2
		}
		if slot < 0 {
			return d.skip()
		}
		if seen[slot] {
			return fmt.Errorf("key %q given twice (or in both spellings)", key)
		}
		seen[slot] = true
		switch slot {
		case 0:
			haveMembers = true
			return d.array(func() error {
				p, err := d.member()
				if err != nil {
					return err
				}
				if limit >= 0 && meta.count == limit {
					return errPageOverflow
				}
				*out = append(*out, p)
				meta.count++
				return nil
			})
		case 1:
			num, err := d.number()
			if err != nil {
				return fmt.Errorf("hydra:totalItems: %w", err)
			}
			n, err := strconv.Atoi(string(num))
			if err != nil || n < 0 {
				return fmt.Errorf("hydra:totalItems %s is not a count", num)
			}
			meta.total = &n
			return nil
		default:
			if d.peek() != '{' {
				return d.skip()
			}
			seenNext := false
			return d.object(func(key []byte) error {
				if string(key) != "hydra:next" && string(key) != "next" {
					return d.skip()
				}
				if seenNext {
					return fmt.Errorf("key %q given twice (or in both spellings)", key)
				}
				seenNext = true
				if d.peek() == 'n' {
					return d.null()
				}
				s, err := d.str()
				meta.next = string(s)
				return err
			})
		}
	})
	if err == nil {
		d.ws()
		if d.i != len(d.b) {
			err = d.errorf("data after the page")
		}
	}
	if err != nil {
		if errors.Is(err, errPageOverflow) {
			return meta, err
		}
		return meta, fmt.Errorf("unexpected response body: %w", err)
	}
	if !haveMembers {
		return meta, errors.New("response has no hydra:member")
	}
	return meta, nil
}

// phoneKeys are the phone entry's keys in the order of its columns, after
// id and phone.
var phoneKeys = [...]string{"a", "b", "c", "d", "e", "callback_data"}

// member decodes one phone entry.
func (d *scanner) member() (plan.RemotePhone, error) {
	var id, number []byte
	var cols [plan.NumPhoneCols][]byte
	var seen uint16
	err := d.object(func(key []byte) error {
		slot := -1
		switch string(key) {
		case "id":
			slot = 0
		case "phone":
			slot = 1
		default:
			for i, k := range phoneKeys {
				if string(key) == k {
					slot = 2 + i
				}
			}
		}
		if slot < 0 {
			return d.skip()
		}
		if seen&(1<<slot) != 0 {
			return fmt.Errorf("key %q given twice in a member", key)
		}
		seen |= 1 << slot
		var err error
		switch {
		case slot == 0 && d.peek() == '"':
			// A string, as the docs' schema says, but holding a number,
			// as the paths need (encoding/json's json.Number rule).
			if id, err = d.str(); err == nil {
				n := &scanner{b: id}
				if _, nerr := n.number(); nerr != nil || n.i != len(id) {
					err = d.errorf("id %q is not a number", id)
				}
			}
		case slot == 0:
			id, err = d.number()
		case d.peek() == 'n':
			err = d.null()
		case slot == 1:
			number, err = d.str()
		default:
			cols[slot-2], err = d.str()
		}
		return err
	})
	if err != nil {
		return plan.RemotePhone{}, err
	}
	return plan.NewRemotePhoneBytes(id, number, &cols), nil
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

// str reads a string. Without escapes (and valid UTF-8) it is a slice of
// the buffer; otherwise encoding/json decodes it, with its rules.
func (d *scanner) str() ([]byte, error) {
	if err := d.expect('"'); err != nil {
		return nil, err
	}
	start := d.i
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

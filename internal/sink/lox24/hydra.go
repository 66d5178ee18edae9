package lox24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// page is one page of a Hydra collection, whichever spelling the API used.
type page[T any] struct {
	Items    []T
	Total    int64 // hydra:totalItems, when HasTotal
	HasTotal bool
	NextIRI  string // hydra:next as an IRI; "" when none
	NextPage int64  // hydra:next as a page number; 0 when none
}

// hydraPage is the envelope of a collection page: API Platform's prefixed
// keys or the bare ones of its newer versions.
type hydraPage[T any] struct {
	Member     *[]T            `json:"hydra:member"`
	BareMember *[]T            `json:"member"`
	Total      json.RawMessage `json:"hydra:totalItems"`
	BareTotal  json.RawMessage `json:"totalItems"`
	View       *hydraView      `json:"hydra:view"`
	BareView   *hydraView      `json:"view"`
}

type hydraView struct {
	Next     json.RawMessage `json:"hydra:next"`
	BareNext json.RawMessage `json:"next"`
}

// decodeGroups decodes one page of GET /groups.
func decodeGroups(body []byte) (page[group], error) { return decodePage[group](body) }

// decodeGroupsInto is decodeGroups as a listing's decode: groups are few,
// and their pages are not decoded into reused slices.
func decodeGroupsInto(body []byte, _ []group) (page[group], error) { return decodeGroups(body) }

// decodePage decodes one collection page. It accepts both spellings of
// every key, a next link that is an IRI or a page number, and no view
// (one page); it refuses a plain array (no paging), a page with no member
// list, and a totalItems that is not a non-negative integer.
func decodePage[T any](body []byte) (page[T], error) {
	var out page[T]
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '[' {
		return out, errors.New("the API answered a plain JSON array, which carries no paging; cannot tell whether more pages exist")
	}
	var h hydraPage[T]
	if err := json.Unmarshal(body, &h); err != nil {
		return out, fmt.Errorf("unexpected response body: %w", err)
	}
	member, err := either("member", h.Member, h.BareMember)
	if err != nil {
		return out, err
	}
	if member == nil {
		return out, errors.New("the response has no hydra:member")
	}
	out.Items = *member
	total, err := either("totalItems", rawOrNil(h.Total), rawOrNil(h.BareTotal))
	if err != nil {
		return out, err
	}
	if total != nil {
		n, err := strconv.ParseInt(string(*total), 10, 64)
		if err != nil || n < 0 {
			return out, fmt.Errorf("hydra:totalItems is %s, not a count", trimRaw(*total))
		}
		out.Total, out.HasTotal = n, true
	}
	view, err := either("view", h.View, h.BareView)
	if err != nil || view == nil {
		return out, err
	}
	next, err := either("next", rawOrNil(view.Next), rawOrNil(view.BareNext))
	if err != nil || next == nil {
		return out, err
	}
	var iri string
	if json.Unmarshal(*next, &iri) == nil {
		out.NextIRI = iri
		return out, nil
	}
	n, err := strconv.ParseInt(string(*next), 10, 64)
	if err != nil || n < 1 {
		return out, fmt.Errorf("hydra:next is %s, neither a link nor a page number", trimRaw(*next))
	}
	out.NextPage = n
	return out, nil
}

// either returns whichever of the prefixed and the bare key was given;
// both is an error, since they could disagree.
func either[P any](key string, prefixed, bare *P) (*P, error) {
	if prefixed != nil && bare != nil {
		return nil, fmt.Errorf("the response has both hydra:%s and %s", key, key)
	}
	if prefixed != nil {
		return prefixed, nil
	}
	return bare, nil
}

// rawOrNil is nil for an absent or null value.
func rawOrNil(r json.RawMessage) *json.RawMessage {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	return &r
}

func trimRaw(r json.RawMessage) string {
	if len(r) > 40 {
		return string(r[:40]) + "..."
	}
	return string(r)
}

// listing is how one collection is read: its path, the words for errors,
// how a page is decoded and how an item's key is checked.
type listing[T any] struct {
	what string // "groups", "members of group 17"
	noun string // "group", "phone"
	path string // "/groups"
	// decode decodes a page, appending its items to the slice it is
	// given (empty, to reuse; or nil).
	decode func(body []byte, items []T) (page[T], error)
	key    func(*T) (string, error)
}

// readAll reads the whole listing and checks it: every key valid, no key
// twice and as many items as totalItems says. A listing that moved while it
// was read is read once more from the start; if it moved again, the read
// fails with an *sink.InconsistentError.
func readAll[T any](ctx context.Context, api *sink.Client, l listing[T]) ([]T, error) {
	return sink.ReadConsistent(ctx, func(ctx context.Context) ([]T, error) {
		items, moved, _, err := readOnce(ctx, api, l)
		if err == nil && moved != "" {
			err = &sink.InconsistentError{System: plan.LOX24, What: l.what, Detail: moved}
		}
		return items, err
	})
}

// readOnce reads the listing from its first page to its last, following
// next links (an IRI anywhere on the API's origin, or a page number). It
// returns the items, what made the listing inconsistent ("" when nothing
// did), and whether an item may have been skipped: fewer distinct items
// than the first page's totalItems (items that move forward when others
// before them go), or without a total, any inconsistency. It stops with an error, never a hang or unbounded memory,
// when a key is missing or malformed, a next link returns to a page
// already read, an empty page links on, or the listing claims or holds more
// than the client's MaxReadItems, or a page repeats one already read (a
// next link that names no page number cannot be told apart otherwise).
//
// When a next link is the page=N scheme and totalItems says how many pages
// are left, the next few pages are asked for side by side (within the
// client's in-flight limit); they are still taken in the order the links
// give, and a link that leaves the scheme is followed as it says.
func readOnce[T any](ctx context.Context, api *sink.Client, l listing[T]) (_ []T, moved string, skipped bool, _ error) {
	maxItems := int64(api.MaxReadItems())
	path, query := l.path, url.Values{"page": {"1"}}
	seen := map[string]bool{}
	// Every key read, as a number (keys are checked canonical decimals):
	// a million members' keys are 8 MB here, where a set of their strings
	// was some 30 MB. Duplicates are found by sorting them once at the end.
	var keys []uint64
	// One signature per page read (its keys in order): a page that repeats
	// one already read ends the listing, whatever its link looks like.
	pageSigs := map[uint64]bool{}
	ahead := map[string]fetched[T]{} // pages asked for ahead of their turn
	spare := &spares[T]{}
	var out []T
	total, hasTotal, size := int64(0), false, 0
	for n := 1; ; n++ {
		id := pageID(path, query)
		seen[id] = true
		op := l.pageOp(n)
		f, ok := ahead[id]
		if !ok {
			f = fetchPage(ctx, api, l, spare, op, path, query)
		}
		delete(ahead, id)
		pg, err := f.page, f.err
		if err != nil {
			return nil, "", false, err
		}
		if pg.HasTotal {
			switch {
			case pg.Total > maxItems:
				return nil, "", false, fmt.Errorf("lox24: %s: hydra:totalItems %d is over the bound of %d items per listing (--max-read-items)", op, pg.Total, maxItems)
			case !hasTotal && n == 1:
				total, hasTotal = pg.Total, true
			case hasTotal && pg.Total != total && moved == "":
				moved = fmt.Sprintf("hydra:totalItems went from %d to %d", total, pg.Total)
			}
		}
		if n == 1 {
			size = len(pg.Items)
			if hasTotal && total > int64(size) {
				// Sized once (within the bound checked above): a million
				// members grown by appending would be copied over and over,
				// and the old copies held until collected.
				out = make([]T, 0, total)
				keys = make([]uint64, 0, total)
			}
		}
		if int64(len(out))+int64(len(pg.Items)) > maxItems {
			return nil, "", false, fmt.Errorf("lox24: %s: more than %d items in one listing (--max-read-items)", op, maxItems)
		}
		sig := uint64(14695981039346656037)
		for i := range pg.Items {
			k, err := l.key(&pg.Items[i])
			if err != nil {
				return nil, "", false, fmt.Errorf("lox24: %s: item %d: %w", op, i+1, err)
			}
			v, err := strconv.ParseUint(k, 10, 64)
			if err != nil {
				return nil, "", false, fmt.Errorf("lox24: %s: item %d: the key %q is not a number", op, i+1, k)
			}
			keys = append(keys, v)
			sig = (sig ^ v) * 1099511628211 // FNV-style: the page's keys, in order
		}
		fresh := !pageSigs[sig]
		pageSigs[sig] = true
		if n > 1 && len(pg.Items) > 0 && !fresh {
			// Whatever its link says (a cursor, an offset), the page is one
			// already read, the same keys in the same order: following on
			// would never end.
			return nil, "", false, fmt.Errorf("lox24: %s: hydra:next does not advance: the page repeats one already read", op)
		}
		out = append(out, pg.Items...)
		spare.put(pg.Items)
		if pg.NextIRI == "" && pg.NextPage == 0 {
			break
		}
		if len(pg.Items) == 0 {
			return nil, "", false, fmt.Errorf("lox24: %s: an empty page links to a next one", op)
		}
		if pg.NextPage != 0 {
			path, query = l.path, url.Values{"page": {strconv.FormatInt(pg.NextPage, 10)}}
		} else if path, query, err = api.Resolve(path, query, pg.NextIRI); err != nil {
			return nil, "", false, fmt.Errorf("lox24: %s: hydra:next %q: %w", op, pg.NextIRI, err)
		}
		if seen[pageID(path, query)] {
			return nil, "", false, fmt.Errorf("lox24: %s: hydra:next does not advance: it returns to a page already read", op)
		}
		if _, ok := ahead[pageID(path, query)]; !ok {
			clear(ahead) // off the scheme that was guessed
			if next := pageNumber(l.path, path, query); next > 0 && hasTotal && size > 0 {
				left := (total - int64(len(out)) + int64(size) - 1) / int64(size)
				prefetch(ctx, api, l, spare, ahead, next, min(left, readAhead), n)
			}
		}
	}
	distinct, twice := distinctKeys(keys)
	if twice != 0 && moved == "" {
		moved = fmt.Sprintf("%s %d listed twice", l.noun, twice)
	}
	if hasTotal && total != int64(len(out)) && moved == "" {
		moved = fmt.Sprintf("read %d items but hydra:totalItems is %d", len(out), total)
	}
	skipped = moved != "" && (!hasTotal || int64(distinct) < total)
	return out, moved, skipped, nil
}

// distinctKeys sorts keys and returns how many distinct ones it holds and
// the smallest key listed more than once (0 when none is: keys are
// positive).
func distinctKeys(keys []uint64) (distinct int, twice uint64) {
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 && k == keys[i-1] {
			if twice == 0 {
				twice = k
			}
			continue
		}
		distinct++
	}
	return distinct, twice
}

// readAhead is the most pages asked for ahead of their turn.
const readAhead = 32

type fetched[T any] struct {
	page page[T]
	err  error
}

// spares are the item slices of pages already copied into the listing,
// for later pages to be decoded into. A page's items are appended to the
// listing's own slice, so without them every page's slice (grown by
// appending, 1 to 32 items) would be left to the collector: some 100 MB
// over a million members.
type spares[T any] struct {
	mu   sync.Mutex
	free [][]T
}

// maxSpares bounds the slices kept: as many as pages asked for ahead.
const maxSpares = readAhead + 1

func (s *spares[T]) get() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.free)
	if n == 0 {
		return nil
	}
	items := s.free[n-1]
	s.free = s.free[:n-1]
	return items
}

// put keeps items, which were copied: the slice, emptied, not what it held.
func (s *spares[T]) put(items []T) {
	if cap(items) == 0 {
		return
	}
	clear(items)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) < maxSpares {
		s.free = append(s.free, items[:0])
	}
}

// fetchPage asks for one page and decodes it from the client's buffer
// (the decoders copy what they keep) into a spare slice.
func fetchPage[T any](ctx context.Context, api *sink.Client, l listing[T], spare *spares[T], op, path string, query url.Values) fetched[T] {
	var pg page[T]
	_, err := api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: path, Query: query,
		Decode: func(body []byte) error {
			var err error
			if pg, err = l.decode(body, spare.get()); err != nil {
				return fmt.Errorf("lox24: %s: %w", op, err)
			}
			return nil
		}})
	if err != nil {
		return fetched[T]{err: err}
	}
	return fetched[T]{page: pg}
}

// prefetch asks for pages first..first+count-1 of the listing side by side
// and files them in ahead; n is the number of the page read last.
func prefetch[T any](ctx context.Context, api *sink.Client, l listing[T], spare *spares[T], ahead map[string]fetched[T], first, count int64, n int) {
	var mu sync.Mutex
	eg := errgroup.Group{}
	eg.SetLimit(api.MaxInFlight()) // as many as may be in flight, no more waiting for a slot
	for i := range count {
		eg.Go(func() error {
			q := url.Values{"page": {strconv.FormatInt(first+i, 10)}}
			// A panic fails this page, and the read with it, rather than
			// the process.
			var f fetched[T]
			if err := sink.Recovered(func() error {
				goroutineStarted("page")
				f = fetchPage(ctx, api, l, spare, l.pageOp(n+1+int(i)), l.path, q)
				return nil
			})(); err != nil {
				f = fetched[T]{err: fmt.Errorf("lox24: %s: %w", l.pageOp(n+1+int(i)), err)}
			}
			mu.Lock()
			ahead[pageID(l.path, q)] = f
			mu.Unlock()
			return nil
		})
	}
	_ = eg.Wait()
}

// testGoroutineHook, when a test sets it, runs at the start of every
// goroutine the client starts, with what the goroutine does ("page",
// "members", "reread"): a test injects a panic there.
var testGoroutineHook func(what string)

func goroutineStarted(what string) {
	if h := testGoroutineHook; h != nil {
		h(what)
	}
}

// pageNumber returns N when path and query are the listing's own path with
// page=N and nothing else, 0 otherwise.
func pageNumber(listPath, path string, query url.Values) int64 {
	if path != listPath || len(query) != 1 || len(query["page"]) != 1 {
		return 0
	}
	n, err := strconv.ParseInt(query["page"][0], 10, 64)
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// pageID names the page a request reads: its path and page number (page 1
// when none is given), whatever other query parameters it carries; a link
// without a page number is named by its whole query.
func pageID(path string, query url.Values) string {
	if p, ok := query["page"]; ok && len(p) == 1 {
		if n, err := strconv.ParseInt(p[0], 10, 64); err == nil {
			return path + "?page=" + strconv.FormatInt(n, 10)
		}
	}
	if len(query) == 0 {
		return path + "?page=1"
	}
	return path + "?" + query.Encode()
}

// pageOp names the request for the listing's nth page read, for errors
// ("get members of group 17 page 3"); it is built for every page.
func (l *listing[T]) pageOp(n int) string { return "get " + l.what + " page " + strconv.Itoa(n) }

// groupListing is GET /groups.
func groupListing() listing[group] {
	return listing[group]{what: "groups", noun: "group", path: "/groups", decode: decodeGroupsInto,
		key: func(g *group) (string, error) { return checkID("group", g.ID) }}
}

// phoneListing is GET /groups/{id}/phones; groupID is a checked key. Its
// items are the final members, their ids checked by decodePhones.
func phoneListing(groupID string) listing[plan.RemotePhone] {
	return listing[plan.RemotePhone]{what: "members of group " + groupID, noun: "phone", path: "/groups/" + groupID + "/phones",
		decode: decodePhones, key: func(p *plan.RemotePhone) (string, error) { return p.ID, nil }}
}

package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Quirks make the emulator answer as a real server plausibly might where
// the docs are silent, so that every variant a client must read is tested.
// The zero Quirks is the emulator's default reading of the docs.
type Quirks struct {
	BareHydra       bool // LOX24 collections use member, totalItems, view, next (no "hydra:")
	IntNext         bool // LOX24 next links are page numbers, not IRIs
	PhonesNextPath  bool // LOX24 member listings link to GET /phones?group={id}&page=N, absolute
	ShortPages      bool // LOX24 pages hold 30, 25, 15, 30, 25, 15, ... items
	NoView          bool // LOX24 collections of one page have no view
	TakeCap         int  // > 0: HelloID lists return at most TakeCap items per page
	DataWrapper     bool // HelloID lists are {"data": [...]}
	PageDataWrapper bool // HelloID lists are {"pageData": [...]}
	DriftOnce       bool // the first listing of each collection repeats one item and skips another
	DriftAlways     bool // every listing does
}

// QuirkNames lists the names ParseQuirks takes ("take-cap" takes "=N").
var QuirkNames = []string{"bare-hydra", "int-next", "phones-next-path", "short-pages", "no-view",
	"take-cap=N", "data-wrapper", "pagedata-wrapper", "drift-once", "drift-always"}

// ParseQuirks reads a comma-separated list of quirk names.
func ParseQuirks(list string) (Quirks, error) {
	var q Quirks
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case name == "bare-hydra":
			q.BareHydra = true
		case name == "int-next":
			q.IntNext = true
		case name == "phones-next-path":
			q.PhonesNextPath = true
		case name == "short-pages":
			q.ShortPages = true
		case name == "no-view":
			q.NoView = true
		case strings.HasPrefix(name, "take-cap="):
			n, err := strconv.Atoi(strings.TrimPrefix(name, "take-cap="))
			if err != nil || n < 1 {
				return Quirks{}, fmt.Errorf("quirk %q: take-cap needs a count of at least 1", name)
			}
			q.TakeCap = n
		case name == "data-wrapper":
			q.DataWrapper = true
		case name == "pagedata-wrapper":
			q.PageDataWrapper = true
		case name == "drift-once":
			q.DriftOnce = true
		case name == "drift-always":
			q.DriftAlways = true
		default:
			return Quirks{}, fmt.Errorf("unknown quirk %q (known: %s)", name, strings.Join(QuirkNames, ", "))
		}
	}
	if q.DataWrapper && q.PageDataWrapper {
		return Quirks{}, fmt.Errorf("quirks data-wrapper and pagedata-wrapper exclude each other")
	}
	return q, nil
}

// shortPageSizes is the cycle of page sizes under ShortPages.
var shortPageSizes = [...]int{loxPageSize, 25, 15}

// loxPageSizeOf is the size of LOX24 page n (from 1).
func (s *Server) loxPageSizeOf(n int) int {
	if s.opts.Quirks.ShortPages {
		return shortPageSizes[(n-1)%len(shortPageSizes)]
	}
	return loxPageSize
}

// loxPageRange returns the items [lo:hi] of page (from 1) of a collection
// of total items, and the number of the last page (at least 1).
func (s *Server) loxPageRange(page, total int) (lo, hi, last int) {
	lo, hi = total, total
	at := 0
	for n := 1; ; n++ {
		size := s.loxPageSizeOf(n)
		if n == page {
			lo, hi = at, min(at+size, total)
		}
		at += size
		if at >= total {
			last = n
			break
		}
	}
	if page > last {
		lo, hi = total, total
	}
	return lo, hi, last
}

// drift remembers, per collection, whether its current listing drifts.
type drift struct {
	mu       sync.Mutex
	used     map[string]bool // drift-once: the collection's first listing was served
	drifting map[string]bool
}

// start is called for the first page of a listing of coll.
func (s *Server) driftStart(coll string) {
	q := s.opts.Quirks
	if !q.DriftOnce && !q.DriftAlways {
		return
	}
	d := &s.drift
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.used == nil {
		d.used, d.drifting = map[string]bool{}, map[string]bool{}
	}
	d.drifting[coll] = q.DriftAlways || !d.used[coll]
	d.used[coll] = true
}

// driftIndex returns, for the last page [lo:hi) of a listing of coll, the
// index of the item served in place of the page's last one (the item
// before the page, or the collection's first), so that one item is listed
// twice and another not at all; -1 when the listing does not drift.
func (s *Server) driftIndex(coll string, lo, hi, total int) int {
	if hi != total || hi-lo < 1 || total < 2 || (lo == 0 && hi-lo < 2) {
		return -1
	}
	d := &s.drift
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.drifting[coll] {
		return -1
	}
	if lo > 0 {
		return lo - 1
	}
	return 0
}

// loxView builds a collection's view: IRIs of path (or, for PhonesNextPath,
// of /phones?group=), or page numbers under IntNext; nil when NoView and the
// collection is one page.
func (s *Server) loxView(r *http.Request, path string, group int64, page, last int) map[string]any {
	q := s.opts.Quirks
	if q.NoView && last == 1 {
		return nil
	}
	link := func(n int) any {
		switch {
		case q.IntNext:
			return n
		case q.PhonesNextPath && group > 0:
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			return fmt.Sprintf("%s://%s/phones?group=%d&page=%d", scheme, r.Host, group, n)
		}
		return path + "?page=" + strconv.Itoa(n)
	}
	v := map[string]any{"@id": path + "?page=" + strconv.Itoa(page), "@type": "hydra:PartialCollectionView",
		s.hydraKey("first"): link(1), s.hydraKey("last"): link(last)}
	if page > 1 {
		v[s.hydraKey("previous")] = link(page - 1)
	}
	if page < last {
		v[s.hydraKey("next")] = link(page + 1)
	}
	return v
}

// hydraKey is a Hydra key as the quirks spell it.
func (s *Server) hydraKey(k string) string {
	if s.opts.Quirks.BareHydra {
		return k
	}
	return "hydra:" + k
}

// hidList answers a HelloID list page: a bare array, or wrapped as the
// quirks say.
func (s *Server) hidList(w http.ResponseWriter, items any) {
	switch q := s.opts.Quirks; {
	case q.DataWrapper:
		hidRespond(w, http.StatusOK, map[string]any{"data": items})
	case q.PageDataWrapper:
		hidRespond(w, http.StatusOK, map[string]any{"pageData": items})
	default:
		hidRespond(w, http.StatusOK, items)
	}
}

// loxListPhonesByGroup serves GET /phones?group={id}&page=N, where member
// listings link under PhonesNextPath; without that quirk it does not exist.
func (s *Server) loxListPhonesByGroup(w http.ResponseWriter, r *http.Request, _ []string) {
	if !s.opts.Quirks.PhonesNextPath {
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	s.loxListPhones(w, r, []string{r.URL.Query().Get("group")})
}

package sink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"groupsync/internal/plan"
)

// DefaultMaxReadItems bounds the items of one listing (and the total a
// listing may claim) unless Config.MaxReadItems says otherwise.
const DefaultMaxReadItems = 10_000_000

// ErrInconsistent is what an InconsistentError matches with errors.Is.
var ErrInconsistent = errors.New("listing changed while it was read")

// InconsistentError says that a listing moved while it was read: a key came
// twice, or the items read differ from the count the API gave.
type InconsistentError struct {
	System plan.System
	What   string // "groups", "members of group 17"
	Detail string // "group 17 listed twice"
	Twice  bool   // the listing was read again from the start, and moved again
}

func (e *InconsistentError) Error() string {
	how := "changed while it was read"
	if e.Twice {
		how = "changed while it was read twice"
	}
	return fmt.Sprintf("%s: listing of %s %s (%s)", e.System, e.What, how, e.Detail)
}

// Is makes errors.Is(err, ErrInconsistent) true.
func (e *InconsistentError) Is(target error) bool { return target == ErrInconsistent }

// ReadConsistent runs read, a whole listing from its start. When the
// listing was inconsistent it is read once more from the start; when that
// read is inconsistent too, the error says it was read twice. Any other
// error is returned as it is.
func ReadConsistent[T any](ctx context.Context, read func(context.Context) (T, error)) (T, error) {
	out, err := read(ctx)
	var ie *InconsistentError
	if !errors.As(err, &ie) {
		return out, err
	}
	out, err = read(ctx)
	if errors.As(err, &ie) {
		again := *ie
		again.Twice = true
		return out, &again
	}
	return out, err
}

// MaxReadItems is the most items one listing may hold.
func (c *Client) MaxReadItems() int { return c.maxReadItems }

// Resolve turns a link found in an answer to the request at path and
// query (relative to the base URL) into the path and query of the request
// it points to. The link may be relative or absolute; it must stay on the
// base URL's scheme, host and port and under its path, since the request
// carries the credentials.
func (c *Client) Resolve(path string, query url.Values, link string) (string, url.Values, error) {
	if rel, q, ok := c.resolvePageLink(link); ok {
		return rel, q, nil
	}
	return c.resolve(path, query, link)
}

// resolvePageLink resolves the link a paged listing gives on every page,
// an absolute path under the base path whose only query is page=N
// ("/groups/1/phones?page=7"), without parsing and resolving URLs: it is
// read once for every page. ok is false for any other link, which resolve
// handles; for the links it takes, it gives what resolve gives.
func (c *Client) resolvePageLink(link string) (rel string, query url.Values, ok bool) {
	p, n, found := strings.Cut(link, "?page=")
	if !found || n == "" || len(n) > 18 || !plainPath(p) {
		return "", nil, false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return "", nil, false
		}
	}
	rel, found = strings.CutPrefix(p, strings.TrimSuffix(c.base.Path, "/"))
	if !found || !strings.HasPrefix(rel, "/") {
		return "", nil, false
	}
	return rel, url.Values{"page": {n}}, true
}

// plainPath reports whether p is an absolute path of letters, digits, '-'
// and '_' between single slashes: nothing to unescape, no dot segment, and
// no "//" (which would start a host).
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '/':
			if i+1 < len(p) && p[i+1] == '/' {
				return false
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// resolve is Resolve for any link.
func (c *Client) resolve(path string, query url.Values, link string) (string, url.Values, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return "", nil, fmt.Errorf("not a link: %w", err)
	}
	from := c.base.JoinPath(path)
	from.RawQuery = query.Encode()
	to := from.ResolveReference(ref)
	if !strings.EqualFold(to.Scheme, c.base.Scheme) || !strings.EqualFold(to.Hostname(), c.base.Hostname()) ||
		portOf(to) != portOf(c.base) || to.User != nil {
		return "", nil, errors.New("the link leaves the API's origin")
	}
	prefix := strings.TrimSuffix(c.base.Path, "/")
	rel, ok := strings.CutPrefix(to.Path, prefix)
	if !ok || !strings.HasPrefix(rel, "/") {
		return "", nil, errors.New("the link leaves the API's base path")
	}
	q, err := url.ParseQuery(to.RawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("the link's query: %w", err)
	}
	return rel, q, nil
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// ListingShape is what the last read of a listing held: how many items, in
// pages of how many; a re-read of some of its items uses it to choose
// between the listing and one GET per item. It is safe for concurrent use.
type ListingShape struct {
	mu    sync.Mutex
	known bool
	items int
	size  int
}

// Get returns the items and page size last set; known is false until then.
func (s *ListingShape) Get() (items, size int, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items, s.size, s.known
}

// Set records a listing read whole: items in pages of size.
func (s *ListingShape) Set(items, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items, s.size, s.known = items, size, true
}

// ListingCheaper reports whether reading a listing that held total items
// in pages of size, plus extra requests (a listing that ends with an empty
// page), takes fewer requests than n GETs. The listing may have grown by
// the n items (each could be one this run created), so they are counted in.
func ListingCheaper(n, total, size, extra int) bool {
	if size <= 0 {
		return false // an empty listing gives no page size
	}
	pages := (total+n+size-1)/size + extra
	return pages < n
}

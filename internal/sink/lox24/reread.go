package lox24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

var _ plan.GroupReader = (*Client)(nil)

// ReadGroups reads the groups refs name, and the members of those whose ref
// asks for them, c.readWorkers at a time; a group that is gone is left out.
// The groups' own records come from whichever takes fewer requests: one GET
// /groups/{id} each, or the group listing (read whole and checked as the
// plan's read is, keeping only the groups named). Members are read per
// group either way. A ref by name (a create whose outcome is uncertain) is
// looked for in the listing, read whole, and stands for every group of that
// name.
func (c *Client) ReadGroups(ctx context.Context, refs []plan.GroupRef) (plan.Current, error) {
	named := false // some refs ask for groups by name
	for _, ref := range refs {
		if ref.Key == "" && ref.Name != "" {
			named = true
			continue
		}
		key, err := checkID("group", json.RawMessage(strconv.Quote(ref.Key)))
		if err != nil || key != ref.Key {
			return plan.Current{}, fmt.Errorf("lox24: re-read group %q: not a group id", ref.Key)
		}
	}
	var listed map[string]*group
	var err error
	if named {
		// Groups asked for by name are found in the listing, read whole.
		if listed, err = c.listedByID(ctx); err != nil {
			return plan.Current{}, err
		}
		refs = plan.RefsByName(refs, listedNames(listed), nil)
	} else if listed, err = c.rereadListed(ctx, len(refs)); err != nil {
		return plan.Current{}, err
	}
	got := make([]*plan.RemoteGroup, len(refs))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(c.readWorkers)
	for i, ref := range refs {
		var g *group
		if listed != nil {
			if g = listed[ref.Key]; g == nil {
				continue // not listed: gone
			}
		}
		eg.Go(sink.Recovered(func() error {
			goroutineStarted("reread")
			r, err := c.rereadGroup(ctx, ref, g)
			got[i] = r
			return err
		}))
	}
	if err := eg.Wait(); err != nil {
		return plan.Current{}, err
	}
	cur := plan.Current{System: plan.LOX24}
	for _, r := range got {
		if r != nil {
			cur.Groups = append(cur.Groups, *r)
		}
	}
	return cur, nil
}

// rereadListed reads the group listing for a re-read of n groups when that
// takes fewer requests than n GETs, and returns its groups by id; nil when
// the groups are to be read one GET each.
func (c *Client) rereadListed(ctx context.Context, n int) (map[string]*group, error) {
	total, size, known := c.shape.Get()
	if !known {
		if n <= probeAbove {
			return nil, nil
		}
		// No read of this run told the listing's size: its first page does,
		// one request that may save many.
		var err error
		if total, size, known, err = c.probeGroups(ctx); err != nil || !known {
			return nil, err
		}
	}
	if !sink.ListingCheaper(n, total, size, 0) {
		return nil, nil
	}
	return c.listedByID(ctx)
}

// listedByID reads the whole group listing and returns its groups by id.
func (c *Client) listedByID(ctx context.Context) (map[string]*group, error) {
	groups, err := c.listGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*group, len(groups))
	for i := range groups {
		key, _ := checkID("group", groups[i].ID) // checked by readAll
		out[key] = &groups[i]
	}
	return out, nil
}

// listedNames gives the name of each listed group by its id.
func listedNames(listed map[string]*group) map[string]string {
	out := make(map[string]string, len(listed))
	for key, g := range listed {
		out[key] = g.Name
	}
	return out
}

// probeAbove is the most groups re-read one GET each without asking the
// listing's size first, when no earlier read told it.
const probeAbove = 4

// probeGroups reads the first page of the group listing for its
// hydra:totalItems and page size; known is false when it gives no total.
func (c *Client) probeGroups(ctx context.Context) (total, size int, known bool, err error) {
	l := groupListing()
	f := fetchPage(ctx, c.api, l, &spares[group]{}, l.pageOp(1), l.path, url.Values{"page": {"1"}})
	if f.err != nil {
		return 0, 0, false, f.err
	}
	if !f.page.HasTotal || f.page.Total > int64(c.api.MaxReadItems()) {
		return 0, 0, false, nil
	}
	return int(f.page.Total), len(f.page.Items), true, nil
}

// rereadGroup reads the group ref names, with GET /groups/{id} when g (its
// listed record) is nil, and its members when ref asks for them; nil when
// the group is gone.
func (c *Client) rereadGroup(ctx context.Context, ref plan.GroupRef, g *group) (*plan.RemoteGroup, error) {
	key := ref.Key // checked by ReadGroups
	if g == nil {
		resp, err := c.api.Do(ctx, sink.Request{Op: "get group " + key, Method: http.MethodGet,
			Path: "/groups/" + url.PathEscape(key)})
		if notFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		g = &group{}
		if err := sink.DecodeJSON("lox24: get group "+key, resp.Body, g); err != nil {
			return nil, err
		}
		if got, err := checkID("group", g.ID); err != nil || got != key {
			return nil, fmt.Errorf("lox24: get group %s: the answer is not that group", key)
		}
	}
	r := g.remote(key)
	if ref.Members {
		list, err := readAll(ctx, c.api, phoneListing(key))
		if notFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if list == nil {
			list = []plan.RemotePhone{} // read: none
		}
		r.Phones = list
	}
	return &r, nil
}

// listGroups reads the whole group listing (readAll) and remembers how
// many groups it held and its page size, for a later re-read to choose
// between it and one GET per group.
func (c *Client) listGroups(ctx context.Context) ([]group, error) {
	var mu sync.Mutex
	size := 0
	l := groupListing()
	decode := l.decode
	l.decode = func(body []byte, items []group) (page[group], error) {
		pg, err := decode(body, items)
		mu.Lock()
		size = max(size, len(pg.Items)) // the server's page size: its fullest page
		mu.Unlock()
		return pg, err
	}
	groups, err := readAll(ctx, c.api, l)
	if err == nil {
		mu.Lock()
		c.shape.Set(len(groups), size)
		mu.Unlock()
	}
	return groups, err
}

// notFound reports whether err is a 404 answer.
func notFound(err error) bool {
	var se *sink.StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusNotFound
}

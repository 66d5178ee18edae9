package helloid

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

var _ plan.GroupReader = (*Client)(nil)

// ReadGroups reads the groups refs name, in the order of refs; no other
// group's record is kept. A group that is gone (a 404) is left out. A group
// whose members are asked for is read with GET /groups/{guid}, the only
// answer that holds its users; the others come from whichever takes fewer
// requests: one GET each, or the group listing (read whole and checked as
// the plan's read is), when an earlier read of this client told how large
// the listing is. A ref by name (a create whose outcome is uncertain) is
// looked for in the listing, read whole, and stands for every group of that
// name. The GETs go c.readWorkers at a time; the first that fails stops the
// others and its error is returned.
func (c *Client) ReadGroups(ctx context.Context, refs []plan.GroupRef) (plan.Current, error) {
	named := false // some refs ask for groups by name
	for _, ref := range refs {
		if ref.Key == "" && ref.Name != "" {
			named = true
			continue
		}
		if !isGUID(ref.Key) {
			return plan.Current{}, fmt.Errorf("helloid: re-read group %q: not a groupGuid", ref.Key)
		}
	}
	var listed map[string]*group
	readListing := func() error {
		groups, err := c.listGroups(ctx)
		if err != nil {
			return err
		}
		listed = make(map[string]*group, len(groups))
		for i := range groups {
			listed[strings.ToLower(groups[i].GroupGUID)] = &groups[i] // checked by readAll
		}
		return nil
	}
	if named {
		// Groups asked for by name are found in the listing, read whole.
		if err := readListing(); err != nil {
			return plan.Current{}, err
		}
		refs = plan.RefsByName(refs, listedNames(listed), strings.ToLower)
	}
	bare := 0 // refs that do not ask for members
	for _, ref := range refs {
		if !ref.Members {
			bare++
		}
	}
	if total, size, known := c.shape.Get(); listed == nil && known && sink.ListingCheaper(bare, total, size, 1) {
		if err := readListing(); err != nil {
			return plan.Current{}, err
		}
	}
	got := make([]*plan.RemoteGroup, len(refs)) // in the order of refs
	var get []int                               // indexes into refs read one GET each
	for i, ref := range refs {
		if listed != nil && !ref.Members {
			if g := listed[strings.ToLower(ref.Key)]; g != nil {
				r := g.remote()
				got[i] = &r
			}
			continue
		}
		get = append(get, i)
	}
	err := c.eachGroup(ctx, "reread", len(get), func(ctx context.Context, j int) error {
		r, err := c.getGroup(ctx, refs[get[j]])
		got[get[j]] = r // each goroutine writes its own slot only
		return err
	})
	if err != nil {
		return plan.Current{}, err
	}
	cur := plan.Current{System: plan.HelloID}
	for _, r := range got {
		if r != nil {
			cur.Groups = append(cur.Groups, *r)
		}
	}
	return cur, nil
}

// listedNames gives the name of each listed group by its groupGuid.
func listedNames(listed map[string]*group) map[string]string {
	out := make(map[string]string, len(listed))
	for _, g := range listed {
		out[g.GroupGUID] = g.Name
	}
	return out
}

// getGroup reads the group ref names with GET /groups/{guid}, with its
// members when ref asks for them; nil when the group is gone.
func (c *Client) getGroup(ctx context.Context, ref plan.GroupRef) (*plan.RemoteGroup, error) {
	op := "get group " + ref.Key
	resp, err := c.api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: "/groups/" + url.PathEscape(ref.Key)})
	var se *sink.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var g group
	if err := sink.DecodeJSON("helloid: "+op, resp.Body, &g); err != nil {
		return nil, err
	}
	if !strings.EqualFold(g.GroupGUID, ref.Key) {
		return nil, fmt.Errorf("helloid: %s: the answer is not that group", op)
	}
	r := g.remote()
	if ref.Members {
		members, err := groupMembers(op, resp.Body)
		if err != nil {
			return nil, err
		}
		r.Users = members
	}
	return &r, nil
}

// listGroups reads the whole group listing (readAll) and remembers how
// many groups it held and its page size (its fullest page: a server may
// answer fewer than the take asked for), for a later re-read to choose
// between it and one GET per group.
func (c *Client) listGroups(ctx context.Context) ([]group, error) {
	size := 0
	l := groupListing()
	l.onPage = func(n int) { size = max(size, n) } // pages are read one after another
	groups, err := readAll(ctx, c, l)
	if err == nil {
		c.shape.Set(len(groups), size)
	}
	return groups, err
}

// deleteGroup deletes a group with DELETE /groups/{guid}.
func (c *Client) deleteGroup(ctx context.Context, ch *plan.Change) plan.Outcome {
	resp, err := c.api.Do(ctx, sink.Request{Op: "delete group " + ch.Key, Method: http.MethodDelete,
		Path: "/groups/" + url.PathEscape(ch.Key)})
	o := sink.OutcomeOf(resp, err)
	// A 404 on a retry: an earlier attempt, whose answer was lost, deleted
	// the group.
	if o.Status == plan.Failed && o.HTTPStatus == http.StatusNotFound && o.Attempts > 1 {
		o.Status, o.Err = plan.Succeeded, nil
	}
	return o
}

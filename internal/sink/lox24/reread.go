package lox24

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

var _ plan.GroupReader = (*Client)(nil)

// ReadGroups reads the groups refs name with GET /groups/{id}, and the
// members of those whose ref asks for them, c.readWorkers at a time; no
// other group is read. A group that answers 404 is left out.
func (c *Client) ReadGroups(ctx context.Context, refs []plan.GroupRef) (plan.Current, error) {
	got := make([]*plan.RemoteGroup, len(refs))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(c.readWorkers)
	for i, ref := range refs {
		eg.Go(func() error {
			resp, err := c.api.Do(ctx, sink.Request{Op: "get group " + ref.Key, Method: http.MethodGet,
				Path: "/groups/" + url.PathEscape(ref.Key)})
			if notFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			var g group
			if err := sink.DecodeJSON("lox24: get group "+ref.Key, resp.Body, &g); err != nil {
				return err
			}
			r := g.remote()
			if ref.Members {
				list, err := readAll[phone](ctx, c.api, "members of group "+ref.Key, "/groups/"+url.PathEscape(ref.Key)+"/phones")
				if notFound(err) {
					return nil
				}
				if err != nil {
					return err
				}
				r.Phones = make([]plan.RemotePhone, len(list))
				for j := range list {
					r.Phones[j] = list[j].remote()
				}
			}
			got[i] = &r
			return nil
		})
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

// notFound reports whether err is a 404 answer.
func notFound(err error) bool {
	var se *sink.StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusNotFound
}

package lox24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

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
		key, err := checkID("group", json.RawMessage(strconv.Quote(ref.Key)))
		if err != nil || key != ref.Key {
			return plan.Current{}, fmt.Errorf("lox24: re-read group %q: not a group id", ref.Key)
		}
		eg.Go(sink.Recovered(func() error {
			goroutineStarted("reread")
			resp, err := c.api.Do(ctx, sink.Request{Op: "get group " + ref.Key, Method: http.MethodGet,
				Path: "/groups/" + url.PathEscape(ref.Key)})
			if notFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			var g group
			if err := sink.DecodeJSON("lox24: get group "+key, resp.Body, &g); err != nil {
				return err
			}
			if got, err := checkID("group", g.ID); err != nil || got != key {
				return fmt.Errorf("lox24: get group %s: the answer is not that group", key)
			}
			r := g.remote(key)
			if ref.Members {
				list, err := readAll(ctx, c.api, phoneListing(key))
				if notFound(err) {
					return nil
				}
				if err != nil {
					return err
				}
				if list == nil {
					list = []plan.RemotePhone{} // read: none
				}
				r.Phones = list
			}
			got[i] = &r
			return nil
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

// notFound reports whether err is a 404 answer.
func notFound(err error) bool {
	var se *sink.StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusNotFound
}

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

// ReadGroups reads the groups refs name, one GET /groups/{guid} each; no
// other group is read. A group that answers 404 is left out.
func (c *Client) ReadGroups(ctx context.Context, refs []plan.GroupRef) (plan.Current, error) {
	cur := plan.Current{System: plan.HelloID}
	for _, ref := range refs {
		if !isGUID(ref.Key) {
			return plan.Current{}, fmt.Errorf("helloid: re-read group %q: not a groupGuid", ref.Key)
		}
		op := "get group " + ref.Key
		resp, err := c.api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: "/groups/" + url.PathEscape(ref.Key)})
		var se *sink.StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
			continue
		}
		if err != nil {
			return plan.Current{}, err
		}
		var g group
		if err := sink.DecodeJSON("helloid: "+op, resp.Body, &g); err != nil {
			return plan.Current{}, err
		}
		if !strings.EqualFold(g.GroupGUID, ref.Key) {
			return plan.Current{}, fmt.Errorf("helloid: %s: the answer is not that group", op)
		}
		r := g.remote()
		if ref.Members {
			members, err := groupMembers(op, resp.Body)
			if err != nil {
				return plan.Current{}, err
			}
			r.Users = members
		}
		cur.Groups = append(cur.Groups, r)
	}
	return cur, nil
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

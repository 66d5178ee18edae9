package lox24

import (
	"context"
	"net/http"
	"net/url"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// deleteGroup deletes a group and its members with DELETE /groups/{id}.
// The plan's snapshot of the members is in the report.
func (c *Client) deleteGroup(ctx context.Context, ch *plan.Change) plan.Outcome {
	resp, err := c.api.Do(ctx, sink.Request{Op: "delete group " + ch.Key, Method: http.MethodDelete,
		Path: "/groups/" + url.PathEscape(ch.Key)})
	return deleted(sink.OutcomeOf(resp, err))
}

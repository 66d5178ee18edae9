package helloid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// user is a HelloID user as GET /users reads it. Connectors read both
// userGuid and userGUID; encoding/json matches keys ignoring case.
type user struct {
	UserGUID string `json:"userGuid"`
	UserName string `json:"userName"`
}

// userListing is GET /users.
func userListing() listing[user] {
	return listing[user]{what: "users", noun: "user", path: "/users", key: func(u *user) (string, error) {
		if !isGUID(u.UserGUID) {
			return "", fmt.Errorf("a user has the userGuid %q, not a GUID", u.UserGUID)
		}
		return strings.ToLower(u.UserGUID), nil
	}}
}

// readUsers reads the whole user directory: one listing of /users (see
// readAll), never a request per user.
func (c *Client) readUsers(ctx context.Context) ([]plan.RemoteUser, error) {
	users, err := readAll(ctx, c, userListing())
	if err != nil {
		return nil, err
	}
	out := make([]plan.RemoteUser, len(users))
	for i, u := range users {
		out[i] = plan.RemoteUser{GUID: u.UserGUID, UserName: u.UserName}
	}
	return out, nil
}

// readMembers fills in the members of each remote group that a desired
// group manages users of, one GET /groups/{guid} per such group,
// c.readWorkers at a time; groups that do not manage users are not read.
func (c *Client) readMembers(ctx context.Context, cur *plan.Current, want []plan.Group) error {
	byKey := make(map[string]int, len(cur.Groups))
	byName := make(map[string]int, len(cur.Groups))
	for i := range cur.Groups {
		byKey[strings.ToLower(cur.Groups[i].Key)] = i
		byName[plan.NameKey(cur.Groups[i].Name)] = i
	}
	var read []int // indexes into cur.Groups, each once
	queued := make(map[int]bool)
	for _, g := range want {
		if g.Users == nil {
			continue
		}
		i, ok := byKey[strings.ToLower(g.Key)]
		if g.Key == "" {
			i, ok = byName[plan.NameKey(g.Name)]
		}
		if !ok || cur.Groups[i].Users != nil || queued[i] {
			continue // created in this run, or read already
		}
		queued[i] = true
		read = append(read, i)
	}
	return c.eachGroup(ctx, "members", len(read), func(ctx context.Context, j int) error {
		r := &cur.Groups[read[j]] // each goroutine writes its own group only
		members, err := c.members(ctx, r.Key)
		if err != nil {
			return err
		}
		r.Users = members
		return nil
	})
}

// members returns the user GUIDs of one group (GET /groups/{guid}, `users`).
func (c *Client) members(ctx context.Context, guid string) ([]string, error) {
	op := "get group " + guid
	resp, err := c.api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: "/groups/" + url.PathEscape(guid)})
	if err != nil {
		return nil, err
	}
	return groupMembers(op, resp.Body)
}

// groupMembers reads the users of a single-group answer: user GUIDs, each
// checked before it can drive an unlink.
func groupMembers(op string, body []byte) ([]string, error) {
	var g struct {
		Users *[]string `json:"users"`
	}
	if err := json.Unmarshal(body, &g); err != nil || g.Users == nil {
		return nil, fmt.Errorf("helloid: %s: the response has no users list", op)
	}
	out := make([]string, 0, len(*g.Users))
	for _, u := range *g.Users {
		if !isGUID(u) {
			return nil, fmt.Errorf("helloid: %s: member %q is not a user GUID", op, u)
		}
		out = append(out, u)
	}
	return out, nil
}

// doUser links (create) or unlinks (delete) one member. Linking a user who
// is a member already, or unlinking one who is not, is success: the group
// is as the plan wants it. HelloID answers the latter with a 400, so a 400
// is checked against a fresh read of the group's members.
func (c *Client) doUser(ctx context.Context, ch *plan.Change) plan.Outcome {
	if !isGUID(ch.Key) || !isGUID(ch.GroupKey) {
		return plan.Outcome{Status: plan.Failed, Err: fmt.Errorf("helloid: user %s of group %s: not a GUID", ch.Key, ch.GroupKey)}
	}
	group := url.PathEscape(ch.GroupKey)
	var req sink.Request
	switch ch.Action {
	case plan.Create:
		body := map[string]any{"userGuid": ch.Key}
		req = sink.Request{Method: http.MethodPost, Path: "/groups/" + group + "/users", Body: body,
			Op: fmt.Sprintf("link user %s to group %s", ch.User, ch.GroupKey),
			// Linking is idempotent: sending it again cannot duplicate.
			BeforeRetry: func(context.Context) (any, error) { return body, nil }}
	case plan.Delete:
		req = sink.Request{Method: http.MethodDelete, Path: "/groups/" + group + "/users/" + url.PathEscape(ch.Key),
			Op: fmt.Sprintf("unlink user %s from group %s", ch.User, ch.GroupKey)}
	default:
		return plan.Outcome{Status: plan.Failed, Err: fmt.Errorf("helloid: cannot %s a user", ch.Action)}
	}
	resp, err := c.api.Do(ctx, req)
	o := sink.OutcomeOf(resp, err)
	var se *sink.StatusError
	if err != nil && errors.As(err, &se) && se.StatusCode == http.StatusBadRequest {
		members, rerr := c.members(ctx, ch.GroupKey)
		if rerr == nil && isMember(members, ch.Key) == (ch.Action == plan.Create) {
			o.Status, o.Err = plan.Succeeded, nil
		}
	}
	return o
}

func isMember(members []string, guid string) bool {
	for _, m := range members {
		if strings.EqualFold(m, guid) {
			return true
		}
	}
	return false
}

var _ plan.GroupCreator = (*Client)(nil)

// CreateWithMembers creates a group with its users in one request (POST
// /groups with userGuids). Every item shares the create's outcome.
func (c *Client) CreateWithMembers(ctx context.Context, ch *plan.Change, members []*plan.Change) []plan.Outcome {
	guids := make([]string, 0, len(members))
	for _, m := range members {
		guids = append(guids, m.Key)
	}
	o := c.create(ctx, ch, guids)
	outs := make([]plan.Outcome, 0, len(members)+1)
	outs = append(outs, o)
	for range members {
		m := o
		m.NewKey = ""
		outs = append(outs, m)
	}
	return outs
}

// ReadWithMembers returns every group with its members, and the user
// directory: what `export --members` writes. It costs one GET per group
// besides the listings, c.readWorkers at a time; the groups keep the
// listing's order.
func (c *Client) ReadWithMembers(ctx context.Context) (plan.Current, error) {
	cur, err := c.readGroups(ctx)
	if err != nil {
		return plan.Current{}, err
	}
	if cur.Users, err = c.readUsers(ctx); err != nil {
		return plan.Current{}, err
	}
	err = c.eachGroup(ctx, "export", len(cur.Groups), func(ctx context.Context, i int) error {
		members, err := c.members(ctx, cur.Groups[i].Key)
		cur.Groups[i].Users = members // each goroutine writes its own group only
		return err
	})
	if err != nil {
		return plan.Current{}, err
	}
	return cur, nil
}

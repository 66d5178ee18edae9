// Package helloid is the client of the HelloID API for groupsync: it reads
// every group (and, for groups whose users the files manage, the user
// directory and their members), creates or updates groups, and links and
// unlinks users.
//
// Collections are listed by one generic reader, readAll (read.go): explicit
// skip/take until an empty page, bare or data/pageData-wrapped lists, every
// key checked, and a listing that moved read once more, then failed.
// Groups read one GET /groups/{guid} each (members for the plan, export
// --members and verify's re-read) are read side by side, as many at once
// as the client may have requests in flight (--helloid-workers), and kept
// in the order a sequential read would give.
// Updates send only the changed fields (HelloID's PUT is a partial update)
// and address the group by its GUID, never by name.
package helloid

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// DefaultPageSize is the take of each list request (what Tools4ever's own
// connectors use).
const DefaultPageSize = 1000

// Client talks to one HelloID tenant.
type Client struct {
	api         *sink.Client
	pageSize    int
	readWorkers int               // groups read at once with GET /groups/{guid}
	shape       sink.ListingShape // of the last group listing read
}

var _ plan.Sink = (*Client)(nil)

// New returns a client for the tenant at cfg.BaseURL (e.g.
// https://acme.helloid.com; "/api/v1" is added unless it is there already),
// authenticating with the API key and secret.
func New(cfg sink.Config, key, secret string) (*Client, error) {
	if key == "" || secret == "" {
		return nil, fmt.Errorf("helloid: no credentials (set HELLOID_API_KEY and HELLOID_API_SECRET, or their _FILE variants)")
	}
	base, err := sink.CheckBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("helloid: %w", err)
	}
	if !strings.HasSuffix(strings.ToLower(base.Path), "/api/v1") {
		base = base.JoinPath("api", "v1")
	}
	cfg.BaseURL = base.String()
	api, err := sink.NewClient(plan.HelloID, cfg, sink.Options{
		Auth: func(r *http.Request) {
			r.SetBasicAuth(key, secret)
			r.Header.Set("Accept", "application/json")
		},
		Message: errorMessage,
		Secrets: []string{key, secret, key + ":" + secret, base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))},
	})
	if err != nil {
		return nil, err
	}
	// Per-group reads go side by side up to the client's own limit on
	// requests in flight (--helloid-workers): more could only queue.
	return &Client{api: api, pageSize: DefaultPageSize, readWorkers: api.MaxInFlight()}, nil
}

// System returns plan.HelloID.
func (c *Client) System() plan.System { return plan.HelloID }

// group is a group as the API reads it (camelCase; encoding/json matches
// keys case-insensitively, so a "ManagedByUserGuid" answer reads too).
type group struct {
	GroupGUID         string  `json:"groupGuid"`
	Name              string  `json:"name"`
	IsEnabled         bool    `json:"isEnabled"`
	IsDefault         bool    `json:"isDefault"`
	IsQrEnabled       bool    `json:"isQrEnabled"`
	ManagedByUserGUID *string `json:"managedByUserGuid"`
	Source            string  `json:"source"`
}

func (g *group) remote() plan.RemoteGroup {
	manager := plan.Null
	if g.ManagedByUserGUID != nil && *g.ManagedByUserGUID != "" {
		manager = plan.Str(*g.ManagedByUserGUID)
	}
	return plan.RemoteGroup{Key: g.GroupGUID, Name: g.Name, Origin: g.Source, Fields: map[string]plan.Value{
		"isEnabled":         plan.Bool(g.IsEnabled),
		"isDefault":         plan.Bool(g.IsDefault),
		"isQrEnabled":       plan.Bool(g.IsQrEnabled),
		"managedByUserGuid": manager,
	}}
}

var _ plan.MemberReader = (*Client)(nil)

// ReadMembers reads, with GET /groups/{guid}, the member users of the
// groups of cur whose GUIDs are in keys (the groups a plan prunes),
// c.readWorkers at a time, and fills their Users.
func (c *Client) ReadMembers(ctx context.Context, cur *plan.Current, keys []string) error {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[strings.ToLower(k)] = true
	}
	var read []int // indexes into cur.Groups
	for i := range cur.Groups {
		if want[strings.ToLower(cur.Groups[i].Key)] {
			read = append(read, i)
		}
	}
	return c.eachGroup(ctx, "prune", len(read), func(ctx context.Context, j int) error {
		r := &cur.Groups[read[j]] // each goroutine writes its own group only
		op := "get group " + r.Key
		resp, err := c.api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: "/groups/" + url.PathEscape(r.Key)})
		if err != nil {
			return err
		}
		var g struct {
			Users *[]string `json:"users"`
		}
		if err := json.Unmarshal(resp.Body, &g); err != nil {
			return fmt.Errorf("helloid: %s: unexpected response body: %w", op, err)
		}
		if g.Users == nil {
			return fmt.Errorf("helloid: %s: the answer has no users", op)
		}
		for _, u := range *g.Users {
			if !isGUID(u) {
				return fmt.Errorf("helloid: %s: a member has the userGuid %q, not a GUID", op, u)
			}
		}
		r.Users = append([]string{}, *g.Users...)
		return nil
	})
}

// Do applies one group or user item.
func (c *Client) Do(ctx context.Context, ch *plan.Change) plan.Outcome {
	if ch.Kind == plan.KindUser {
		return c.doUser(ctx, ch)
	}
	if ch.Kind != plan.KindGroup {
		return plan.Outcome{Status: plan.Failed, Err: fmt.Errorf("helloid: cannot %s a %s", ch.Action, ch.Kind)}
	}
	if ch.Action != plan.Create && !isGUID(ch.Key) {
		// The key goes into a path, for every action but a create: it
		// must be a GUID before anything is sent.
		return plan.Outcome{Status: plan.Failed, Err: fmt.Errorf("helloid: cannot %s group %q: its key is not a GUID", ch.Action, ch.Key)}
	}
	switch ch.Action {
	case plan.Delete:
		return c.deleteGroup(ctx, ch)
	case plan.Create:
		return c.create(ctx, ch, nil)
	case plan.Update:
		body := map[string]any{}
		for _, f := range ch.Fields {
			body[f.Field] = encode(f.Field, f.After)
		}
		resp, err := c.api.Do(ctx, sink.Request{Method: http.MethodPut, Path: "/groups/" + url.PathEscape(ch.Key),
			Body: body, Op: "put group " + ch.Key})
		return sink.OutcomeOf(resp, err)
	}
	return plan.Outcome{Status: plan.Failed, Err: fmt.Errorf("helloid: cannot %s a %s", ch.Action, ch.Kind)}
}

// create sends POST /groups with the create's fields and, when given, the
// GUIDs of its first members (userGuids), in one request.
func (c *Client) create(ctx context.Context, ch *plan.Change, userGUIDs []string) plan.Outcome {
	body := map[string]any{}
	for _, f := range ch.Fields {
		body[f.Field] = encode(f.Field, f.After)
	}
	if len(userGUIDs) > 0 {
		body["userGuids"] = userGUIDs
	}
	// The plan creates a group only when no group had its name (names are
	// unique, case-insensitively). If the answer to the POST is lost, a
	// group with that name now is the one we made, members included.
	var found string
	reread := func(ctx context.Context) (any, error) {
		// Look only for this group's name; other creates of the run may be
		// moving the listing meanwhile.
		groups, err := lookFor(ctx, c, groupListing())
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			if plan.NameKey(g.Name) == plan.NameKey(ch.Name) {
				found = g.GroupGUID
				return nil, nil
			}
		}
		return body, nil
	}
	resp, err := c.api.Do(ctx, sink.Request{Method: http.MethodPost, Path: "/groups", Body: body,
		Op: fmt.Sprintf("create group %q", ch.Name), BeforeRetry: reread})
	o := sink.OutcomeOf(resp, err)
	if err == nil && found != "" {
		o.NewKey = found
		return o
	}
	if err == nil {
		var g group
		if err := json.Unmarshal(resp.Body, &g); err != nil || !isGUID(g.GroupGUID) {
			// Answered 2xx: the group was made, under a groupGuid not
			// known here; verify looks for it by name.
			o.Status, o.Err, o.Uncertain = plan.Failed, fmt.Errorf("helloid: create group %q: the response has no groupGuid", ch.Name), true
			return o
		}
		o.NewKey = g.GroupGUID
	}
	return o
}

// encode turns a plan value into the JSON the API expects for field.
func encode(field string, v plan.Value) any {
	if !v.Valid {
		return nil
	}
	if spec, ok := plan.FieldSpecFor(plan.HelloID, field); ok && spec.Kind == plan.FieldBool {
		return v.S == "true"
	}
	return v.S
}

// errorMessage extracts HelloID's error text: "message" or "resultMsg".
func errorMessage(body []byte) string {
	var e struct {
		Message   string `json:"message"`
		ResultMsg string `json:"resultMsg"`
	}
	if json.Unmarshal(body, &e) != nil {
		return strings.TrimSpace(string(body))
	}
	if e.Message != "" {
		return e.Message
	}
	return e.ResultMsg
}

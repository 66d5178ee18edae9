package lox24

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// DoBatch creates phone entries of one group with one POST
// /groups/{id}/phones/batch. The API answers per item; each item's status
// goes into its own Outcome. If the answer is lost, the group's members are
// read again and only the entries that are still missing are sent again.
func (c *Client) DoBatch(ctx context.Context, cs []*plan.Change) []plan.Outcome {
	outs := make([]plan.Outcome, len(cs))
	done := make([]bool, len(cs))
	pending := make([]int, len(cs)) // indexes into cs of the body being sent
	body := make([]phone, len(cs))
	for i, ch := range cs {
		pending[i] = i
		body[i] = phoneBody(ch.Record())
	}
	group := cs[0].GroupKey
	op := fmt.Sprintf("add %d phones to group %s", len(cs), group)
	if !isKey(group) {
		return failAll(outs, fmt.Errorf("lox24: %s: the group id %q is not a positive integer", op, group))
	}
	// have maps the numbers of a fresh listing to their ids, a number in
	// national form read in the group's country as the diff reads it.
	country := cs[0].Country
	have := func(list []plan.RemotePhone) map[string]string {
		m := make(map[string]string, len(list))
		for _, p := range list {
			if n, ok := plan.NormalizePhoneIn(p.Number, country); ok {
				m[n] = p.ID // checked by decodePhones
			}
		}
		return m
	}
	reread := func(ctx context.Context) (any, error) {
		// Look only for this batch's numbers; other writes of the run may
		// be moving the listing meanwhile.
		list, err := lookFor(ctx, c.api, phoneListing(group), func(list []plan.RemotePhone) bool {
			m := have(list)
			for _, i := range pending {
				if _, ok := m[cs[i].Phone]; !ok {
					return false
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		have := have(list)
		var left []int
		var next []phone
		for _, i := range pending {
			if id, ok := have[cs[i].Phone]; ok {
				done[i] = true
				outs[i].NewKey = id
				continue
			}
			left = append(left, i)
			next = append(next, body[i])
		}
		pending = left
		if len(next) == 0 {
			return nil, nil
		}
		return next, nil
	}
	resp, err := c.api.Do(ctx, sink.Request{Op: op, Method: http.MethodPost,
		Path: "/groups/" + url.PathEscape(group) + "/phones/batch", Body: body, BeforeRetry: reread})
	base := sink.OutcomeOf(resp, err)
	for i := range outs {
		key := outs[i].NewKey
		outs[i] = base
		outs[i].NewKey = key
		if done[i] {
			outs[i].Status, outs[i].Err = plan.Succeeded, nil
		}
	}
	if err != nil || len(pending) == 0 {
		return outs
	}
	var res struct {
		Member []struct {
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body"`
		} `json:"hydra:member"`
	}
	if err := sink.DecodeJSON("lox24: "+op, resp.Body, &res); err != nil || len(res.Member) != len(pending) {
		if err == nil {
			err = fmt.Errorf("lox24: %s: the answer has %d results for %d phones", op, len(res.Member), len(pending))
		}
		for _, i := range pending {
			// The batch was answered 2xx: its phones may well have been
			// added, which verify's re-read decides.
			outs[i].Status, outs[i].Err, outs[i].Uncertain = plan.Failed, err, true
		}
		return outs
	}
	for k, m := range res.Member {
		o := &outs[pending[k]]
		o.HTTPStatus = m.Status
		if m.Status < 200 || m.Status >= 300 {
			o.Status = plan.Failed
			o.Err = fmt.Errorf("lox24: add phone to group %s: HTTP %d: %s", group, m.Status, errorMessage(m.Body))
			continue
		}
		var p phone
		if json.Unmarshal(m.Body, &p) == nil {
			o.NewKey, _ = checkID("phone", p.ID)
		}
	}
	return outs
}

// Do applies one group or phone item.
func (c *Client) Do(ctx context.Context, ch *plan.Change) plan.Outcome {
	if ch.Action != plan.Create && !isKey(ch.Key) {
		// The key goes into a path: it must be a positive integer.
		return plan.Outcome{Status: plan.Failed, Err: fmt.Errorf("lox24: cannot %s %s %q: not a positive integer id", ch.Action, ch.Kind, ch.Key)}
	}
	switch {
	case ch.Kind == plan.KindGroup && ch.Action == plan.Create:
		return c.createGroup(ctx, ch)
	case ch.Kind == plan.KindGroup && ch.Action == plan.Update:
		return c.updateGroup(ctx, ch)
	case ch.Kind == plan.KindGroup && ch.Action == plan.Delete:
		return c.deleteGroup(ctx, ch)
	case ch.Kind == plan.KindPhone && ch.Action == plan.Create:
		return c.DoBatch(ctx, []*plan.Change{ch})[0]
	case ch.Kind == plan.KindPhone && ch.Action == plan.Update:
		// PUT replaces the entry: columns the file does not manage are
		// sent as they were read.
		resp, err := c.api.Do(ctx, sink.Request{Op: "put phone " + ch.Key, Method: http.MethodPut,
			Path: "/phones/" + url.PathEscape(ch.Key), Body: phoneBody(ch.Record())})
		return sink.OutcomeOf(resp, err)
	case ch.Kind == plan.KindPhone && ch.Action == plan.Delete:
		resp, err := c.api.Do(ctx, sink.Request{Op: "delete phone " + ch.Key, Method: http.MethodDelete,
			Path: "/phones/" + url.PathEscape(ch.Key)})
		return sink.OutcomeOf(resp, err)
	}
	return plan.Outcome{Status: plan.Failed, Err: fmt.Errorf("lox24: cannot %s a %s", ch.Action, ch.Kind)}
}

func (c *Client) createGroup(ctx context.Context, ch *plan.Change) plan.Outcome {
	g := group{Name: ch.Name}
	rec := ch.Record()
	if v, ok := rec["name"]; ok && v.Valid {
		g.Name = v.S
	}
	for name, p := range g.fields() {
		*p = ptr(rec[name])
	}
	// The plan creates a group only when none had its name. If the answer
	// to the POST is lost, a group with that name now is the one we made.
	var found string
	named := func(groups []group) []string {
		var ids []string
		seen := map[string]bool{}
		for _, r := range groups {
			if id, err := checkID("group", r.ID); err == nil && r.Name == g.Name && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return ids
	}
	reread := func(ctx context.Context) (any, error) {
		// Look only for this group's name; other creates of the run may
		// be moving the listing meanwhile.
		groups, err := lookFor(ctx, c.api, groupListing(), func(groups []group) bool { return len(named(groups)) > 0 })
		if err != nil {
			return nil, err
		}
		ids := named(groups)
		switch len(ids) {
		case 0:
			return g, nil
		case 1:
			found = ids[0]
			return nil, nil
		}
		return nil, fmt.Errorf("%d groups are now named %q", len(ids), g.Name)
	}
	resp, err := c.api.Do(ctx, sink.Request{Op: fmt.Sprintf("create group %q", g.Name), Method: http.MethodPost,
		Path: "/groups", Body: g, BeforeRetry: reread})
	o := sink.OutcomeOf(resp, err)
	switch {
	case err != nil:
	case found != "":
		o.NewKey = found
	default:
		var out group
		err := sink.DecodeJSON("lox24: create group", resp.Body, &out)
		if err == nil {
			o.NewKey, err = checkID("group", out.ID)
		}
		if err != nil {
			// Answered 2xx: the group was made, under an id not known
			// here; verify looks for it by name.
			o.Status, o.Err, o.Uncertain = plan.Failed, fmt.Errorf("lox24: create group %q: the response has no usable group id: %w", g.Name, err), true
			return o
		}
	}
	return o
}

func (c *Client) updateGroup(ctx context.Context, ch *plan.Change) plan.Outcome {
	// PUT replaces the whole group: send every field, the changed ones with
	// their new value and all others as they were read. Never `phones`:
	// what PUT does with it is undocumented.
	rec := ch.Record()
	g := group{Name: rec["name"].S}
	for name, p := range g.fields() {
		*p = ptr(rec[name])
	}
	resp, err := c.api.Do(ctx, sink.Request{Op: "put group " + ch.Key, Method: http.MethodPut, Path: "/groups/" + url.PathEscape(ch.Key), Body: g})
	return sink.OutcomeOf(resp, err)
}

// deleted is the outcome of a group delete: a 404 on a retry means an
// earlier attempt, whose answer was lost, deleted the group.
func deleted(o plan.Outcome) plan.Outcome {
	if o.Status == plan.Failed && o.HTTPStatus == http.StatusNotFound && o.Attempts > 1 {
		o.Status, o.Err = plan.Succeeded, nil
	}
	return o
}

// failAll marks every outcome failed with err.
func failAll(outs []plan.Outcome, err error) []plan.Outcome {
	for i := range outs {
		outs[i] = plan.Outcome{Status: plan.Failed, Err: err}
	}
	return outs
}

// lookFor reads a fresh listing to find out whether a write happened,
// while other writes of the same run may be in flight. It does not insist
// on a consistent listing: a key twice or a count that grew does not
// matter, since items that others add push what was there forward, never
// past the reader. Only when what it looks for (found) is not there and an
// item may have been skipped is the listing read again, up to three times
// in all.
func lookFor[T any](ctx context.Context, api *sink.Client, l listing[T], found func([]T) bool) ([]T, error) {
	for range 2 {
		items, _, skipped, err := readOnce(ctx, api, l)
		if err != nil || !skipped || found(items) {
			return items, err
		}
	}
	items, moved, skipped, err := readOnce(ctx, api, l)
	if err == nil && skipped && !found(items) {
		return nil, &sink.InconsistentError{System: plan.LOX24, What: l.what, Detail: moved, Twice: true}
	}
	return items, err
}

// isKey reports whether key is an id as checkID returns it, fit for a path.
func isKey(key string) bool {
	k, err := checkID("", json.RawMessage(key))
	return err == nil && k == key
}

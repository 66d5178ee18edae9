// Package lox24 is the client of the LOX24 SMS gateway API for groupsync:
// it reads groups (and the members of groups whose phones are managed) and
// writes group and phone items.
//
// Collections are read as application/ld+json, following hydra:next page by
// page: the plain JSON representation is a bare array with no paging
// metadata. Group updates send the whole group (PUT is a full replacement),
// taking the current value of every field the plan does not change.
package lox24

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// DefaultURL is the production API.
const DefaultURL = "https://api.lox24.eu"

// Client talks to one LOX24 account.
type Client struct {
	api         *sink.Client
	readWorkers int
	batchSize   int
}

var (
	_ plan.Sink    = (*Client)(nil)
	_ plan.Batcher = (*Client)(nil)
)

// DefaultBatchSize is how many phone entries one batch request carries. The
// API documents no limit; this keeps a request body near 100 KB.
const DefaultBatchSize = 500

// SetReadWorkers sets how many member lists are read at once (within the
// rate limit).
func (c *Client) SetReadWorkers(n int) {
	if n > 0 {
		c.readWorkers = n
	}
}

// BatchSize is the most phone creates one DoBatch request carries.
func (c *Client) BatchSize() int { return c.batchSize }

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
	group := cs[0].Group
	op := fmt.Sprintf("add %d phones to group %s", len(cs), group)
	reread := func(ctx context.Context) (any, error) {
		list, err := readAll[phone](ctx, c.api, "members of group "+group, "/groups/"+group+"/phones")
		if err != nil {
			return nil, err
		}
		have := make(map[string]string, len(list))
		for _, p := range list {
			if n, ok := plan.NormalizePhone(p.Phone); ok {
				have[n] = p.ID.String()
			}
		}
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
	base := sink.Outcome(resp, err)
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
			outs[i].Status, outs[i].Err = plan.Failed, err
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
			o.NewKey = p.ID.String()
		}
	}
	return outs
}

// New returns a client that authenticates with token ("clientid:apikey").
func New(cfg sink.Config, token string) (*Client, error) {
	if token == "" {
		return nil, fmt.Errorf("lox24: no token (set LOX24_TOKEN or LOX24_TOKEN_FILE)")
	}
	api, err := sink.NewClient(plan.LOX24, cfg, sink.Options{
		Auth: func(r *http.Request) {
			r.Header.Set("X-LOX24-AUTH-TOKEN", token)
			r.Header.Set("Accept", "application/ld+json")
		},
		RequestIDHeader: "X-LOX24-REQUEST-ID",
		Message:         errorMessage,
		Secrets:         tokenSecrets(token),
	})
	if err != nil {
		return nil, err
	}
	return &Client{api: api, readWorkers: 4, batchSize: DefaultBatchSize}, nil
}

// tokenSecrets is what of a token must never be shown: the token, and its
// API key (the part after "clientid:").
func tokenSecrets(token string) []string {
	if _, key, ok := strings.Cut(token, ":"); ok {
		return []string{token, key}
	}
	return []string{token}
}

// System returns plan.LOX24.
func (c *Client) System() plan.System { return plan.LOX24 }

// group is a group as the API reads and writes it.
type group struct {
	ID          int64   `json:"id,omitempty"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	NameA       *string `json:"name_a"`
	NameB       *string `json:"name_b"`
	NameC       *string `json:"name_c"`
	NameD       *string `json:"name_d"`
	NameE       *string `json:"name_e"`
	// DeletedAt is read only: never set on a write, so never sent.
	DeletedAt *string `json:"deleted_at,omitempty"`
}

// fields maps the plan's field names to the group's.
func (g *group) fields() map[string]**string {
	return map[string]**string{
		"description": &g.Description,
		"name_a":      &g.NameA, "name_b": &g.NameB, "name_c": &g.NameC,
		"name_d": &g.NameD, "name_e": &g.NameE,
	}
}

func (g *group) remote() plan.RemoteGroup {
	r := plan.RemoteGroup{Key: strconv.FormatInt(g.ID, 10), Name: g.Name, Fields: map[string]plan.Value{}}
	if g.DeletedAt != nil {
		r.DeletedAt = *g.DeletedAt
	}
	for name, p := range g.fields() {
		r.Fields[name] = value(*p)
	}
	return r
}

func value(p *string) plan.Value {
	if p == nil {
		return plan.Null
	}
	return plan.Str(*p)
}

func ptr(v plan.Value) *string {
	if !v.Valid {
		return nil
	}
	s := v.S
	return &s
}

// collection is a Hydra collection page.
type collection[T any] struct {
	Member     *[]T `json:"hydra:member"`
	TotalItems *int `json:"hydra:totalItems"`
	View       struct {
		Next string `json:"hydra:next"`
	} `json:"hydra:view"`
}

// readAll reads every page of a Hydra collection at path. The first page is
// read alone; when it gives hydra:totalItems and a hydra:next, the other
// pages are known (page=2..N, the page size being the first page's) and are
// read side by side, within the client's pace and in-flight limit. Without
// hydra:totalItems it follows hydra:next page by page. Either way the pages
// must add up to hydra:totalItems, and every page but the last be full.
func readAll[T any](ctx context.Context, api *sink.Client, what, path string) ([]T, error) {
	first, err := readPage[T](ctx, api, what, path, url.Values{"page": {"1"}})
	if err != nil {
		return nil, err
	}
	if first.View.Next == "" {
		return checkTotal(what, *first.Member, first.TotalItems)
	}
	size := len(*first.Member)
	if first.TotalItems == nil || size == 0 {
		return followNext(ctx, api, what, path, first)
	}
	total := *first.TotalItems
	pages := (total + size - 1) / size
	if next, err := url.Parse(first.View.Next); err != nil || next.Path != path || next.Query().Get("page") != "2" {
		return followNext(ctx, api, what, path, first) // not the page=N scheme: do as it says
	}
	results := make([][]T, pages)
	results[0] = *first.Member
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(8) // goroutines; the client bounds requests in flight
	for n := 2; n <= pages; n++ {
		eg.Go(func() error {
			col, err := readPage[T](ctx, api, what, path, url.Values{"page": {strconv.Itoa(n)}})
			if err != nil {
				return err
			}
			if n < pages && len(*col.Member) != size {
				return fmt.Errorf("lox24: get %s page %d: %d items on a page of %d (did they change while reading?)", what, n, len(*col.Member), size)
			}
			results[n-1] = *col.Member
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	out := make([]T, 0, total)
	for _, r := range results {
		out = append(out, r...)
	}
	return checkTotal(what, out, first.TotalItems)
}

// followNext reads the pages after first one by one, as hydra:next says.
func followNext[T any](ctx context.Context, api *sink.Client, what, path string, first collection[T]) ([]T, error) {
	out := *first.Member
	col := first
	seen := map[string]bool{"page=1": true}
	for col.View.Next != "" {
		op := fmt.Sprintf("get %s: hydra:next %q", what, col.View.Next)
		next, err := url.Parse(col.View.Next)
		if err != nil {
			return nil, fmt.Errorf("lox24: %s: %w", op, err)
		}
		if next.Host != "" || next.Path != path {
			return nil, fmt.Errorf("lox24: %s leaves %s", op, path)
		}
		query := next.Query()
		if seen[query.Encode()] {
			return nil, fmt.Errorf("lox24: %s points back to a page already read", op)
		}
		seen[query.Encode()] = true
		if col, err = readPage[T](ctx, api, what, path, query); err != nil {
			return nil, err
		}
		out = append(out, *col.Member...)
	}
	return checkTotal(what, out, first.TotalItems)
}

// readPage reads one page of a Hydra collection.
func readPage[T any](ctx context.Context, api *sink.Client, what, path string, query url.Values) (collection[T], error) {
	var col collection[T]
	op := fmt.Sprintf("get %s page %s", what, query.Get("page"))
	resp, err := api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: path, Query: query})
	if err != nil {
		return col, err
	}
	if body := strings.TrimSpace(string(resp.Body)); strings.HasPrefix(body, "[") {
		return col, fmt.Errorf("lox24: %s: the API answered a plain JSON array, which carries no paging; cannot tell whether more pages exist", op)
	}
	if err := sink.DecodeJSON("lox24: "+op, resp.Body, &col); err != nil {
		return col, err
	}
	if col.Member == nil {
		return col, fmt.Errorf("lox24: %s: response has no hydra:member", op)
	}
	return col, nil
}

// checkTotal checks the items read against hydra:totalItems, when given.
func checkTotal[T any](what string, out []T, total *int) ([]T, error) {
	if total != nil && *total != len(out) {
		return nil, fmt.Errorf("lox24: %s: read %d items but hydra:totalItems is %d (did they change while reading?)", what, len(out), *total)
	}
	return out, nil
}

// Read returns every group of the account, and the members of each group
// that a desired group with managed phones addresses (by id, or by name).
func (c *Client) Read(ctx context.Context, want []plan.Group) (plan.Current, error) {
	byKey, byName := map[string]bool{}, map[string]bool{}
	for _, g := range want {
		switch {
		case g.Phones == nil:
		case g.Key != "":
			byKey[g.Key] = true
		default:
			byName[g.Name] = true
		}
	}
	return c.read(ctx, func(r *plan.RemoteGroup) bool { return byKey[r.Key] || byName[r.Name] })
}

// ReadWithMembers returns every group of the account with the members of
// every group (Phones is non-nil for each), as export needs them.
func (c *Client) ReadWithMembers(ctx context.Context) (plan.Current, error) {
	return c.read(ctx, func(*plan.RemoteGroup) bool { return true })
}

// read lists every group, then reads the members of the groups members
// selects, c.readWorkers at a time.
func (c *Client) read(ctx context.Context, members func(*plan.RemoteGroup) bool) (plan.Current, error) {
	groups, err := readAll[group](ctx, c.api, "groups", "/groups")
	if err != nil {
		return plan.Current{}, err
	}
	cur := plan.Current{System: plan.LOX24, Groups: make([]plan.RemoteGroup, len(groups))}
	for i := range groups {
		cur.Groups[i] = groups[i].remote()
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(c.readWorkers)
	for i := range cur.Groups {
		r := &cur.Groups[i]
		if !members(r) {
			continue
		}
		eg.Go(func() error {
			list, err := readAll[phone](ctx, c.api, "members of group "+r.Key, "/groups/"+r.Key+"/phones")
			if err != nil {
				return err
			}
			r.Phones = make([]plan.RemotePhone, len(list))
			for j := range list {
				r.Phones[j] = list[j].remote()
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return plan.Current{}, err
	}
	return cur, nil
}

// phone is a phone entry as the API reads and writes it.
type phone struct {
	ID           json.Number `json:"id,omitempty"` // a string in the docs' schema, an integer in paths
	Phone        string      `json:"phone"`
	A            *string     `json:"a"`
	B            *string     `json:"b"`
	C            *string     `json:"c"`
	D            *string     `json:"d"`
	E            *string     `json:"e"`
	CallbackData *string     `json:"callback_data"`
}

func (p *phone) cols() [plan.NumPhoneCols]**string {
	return [plan.NumPhoneCols]**string{&p.A, &p.B, &p.C, &p.D, &p.E, &p.CallbackData}
}

func (p *phone) remote() plan.RemotePhone {
	var vals [plan.NumPhoneCols]string
	for i, c := range p.cols() {
		if *c != nil {
			vals[i] = **c
		}
	}
	return plan.NewRemotePhone(p.ID.String(), p.Phone, vals[:])
}

// phoneBody is the write representation of a change's resulting record.
func phoneBody(rec map[string]plan.Value) phone {
	p := phone{Phone: rec["phone"].S}
	for i, c := range p.cols() {
		*c = ptr(rec[plan.PhoneColumns[i]])
	}
	return p
}

// Do applies one group or phone item.
func (c *Client) Do(ctx context.Context, ch *plan.Change) plan.Outcome {
	switch {
	case ch.Kind == plan.KindGroup && ch.Action == plan.Create:
		return c.createGroup(ctx, ch)
	case ch.Kind == plan.KindGroup && ch.Action == plan.Update:
		return c.updateGroup(ctx, ch)
	case ch.Kind == plan.KindPhone && ch.Action == plan.Create:
		return c.DoBatch(ctx, []*plan.Change{ch})[0]
	case ch.Kind == plan.KindPhone && ch.Action == plan.Update:
		// PUT replaces the entry: columns the file does not manage are
		// sent as they were read.
		resp, err := c.api.Do(ctx, sink.Request{Op: "put phone " + ch.Key, Method: http.MethodPut,
			Path: "/phones/" + url.PathEscape(ch.Key), Body: phoneBody(ch.Record())})
		return sink.Outcome(resp, err)
	case ch.Kind == plan.KindPhone && ch.Action == plan.Delete:
		resp, err := c.api.Do(ctx, sink.Request{Op: "delete phone " + ch.Key, Method: http.MethodDelete,
			Path: "/phones/" + url.PathEscape(ch.Key)})
		return sink.Outcome(resp, err)
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
	var found int64
	reread := func(ctx context.Context) (any, error) {
		groups, err := readAll[group](ctx, c.api, "groups", "/groups")
		if err != nil {
			return nil, err
		}
		var ids []int64
		for _, r := range groups {
			if r.Name == g.Name {
				ids = append(ids, r.ID)
			}
		}
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
	o := sink.Outcome(resp, err)
	switch {
	case err != nil:
	case found != 0:
		o.NewKey = strconv.FormatInt(found, 10)
	default:
		var out group
		if err := sink.DecodeJSON("lox24: create group", resp.Body, &out); err != nil || out.ID == 0 {
			o.Status, o.Err = plan.Failed, fmt.Errorf("lox24: create group %q: the response has no group id: %v", g.Name, err)
			return o
		}
		o.NewKey = strconv.FormatInt(out.ID, 10)
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
	return sink.Outcome(resp, err)
}

// errorMessage extracts the API's text from a Hydra error or an API
// Platform constraint-violation list.
func errorMessage(body []byte) string {
	var e struct {
		Description string `json:"hydra:description"`
		Title       string `json:"hydra:title"`
		Detail      string `json:"detail"`
		Message     string `json:"message"`
		Violations  []struct {
			PropertyPath string `json:"propertyPath"`
			Message      string `json:"message"`
		} `json:"violations"`
	}
	if json.Unmarshal(body, &e) != nil {
		return strings.TrimSpace(string(body))
	}
	if len(e.Violations) > 0 {
		parts := make([]string, len(e.Violations))
		for i, v := range e.Violations {
			parts[i] = v.PropertyPath + ": " + v.Message
		}
		return strings.Join(parts, "; ")
	}
	for _, s := range []string{e.Description, e.Detail, e.Message, e.Title} {
		if s != "" {
			return s
		}
	}
	return ""
}

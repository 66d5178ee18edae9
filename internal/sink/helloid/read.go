package helloid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// Read returns every group of the tenant (see readAll for how a listing is
// read and checked). When some group of want manages its users, it also
// reads the user directory (one listing of /users) and the members of each
// such group (GET /groups/{guid}).
func (c *Client) Read(ctx context.Context, want []plan.Group) (plan.Current, error) {
	cur, err := c.readGroups(ctx)
	if err != nil || !plan.ManagesUsers(want) {
		return cur, err
	}
	if cur.Users, err = c.readUsers(ctx); err != nil {
		return plan.Current{}, err
	}
	if err := c.readMembers(ctx, &cur, want); err != nil {
		return plan.Current{}, err
	}
	return cur, nil
}

// readGroups lists every group.
func (c *Client) readGroups(ctx context.Context) (plan.Current, error) {
	groups, err := c.listGroups(ctx)
	if err != nil {
		return plan.Current{}, err
	}
	cur := plan.Current{System: plan.HelloID, Groups: make([]plan.RemoteGroup, len(groups))}
	for i := range groups {
		cur.Groups[i] = groups[i].remote()
	}
	return cur, nil
}

// listing is how one HelloID collection is read: its path, the words for
// errors, and how an item's key is checked (and made canonical: the key is
// what duplicates are found by).
type listing[T any] struct {
	what  string     // "groups", "users"
	noun  string     // "group", "user"
	path  string     // "/groups", relative to /api/v1
	query url.Values // other parameters of every page; may be nil
	key   func(*T) (string, error)
	// onPage, when set, is told how many items each page read held.
	onPage func(items int)
}

// groupListing is GET /groups.
func groupListing() listing[group] {
	return listing[group]{what: "groups", noun: "group", path: "/groups", key: func(g *group) (string, error) {
		if !isGUID(g.GroupGUID) {
			return "", fmt.Errorf("a group has the groupGuid %q, not a GUID", g.GroupGUID)
		}
		return strings.ToLower(g.GroupGUID), nil
	}}
}

// readAll reads the whole collection l with explicit skip and take (the
// client's page size), until the first empty page: a server that caps take
// below what was asked is still read whole. Every key is checked; a key
// listed twice means the collection moved while it was read, and it is read
// once more from the start; if it moved again, the read fails with an
// *sink.InconsistentError. A page of only keys already read ends the pass
// at once, as a move: a listing that loops (a server that ignores skip)
// fails on its second pass instead of being read forever. The read stops
// with an error when a page holds more than was asked for or the
// collection passes the client's MaxReadItems.
func readAll[T any](ctx context.Context, c *Client, l listing[T]) ([]T, error) {
	return sink.ReadConsistent(ctx, func(ctx context.Context) ([]T, error) {
		items, moved, err := readOnce(ctx, c, l)
		if err == nil && moved != "" {
			err = &sink.InconsistentError{System: plan.HelloID, What: l.what, Detail: moved}
		}
		return items, err
	})
}

// readOnce reads l once, from skip 0 to the first empty page. It returns
// the items and what made the listing inconsistent ("" when nothing did):
// a page that repeats keys already read; one that holds nothing new ends
// the pass there.
func readOnce[T any](ctx context.Context, c *Client, l listing[T]) ([]T, string, error) {
	maxItems := c.api.MaxReadItems()
	keys := map[string]bool{}
	var out []T
	var moved string
	for skip := 0; ; {
		q := url.Values{}
		for k, v := range l.query {
			q[k] = v
		}
		q.Set("skip", strconv.Itoa(skip))
		q.Set("take", strconv.Itoa(c.pageSize))
		op := fmt.Sprintf("get %s skip=%d take=%d", l.what, skip, c.pageSize)
		resp, err := c.api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: l.path, Query: q})
		if err != nil {
			return nil, "", err
		}
		page, err := decodeList[T](resp.Body)
		if err != nil {
			return nil, "", fmt.Errorf("helloid: %s: %w", op, err)
		}
		if l.onPage != nil {
			l.onPage(len(page))
		}
		if len(page) == 0 {
			return out, moved, nil
		}
		if len(page) > c.pageSize {
			return nil, "", fmt.Errorf("helloid: %s: the API answered %d %ss, more than the %d asked for", op, len(page), l.noun, c.pageSize)
		}
		if len(out)+len(page) > maxItems {
			return nil, "", fmt.Errorf("helloid: %s: more than %d items in one listing (--max-read-items)", op, maxItems)
		}
		fresh := 0
		for i := range page {
			k, err := l.key(&page[i])
			if err != nil {
				return nil, "", fmt.Errorf("helloid: %s: item %d: %w", op, i+1, err)
			}
			if !keys[k] {
				fresh++
			} else if moved == "" {
				moved = fmt.Sprintf("%s %s listed twice", l.noun, k)
			}
			keys[k] = true
		}
		if fresh == 0 {
			// Nothing new: read on and a listing that loops (a server that
			// ignores skip sends no empty page) would never end. Stop here
			// and read it once more, as a listing that moved: one that
			// loops does so again, and the read fails.
			return out, fmt.Sprintf("%s answered only %s already read: the listing moved, or it does not advance "+
				"(the server ignores skip, or its pages come round again); if this persists, check that --helloid-url is the tenant's HelloID API",
				op, l.what), nil
		}
		out = append(out, page...)
		skip += len(page)
	}
}

// decodeList decodes one page of a HelloID list: a bare array, or one
// wrapped in "data" or "pageData" as some HelloID list endpoints do.
// null, or any other shape, is an error, never an empty page.
func decodeList[T any](body []byte) ([]T, error) {
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '[' {
		var list []T
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("unexpected response body: %w", err)
		}
		return list, nil
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("unexpected response body: neither a list nor a data/pageData wrapper")
	}
	var wrapped struct {
		Data     json.RawMessage `json:"data"`
		PageData json.RawMessage `json:"pageData"`
	}
	if err := json.Unmarshal(b, &wrapped); err != nil {
		return nil, fmt.Errorf("unexpected response body: %w", err)
	}
	inner := wrapped.Data
	if len(inner) == 0 {
		inner = wrapped.PageData
	} else if len(wrapped.PageData) != 0 {
		return nil, errors.New("unexpected response body: both data and pageData")
	}
	if b := bytes.TrimSpace(inner); len(b) == 0 || b[0] != '[' {
		return nil, errors.New("unexpected response body: neither a list nor a data/pageData wrapper holding one")
	}
	var list []T
	if err := json.Unmarshal(inner, &list); err != nil {
		return nil, fmt.Errorf("unexpected response body: %w", err)
	}
	return list, nil
}

// isGUID reports whether s is a GUID written as 8-4-4-4-12 hex digits, in
// either letter case (plan.IsGUID, the one GUID rule). Only such a key ever
// goes into a path.
func isGUID(s string) bool { return plan.IsGUID(s) }

// lookFor reads a fresh listing to find out whether a write happened,
// while other writes of the same run may be in flight: a key listed twice
// (others' creates pushing items forward) does not matter, and nothing is
// skipped by it.
func lookFor[T any](ctx context.Context, c *Client, l listing[T]) ([]T, error) {
	items, _, err := readOnce(ctx, c, l)
	return items, err
}

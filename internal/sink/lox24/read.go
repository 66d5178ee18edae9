package lox24

import (
	"context"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

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

// ReadMembers reads the members of the groups of cur whose ids are in keys
// (the groups a plan prunes), c.readWorkers at a time, and fills their
// Phones.
func (c *Client) ReadMembers(ctx context.Context, cur *plan.Current, keys []string) error {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	return c.readMembers(ctx, cur, func(r *plan.RemoteGroup) bool { return want[r.Key] })
}

var _ plan.MemberReader = (*Client)(nil)

// read lists every group, then reads the members of the groups members
// selects, c.readWorkers at a time.
func (c *Client) read(ctx context.Context, members func(*plan.RemoteGroup) bool) (plan.Current, error) {
	groups, err := readAll(ctx, c.api, groupListing())
	if err != nil {
		return plan.Current{}, err
	}
	cur := plan.Current{System: plan.LOX24, Groups: make([]plan.RemoteGroup, len(groups))}
	for i := range groups {
		key, _ := checkID("group", groups[i].ID) // checked by readAll
		cur.Groups[i] = groups[i].remote(key)
	}
	if err := c.readMembers(ctx, &cur, members); err != nil {
		return plan.Current{}, err
	}
	return cur, nil
}

// readMembers reads the members of the groups of cur that members selects,
// c.readWorkers at a time.
func (c *Client) readMembers(ctx context.Context, cur *plan.Current, members func(*plan.RemoteGroup) bool) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(c.readWorkers)
	for i := range cur.Groups {
		r := &cur.Groups[i]
		if !members(r) {
			continue
		}
		eg.Go(sink.Recovered(func() error {
			goroutineStarted("members")
			list, err := readAll(ctx, c.api, phoneListing(r.Key))
			if err != nil {
				return err
			}
			if list == nil {
				list = []plan.RemotePhone{} // read: none
			}
			r.Phones = list
			return nil
		}))
	}
	return eg.Wait()
}

package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Diff compares the desired state with the current state of each system in
// have and returns the plan that makes them match. Systems missing from have
// are left out of the plan. Diff is deterministic: the same inputs give the
// same plan, items in input order per system.
//
// Matching follows the contract: LOX24 groups by id when given, otherwise by
// exact name; HelloID groups by groupGuid when given, otherwise by name,
// case-insensitively. A group matched by name keeps its remote spelling.
// Problems that concern one item (an id that does not exist, an ambiguous
// name, two desired groups matching one remote group) become items with
// Error set; the rest of the plan is unaffected.
//
// A system with a prune scope also gets a group delete for every remote
// group in the scope that no file names (see PruneCandidates), after its
// other items, and the plan records the scope in Prune.
func Diff(want Desired, have map[System]Current) *Plan {
	p, _ := DiffContext(context.Background(), want, have)
	return p
}

// DiffContext is Diff that stops once ctx is done, between groups and
// between the phases of a group's members (a phase of a million members
// takes well under a second), and returns ctx's cause with no plan.
func DiffContext(ctx context.Context, want Desired, have map[System]Current) (*Plan, error) {
	p := &Plan{Unchanged: map[System]int{}}
	for _, sys := range Systems {
		cur, ok := have[sys]
		if !ok {
			continue
		}
		p.Systems = append(p.Systems, sys)
		p.Unchanged[sys] = 0
		d := newDiffer(sys, cur)
		d.ctx = ctx
		groups := want.For(sys)
		for _, g := range groups {
			if d.stopped() {
				return nil, context.Cause(ctx)
			}
			d.group(p, g)
		}
		if pr, ok := want.Prune[sys]; ok {
			d.prune(p, groups, cur, pr)
		}
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return p, nil
}

// differ holds one system's remote groups, indexed for matching.
type differ struct {
	sys     System
	byKey   map[string]*RemoteGroup
	byName  map[string][]*RemoteGroup
	claimed map[string]Source // remote key -> desired group that matched it
	dir     *userDirectory    // HelloID users, when they were read
	ctx     context.Context   // nil: never stops
}

// stopped reports whether the diff was asked to stop; the plan it leaves
// is then incomplete and DiffContext discards it.
func (d *differ) stopped() bool { return d.ctx != nil && d.ctx.Err() != nil }

func newDiffer(sys System, cur Current) *differ {
	d := &differ{
		sys:     sys,
		byKey:   make(map[string]*RemoteGroup, len(cur.Groups)),
		byName:  make(map[string][]*RemoteGroup, len(cur.Groups)),
		claimed: map[string]Source{},
	}
	if cur.Users != nil {
		d.dir = newUserDirectory(cur.Users)
	}
	for i := range cur.Groups {
		r := &cur.Groups[i]
		d.byKey[d.keyOf(r.Key)] = r
		n := d.nameOf(r.Name)
		d.byName[n] = append(d.byName[n], r)
	}
	return d
}

// keyOf returns the form in which remote keys are compared: HelloID GUIDs
// are case-insensitive, LOX24 ids are compared as written.
func (d *differ) keyOf(k string) string {
	if d.sys == HelloID {
		return strings.ToLower(k)
	}
	return k
}

// nameOf returns the form in which names are matched (NameMatchKey).
func (d *differ) nameOf(n string) string { return NameMatchKey(d.sys, n) }

// match finds the remote group a desired group addresses; nil with no error
// means the group must be created.
func (d *differ) match(g Group) (*RemoteGroup, error) {
	if g.Key != "" {
		r := d.byKey[d.keyOf(g.Key)]
		if r == nil {
			return nil, fmt.Errorf("%s %s does not exist", d.keyName(), g.Key)
		}
		return r, nil
	}
	rs := d.byName[d.nameOf(g.Name)]
	switch len(rs) {
	case 0:
		return nil, nil
	case 1:
		return rs[0], nil
	}
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.Key
	}
	sort.Strings(keys)
	return nil, fmt.Errorf("ambiguous: %d groups are named %q (%s %s); address the group by %s",
		len(rs), g.Name, d.keyName(), strings.Join(keys, ", "), d.keyName())
}

func (d *differ) keyName() string {
	if d.sys == HelloID {
		return "groupGuid"
	}
	return "id"
}

// group adds the items for one desired group to p.
func (d *differ) group(p *Plan, g Group) {
	r, err := d.match(g)
	if err == nil && r != nil && r.DeletedAt != "" {
		// What happens to a scheduled deletion is undocumented; changing a
		// group that is about to vanish is not what anyone wants unasked.
		err = fmt.Errorf("%s group %s %q is scheduled for deletion (deleted_at %s); groupsync does not change it",
			d.sys, r.Key, r.Name, r.DeletedAt)
	}
	if err == nil && r != nil {
		if prev, ok := d.claimed[d.keyOf(r.Key)]; ok {
			err = fmt.Errorf("matches the same %s group (%s %s) as the group at %s", d.sys, d.keyName(), r.Key, prev)
		} else {
			d.claimed[d.keyOf(r.Key)] = g.Source
		}
	}
	if err != nil {
		p.Changes = append(p.Changes, Change{
			System: d.sys, Kind: KindGroup, Action: Update, Key: g.Key, Name: g.Name,
			Source: g.Source, Error: err.Error(),
		})
		return
	}
	if r == nil {
		d.create(p, g)
		createIdx := len(p.Changes) - 1
		if g.Phones != nil {
			d.phones(p, g, "", g.Name, createIdx, nil)
		}
		if g.Users != nil && d.sys == HelloID {
			d.users(p, g, nil, createIdx)
		}
		return
	}
	d.update(p, g, r)
	if g.Phones != nil {
		if p.Members == nil {
			p.Members = map[string]int{}
		}
		p.Members[r.Key] = len(r.Phones)
		d.phones(p, g, r.Key, r.Name, 0, r.Phones)
	}
	if g.Users != nil && d.sys == HelloID {
		d.users(p, g, r, 0)
	}
}

func (d *differ) create(p *Plan, g Group) {
	c := Change{
		System: d.sys, Kind: KindGroup, Action: Create, Name: g.Name, Source: g.Source,
		Fields: []FieldChange{{Field: "name", Before: Null, After: Str(g.Name)}},
	}
	for _, f := range GroupFields[d.sys] {
		v, ok := g.Fields[f.Name]
		if !ok || !v.Valid {
			continue // unmanaged, or cleared on a group that has nothing to clear
		}
		c.Fields = append(c.Fields, FieldChange{Field: f.Name, Before: Null, After: v})
	}
	p.Changes = append(p.Changes, c)
}

func (d *differ) update(p *Plan, g Group, r *RemoteGroup) {
	c := Change{System: d.sys, Kind: KindGroup, Action: Update, Key: r.Key, Name: r.Name, Source: g.Source}
	// A group addressed by its key is renamed to the desired spelling; one
	// matched by name already has it (HelloID: up to letter case, which is
	// kept as the remote spells it).
	if g.Key != "" && g.Name != r.Name {
		c.Fields = append(c.Fields, FieldChange{Field: "name", Before: Str(r.Name), After: Str(g.Name)})
	}
	for _, f := range GroupFields[d.sys] {
		want, ok := g.Fields[f.Name]
		if !ok {
			continue
		}
		have := r.Fields[f.Name]
		if f.Kind.Equal(want, have) {
			continue
		}
		c.Fields = append(c.Fields, FieldChange{Field: f.Name, Before: have, After: want})
	}
	if len(c.Fields) == 0 {
		p.Unchanged[d.sys]++
		return
	}
	c.Base = map[string]Value{"name": Str(r.Name)}
	for k, v := range r.Fields {
		c.Base[k] = v
	}
	p.Changes = append(p.Changes, c)
}

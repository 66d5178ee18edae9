package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MemberLines is how many member lines of a group human output shows by
// default; the rest are rolled up into the group's counts.
const MemberLines = 10

// Unreadable is one system that could not be read: nothing is planned for it.
type Unreadable struct {
	System System `json:"system"`
	Error  string `json:"error"`
}

// view is a plan arranged for review: per system, the group-level items in
// plan order, each with the member items that belong to it. It is what the
// human renderers share, so that every kind and action renders alike.
type view struct {
	systems []sysView
}

type sysView struct {
	sys    System
	unread string // why the system could not be read; "" when it was
	counts Counts
	blocks []*block
}

// block is one group as review shows it: its own item (nil when only its
// members change) and its member items.
type block struct {
	head    *Change // the group-level item, or nil
	key     string  // the group's remote id, for a block without head
	name    string  // the group's name, for a block without head
	members []*Change
	// nMembers is, while newView builds the block, how many members it has.
	nMembers int
}

// memberCounts are the counts of a block's members per action.
func (b *block) memberCounts() (add, upd, del, errs int) {
	for _, c := range b.members {
		switch {
		case c.Error != "":
			errs++
		case c.Action == Create:
			add++
		case c.Action == Update:
			upd++
		case c.Action == Delete:
			del++
		}
	}
	return
}

// rollup is a block's member summary, e.g. "members: +200 ~5 -3".
func (b *block) rollup() string {
	add, upd, del, errs := b.memberCounts()
	s := fmt.Sprintf("members: +%d ~%d -%d", add, upd, del)
	if errs > 0 {
		s += fmt.Sprintf(" !%d", errs)
	}
	return s
}

// title names a block's group.
func (b *block) title(opt RenderOptions) string {
	if b.head != nil {
		return Title(b.head, opt)
	}
	return Title(&Change{Kind: KindGroup, Key: b.key, Name: b.name}, opt)
}

// isMember reports whether c belongs to a group: an item of another kind
// bound to its group by id or by the group's create.
func isMember(c *Change) bool {
	return c.Kind != KindGroup && (c.GroupKey != "" || c.DependsOn != 0)
}

// newView arranges p for review. Systems that were read come in p.Systems
// order, unread ones in the fixed order of Systems.
func newView(p *Plan) view {
	unread := map[System]string{}
	for _, u := range p.Unread {
		unread[u.System] = u.Error
	}
	var v view
	for _, sys := range Systems {
		reason, bad := unread[sys]
		if !slices.Contains(p.Systems, sys) && !bad {
			continue
		}
		sv := sysView{sys: sys, unread: reason, counts: p.Count(sys)}
		// Each item's block, then each block's members in one slice of the
		// exact size: a group of a million members costs one allocation,
		// not a slice grown by append.
		byIndex := map[int]*block{}  // group items by their index in Changes
		byKey := map[string]*block{} // blocks by group id
		var owner []*block           // per member item of sys, in order, its block
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.System != sys {
				continue
			}
			if !isMember(c) {
				if b := byKey[c.Key]; c.Kind == KindGroup && c.Key != "" && b != nil && b.head == nil {
					// The group's own change comes after changes of its
					// members (an undo plan, latest first): one block.
					b.head = c
					byIndex[i] = b
					continue
				}
				b := &block{head: c}
				sv.blocks = append(sv.blocks, b)
				byIndex[i] = b
				if c.Kind == KindGroup && c.Key != "" {
					byKey[c.Key] = b
				}
				continue
			}
			var b *block
			if c.DependsOn != 0 {
				b = byIndex[c.DependsOn-1]
			} else {
				b = byKey[c.GroupKey]
			}
			if b == nil {
				b = &block{key: c.GroupKey, name: c.Name}
				sv.blocks = append(sv.blocks, b)
				if c.DependsOn != 0 {
					byIndex[c.DependsOn-1] = b
				} else {
					byKey[c.GroupKey] = b
				}
			}
			if owner == nil {
				owner = make([]*block, 0, memberItems(p, sys))
			}
			owner = append(owner, b)
			b.nMembers++
		}
		all := make([]*Change, len(owner))
		at := 0
		for _, b := range sv.blocks {
			b.members, at = all[at:at:at+b.nMembers], at+b.nMembers
		}
		k := 0
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.System == sys && isMember(c) {
				owner[k].members = append(owner[k].members, c)
				k++
			}
		}
		v.systems = append(v.systems, sv)
	}
	return v
}

// memberItems counts the member items of sys in p.
func memberItems(p *Plan, sys System) int {
	n := 0
	for i := range p.Changes {
		if c := &p.Changes[i]; c.System == sys && isMember(c) {
			n++
		}
	}
	return n
}

// memberTitle names a member item inside its group's block, e.g.
// `phone +49151*****817` or `user alice@acme.com`.
func memberTitle(c *Change, opt RenderOptions) string {
	id := c.Key
	switch {
	case c.Phone != "":
		id = displayPhone(c.Phone, opt.ShowPhones)
	case c.Kind == KindUser && c.User != "":
		id = c.User // the userName; the GUID is in the source note of a delete
	}
	if id == "" {
		return string(c.Kind)
	}
	return string(c.Kind) + " " + id
}

// appendMemberTitle appends memberTitle(c, opt).
func appendMemberTitle(dst []byte, c *Change, opt RenderOptions) []byte {
	dst = append(dst, c.Kind...)
	switch {
	case c.Phone != "":
		dst = append(dst, ' ')
		return appendPhone(dst, c.Phone, opt.ShowPhones)
	case c.Kind == KindUser && c.User != "":
		dst = append(dst, ' ')
		return append(dst, c.User...)
	case c.Key != "":
		dst = append(dst, ' ')
		return append(dst, c.Key...)
	}
	return dst
}

// fieldLine is one field of an item as human output shows it: "name: value"
// for creates and for what a delete removes, "name: before -> after" else.
type fieldLine struct {
	field, before, after string
	change               bool
}

// itemFields are the field lines shown under an item: its field changes,
// and for a delete what is being removed (the record as read, null fields
// and the number a phone's title already shows left out; for a group, first
// how many members go with it).
func itemFields(c *Change, opt RenderOptions) []fieldLine {
	if c.Action == Delete && len(c.FieldList()) == 0 {
		var out []fieldLine
		if c.Kind == KindGroup {
			out = append(out, fieldLine{field: "members", after: memberCount(c) + " (deleted with the group)"})
		}
		for _, k := range recordOrder(c) {
			v := c.Base[k]
			if !v.Valid || v.S == "" || (k == "phone" && c.Phone != "") {
				continue
			}
			out = append(out, fieldLine{field: k, after: display(c, k, v, opt)})
		}
		return out
	}
	fields := shownFields(c)
	out := make([]fieldLine, len(fields))
	for i, f := range fields {
		out[i] = fieldLine{field: f.Field, after: display(c, f.Field, f.After, opt)}
		if c.Action != Create {
			out[i].before, out[i].change = display(c, f.Field, f.Before, opt), true
		}
	}
	return out
}

// recordOrder is the order in which a record's fields are shown: a phone's
// columns in PhoneColumns order, a group's in GroupFields order, anything
// else sorted.
func recordOrder(c *Change) []string {
	var known []string
	switch c.Kind {
	case KindPhone:
		known = append([]string{"phone"}, PhoneColumns[:]...)
	case KindGroup:
		known = []string{"name"}
		for _, f := range GroupFields[c.System] {
			known = append(known, f.Name)
		}
	}
	var out []string
	for _, k := range known {
		if _, ok := c.Base[k]; ok {
			out = append(out, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Base)) {
		if !slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	return out
}

// unreadLine is what every format says of a system that could not be read.
func unreadLine(sys System, reason string) string {
	return fmt.Sprintf("%s: NOT READ (%s); nothing planned for it", sys, oneLine(reason))
}

// refusedIntro heads the block of safety-guard refusals.
const refusedIntro = "REFUSED: apply would write nothing, because the plan breaks these safety guards (--force overrides them):"

// oneLine folds line breaks into spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// closing is the last sentence of a human plan.
func closing(p *Plan) string {
	switch {
	case len(p.Systems) == 0 && len(p.Unread) == 0:
		return "No system to plan for."
	case p.HasChanges() || p.HasErrors():
		s := "Plan: " + summary(p.Count("")) + "."
		if n := len(p.Unread); n > 0 {
			s += fmt.Sprintf(" %d %s NOT READ.", n, plural(n, "system", "systems"))
		}
		return s
	case len(p.Unread) > 0:
		n := len(p.Unread)
		return fmt.Sprintf("Nothing to change in the systems that were read; %d %s NOT READ, so this is not the whole plan.", n, plural(n, "system was", "systems were"))
	}
	return "No changes. The remote state matches the files."
}

package plan

import "fmt"

// Undo returns the plan that reverses every succeeded item of r, latest
// first: an update goes back to its before, a create is deleted, a deleted
// member is created again from its before, a deleted group is created again
// from its before, with the members of its snapshot (every column). A LOX24 group the run created
// is deleted with its members, and only while its members are exactly
// those the run added (Expect). Every item's Base is what the run left
// behind, so that applying the plan finds an item stale when its target
// changed since. Items that cannot be reversed are described in the
// second result.
func Undo(r *Report) (*Plan, []string) {
	p := &Plan{Unchanged: map[System]int{}, Systems: reportSystems(r)}
	for _, sys := range p.Systems {
		p.Unchanged[sys] = 0
	}
	var left []string
	// Members added to a group the run created go with the group.
	added := map[int][]string{}
	country := map[int]string{} // the group's default_country, as its members carry it
	for i := range r.Items {
		it := &r.Items[i]
		if dep := it.DependsOn - 1; dep >= 0 && it.Status == Succeeded && it.Kind == KindPhone && it.Action == Create {
			added[dep] = append(added[dep], it.Phone)
			country[dep] = it.Country
		}
	}
	for i := len(r.Items) - 1; i >= 0; i-- {
		it := &r.Items[i]
		if it.Status != Succeeded {
			continue
		}
		if it.Kind == KindGroup && it.Action == Delete {
			note, ok := p.recreate(it)
			if !ok {
				left = append(left, fmt.Sprintf("%s %s %s %s: cannot be undone: the report does not hold its record", it.System, it.Kind, it.Action, it.Name))
			} else if note != "" {
				left = append(left, note)
			}
			continue
		}
		if !it.replayable() {
			left = append(left, fmt.Sprintf("%s %s %s %s: cannot be undone: the report does not say what it changed", it.System, it.Kind, it.Action, it.Name))
			continue
		}
		if it.DependsOn > 0 && (it.Kind == KindPhone || it.Kind == KindUser) && it.Action == Create {
			continue // deleted with its group
		}
		c, ok := reverse(it)
		if !ok {
			left = append(left, fmt.Sprintf("%s %s %s %s: cannot be undone", it.System, it.Kind, it.Action, it.Name))
			continue
		}
		if c.Kind == KindGroup && c.Action == Delete && c.System == LOX24 {
			c.Expect = &Expect{Members: append([]string{}, added[i]...)}
			c.Country = country[i]
		}
		c.Note = "undoes " + string(it.Action)
		if it.Source != "" {
			c.Note += " of " + it.Source
		}
		p.Changes = append(p.Changes, c)
	}
	return p, left
}

// reverse returns the item that undoes it.
func reverse(it *Item) (Change, bool) {
	c := Change{System: it.System, Kind: it.Kind, Name: it.Name, GroupKey: it.Group, Phone: it.Phone, Country: it.Country, User: it.User}
	if it.Kind == KindUser {
		// A link is undone by unlinking the user, an unlink by linking it.
		if it.Group == "" || !IsGUID(it.Key) {
			return c, false
		}
		c.Key = it.Key
		switch it.Action {
		case Create:
			c.Action = Delete
		case Delete:
			c.Action = Create
		default:
			return c, false
		}
		return c, true
	}
	switch it.Action {
	case Create:
		if it.NewKey == "" {
			return c, false
		}
		c.Action, c.Key, c.Base = Delete, it.NewKey, copyRecord(it.After)
		if c.Kind == KindPhone {
			// Delete the entry as the run wrote it, every column included.
			c.Base = fullPhone(it.After)
		}
	case Update:
		c.Action, c.Key, c.Base = Update, it.Key, copyRecord(it.After)
		if c.Kind == KindPhone {
			c.Base = fullPhone(it.After)
		}
		for _, k := range fieldOrder(it.System, it.Kind, it.Before) {
			if !equalField(it.System, it.Kind, k, it.After[k], it.Before[k]) {
				c.Fields = append(c.Fields, FieldChange{Field: k, Before: it.After[k], After: it.Before[k]})
			}
		}
		if len(c.Fields) == 0 {
			return c, false
		}
	case Delete:
		if c.Kind != KindPhone || it.Group == "" {
			return c, false // group deletes: see the members snapshot
		}
		c.Action = Create
		for _, k := range fieldOrder(it.System, it.Kind, it.Before) {
			if v := it.Before[k]; v.Valid && v.S != "" {
				c.Fields = append(c.Fields, FieldChange{Field: k, Before: Null, After: v})
			}
		}
	default:
		return c, false
	}
	return c, true
}

// recreate adds to p the items that undo the group delete it: a create of
// the group from its before (the record as read before the delete; older
// reports have it only in the snapshot) and a create of every member of the
// snapshot (LOX24 phones with every column, HelloID user links), depending
// on that create.
// The second result is false when the report holds no record; the first
// says what cannot be restored.
func (p *Plan) recreate(it *Item) (string, bool) {
	rec := it.Before
	if rec == nil && it.Snapshot != nil {
		rec = it.Snapshot.Fields
	}
	name := rec["name"]
	if !name.Valid || name.S == "" {
		return "", false
	}
	note := "undoes delete"
	if it.Source != "" {
		note += " of " + it.Source
	}
	g := Change{System: it.System, Kind: KindGroup, Action: Create, Name: name.S, Note: note,
		Fields: []FieldChange{{Field: "name", Before: Null, After: name}}}
	for _, k := range fieldOrder(it.System, KindGroup, rec) {
		if v := rec[k]; k != "name" && v.Valid {
			g.Fields = append(g.Fields, FieldChange{Field: k, Before: Null, After: v})
		}
	}
	p.Changes = append(p.Changes, g)
	dep := len(p.Changes) // DependsOn: index of the group's create, plus one
	if it.Snapshot == nil {
		if it.System == LOX24 {
			return fmt.Sprintf("%s group delete %s: its members are not restored: the report holds no snapshot of them", it.System, name.S), true
		}
		return "", true
	}
	for _, sp := range it.Snapshot.Phones {
		num := sp.Phone
		if n, ok := NormalizePhone(sp.Phone); ok {
			num = n
		}
		c := Change{System: it.System, Kind: KindPhone, Action: Create, Name: name.S, DependsOn: dep, Phone: num,
			Note:   "undoes delete of group " + name.S,
			Fields: []FieldChange{{Field: "phone", Before: Null, After: Str(sp.Phone)}}}
		for _, col := range PhoneColumns {
			if v := sp.Cols[col]; v != "" {
				c.Fields = append(c.Fields, FieldChange{Field: col, Before: Null, After: Str(v)})
			}
		}
		p.Changes = append(p.Changes, c)
	}
	for _, u := range it.Snapshot.Users {
		// The users are linked again, in the create's own request.
		p.Changes = append(p.Changes, Change{System: it.System, Kind: KindUser, Action: Create, Key: u, Name: name.S,
			DependsOn: dep, User: u, Note: "undoes delete of group " + name.S})
	}
	return "", true
}

// fullPhone is a phone record with every column, absent ones null.
func fullPhone(rec map[string]Value) map[string]Value {
	out := copyRecord(rec)
	if out == nil {
		out = map[string]Value{}
	}
	for _, col := range PhoneColumns {
		if _, ok := out[col]; !ok {
			out[col] = Null
		}
	}
	return out
}

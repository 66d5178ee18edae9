package plan

import (
	"fmt"
	"sort"
)

// fieldOrder returns the order in which a record's fields are listed: the
// name (or number) first, then the system's fields, then any other in
// lexical order.
func fieldOrder(sys System, kind Kind, rec map[string]Value) []string {
	var known []string
	switch kind {
	case KindGroup:
		known = append(known, "name")
		for _, f := range GroupFields[sys] {
			known = append(known, f.Name)
		}
	case KindPhone:
		known = append(append(known, "phone"), PhoneColumns[:]...)
	}
	seen := map[string]bool{}
	var out []string
	for _, k := range known {
		seen[k] = true
		if _, ok := rec[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range rec {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// equalField compares two values of a field as Diff does.
func equalField(sys System, kind Kind, field string, a, b Value) bool {
	if kind == KindPhone && field != "phone" {
		return a.S == b.S // null and empty alike
	}
	k := FieldText
	if spec, ok := FieldSpecFor(sys, field); ok {
		k = spec.Kind
	}
	return k.Equal(a, b)
}

// replayable reports whether the item carries what it takes to rebuild it.
func (it *Item) replayable() bool {
	return it.Before != nil || it.After != nil
}

// change rebuilds the plan item a report item was made from: the fields
// an update changes and its Base, the fields a create sets, the record a
// delete expects. The created entry's key is not set.
func (it *Item) change() Change {
	c := Change{System: it.System, Kind: it.Kind, Action: it.Action, Name: it.Name,
		GroupKey: it.Group, Phone: it.Phone, Country: it.Country, User: it.User, Expect: it.Expect, Snapshot: it.Snapshot}
	if it.Action != Create {
		c.Key = it.Key
	}
	if it.Kind == KindUser {
		c.Key = it.Key // a link or unlink names its user, creates included
		return c
	}
	switch it.Action {
	case Create:
		for _, k := range fieldOrder(it.System, it.Kind, it.After) {
			c.Fields = append(c.Fields, FieldChange{Field: k, Before: Null, After: it.After[k]})
		}
	case Update:
		c.Base = copyRecord(it.Before)
		for _, k := range fieldOrder(it.System, it.Kind, it.After) {
			if !equalField(it.System, it.Kind, k, it.Before[k], it.After[k]) {
				c.Fields = append(c.Fields, FieldChange{Field: k, Before: it.Before[k], After: it.After[k]})
			}
		}
	case Delete:
		c.Base = copyRecord(it.Before)
	}
	return c
}

func copyRecord(rec map[string]Value) map[string]Value {
	if rec == nil {
		return nil
	}
	out := make(map[string]Value, len(rec))
	for k, v := range rec {
		out[k] = v
	}
	return out
}

// RetryPlan returns the plan that applies again the items of r whose
// status is failed or skipped, in report order; members of a group
// created in the run wait for that create when it is retried too, even
// when the report names the group by the id the create was answered
// with (a create that verify did not observe: that id does not exist).
// An item that cannot be rebuilt (it was never planned, e.g. an id that
// does not exist, or the report predates before/after) or whose group
// was to be created by a create that is not retried (it went stale, so
// the group it would have made is not known) stays in the plan as an item
// with an error: it is reported failed again, never dropped.
func RetryPlan(r *Report) *Plan {
	p := &Plan{Unchanged: map[System]int{}}
	at := map[int]int{} // report index -> plan index
	for i := range r.Items {
		it := &r.Items[i]
		if it.Status != Failed && it.Status != Skipped {
			continue
		}
		var c Change
		switch dep := it.DependsOn - 1; {
		case !it.replayable():
			c = it.unplanned("cannot be retried: " + it.Error)
		case dep >= 0:
			c = it.change()
			if j, retried := at[dep]; retried {
				c.GroupKey, c.DependsOn = "", j+1
			} else if c.GroupKey == "" {
				why := "not retried"
				if dep < len(r.Items) {
					why = string(r.Items[dep].Status)
				}
				c = it.unplanned(fmt.Sprintf("cannot be retried: its group was to be created by an item that is %s, so it has no group; plan again from the files", why))
			}
		default:
			c = it.change()
		}
		c.Source = Source{File: it.Source}
		at[i] = len(p.Changes)
		p.Changes = append(p.Changes, c)
	}
	p.Systems = reportSystems(r)
	for _, sys := range p.Systems {
		p.Unchanged[sys] = 0
	}
	return p
}

// unplanned is the item of a retry plan that stands for it when it cannot
// be sent again: it carries why, and is reported failed.
func (it *Item) unplanned(why string) Change {
	return Change{System: it.System, Kind: it.Kind, Action: it.Action, Name: it.Name, Key: it.Key,
		GroupKey: it.Group, Phone: it.Phone, Country: it.Country, User: it.User, Error: why}
}

// reportSystems lists the systems of a report, in output order.
func reportSystems(r *Report) []System {
	var out []System
	for _, sys := range Systems {
		if _, ok := r.Systems[sys]; ok {
			out = append(out, sys)
			continue
		}
		for i := range r.Items {
			if r.Items[i].System == sys {
				out = append(out, sys)
				break
			}
		}
	}
	return out
}

// Settle removes from p the items whose wanted state already holds in
// have (a retry of an item that did happen, or that someone else made)
// and counts them unchanged: they cost no write. Members waiting for a
// create that is settled get the key of the group found. Systems missing
// from have are left as they are.
func Settle(p *Plan, have map[System]Current) {
	idx := map[System]*remoteIndex{}
	for sys, cur := range have {
		idx[sys] = newRemoteIndex(sys, cur)
	}
	if p.Unchanged == nil {
		p.Unchanged = map[System]int{}
	}
	keys := map[int]string{} // settled items -> the key that shows them
	at := map[int]int{}      // kept items -> their index in out
	var out []Change
	for i, c := range p.Changes {
		if dep := c.DependsOn - 1; dep >= 0 {
			if key, ok := keys[dep]; ok {
				c.GroupKey, c.DependsOn = key, 0
			} else {
				c.DependsOn = at[dep] + 1
			}
		}
		if x := idx[c.System]; x != nil && c.Error == "" && c.DependsOn == 0 {
			if key, res := x.holds(&c); res == holdsYes {
				keys[i] = key
				p.Unchanged[c.System]++
				continue
			}
		}
		at[i] = len(out)
		out = append(out, c)
	}
	p.Changes = out
}

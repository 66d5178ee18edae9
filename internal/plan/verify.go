package plan

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
)

// GroupRef names one group to read again, and whether its members are
// needed too.
type GroupRef struct {
	Key     string
	Members bool
	// Name, set only when Key is empty, asks for the groups of that name
	// (case-insensitively): a create whose outcome is uncertain has no key
	// yet. Several groups of the name are all returned.
	Name string
}

// RefsByName returns refs with each ref by name (Key empty) replaced by
// refs to the listed groups of that name, compared as NameKey does; names
// gives each listed group's name by its key. A group asked for twice is
// asked for once, with its members if either ref wants them; fold gives
// the form in which two keys are the same (nil: as written). Groups found
// by name come after the refs by key, in key order.
func RefsByName(refs []GroupRef, names map[string]string, fold func(string) string) []GroupRef {
	if fold == nil {
		fold = func(k string) string { return k }
	}
	wanted := map[string]bool{} // NameKey of a name ref -> its members wanted
	for _, ref := range refs {
		if ref.Key == "" {
			wanted[NameKey(ref.Name)] = wanted[NameKey(ref.Name)] || ref.Members
		}
	}
	out := make([]GroupRef, 0, len(refs))
	at := map[string]int{}
	add := func(ref GroupRef) {
		k := fold(ref.Key)
		if i, ok := at[k]; ok {
			out[i].Members = out[i].Members || ref.Members
			return
		}
		at[k] = len(out)
		out = append(out, ref)
	}
	for _, ref := range refs {
		if ref.Key != "" {
			add(ref)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(names)) {
		if members, ok := wanted[NameKey(names[key])]; ok {
			add(GroupRef{Key: key, Members: members})
		}
	}
	return out
}

// GroupReader is implemented by sinks that can read single groups: verify
// reads again exactly the groups an apply touched, not the whole account.
type GroupReader interface {
	// ReadGroups reads the groups refs name, and the members of those
	// whose ref asks for them. A group that does not exist is left out of
	// the result; that is not an error. Any other failed read is.
	ReadGroups(ctx context.Context, refs []GroupRef) (Current, error)
}

// NotObserved is the error of an item that succeeded but that the re-read
// after apply does not show.
const NotObserved = "applied but not observed on re-read"

// Touched returns, per system, the groups the report's succeeded items
// wrote to, and those its uncertain failed items may have written to, in
// report order: group items' own groups, and the groups of member items
// with their members. An uncertain create that has no key is asked for by
// name, with its members when an uncertain member of it is to be checked.
func Touched(r *Report) map[System][]GroupRef {
	out := map[System][]GroupRef{}
	at := map[System]map[string]int{}
	add := func(sys System, ref GroupRef) {
		id := "key:" + ref.Key
		if ref.Key == "" {
			if ref.Name == "" {
				return
			}
			id = "name:" + NameKey(ref.Name)
		}
		if at[sys] == nil {
			at[sys] = map[string]int{}
		}
		if i, ok := at[sys][id]; ok {
			out[sys][i].Members = out[sys][i].Members || ref.Members
			return
		}
		at[sys][id] = len(out[sys])
		out[sys] = append(out[sys], ref)
	}
	for i := range r.Items {
		it := &r.Items[i]
		if !toVerify(it) {
			continue
		}
		if it.Kind == KindGroup {
			if it.Key == "" && it.Action == Create {
				add(it.System, GroupRef{Name: it.Name})
				continue
			}
			add(it.System, GroupRef{Key: it.Key, Members: it.Expect != nil})
			continue
		}
		if it.Group == "" {
			// A member of an uncertain create sent with it in one request.
			if dep := it.DependsOn - 1; dep >= 0 && dep < len(r.Items) && r.Items[dep].Key == "" && toVerify(&r.Items[dep]) {
				add(it.System, GroupRef{Name: r.Items[dep].Name, Members: true})
			}
			continue
		}
		add(it.System, GroupRef{Key: it.Group, Members: true})
	}
	return out
}

// toVerify reports whether verify checks it: it succeeded, or it failed
// with an outcome that is uncertain.
func toVerify(it *Item) bool {
	return it.Status == Succeeded || it.Status == Failed && it.Uncertain
}

// Verify checks every succeeded item of r whose system is in have (the
// state re-read after apply) against what the item wrote: items that hold
// are marked Verified; items the re-read does not show become Failed with
// NotObserved. A failed item whose outcome is uncertain (it may have been
// applied) and that the re-read shows applied becomes Succeeded and
// Verified, its error cleared; one the re-read does not show keeps its
// error. Items that failed certainly are never changed, even when the
// state is what they wanted. Items the re-read cannot judge (members not
// read, a kind it does not know) are left as they are. The tallies are
// recomputed.
func Verify(r *Report, have map[System]Current) {
	idx := map[System]*remoteIndex{}
	for sys, cur := range have {
		idx[sys] = newRemoteIndex(sys, cur)
	}
	for i := range r.Items {
		it := &r.Items[i]
		x := idx[it.System]
		if dep := it.DependsOn - 1; it.Group == "" && dep >= 0 && dep < len(r.Items) {
			// Its group's create may have been found by the re-read just now
			// (creates come before their members).
			it.Group = r.Items[dep].NewKey
			if it.Group != "" && it.Status == Skipped {
				it.Error = "not started: its group's create was confirmed only by the re-read after apply; apply --retry-failed sends it"
			}
		}
		if x == nil || !toVerify(it) {
			continue
		}
		c := it.change()
		if c.Action == Create && c.Kind != KindUser {
			c.Key = it.NewKey
		}
		key, res := x.holds(&c)
		switch {
		case res == holdsYes && it.Status == Failed:
			it.Status, it.Error, it.Verified = Succeeded, "", true
			if it.Action == Create && it.Kind != KindUser && it.NewKey == "" && key != "" {
				it.NewKey = key
				if it.Key == "" {
					it.Key = key
				}
			}
		case res == holdsYes:
			it.Verified = true
		case res == holdsNo && it.Status == Succeeded:
			it.Status, it.Error = Failed, NotObserved
		}
	}
	r.tally()
}

type holdsResult int

const (
	holdsUnknown holdsResult = iota
	holdsYes
	holdsNo
)

// holds reports whether the state c leaves behind is the current one, and
// for creates the key of the record that shows it.
func (x *remoteIndex) holds(c *Change) (string, holdsResult) {
	after := c.Record()
	switch c.Kind {
	case KindGroup:
		var r *RemoteGroup
		switch {
		case c.Key != "":
			r = x.d.byKey[x.d.keyOf(c.Key)]
		case c.Action == Create:
			if rs := x.d.byName[x.d.nameOf(c.Name)]; len(rs) == 1 {
				r = rs[0]
			}
		default:
			return "", holdsUnknown
		}
		if c.Action == Delete {
			if r == nil {
				return "", holdsYes
			}
			return "", holdsNo
		}
		if r == nil {
			return "", holdsNo
		}
		for k, v := range after {
			if k == "name" {
				if c.Action == Create && x.d.nameOf(v.S) != x.d.nameOf(r.Name) || c.Action != Create && v.S != r.Name {
					return "", holdsNo
				}
				continue
			}
			kind := FieldText
			if spec, ok := FieldSpecFor(c.System, k); ok {
				kind = spec.Kind
			}
			if !kind.Equal(v, r.Fields[k]) {
				return "", holdsNo
			}
		}
		return r.Key, holdsYes
	case KindPhone:
		if c.GroupKey == "" {
			return "", holdsUnknown
		}
		ids, read := x.phones[c.GroupKey]
		if !read {
			switch {
			case x.d.byKey[x.d.keyOf(c.GroupKey)] != nil:
				return "", holdsUnknown
			case c.Action == Delete:
				return "", holdsYes // the group is gone, and its members with it
			default:
				return "", holdsNo // no member is in a group that does not exist
			}
		}
		if c.Action == Delete {
			if ids[c.Key] == nil {
				return "", holdsYes
			}
			return "", holdsNo
		}
		var ph *RemotePhone
		if c.Action == Update || c.Key != "" {
			ph = ids[c.Key]
		} else {
			ph = x.findNumber(c.GroupKey, c.Phone, c.Country, after)
		}
		if ph == nil || !sameNumber(ph.Number, c.Phone, c.Country) || !sameColumns(phoneRecord(ph), after) {
			return "", holdsNo
		}
		return ph.ID, holdsYes
	case KindUser:
		if c.GroupKey == "" {
			return "", holdsUnknown
		}
		members, read := x.users[strings.ToLower(c.GroupKey)]
		if !read {
			if x.d.byKey[x.d.keyOf(c.GroupKey)] == nil {
				// The group is gone: so are its members, and no link holds.
				if c.Action == Delete {
					return "", holdsYes
				}
				return "", holdsNo
			}
			return "", holdsUnknown
		}
		if members[strings.ToLower(c.Key)] == (c.Action == Create) {
			return c.Key, holdsYes
		}
		return "", holdsNo
	}
	return "", holdsUnknown
}

// findNumber returns the group's member with number whose columns are
// after, or else its first member with that number (a number in national
// form read in country).
func (x *remoteIndex) findNumber(group, number, country string, after map[string]Value) *RemotePhone {
	var first *RemotePhone
	ids := make([]string, 0, len(x.phones[group]))
	for id := range x.phones[group] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ph := x.phones[group][id]
		if !sameNumber(ph.Number, number, country) {
			continue
		}
		if sameColumns(phoneRecord(ph), after) {
			return ph
		}
		if first == nil {
			first = ph
		}
	}
	return first
}

// sameNumber compares a remote number with a planned one (E.164, or as
// written when it is not valid), reading a remote number in national form
// in country, as the diff does.
func sameNumber(remote, planned, country string) bool {
	if n, ok := NormalizePhoneIn(remote, country); ok {
		return n == planned
	}
	return remote == planned
}

// sameColumns reports whether a phone entry's columns are those of want;
// null and empty are alike, as the diff compares them.
func sameColumns(have, want map[string]Value) bool {
	for _, col := range PhoneColumns {
		if have[col].S != want[col].S {
			return false
		}
	}
	return true
}

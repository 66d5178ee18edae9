package plan

import (
	"context"
	"sort"
	"strings"
)

// GroupRef names one group to read again, and whether its members are
// needed too.
type GroupRef struct {
	Key     string
	Members bool
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
// wrote to, in report order: group items' own groups, and the groups of
// member items with their members.
func Touched(r *Report) map[System][]GroupRef {
	out := map[System][]GroupRef{}
	at := map[System]map[string]int{}
	add := func(sys System, key string, members bool) {
		if key == "" {
			return
		}
		if at[sys] == nil {
			at[sys] = map[string]int{}
		}
		if i, ok := at[sys][key]; ok {
			out[sys][i].Members = out[sys][i].Members || members
			return
		}
		at[sys][key] = len(out[sys])
		out[sys] = append(out[sys], GroupRef{Key: key, Members: members})
	}
	for i := range r.Items {
		it := &r.Items[i]
		if it.Status != Succeeded {
			continue
		}
		if it.Kind == KindGroup {
			add(it.System, it.Key, it.Expect != nil)
			continue
		}
		add(it.System, it.Group, true)
	}
	return out
}

// Verify checks every succeeded item of r whose system is in have (the
// state re-read after apply) against what the item wrote: items that hold
// are marked Verified; items the re-read does not show become Failed with
// NotObserved. Items the re-read cannot judge (members not read, a kind
// it does not know) are left as they are. The tallies are recomputed.
func Verify(r *Report, have map[System]Current) {
	idx := map[System]*remoteIndex{}
	for sys, cur := range have {
		idx[sys] = newRemoteIndex(sys, cur)
	}
	for i := range r.Items {
		it := &r.Items[i]
		x := idx[it.System]
		if x == nil || it.Status != Succeeded {
			continue
		}
		c := it.change()
		if c.Action == Create && c.Kind != KindUser {
			c.Key = it.NewKey
		}
		switch _, res := x.holds(&c); res {
		case holdsYes:
			it.Verified = true
		case holdsNo:
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
		if c.Group == "" {
			return "", holdsUnknown
		}
		ids, read := x.phones[c.Group]
		if !read {
			switch {
			case x.d.byKey[x.d.keyOf(c.Group)] != nil:
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
			ph = x.findNumber(c.Group, c.Phone, c.Country, after)
		}
		if ph == nil || !sameNumber(ph.Number, c.Phone, c.Country) || !sameColumns(phoneRecord(ph), after) {
			return "", holdsNo
		}
		return ph.ID, holdsYes
	case KindUser:
		if c.Group == "" {
			return "", holdsUnknown
		}
		members, read := x.users[strings.ToLower(c.Group)]
		if !read {
			if x.d.byKey[x.d.keyOf(c.Group)] == nil {
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

package plan

import (
	"fmt"
	"strings"
)

// Revalidate checks a saved plan against the state read now, before it is
// applied. It returns, by index in p.Changes, why an item is stale: what
// the plan saw before the item (a field's value, a member, the absence of a
// group it creates) is no longer so, because someone changed it since the
// plan was reviewed. Stale items must not be written.
//
// For items that are still valid it refreshes Base from the current state,
// so that a full-representation PUT sends every field the plan does not
// change as it is now, not as it was when the plan was made.
//
// Systems missing from have are not checked (they are not applied at all).
func Revalidate(p *Plan, have map[System]Current) map[int]string {
	stale := map[int]string{}
	idx := map[System]*remoteIndex{}
	for sys, cur := range have {
		idx[sys] = newRemoteIndex(sys, cur)
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		x := idx[c.System]
		if x == nil || c.Error != "" {
			continue
		}
		var why string
		switch c.Kind {
		case KindGroup:
			why = x.checkGroup(c)
		case KindUser:
			why = x.checkUser(c)
		default:
			why = x.checkPhone(c)
		}
		if why != "" {
			stale[i] = why
		}
	}
	return stale
}

// remoteIndex is one system's current state, indexed for Revalidate.
type remoteIndex struct {
	d      *differ
	phones map[string]map[string]*RemotePhone // group key -> phone id -> entry
	byNum  map[string]map[string]bool         // group key and country -> E.164 numbers present (see numbers)
	users  map[string]map[string]bool         // HelloID group key -> lowercase member GUIDs
}

func newRemoteIndex(sys System, cur Current) *remoteIndex {
	x := &remoteIndex{d: newDiffer(sys, cur), phones: map[string]map[string]*RemotePhone{},
		byNum: map[string]map[string]bool{}, users: map[string]map[string]bool{}}
	for i := range cur.Groups {
		g := &cur.Groups[i]
		if g.Users != nil {
			members := make(map[string]bool, len(g.Users))
			for _, u := range g.Users {
				members[strings.ToLower(u)] = true
			}
			x.users[strings.ToLower(g.Key)] = members
		}
		if g.Phones == nil {
			continue
		}
		ids := make(map[string]*RemotePhone, len(g.Phones))
		for j := range g.Phones {
			ph := &g.Phones[j]
			ids[ph.ID] = ph
		}
		x.phones[g.Key] = ids
	}
	return x
}

// numbers returns the E.164 numbers of a group's members, a number in
// national form read in country as the diff reads it; nil when the
// members were not read.
func (x *remoteIndex) numbers(group, country string) map[string]bool {
	k := group + "\x00" + country
	if m, ok := x.byNum[k]; ok {
		return m
	}
	ids, read := x.phones[group]
	if !read {
		return nil
	}
	m := make(map[string]bool, len(ids))
	for _, ph := range ids {
		if n, ok := NormalizePhoneIn(ph.Number, country); ok {
			m[n] = true
		}
	}
	x.byNum[k] = m
	return m
}

func (x *remoteIndex) checkGroup(c *Change) string {
	if c.Action == Create {
		if rs := x.d.byName[x.d.nameOf(c.Name)]; len(rs) > 0 {
			return fmt.Sprintf("a group named %q exists now (%s %s)", rs[0].Name, x.d.keyName(), rs[0].Key)
		}
		return ""
	}
	r := x.d.byKey[x.d.keyOf(c.Key)]
	if r == nil {
		return fmt.Sprintf("group %s no longer exists", c.Key)
	}
	if c.Action == Delete && c.Snapshot != nil {
		return checkDelete(c, r) // pruning
	}
	now := map[string]Value{"name": Str(r.Name)}
	for k, v := range r.Fields {
		now[k] = v
	}
	if c.Action == Delete {
		return x.checkGroupDelete(c, now)
	}
	for _, f := range c.FieldList() {
		kind := FieldText
		if spec, ok := FieldSpecFor(c.System, f.Field); ok {
			kind = spec.Kind
		}
		if !kind.Equal(f.Before, now[f.Field]) {
			return fmt.Sprintf("%s was %s when planned and is %s now", f.Field, f.Before, now[f.Field])
		}
	}
	c.Base = now
	return ""
}

// checkGroupDelete: a group is deleted only as it was when planned (Base),
// and, when Expect says so, only while it holds exactly those members.
func (x *remoteIndex) checkGroupDelete(c *Change, now map[string]Value) string {
	for _, k := range fieldOrder(c.System, KindGroup, c.Base) {
		if !equalField(c.System, KindGroup, k, c.Base[k], now[k]) {
			return fmt.Sprintf("%s was %s when planned and is %s now", k, c.Base[k], now[k])
		}
	}
	if c.Expect == nil {
		return ""
	}
	if _, read := x.phones[c.Key]; !read {
		return fmt.Sprintf("the members of group %s were not read", c.Key)
	}
	want := map[string]bool{}
	for _, n := range c.Expect.Members {
		want[n] = true
	}
	have := x.numbers(c.Key, c.Country)
	extra := len(x.phones[c.Key]) - len(have) // entries whose number is not valid, or duplicates
	for n := range have {
		if !want[n] {
			extra++
		}
	}
	missing := 0
	for n := range want {
		if !have[n] {
			missing++
		}
	}
	if extra > 0 || missing > 0 {
		return fmt.Sprintf("its members are not those the run added (%d more, %d fewer)", extra, missing)
	}
	return ""
}

func (x *remoteIndex) checkPhone(c *Change) string {
	if c.GroupKey == "" {
		return "" // its group is created in this run
	}
	if x.d.byKey[x.d.keyOf(c.GroupKey)] == nil {
		return fmt.Sprintf("group %s no longer exists", c.GroupKey)
	}
	ids, read := x.phones[c.GroupKey]
	if !read {
		return fmt.Sprintf("the members of group %s were not read", c.GroupKey)
	}
	if c.Action == Create {
		if x.numbers(c.GroupKey, c.Country)[c.Phone] {
			return "the number is a member now"
		}
		return ""
	}
	ph := ids[c.Key]
	if ph == nil {
		return fmt.Sprintf("phone entry %s no longer exists", c.Key)
	}
	// The entry holds the number it held when planned if it is written as
	// it was (Base), or as the same number (a number in national form is
	// read in its group's country).
	if ph.Number != c.Base["phone"].S && !sameNumber(ph.Number, c.Phone, c.Country) {
		return fmt.Sprintf("phone entry %s holds another number now", c.Key)
	}
	now := phoneRecord(ph)
	if c.Action == Delete {
		// A delete's "before" is the whole entry: one edited since the review
		// may be one someone wants to keep.
		for _, col := range PhoneColumns {
			if c.Base[col].S != now[col].S { // null and empty alike, as the diff compares them
				return fmt.Sprintf("%s was %s when planned and is %s now", col, c.Base[col], now[col])
			}
		}
		return ""
	}
	for _, f := range c.FieldList() {
		if f.Field == "phone" {
			continue
		}
		if f.Before.S != now[f.Field].S { // null and empty alike, as the diff compares them
			return fmt.Sprintf("%s was %s when planned and is %s now", f.Field, f.Before, now[f.Field])
		}
	}
	c.Base = now
	return ""
}

// checkUser finds a link or unlink stale when someone linked or unlinked
// that user since the plan was made.
func (x *remoteIndex) checkUser(c *Change) string {
	if c.GroupKey == "" {
		return "" // its group is created in this run
	}
	if x.d.byKey[x.d.keyOf(c.GroupKey)] == nil {
		return fmt.Sprintf("group %s no longer exists", c.GroupKey)
	}
	members, read := x.users[strings.ToLower(c.GroupKey)]
	if !read {
		return fmt.Sprintf("the members of group %s were not read", c.GroupKey)
	}
	member := members[strings.ToLower(c.Key)]
	switch {
	case c.Action == Create && member:
		return fmt.Sprintf("user %s is a member now", c.User)
	case c.Action == Delete && !member:
		return fmt.Sprintf("user %s is no longer a member", c.User)
	}
	return ""
}

// checkDelete checks a group delete of a saved plan: the group must still be
// as the plan's snapshot shows it (record, and members when they were read),
// so that the report's snapshot is what is deleted and undo rebuilds it.
func checkDelete(c *Change, r *RemoteGroup) string {
	if externalOrigin(r.Origin) {
		return fmt.Sprintf("its source is %q now: synchronised from another system", r.Origin)
	}
	if c.Snapshot == nil {
		return ""
	}
	now := map[string]Value{"name": Str(r.Name)}
	for k, v := range r.Fields {
		now[k] = v
	}
	for _, k := range sortedKeys(c.Snapshot.Fields) {
		kind := FieldText
		if spec, ok := FieldSpecFor(c.System, k); ok {
			kind = spec.Kind
		}
		if was := c.Snapshot.Fields[k]; !kind.Equal(was, now[k]) {
			return fmt.Sprintf("%s was %s when planned and is %s now", k, was, now[k])
		}
	}
	switch {
	case c.System == LOX24 && r.Phones != nil && c.Members != nil:
		if !samePhones(c.Snapshot.Phones, r.Phones) {
			return fmt.Sprintf("its members changed since the plan (%d then, %d now)", *c.Members, len(r.Phones))
		}
	case c.System == HelloID && r.Users != nil && c.Members != nil:
		if len(r.Users) != len(c.Snapshot.Users) {
			return fmt.Sprintf("its members changed since the plan (%d then, %d now)", *c.Members, len(r.Users))
		}
	}
	return ""
}

// samePhones reports whether the members read now are those of the snapshot:
// the same entries with the same numbers and columns.
func samePhones(snap []SnapshotPhone, now []RemotePhone) bool {
	if len(snap) != len(now) {
		return false
	}
	byID := make(map[string]SnapshotPhone, len(snap))
	for _, p := range snap {
		byID[p.ID] = p
	}
	for _, p := range now {
		s, ok := byID[p.ID]
		if !ok || s.Phone != p.Number {
			return false
		}
		for k, v := range p.Cols.Array() {
			if s.Cols[PhoneColumns[k]] != v {
				return false
			}
		}
	}
	return true
}

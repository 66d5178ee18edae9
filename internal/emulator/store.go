package emulator

import "sort"

// store is the emulator's data. Every access holds Server.mu.
type store struct {
	groups      []*loxGroup // sorted by id
	phoneGroup  map[int64]int64
	nextGroupID int64
	nextPhoneID int64

	hid      []*hidGroup // in creation order
	hidUsers []*hidUser  // the HelloID user directory, in creation order
}

type hidUser struct {
	guid string // lowercase
	name string // userName
}

// hidUser finds a HelloID user by the path segment or GUID that names it:
// as a GUID first (when it parses as one), then as a userName under the one
// identity rule.
func (db *store) hidUser(ref string) *hidUser {
	if guid, ok := parseGUID(ref); ok {
		for _, u := range db.hidUsers {
			if u.guid == guid {
				return u
			}
		}
	}
	key := foldName(ref)
	for _, u := range db.hidUsers {
		if foldName(u.name) == key {
			return u
		}
	}
	return nil
}

type loxGroup struct {
	id          int64
	name        string
	description *string
	cols        [5]*string // name_a .. name_e
	deletedAt   *string
	phones      []*loxPhone // sorted by id
}

type loxPhone struct {
	id                int64
	group             int64
	phone             string
	cols              [5]*string // a .. e
	callbackData      *string
	subscribedAt      *int64
	unsubscribedAt    *int64
	unsubscribeReason *int
}

type hidGroup struct {
	guid        string // lowercase
	name        string
	isEnabled   bool
	isDefault   bool
	isQrEnabled bool
	manager     *string  // lowercase GUID
	users       []string // lowercase GUIDs, in link order
	source      string   // "" for a group made here
}

func newStore() *store {
	return &store{
		phoneGroup:  map[int64]int64{},
		nextGroupID: firstLOX24Group,
		nextPhoneID: firstLOX24Phone,
	}
}

func (db *store) newGroupID() int64 {
	id := db.nextGroupID
	db.nextGroupID++
	return id
}

func (db *store) newPhoneID() int64 {
	id := db.nextPhoneID
	db.nextPhoneID++
	return id
}

// insertGroup adds g (whose id is not in use) keeping the groups sorted,
// and indexes its phones.
func (db *store) insertGroup(g *loxGroup) {
	sort.Slice(g.phones, func(i, j int) bool { return g.phones[i].id < g.phones[j].id })
	for _, p := range g.phones {
		p.group = g.id
		db.phoneGroup[p.id] = g.id
	}
	i := sort.Search(len(db.groups), func(i int) bool { return db.groups[i].id >= g.id })
	db.groups = append(db.groups, nil)
	copy(db.groups[i+1:], db.groups[i:])
	db.groups[i] = g
}

func (db *store) groupIndex(id int64) int {
	i := sort.Search(len(db.groups), func(i int) bool { return db.groups[i].id >= id })
	if i < len(db.groups) && db.groups[i].id == id {
		return i
	}
	return -1
}

func (db *store) group(id int64) *loxGroup {
	if i := db.groupIndex(id); i >= 0 {
		return db.groups[i]
	}
	return nil
}

func (db *store) deleteGroup(id int64) bool {
	i := db.groupIndex(id)
	if i < 0 {
		return false
	}
	db.setPhones(db.groups[i], nil)
	db.groups = append(db.groups[:i], db.groups[i+1:]...)
	return true
}

// setPhones replaces g's phone entries with phones (which get new ids).
func (db *store) setPhones(g *loxGroup, phones []*loxPhone) {
	for _, p := range g.phones {
		delete(db.phoneGroup, p.id)
	}
	g.phones = nil
	for _, p := range phones {
		db.addPhone(g, p)
	}
}

// addPhone gives p a new id and appends it to g; new ids are the largest,
// so g.phones stays sorted.
func (db *store) addPhone(g *loxGroup, p *loxPhone) {
	p.id = db.newPhoneID()
	p.group = g.id
	g.phones = append(g.phones, p)
	db.phoneGroup[p.id] = g.id
}

func phoneIndex(g *loxGroup, id int64) int {
	i := sort.Search(len(g.phones), func(i int) bool { return g.phones[i].id >= id })
	if i < len(g.phones) && g.phones[i].id == id {
		return i
	}
	return -1
}

func (db *store) phone(id int64) (*loxGroup, *loxPhone) {
	gid, ok := db.phoneGroup[id]
	if !ok {
		return nil, nil
	}
	g := db.group(gid)
	return g, g.phones[phoneIndex(g, id)]
}

func (db *store) deletePhone(id int64) bool {
	g, p := db.phone(id)
	if p == nil {
		return false
	}
	i := phoneIndex(g, id)
	g.phones = append(g.phones[:i], g.phones[i+1:]...)
	delete(db.phoneGroup, id)
	return true
}

// hidFind finds a HelloID group by the path segment that names it: as a GUID
// first (when it parses as one), then as a name, ignoring case.
func (db *store) hidFind(ref string) (int, *hidGroup) {
	if guid, ok := parseGUID(ref); ok {
		for i, g := range db.hid {
			if g.guid == guid {
				return i, g
			}
		}
	}
	return db.hidByName(ref)
}

func (db *store) hidByName(name string) (int, *hidGroup) {
	key := foldName(name)
	for i, g := range db.hid {
		if foldName(g.name) == key {
			return i, g
		}
	}
	return -1, nil
}

package plan

// Kind says what an item changes: a group or one phone entry of a group.
type Kind string

// Item kinds.
const (
	KindGroup Kind = "group"
	KindPhone Kind = "phone"
	// KindUser is one member of a HelloID group: create links the user,
	// delete unlinks it. Key is the userGuid, Group the groupGuid.
	KindUser Kind = "user"
)

// Action is what an item does remotely.
type Action string

// Actions.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// FieldChange is one field of an item, before and after.
type FieldChange struct {
	Field  string `json:"field"`
	Before Value  `json:"before"`
	After  Value  `json:"after"`
}

// Change is one item of a plan: a single create, update or delete of one
// group or one phone entry. It is plain data: printing, saving and applying
// a plan all work from it alone.
type Change struct {
	System System `json:"system"`
	Kind   Kind   `json:"kind"`
	Action Action `json:"action"`
	// Key is the remote id of the group or phone entry; empty for creates.
	Key string `json:"key,omitempty"`
	// Name is the group's name (for phone items, the name of their group).
	Name string `json:"name"`
	// GroupKey is, for member items (phones, users), the remote id of their
	// group; empty while the group is created in the same run (see
	// DependsOn).
	GroupKey string `json:"group,omitempty"`
	// DependsOn is, for phone items of a group created in the same run, the
	// index in Plan.Changes of that create, plus one (0: no dependency).
	DependsOn int `json:"depends_on,omitempty"`
	// Phone is, for phone items, the number in E.164 form.
	Phone string `json:"phone,omitempty"`
	// User is, for user items, the user's userName (its GUID when the
	// directory has no name for it).
	User string `json:"user,omitempty"`
	// Country is, for phone items (and a LOX24 group delete with Expect),
	// the group's default_country: a remote number in national form is
	// read in it, as the diff read it.
	Country string `json:"country,omitempty"`
	// Fields are the fields the item sets: for creates every managed field,
	// for updates only those that differ. Read them with FieldList: a phone
	// create that Diff made from a member file holds none (see member).
	Fields []FieldChange `json:"fields,omitempty"`
	// Base is, for updates, the whole remote record as it was read. A sink
	// whose API replaces the whole record sends Base with Fields applied, so
	// that no field the user did not mention is ever wiped.
	Base map[string]Value `json:"base,omitempty"`
	// Source is where in the input the item comes from.
	Source Source `json:"source"`
	// Note says why an item without a source exists, e.g. a phone delete:
	// "not in clients.csv" or "duplicate of clients.csv:4".
	Note string `json:"note,omitempty"`
	// Members is, for a group delete, how many members the group has (nil
	// when they were not read).
	Members *int `json:"members,omitempty"`
	// Snapshot is, for a group delete, the group's whole record and every
	// member as read, so that the report can keep them for undo.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// Expect, when set on a group delete, is what must still hold for the
	// delete to be sent; otherwise the item is stale.
	Expect *Expect `json:"expect,omitempty"`
	// Error, when set, says why the item cannot be applied (for example an
	// id that does not exist remotely). Such an item is never sent.
	Error string `json:"error,omitempty"`

	// member is, for a phone create that Diff made from a member file, the
	// desired member, and managed the member file's columns: the create's
	// fields are built from them when they are read (FieldList), and Fields
	// is nil. A group of a million new members then holds one Change per
	// member and no field list beside the member file's own strings.
	member  *Phone
	managed columnSet
}

// columnSet is a set of member columns, bit i for PhoneColumns[i].
type columnSet uint8

func columnSetOf(managed [NumPhoneCols]bool) columnSet {
	var s columnSet
	for i, m := range managed {
		if m {
			s |= 1 << i
		}
	}
	return s
}

// FieldList returns the fields the item sets (see Fields). Every reader of
// a change's fields reads them here.
func (c *Change) FieldList() []FieldChange {
	if c.member == nil {
		return c.Fields
	}
	return c.appendMemberFields(make([]FieldChange, 0, 1+NumPhoneCols))
}

// appendMemberFields appends a compact phone create's fields to dst: its
// number, then each managed column the member sets.
func (c *Change) appendMemberFields(dst []FieldChange) []FieldChange {
	dst = append(dst, FieldChange{Field: "phone", Before: Null, After: Str(c.member.Number)})
	for col, v := range c.member.Cols.Array() {
		if c.managed&(1<<col) != 0 && v != "" {
			dst = append(dst, FieldChange{Field: PhoneColumns[col], Before: Null, After: Str(v)})
		}
	}
	return dst
}

// expand gives the item its own field list (built from its member when it
// is a compact phone create), so that Fields can be read and changed
// directly.
func (c *Change) expand() {
	if c.member != nil {
		c.Fields = c.FieldList()
		c.member, c.managed = nil, 0
	}
}

// MarshalJSON writes the item as the JSON plan does (see appendChange),
// with its fields built for a compact phone create. Text is not
// HTML-escaped; an encoder that escapes does so itself.
func (c Change) MarshalJSON() ([]byte, error) {
	out, _, err := appendChange(nil, &c, "", nil)
	return out, err
}

// Expect is what a group delete requires of the group's current state.
type Expect struct {
	// Members are the numbers (E.164) the group must hold, no more and no
	// fewer: undoing a create deletes the group only when its members are
	// exactly those the run added.
	Members []string `json:"members"`
}

// Record returns the whole record the item leaves behind: Base with every
// field of Fields applied. A sink that must send the full representation
// sends this.
func (c *Change) Record() map[string]Value {
	fields := c.FieldList()
	out := make(map[string]Value, len(c.Base)+len(fields))
	for k, v := range c.Base {
		out[k] = v
	}
	for _, f := range fields {
		out[f.Field] = f.After
	}
	return out
}

// Plan is the ordered list of changes that makes the remote systems match
// the desired state, and how many items need no change.
type Plan struct {
	Changes []Change `json:"changes"`
	// Unchanged counts, per system, the groups and phone entries that already
	// match the desired state.
	Unchanged map[System]int `json:"unchanged"`
	// Systems lists the systems that were read for this plan, in output order.
	Systems []System `json:"systems"`
	// Members counts, per group key (LOX24 id, HelloID groupGuid), the
	// current members of each group whose members the files manage (for
	// the delete guard).
	Members map[string]int `json:"members,omitempty"`
	// Unread lists the systems the files mention that could not be read,
	// with why; nothing is planned for them.
	Unread []Unreadable `json:"-"`
	// Refused lists the safety guards the plan breaks: apply would refuse
	// it. Renderers show them; Check computes them.
	Refused []string `json:"-"`
	// Prune holds, per system with a prune scope, what pruning found.
	Prune map[System]PruneScope `json:"prune,omitempty"`
	// Shrinks are the groups and files that shrank past --max-shrink-pct
	// since the baseline; the shrink guard refuses the plan for them.
	Shrinks []Shrink `json:"shrinks,omitempty"`
	// Baseline, in a plan saved with --baseline, is the baseline of the
	// desired state the plan was made from: what apply --plan writes to
	// the baseline file after a run that exits 0.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// Counts tallies a plan's items per action for one system ("" for all).
type Counts struct {
	Create, Update, Delete, Errors, Unchanged int
}

// Count tallies the plan's items of one system, or of all systems when sys is "".
func (p *Plan) Count(sys System) Counts {
	var c Counts
	for i := range p.Changes {
		ch := &p.Changes[i]
		if sys != "" && ch.System != sys {
			continue
		}
		switch {
		case ch.Error != "":
			c.Errors++
		case ch.Action == Create:
			c.Create++
		case ch.Action == Update:
			c.Update++
		case ch.Action == Delete:
			c.Delete++
		}
	}
	for s, n := range p.Unchanged {
		if sys == "" || s == sys {
			c.Unchanged += n
		}
	}
	return c
}

// HasChanges reports whether applying the plan would send any write.
func (p *Plan) HasChanges() bool {
	for i := range p.Changes {
		if p.Changes[i].Error == "" {
			return true
		}
	}
	return false
}

// HasErrors reports whether any item cannot be applied.
func (p *Plan) HasErrors() bool {
	for i := range p.Changes {
		if p.Changes[i].Error != "" {
			return true
		}
	}
	return false
}

// Package export writes the current remote state as a desired-state YAML
// file, and LOX24 members as member CSV files, that the readers of package
// source read back unchanged: validate accepts them and plan, against the
// same state, shows no changes. It uses source's rules for ids, GUIDs, text
// and member file headers, so the writer and the readers cannot disagree.
package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"groupsync/internal/plan"
	"groupsync/internal/source"
)

// File is what export writes: the YAML document, the member files it
// names, and warnings about what could not be exported as it is.
type File struct {
	Systems  []plan.System
	YAML     []byte
	Members  []MemberFile
	Warnings []string
	Groups   map[plan.System]int // groups exported, per system
}

// MemberFile is the member CSV of one LOX24 group.
type MemberFile struct {
	Name   string         // file name, relative to the YAML's directory
	Data   []byte         // the CSV
	Labels map[string]int // the group's column labels, as source.ReadPhones takes them
}

// exporter turns the current state into a File.
type exporter struct {
	x      *File
	phones bool
	mask   func(string) string // how warnings show phone numbers
	users  *userNames          // HelloID members are exported when the directory was read
	// country reads remote numbers in national form; groups with members
	// then say default_country, so that a plan reads them the same way.
	country string
}

// Build renders the current state of systems as a desired-state file
// in which every group and field is listed, so every one of them is managed
// with its current value. With phones, each LOX24 group gets a member file.
// What cannot be written so that it reads back unchanged is left out and
// said in a comment and a warning. The output depends only on the state.
// mask says how warnings show phone numbers; country (ISO 3166 alpha-2, or
// "") is the country whose national form remote numbers may be in. When the
// HelloID state holds the user directory (Current.Users, read for `export
// --members`), each HelloID group whose members were read lists them, by
// userName.
func Build(systems []plan.System, cur map[plan.System]plan.Current, phones bool, mask func(string) string, country string) *File {
	e := exporter{x: &File{Systems: systems, Groups: map[plan.System]int{}}, phones: phones, mask: mask, country: country}
	if hid := cur[plan.HelloID]; hid.Users != nil && slices.Contains(systems, plan.HelloID) {
		e.users = newUserNames(hid.Users)
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, sys := range systems {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, g := range cur[sys].Groups {
			if g.DeletedAt != "" {
				// Plans refuse to change such a group; leave it out rather
				// than export what would never plan clean.
				e.warn("%s group %s %q is scheduled for deletion (deleted_at %s) and is left out", sys, g.Key, g.Name, g.DeletedAt)
				continue
			}
			if n := e.group(sys, g); n != nil {
				list.Content = append(list.Content, n)
			}
		}
		if len(list.Content) == 0 {
			list.Style = yaml.FlowStyle // groups: []
		}
		e.x.Groups[sys] = len(list.Content)
		root.Content = append(root.Content, str(string(sys)), mapping(str("groups"), list))
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: exportHeader(systems, phones, e.users != nil), Content: []*yaml.Node{root}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		// Encoding a tree of plain scalars, mappings and sequences cannot
		// fail; a failure here is a bug.
		panic(fmt.Sprintf("export: encode YAML: %v", err))
	}
	_ = enc.Close()
	e.x.YAML = buf.Bytes()
	return e.x
}

// exportHeader is the comment at the top of the file.
func exportHeader(systems []plan.System, phones, users bool) string {
	names := make([]string, len(systems))
	for i, s := range systems {
		names[i] = string(s)
	}
	lines := []string{
		"groupsync desired state, written by `groupsync export`: the groups of " + strings.Join(names, " and "),
		"as they were when it ran.",
		"#",
		"Every group and field is listed with its current value, so all of them are managed, and",
		"`groupsync plan` against the same state shows no changes. Review it, delete the groups and",
		"fields groupsync should leave alone (what is absent is never changed), commit it, then edit",
		"it and run `groupsync plan` and `groupsync apply`. Groups are addressed by id (LOX24) and",
		"groupGuid (HelloID), so changing a name here renames the group.",
	}
	if slices.Contains(systems, plan.LOX24) {
		if phones {
			lines = append(lines,
				"Each LOX24 group's members are in the file its phones: names, beside this one: the",
				"complete list, so members not in it are removed (phones_mode exact, the default).")
		} else {
			lines = append(lines,
				"LOX24 members are not listed, so they are unmanaged; `groupsync export --phones` lists",
				"them in member files.")
		}
	}
	if users {
		lines = append(lines,
			"Each HelloID group's members are its users: list (by userName): the complete list, so",
			"users not in it are unlinked (users_mode exact, the default).")
	}
	return strings.Join(lines, "\n")
}

// warn records a warning for stderr.
func (e *exporter) warn(format string, args ...any) {
	e.x.Warnings = append(e.x.Warnings, fmt.Sprintf(format, args...))
}

// group renders one group, or returns nil (with a warning) for a group the
// desired state cannot address or name.
func (e *exporter) group(sys plan.System, g plan.RemoteGroup) *yaml.Node {
	what := fmt.Sprintf("%s group %s %q", sys, g.Key, g.Name)
	var key, keyValue *yaml.Node
	switch {
	case sys == plan.LOX24 && isCanonicalID(g.Key):
		key, keyValue = str("id"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: g.Key}
	case sys == plan.HelloID && source.IsGUID(g.Key):
		key, keyValue = str("groupGuid"), str(g.Key)
	default:
		e.warn("%s is left out: its key is not one the desired state can address", what)
		return nil
	}
	if g.Name == "" {
		e.warn("%s is left out: it has no name, and the desired state requires one", what)
		return nil
	}
	if p := textProblem(g.Name, plan.NameMax[sys]); p != "" {
		e.warn("%s is left out: name: %s", what, p)
		return nil
	}
	m := mapping(key, keyValue, str("name"), str(g.Name))
	var notes []string
	for _, spec := range plan.GroupFields[sys] {
		v := g.Fields[spec.Name]
		if p := fieldProblem(spec, v); p != "" {
			notes = append(notes, fmt.Sprintf("%s is left out (so unmanaged): its current value %s.", spec.Name, p))
			e.warn("%s: %s is left out (unmanaged): its current value %s", what, spec.Name, p)
			continue
		}
		m.Content = append(m.Content, str(spec.Name), valueNode(spec, v))
	}
	if sys == plan.LOX24 && e.phones {
		notes = append(notes, e.members(what, g, m)...)
	}
	if sys == plan.HelloID && e.users != nil && g.Users != nil {
		notes = append(notes, e.userList(what, g, m)...)
	}
	m.HeadComment = strings.Join(notes, "\n")
	return m
}

// fieldProblem says why v cannot be written as the value of the field spec
// describes, or returns "".
func fieldProblem(spec plan.FieldSpec, v plan.Value) string {
	switch {
	case !v.Valid && !spec.Nullable:
		return "is null, which the field does not allow"
	case !v.Valid:
		return ""
	case spec.Kind == plan.FieldBool && v.S != "true" && v.S != "false":
		return "is not a boolean"
	case spec.Kind == plan.FieldGUID && !source.IsGUID(v.S):
		return "is not a GUID"
	case spec.Kind == plan.FieldText:
		return textProblem(v.S, spec.Max)
	}
	return ""
}

// textProblem says why s is not valid text of at most limit characters (0:
// no limit), as the readers check it, or returns "".
func textProblem(s string, limit int) string {
	switch p := source.CheckText(s, limit); {
	case p == "":
		return ""
	case strings.HasPrefix(p, "not "):
		return "is " + p // is not valid UTF-8
	case p[0] >= '0' && p[0] <= '9':
		return "has " + p // has 300 characters, at most 255
	default:
		return p // contains control character U+001B (not allowed in text)
	}
}

// isCanonicalID reports whether key is a LOX24 group id that the desired
// state reads back as itself.
func isCanonicalID(key string) bool {
	id, ok := source.ParseID(key)
	return ok && id == key
}

// members writes the member file of a LOX24 group and adds phones (and
// phones_mode when needed) to m. It returns notes for the group's comment.
//
// The file holds the first entry of every number, normalised to E.164.
// Entries it cannot hold so that they read back unchanged are left out:
// numbers that are not valid E.164, further entries of a number, entries
// with a value too long or holding a CR LF. exact mode would delete those,
// so such a group gets phones_mode: additive.
func (e *exporter) members(what string, g plan.RemoteGroup, m *yaml.Node) []string {
	var notes []string
	labels := source.Labels(g.Fields)
	header, cols, dropped := memberHeader(labels)
	if header == nil {
		e.warn("%s: members are not exported: a column label (name_a..name_e) is \"phone\", so no member file header can name the number column", what)
		return []string{"Members are not exported (so unmanaged): a column label (name_a..name_e) is \"phone\",",
			"so no member file header can name the number column."}
	}
	for _, col := range dropped {
		notes = append(notes, fmt.Sprintf("Column %s is not in the member file (so unmanaged): the column labels make both its name and its label ambiguous as a header.", col))
		e.warn("%s: member column %s is not exported (unmanaged): the column labels make its header ambiguous", what, col)
	}
	name := "members-" + g.Key + ".csv"
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(header)
	rec := make([]string, len(header))
	seen := make(map[string]bool, len(g.Phones))
	var invalid, dups, unfit []string // numbers left out, by reason
	for i := range g.Phones {
		p := &g.Phones[i]
		n, ok := plan.NormalizePhoneIn(p.Number, e.country)
		switch {
		case !ok:
			invalid = append(invalid, p.Number)
			continue
		case seen[n]:
			dups = append(dups, n)
			continue
		}
		seen[n] = true
		if !fits(p, cols) {
			unfit = append(unfit, n)
			continue
		}
		rec[0] = n
		for j, col := range cols {
			rec[j+1] = p.Cols.Get(col)
		}
		_ = w.Write(rec)
	}
	w.Flush() // writing to a bytes.Buffer cannot fail
	e.x.Members = append(e.x.Members, MemberFile{Name: name, Data: buf.Bytes(), Labels: labels})
	m.Content = append(m.Content, str("phones"), str(name))
	if e.country != "" {
		m.Content = append(m.Content, str("default_country"), str(e.country))
	}
	left := len(invalid) + len(dups) + len(unfit)
	if left == 0 {
		return notes
	}
	var why, shown []string
	for _, r := range []struct {
		nums      []string
		one, many string
	}{
		{invalid, "number that is not valid E.164", "numbers that are not valid E.164"},
		{dups, "further entry of a number already listed", "further entries of numbers already listed"},
		{unfit, "entry with a value too long or with a CR LF line break", "entries with a value too long or with a CR LF line break"},
	} {
		if len(r.nums) == 0 {
			continue
		}
		why = append(why, fmt.Sprintf("%d %s", len(r.nums), plural(len(r.nums), r.one, r.many)))
		for _, n := range r.nums {
			if len(shown) < 5 {
				shown = append(shown, e.mask(n))
			}
		}
	}
	if left > len(shown) {
		shown = append(shown, "...")
	}
	mode := str("phones_mode")
	mode.HeadComment = fmt.Sprintf("%d %s left out of %s, which cannot hold them as they are:\n  %s\n"+
		"phones_mode additive keeps them in LOX24 (it never deletes); fix them there and\n"+
		"export again to manage the list exactly.", left, plural(left, "member is", "members are"), name, strings.Join(why, "\n  "))
	m.Content = append(m.Content, mode, str(string(plan.PhonesAdditive)))
	e.warn("%s: %d %s left out of %s (%s; numbers: %s); the group is exported with phones_mode: additive so that plan and apply never delete them",
		what, left, plural(left, "member", "members"), name, strings.Join(why, ", "), strings.Join(shown, ", "))
	return notes
}

// fits reports whether the entry's values in cols read back unchanged from a
// member file: valid UTF-8 within the column's limit, and no CR LF, which
// encoding/csv reads as LF.
func fits(p *plan.RemotePhone, cols []int) bool {
	for _, col := range cols {
		v := p.Cols.Get(col)
		if textProblem(v, plan.PhoneColumnMax[col]) != "" || strings.Contains(v, "\r\n") {
			return false
		}
	}
	return true
}

// headerNames returns the column a member file header names for
// source.ReadPhones: source.NumberColumn, 0..5 for plan.PhoneColumns, or
// source.NoColumn when it names none or is ambiguous.
func headerNames(h string, labels map[string]int) int {
	col, problem := source.PhoneHeader(h, labels)
	if problem != "" {
		return source.NoColumn
	}
	return col
}

// memberHeader chooses the header of a member file: phone, then each column
// under its own name or, when the labels make that ambiguous, under its
// label. It returns the header, the column index of each cell after the
// first, and the columns that no header can name unambiguously (left out, so
// unmanaged). header is nil when the number column cannot be named.
func memberHeader(labels map[string]int) (header []string, cols []int, dropped []string) {
	if headerNames(source.PhoneColumn, labels) != source.NumberColumn {
		return nil, nil, nil
	}
	header = []string{source.PhoneColumn}
	for i, col := range plan.PhoneColumns {
		candidates := []string{col}
		for label, j := range labels {
			if j == i { // at most one label: a shared one maps to source.SharedLabel
				candidates = append(candidates, label)
			}
		}
		chosen := ""
		for _, h := range candidates {
			if headerNames(h, labels) == i {
				chosen = h
				break
			}
		}
		if chosen == "" {
			dropped = append(dropped, col)
			continue
		}
		header = append(header, chosen)
		cols = append(cols, i)
	}
	return header, cols, dropped
}

// Check proves the export is what it claims: read back with the desired-state
// readers, it plans to no changes against cur, the state it was made from.
func (x *File) Check(cur map[plan.System]plan.Current) error {
	const name = "export.yaml"
	groups, errs := source.ReadYAML(name, bytes.NewReader(x.YAML))
	if len(errs) > 0 {
		return fmt.Errorf("the exported YAML does not validate (a bug in groupsync export): %w", errs)
	}
	files := map[string]MemberFile{}
	for _, m := range x.Members {
		files[m.Name] = m
	}
	for i := range groups {
		ph := groups[i].Phones
		if ph == nil {
			continue
		}
		m, ok := files[filepath.Base(ph.File)]
		if !ok {
			return fmt.Errorf("the exported YAML names %s, which export did not make (a bug in groupsync export)", ph.File)
		}
		got, errs := source.ReadPhones(m.Name, bytes.NewReader(m.Data), m.Labels)
		if len(errs) > 0 {
			return fmt.Errorf("the exported member file %s does not validate (a bug in groupsync export): %w", m.Name, errs)
		}
		ph.Managed, ph.List = got.Managed, got.List
	}
	p := plan.Diff(plan.Desired{Groups: groups}, cur)
	for i := range p.Changes {
		c := &p.Changes[i]
		return fmt.Errorf("the export would not plan to no changes (a bug in groupsync export): %s %s", plan.Symbol(c), plan.Title(c, plan.RenderOptions{}))
	}
	return nil
}

// str returns a string scalar that reads back as s. yaml.v3 quotes what YAML
// 1.2 would read as another type ("123", "null", "true"); the YAML 1.1
// booleans (yes, no, on, off, ...) are quoted too, for other YAML tools.
// Text with line breaks is a literal block where that reads back exactly,
// and double-quoted where it does not (yaml.v3 writes blocks that lose
// leading line breaks and whitespace-only lines).
func str(s string) *yaml.Node {
	n := &yaml.Node{}
	n.SetString(s)
	if yaml11Bool[strings.ToLower(s)] || n.Style == yaml.LiteralStyle && !readsBack(n, s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// readsBack reports whether the scalar n, written as a mapping's value,
// reads back as s.
func readsBack(n *yaml.Node, s string) bool {
	out, err := yaml.Marshal(mapping(&yaml.Node{Kind: yaml.ScalarNode, Value: "k"}, n))
	if err != nil {
		return false
	}
	var back struct{ K string }
	return yaml.Unmarshal(out, &back) == nil && back.K == s
}

var yaml11Bool = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true}

// valueNode renders a field's value: null, a boolean, or a string.
func valueNode(spec plan.FieldSpec, v plan.Value) *yaml.Node {
	switch {
	case !v.Valid:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case spec.Kind == plan.FieldBool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v.S}
	}
	return str(v.S)
}

// mapping returns a mapping node of the given keys and values.
func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// userNames is the HelloID user directory, as export names members.
type userNames struct {
	byGUID map[string]string // lowercase GUID -> userName
	count  map[string]int    // NameKey(userName) -> users with that name
}

func newUserNames(users []plan.RemoteUser) *userNames {
	u := &userNames{byGUID: make(map[string]string, len(users)), count: make(map[string]int, len(users))}
	for _, r := range users {
		u.byGUID[strings.ToLower(r.GUID)] = r.UserName
		u.count[plan.NameKey(r.UserName)]++
	}
	return u
}

// ref is how a member is written: its userName when that names it alone
// and reads back as one, otherwise its GUID.
func (u *userNames) ref(guid string) string {
	name, ok := u.byGUID[strings.ToLower(guid)]
	if !ok || source.CheckUser(name) != "" || source.IsGUID(name) || u.count[plan.NameKey(name)] != 1 {
		return guid
	}
	return name
}

// userList writes a HelloID group's members as its users: list. A group
// whose members another system syncs (source) is left unmanaged.
func (e *exporter) userList(what string, g plan.RemoteGroup, m *yaml.Node) []string {
	if plan.IsExternalSource(g.Origin) {
		e.warn("%s: members are not exported (unmanaged): source %q syncs them", what, g.Origin)
		return []string{fmt.Sprintf("Members are not exported (so unmanaged): source %q syncs them.", g.Origin)}
	}
	list := &yaml.Node{Kind: yaml.SequenceNode}
	seen := map[string]bool{}
	for _, guid := range g.Users {
		if seen[strings.ToLower(guid)] {
			continue
		}
		seen[strings.ToLower(guid)] = true
		list.Content = append(list.Content, str(e.users.ref(guid)))
	}
	if len(list.Content) == 0 {
		list.Style = yaml.FlowStyle // users: []
	}
	m.Content = append(m.Content, str("users"), list)
	return nil
}

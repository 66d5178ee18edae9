package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink/lox24"
	"groupsync/internal/source"
)

// export prints the current remote state as a desired-state YAML file that
// validate accepts and that plan, against the same remote state, plans to no
// changes: the first step of taking existing groups under management.
func (c *cli) export(ctx context.Context, args []string) int {
	fs := c.newFlagSet("export", "export [flags]\n\n"+
		"Print the current remote state as a desired-state YAML file: validate accepts it, and plan\n"+
		"shows no changes against the same state. Commit it, then manage the groups by editing it.\n"+
		"Sends GET requests only.")
	var f remoteFlags
	f.register(fs, c.env)
	fs.Lookup("only").Usage = "export one system only: lox24 or helloid (default: both, and both must be configured)"
	withPhones := fs.Bool("phones", false, "also export each LOX24 group's members, to members-<id>.csv beside the YAML file")
	out := fs.String("out", "", "write the YAML to `FILE` (atomically) instead of stdout")
	asState := fs.Bool("emulator-state", false, "write the state as the emulator's JSON state instead (members included), to rehearse on `groupsync emulate --state FILE`")
	rest, err := parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(rest) > 0 {
		return c.usageErr(fs, "unexpected argument %q: export reads the remote state, not files (use --out FILE to name the output)", rest[0])
	}
	if msg := f.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	if *out != "" {
		// Fail on an unwritable destination now, not after reading everything.
		if st, err := os.Stat(filepath.Dir(*out)); err != nil || !st.IsDir() {
			return c.fatal(fmt.Errorf("export: --out %s: directory %s does not exist", *out, filepath.Dir(*out)))
		}
	}
	systems := plan.Systems
	if f.only != "" {
		systems = []plan.System{plan.System(f.only)}
	}
	return c.session(ctx, &f, "export", func(*runMetrics) int {
		sinks, err := c.exportSinks(&f, systems)
		if err != nil {
			return c.fatal(err)
		}
		cur, err := exportRead(ctx, f.logger(c), sinks, *withPhones || *asState, f.lox24Workers)
		if err != nil {
			return c.fatal(err)
		}
		if *asState {
			return c.writeEmulatorState(cur, *out)
		}
		mask := plan.MaskPhone
		if f.showPhones {
			mask = func(n string) string { return n }
		}
		x := buildExport(systems, cur, *withPhones, mask, f.input.options().DefaultCountry)
		if err := x.check(cur); err != nil {
			return c.fatal(fmt.Errorf("export: nothing written: %w", err))
		}
		for _, w := range x.warnings {
			fmt.Fprintf(c.stderr, "groupsync: warning: %s\n", w)
		}
		return c.writeExport(x, *out)
	})
}

// exportSinks builds the client of every system to export. Every missing
// credential or URL is reported before any request; without --only, the
// error suggests exporting the systems that are configured.
func (c *cli) exportSinks(f *remoteFlags, systems []plan.System) (map[plan.System]plan.Sink, error) {
	sinks := map[plan.System]plan.Sink{}
	var errs []error
	var ready []plan.System
	for _, sys := range systems {
		s, err := f.sinks(c.env, []plan.System{sys})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sinks[sys] = s[sys]
		ready = append(ready, sys)
	}
	if len(errs) == 0 {
		return sinks, nil
	}
	err := errors.Join(errs...)
	if f.only == "" {
		hint := "export reads both systems unless --only names one"
		if len(ready) == 1 {
			hint += fmt.Sprintf("; to export %s alone, add --only %s", ready[0], ready[0])
		} else {
			hint += " (--only lox24 or --only helloid)"
		}
		err = fmt.Errorf("%w\n%s", err, hint)
	}
	return nil, err
}

// exportRead reads every system side by side; with phones, LOX24's members
// of every group too. The first failure cancels the other reads and is the
// error returned.
func exportRead(ctx context.Context, log *slog.Logger, sinks map[plan.System]plan.Sink, phones bool, lox24Workers int) (map[plan.System]plan.Current, error) {
	var mu sync.Mutex
	out := map[plan.System]plan.Current{}
	eg, ctx := errgroup.WithContext(ctx)
	for sys, s := range sinks {
		read := func(ctx context.Context) (plan.Current, error) { return s.Read(ctx, nil) }
		if lc, ok := s.(*lox24.Client); ok && phones {
			lc.SetReadWorkers(lox24Workers)
			read = lc.ReadWithMembers
		}
		eg.Go(func() error {
			start := time.Now()
			cur, err := read(ctx)
			if err != nil {
				return err
			}
			log.Info("read", "system", sys, "groups", len(cur.Groups), "duration", time.Since(start).Round(time.Millisecond))
			mu.Lock()
			out[sys] = cur
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// writeExport writes the member files, then the YAML (to path, or stdout
// when path is ""), so that the YAML never names a file not yet written.
// Member files go beside the YAML: in path's directory, or the current one.
func (c *cli) writeExport(x *exportFile, path string) int {
	dir := "."
	if path != "" {
		dir = filepath.Dir(path)
	}
	for _, m := range x.members {
		if err := plan.WriteFileAtomic(filepath.Join(dir, m.name), m.data); err != nil {
			return c.fatal(fmt.Errorf("export: write member file: %w", err))
		}
	}
	where := "stdout"
	if path == "" {
		if _, err := c.stdout.Write(x.yaml); err != nil {
			return c.fatal(fmt.Errorf("export: write: %w", err))
		}
	} else {
		if err := plan.WriteFileAtomic(path, x.yaml); err != nil {
			return c.fatal(fmt.Errorf("export: write: %w", err))
		}
		where = path
	}
	var parts []string
	for _, sys := range x.systems {
		parts = append(parts, fmt.Sprintf("%d %s %s", x.groups[sys], sys, plural(x.groups[sys], "group", "groups")))
	}
	files := ""
	if len(x.members) > 0 {
		files = fmt.Sprintf(", with %d member %s in %s", len(x.members), plural(len(x.members), "file", "files"), dir)
	}
	fmt.Fprintf(c.stderr, "Exported %s to %s%s.\n", strings.Join(parts, " and "), where, files)
	return exitOK
}

// exportFile is what export writes: the YAML document, the member files it
// names, and warnings about what could not be exported as it is.
type exportFile struct {
	systems  []plan.System
	yaml     []byte
	members  []memberFile
	warnings []string
	groups   map[plan.System]int // groups exported, per system
}

// memberFile is the member CSV of one LOX24 group.
type memberFile struct {
	name   string         // file name, relative to the YAML's directory
	data   []byte         // the CSV
	labels map[string]int // the group's column labels, as source.ReadPhones takes them
}

// exporter turns the current state into an exportFile.
type exporter struct {
	x      *exportFile
	phones bool
	mask   func(string) string // how warnings show phone numbers
	// country reads remote numbers in national form (--default-country);
	// groups with members then say default_country, so that a plan reads
	// those numbers the same way.
	country string
}

// buildExport renders the current state of systems as a desired-state file
// in which every group and field is listed, so every one of them is managed
// with its current value. With phones, each LOX24 group gets a member file.
// What cannot be written so that it reads back unchanged is left out and
// said in a comment and a warning. The output depends only on the state.
func buildExport(systems []plan.System, cur map[plan.System]plan.Current, phones bool, mask func(string) string, country string) *exportFile {
	e := exporter{x: &exportFile{systems: systems, groups: map[plan.System]int{}}, phones: phones, mask: mask, country: country}
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
		e.x.groups[sys] = len(list.Content)
		root.Content = append(root.Content, str(string(sys)), mapping(str("groups"), list))
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: exportHeader(systems, phones), Content: []*yaml.Node{root}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		// Encoding a tree of plain scalars, mappings and sequences cannot
		// fail; a failure here is a bug.
		panic(fmt.Sprintf("export: encode YAML: %v", err))
	}
	_ = enc.Close()
	e.x.yaml = buf.Bytes()
	return e.x
}

// exportHeader is the comment at the top of the file.
func exportHeader(systems []plan.System, phones bool) string {
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
	return strings.Join(lines, "\n")
}

// warn records a warning for stderr.
func (e *exporter) warn(format string, args ...any) {
	e.x.warnings = append(e.x.warnings, fmt.Sprintf(format, args...))
}

// guidRE matches a GUID as the desired state accepts it.
var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// idRE matches a LOX24 group id as the desired state accepts it.
var idRE = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)

// group renders one group, or returns nil (with a warning) for a group the
// desired state cannot address or name.
func (e *exporter) group(sys plan.System, g plan.RemoteGroup) *yaml.Node {
	what := fmt.Sprintf("%s group %s %q", sys, g.Key, g.Name)
	var key, keyValue *yaml.Node
	switch {
	case sys == plan.LOX24 && idRE.MatchString(g.Key):
		key, keyValue = str("id"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: g.Key}
	case sys == plan.HelloID && guidRE.MatchString(g.Key):
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
	case spec.Kind == plan.KindBool && v.S != "true" && v.S != "false":
		return "is not a boolean"
	case spec.Kind == plan.KindGUID && !guidRE.MatchString(v.S):
		return "is not a GUID"
	case spec.Kind == plan.KindText:
		return textProblem(v.S, spec.Max)
	}
	return ""
}

// textProblem says why s is not valid text of at most limit characters (0:
// no limit), or returns "".
func textProblem(s string, limit int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); limit > 0 && n > limit {
		return fmt.Sprintf("has %d characters, at most %d are allowed", n, limit)
	}
	return ""
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
	e.x.members = append(e.x.members, memberFile{name: name, data: buf.Bytes(), labels: labels})
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
// source.ReadPhones: -1 for the number, 0..5 for plan.PhoneColumns, or -2
// when it names none or is ambiguous.
func headerNames(h string, labels map[string]int) int {
	named := -2
	if h == "phone" {
		named = -1
	}
	for i, col := range plan.PhoneColumns {
		if h == col {
			named = i
		}
	}
	if label, ok := labels[h]; ok {
		if label < 0 || label > 4 || named != -2 && named != label {
			return -2
		}
		return label
	}
	return named
}

// memberHeader chooses the header of a member file: phone, then each column
// under its own name or, when the labels make that ambiguous, under its
// label. It returns the header, the column index of each cell after the
// first, and the columns that no header can name unambiguously (left out, so
// unmanaged). header is nil when the number column cannot be named.
func memberHeader(labels map[string]int) (header []string, cols []int, dropped []string) {
	if headerNames("phone", labels) != -1 {
		return nil, nil, nil
	}
	header = []string{"phone"}
	for i, col := range plan.PhoneColumns {
		candidates := []string{col}
		for label, j := range labels {
			if j == i { // at most one label: a shared one maps to -1
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

// check proves the export is what it claims: read back with the desired-state
// readers, it plans to no changes against cur, the state it was made from.
func (x *exportFile) check(cur map[plan.System]plan.Current) error {
	const name = "export.yaml"
	groups, errs := source.ReadYAML(name, bytes.NewReader(x.yaml))
	if len(errs) > 0 {
		return fmt.Errorf("the exported YAML does not validate (a bug in groupsync export): %w", errs)
	}
	files := map[string]memberFile{}
	for _, m := range x.members {
		files[m.name] = m
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
		got, errs := source.ReadPhones(m.name, bytes.NewReader(m.data), m.labels)
		if len(errs) > 0 {
			return fmt.Errorf("the exported member file %s does not validate (a bug in groupsync export): %w", m.name, errs)
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
	case spec.Kind == plan.KindBool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v.S}
	}
	return str(v.S)
}

// mapping returns a mapping node of the given keys and values.
func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
}

// writeEmulatorState writes the state read as the emulator's JSON state,
// so that a migration can be rehearsed on a copy of the real groups.
// Subscription timestamps and HelloID memberships are not read by
// groupsync and so not copied.
func (c *cli) writeEmulatorState(cur map[plan.System]plan.Current, path string) int {
	var st emulator.State
	st.LOX24.Groups = []emulator.LOX24Group{}
	st.HelloID.Groups = []emulator.HelloIDGroup{}
	opt := func(v plan.Value) *string {
		if !v.Valid {
			return nil
		}
		s := v.S
		return &s
	}
	col := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for _, g := range cur[plan.LOX24].Groups {
		id, err := strconv.ParseInt(g.Key, 10, 64)
		if err != nil {
			return c.fatal(fmt.Errorf("export: lox24 group id %q is not a number", g.Key))
		}
		var deletedAt *string
		if g.DeletedAt != "" {
			deletedAt = &g.DeletedAt
		}
		eg := emulator.LOX24Group{ID: id, Name: g.Name, DeletedAt: deletedAt, Description: opt(g.Fields["description"]),
			NameA: opt(g.Fields["name_a"]), NameB: opt(g.Fields["name_b"]), NameC: opt(g.Fields["name_c"]),
			NameD: opt(g.Fields["name_d"]), NameE: opt(g.Fields["name_e"]), Phones: []emulator.LOX24Phone{}}
		for _, p := range g.Phones {
			eg.Phones = append(eg.Phones, emulator.LOX24Phone{ID: p.ID, Phone: p.Number,
				A: col(p.Cols.Get(0)), B: col(p.Cols.Get(1)), C: col(p.Cols.Get(2)), D: col(p.Cols.Get(3)), E: col(p.Cols.Get(4)), CallbackData: col(p.Cols.Get(5))})
		}
		st.LOX24.Groups = append(st.LOX24.Groups, eg)
	}
	for _, g := range cur[plan.HelloID].Groups {
		st.HelloID.Groups = append(st.HelloID.Groups, emulator.HelloIDGroup{GroupGUID: g.Key, Name: g.Name,
			IsEnabled: g.Fields["isEnabled"].S == "true", IsDefault: g.Fields["isDefault"].S == "true",
			IsQrEnabled: g.Fields["isQrEnabled"].S == "true", ManagedByUserGUID: opt(g.Fields["managedByUserGuid"]), Users: []string{}})
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return c.fatal(err)
	}
	b = append(b, '\n')
	if path == "" {
		if _, err := c.stdout.Write(b); err != nil {
			return c.fatal(err)
		}
		return exitOK
	}
	if err := plan.WriteFileAtomic(path, b); err != nil {
		return c.fatal(fmt.Errorf("export: %w", err))
	}
	fmt.Fprintf(c.stderr, "Emulator state of %d lox24 and %d helloid groups written to %s; rehearse with: groupsync emulate --state %s\n",
		len(st.LOX24.Groups), len(st.HelloID.Groups), path, path)
	return exitOK
}

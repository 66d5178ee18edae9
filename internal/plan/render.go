package plan

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// RenderOptions tune the human output of a plan.
type RenderOptions struct {
	// ShowPhones shows phone numbers unmasked.
	ShowPhones bool
	// Detail shows every member line; by default a group shows its first
	// MemberLines and its counts.
	Detail bool
	// Color marks + green, ~ yellow and - red with ANSI escapes (text only).
	Color bool
	// BaseDir, when set, makes the input files cited relative to it.
	BaseDir string
	// Summary leaves the items out of text output: refusals, the systems
	// not read and the summary lines only.
	Summary bool
}

// WriteText writes the plan for humans: first the safety guards it breaks,
// then per system one line per group-level item (+ create, ~ update,
// - delete, ! cannot be applied) with its field diffs and the input
// file:line it comes from, each group's member changes rolled up into
// counts and its first MemberLines member lines (all with opt.Detail), a
// group delete with the members it takes along, a system's prune scope with
// the groups in the prefix that stay, a system that could not be read said
// plainly, a summary line per system and one for the whole plan. The output
// is a pure function of the plan.
func WriteText(w io.Writer, p *Plan, opt RenderOptions) error {
	ew := &errWriter{w: w}
	if len(p.Refused) > 0 {
		ew.printf("%s\n", refusedIntro)
		for _, r := range p.Refused {
			ew.printf("  - %s\n", oneLine(r))
		}
		ew.printf("\n")
	}
	for _, sv := range newView(p).systems {
		if opt.Summary {
			if sv.unread != "" {
				ew.printf("%s\n", unreadLine(sv.sys, sv.unread))
			} else {
				ew.printf("%s: %s\n", sv.sys, summary(sv.counts))
			}
			continue
		}
		ew.printf("%s\n", sv.sys)
		if sv.unread != "" {
			ew.printf("  %s\n\n", unreadLine(sv.sys, sv.unread))
			continue
		}
		for _, b := range sv.blocks {
			writeBlock(ew, b, opt)
		}
		if sc, ok := p.Prune[sv.sys]; ok {
			ew.printf("  %s\n", pruneLine(p, sv.sys, sc))
			for _, k := range sc.Kept {
				ew.printf("      stays: group %s %q (%s)\n", k.Key, k.Name, k.Why)
			}
		}
		ew.printf("  %s: %s\n\n", sv.sys, summary(sv.counts))
	}
	ew.printf("%s\n", closing(p))
	return ew.err
}

func writeBlock(ew *errWriter, b *block, opt RenderOptions) {
	if b.head != nil {
		writeItem(ew, "  ", Title(b.head, opt), b.head, opt)
	} else {
		ew.printf("    %s\n", b.title(opt))
	}
	if len(b.members) == 0 {
		return
	}
	ew.printf("      %s\n", b.rollup())
	shown := b.members
	if !opt.Detail && len(shown) > MemberLines {
		shown = shown[:MemberLines]
	}
	for _, c := range shown {
		writeItem(ew, "      ", memberTitle(c, opt), c, opt)
	}
	if n := len(b.members) - len(shown); n > 0 {
		ew.printf("      … %d more member %s (--detail shows all)\n", n, plural(n, "line", "lines"))
	}
}

func summary(c Counts) string {
	s := fmt.Sprintf("%d to create, %d to update, %d to delete, %d unchanged", c.Create, c.Update, c.Delete, c.Unchanged)
	if c.Errors > 0 {
		s += fmt.Sprintf(", %d %s", c.Errors, plural(c.Errors, "error", "errors"))
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Symbol returns the one-character marker of an item in human output.
func Symbol(c *Change) string {
	switch {
	case c.Error != "":
		return "!"
	case c.Action == Create:
		return "+"
	case c.Action == Delete:
		return "-"
	}
	return "~"
}

// Title names an item for humans, e.g. `group 12344 "My Clients"` or
// `phone +49151*****817 in group 12344 "My Clients"`.
func Title(c *Change, opt RenderOptions) string {
	var b strings.Builder
	b.WriteString(string(c.Kind))
	if c.Kind == KindPhone {
		b.WriteString(" " + displayPhone(c.Phone, opt.ShowPhones))
		switch {
		case c.GroupKey != "":
			fmt.Fprintf(&b, " in group %s %q", c.GroupKey, c.Name)
		case c.DependsOn != 0:
			fmt.Fprintf(&b, " in new group %q", c.Name)
		default:
			fmt.Fprintf(&b, " in group %q", c.Name)
		}
		return b.String()
	}
	if c.Kind == KindUser {
		b.WriteString(" " + c.User)
		if c.GroupKey != "" {
			fmt.Fprintf(&b, " in group %s %q", c.GroupKey, c.Name)
		} else {
			fmt.Fprintf(&b, " in new group %q", c.Name)
		}
		return b.String()
	}
	if c.Key != "" {
		b.WriteString(" " + c.Key)
	}
	fmt.Fprintf(&b, " %q", c.Name)
	return b.String()
}

func writeItem(ew *errWriter, indent, title string, c *Change, opt RenderOptions) {
	where := sourceOf(c, opt)
	if ref := deleteRef(c); ref != "" {
		where += "; " + ref
	}
	if where != "" {
		where = "  (" + strings.TrimPrefix(where, "; ") + ")"
	}
	ew.printf("%s%s %s%s\n", indent, colored(Symbol(c), opt), title, where)
	pad := indent + "    "
	if c.Error != "" {
		ew.printf("%serror: %s\n", pad, c.Error)
		return
	}
	lines := itemFields(c, opt)
	width := 0
	for _, f := range lines {
		width = max(width, len(f.field))
	}
	for _, f := range lines {
		gap := strings.Repeat(" ", width-len(f.field))
		if !f.change {
			ew.printf("%s%s:%s %s\n", pad, f.field, gap, f.after)
			continue
		}
		ew.printf("%s%s:%s %s -> %s\n", pad, f.field, gap, f.before, f.after)
	}
}

// sourceOf is the file:line an item cites, relative to opt.BaseDir when set.
func sourceOf(c *Change, opt RenderOptions) string {
	return RelSource(c.Source, opt.BaseDir).String()
}

// RelSource returns s with its file relative to base, when base is set and
// the file lies under it.
func RelSource(s Source, base string) Source {
	if base == "" || s.File == "" {
		return s
	}
	if rel, err := filepath.Rel(base, s.File); err == nil && !strings.HasPrefix(rel, "..") {
		s.File = filepath.ToSlash(rel)
	}
	return s
}

// colored wraps an item's symbol in its ANSI colour when opt.Color is set:
// + green, ~ yellow, - red, ! bold red.
func colored(sym string, opt RenderOptions) string {
	if !opt.Color {
		return sym
	}
	code := ""
	switch sym {
	case "+":
		code = "32"
	case "~":
		code = "33"
	case "-":
		code = "31"
	case "!":
		code = "1;31"
	default:
		return sym
	}
	return "\x1b[" + code + "m" + sym + "\x1b[0m"
}

// memberCount renders a group delete's member count ("not read" when the
// members were not read).
func memberCount(c *Change) string {
	if c.Members == nil {
		return "not read"
	}
	return fmt.Sprint(*c.Members)
}

// pruneLine summarises a system's prune scope: how many groups are in the
// prefix, how many are deleted and how many stay.
func pruneLine(p *Plan, sys System, sc PruneScope) string {
	n := 0
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.System == sys && c.Kind == KindGroup && c.Action == Delete && c.Error == "" {
			n++
		}
	}
	return fmt.Sprintf("prune %q: %d of %d %s in the prefix to delete, %d %s",
		sc.NamePrefix, n, sc.InScope, plural(sc.InScope, "group", "groups"), len(sc.Kept), plural(len(sc.Kept), "stays", "stay"))
}

// deleteRef is what human output adds to a delete's source: the remote id
// and why the item is deleted, e.g. "id 7, not in clients.csv"; "" for other
// actions.
func deleteRef(c *Change) string {
	if c.Action != Delete {
		return ""
	}
	ref := "id " + c.Key
	if c.Kind == KindUser {
		ref = "userGuid " + c.Key
	}
	if c.Note != "" {
		ref += ", " + c.Note
	}
	return ref
}

// shownFields are the field changes human output lists under an item: all
// of them, except a phone item's number, which its title already shows.
func shownFields(c *Change) []FieldChange {
	fields := c.FieldList()
	if c.Kind == KindPhone && len(fields) > 0 && fields[0].Field == "phone" {
		fields = fields[1:]
	}
	return fields
}

// display renders one field value: booleans bare, text quoted, phone
// numbers masked unless asked otherwise.
func display(c *Change, field string, v Value, opt RenderOptions) string {
	if !v.Valid {
		return v.String()
	}
	if spec, ok := FieldSpecFor(c.System, field); ok && spec.Kind == FieldBool {
		return v.S
	}
	if field == "phone" && !opt.ShowPhones {
		return fmt.Sprintf("%q", MaskPhone(v.S))
	}
	return v.String()
}

// displayPhone returns the number as human output shows it.
func displayPhone(n string, show bool) string {
	if show {
		return n
	}
	return MaskPhone(n)
}

// MaskPhone hides the middle of a phone number, keeping the first six and
// the last three characters: +4915112345817 -> +49151*****817. Short numbers
// keep less.
func MaskPhone(n string) string {
	r := []rune(n)
	keepHead, keepTail := 6, 3
	if len(r) <= keepHead+keepTail {
		keepHead, keepTail = min(len(r)/3, keepHead), min(len(r)/4, keepTail)
	}
	hidden := len(r) - keepHead - keepTail
	return string(r[:keepHead]) + strings.Repeat("*", hidden) + string(r[len(r)-keepTail:])
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

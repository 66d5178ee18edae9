package plan

import (
	"fmt"
	"io"
	"strings"
)

// RenderOptions tune the human output of a plan.
type RenderOptions struct {
	// ShowPhones shows phone numbers unmasked.
	ShowPhones bool
}

// WriteText writes the plan for humans: per system one line per item
// (+ create, ~ update, - delete, ! cannot be applied) with its field diffs and
// the input file:line it comes from, then a summary line per system and one
// for the whole plan. The output is a pure function of the plan.
func WriteText(w io.Writer, p *Plan, opt RenderOptions) error {
	ew := &errWriter{w: w}
	for _, s := range p.Shrinks {
		ew.printf("! shrink guard: %s\n", s.Error())
	}
	if len(p.Shrinks) > 0 {
		ew.printf("\n")
	}
	for _, sys := range p.Systems {
		ew.printf("%s\n", sys)
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.System != sys {
				continue
			}
			writeItem(ew, c, opt)
		}
		if sc, ok := p.Prune[sys]; ok {
			ew.printf("  %s\n", pruneLine(p, sys, sc))
			for _, k := range sc.Kept {
				ew.printf("      stays: group %s %q (%s)\n", k.Key, k.Name, k.Why)
			}
		}
		ew.printf("  %s: %s\n\n", sys, summary(p.Count(sys)))
	}
	if len(p.Systems) == 0 {
		ew.printf("No system to plan for.\n")
		return ew.err
	}
	if !p.HasChanges() && !p.HasErrors() {
		ew.printf("No changes. The remote state matches the files.\n")
		return ew.err
	}
	ew.printf("Plan: %s.\n", summary(p.Count("")))
	return ew.err
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
		if c.Group != "" {
			fmt.Fprintf(&b, " in group %s %q", c.Group, c.Name)
		} else {
			fmt.Fprintf(&b, " in new group %q", c.Name)
		}
		return b.String()
	}
	if c.Kind == KindUser {
		b.WriteString(" " + c.User)
		if c.Group != "" {
			fmt.Fprintf(&b, " in group %s %q", c.Group, c.Name)
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

func writeItem(ew *errWriter, c *Change, opt RenderOptions) {
	where := c.Source.String()
	if ref := deleteRef(c); ref != "" {
		where += "; " + ref
	}
	if where != "" {
		where = "  (" + strings.TrimPrefix(where, "; ") + ")"
	}
	ew.printf("  %s %s%s\n", Symbol(c), Title(c, opt), where)
	if c.Error != "" {
		ew.printf("      error: %s\n", c.Error)
		return
	}
	if c.Kind == KindGroup && c.Action == Delete {
		ew.printf("      members: %s (deleted with the group)\n", memberCount(c))
	}
	fields := shownFields(c)
	width := 0
	for _, f := range fields {
		width = max(width, len(f.Field))
	}
	for _, f := range fields {
		before, after := display(c, f.Field, f.Before, opt), display(c, f.Field, f.After, opt)
		pad := strings.Repeat(" ", width-len(f.Field))
		if c.Action == Create {
			ew.printf("      %s:%s %s\n", f.Field, pad, after)
			continue
		}
		ew.printf("      %s:%s %s -> %s\n", f.Field, pad, before, after)
	}
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
	fields := c.Fields
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
	if spec, ok := FieldSpecFor(c.System, field); ok && spec.Kind == KindBool {
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

package plan

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
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
	var lb lineBuf
	if b.head != nil {
		writeItem(ew, &lb, "  ", Title(b.head, opt), b.head, opt)
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
	// Member lines are built in one buffer, reused from line to line and
	// written out in chunks: a block of a million members leaves no
	// garbage per member.
	buf := lb.buf[:0]
	for _, c := range shown {
		buf = append(buf, "      "...)
		buf = appendColored(buf, Symbol(c), opt)
		buf = append(buf, ' ')
		buf = appendMemberTitle(buf, c, opt)
		buf = lb.appendItemRest(buf, "      ", c, opt)
		if len(buf) >= 64<<10 {
			ew.write(buf)
			buf = buf[:0]
		}
	}
	ew.write(buf)
	lb.buf = buf
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

func writeItem(ew *errWriter, lb *lineBuf, indent, title string, c *Change, opt RenderOptions) {
	buf := lb.buf[:0]
	buf = append(buf, indent...)
	buf = appendColored(buf, Symbol(c), opt)
	buf = append(buf, ' ')
	buf = append(buf, title...)
	buf = lb.appendItemRest(buf, indent, c, opt)
	ew.write(buf)
	lb.buf = buf
}

// lineBuf is the scratch human output builds item lines in, reused from
// one item to the next.
type lineBuf struct {
	buf    []byte
	fields []FieldChange
	// file and rel are the last source file made relative to
	// RenderOptions.BaseDir, and the result.
	file, rel string
}

// appendItemRest appends the rest of an item's line after its title (the
// file:line it comes from and, for a delete, the remote id and why), then
// its field lines or its error, each under indent.
func (lb *lineBuf) appendItemRest(dst []byte, indent string, c *Change, opt RenderOptions) []byte {
	ref := deleteRef(c)
	mark := len(dst)
	dst = append(dst, "  ("...)
	start := len(dst)
	dst = lb.appendSource(dst, c.Source, opt)
	if ref != "" {
		dst = append(dst, "; "...)
		dst = append(dst, ref...)
	}
	switch {
	case len(dst) == start:
		dst = dst[:mark]
	default:
		if len(dst)-start >= 2 && dst[start] == ';' && dst[start+1] == ' ' {
			dst = append(dst[:start], dst[start+2:]...)
		}
		dst = append(dst, ')')
	}
	dst = append(dst, '\n')
	if c.Error != "" {
		dst = append(dst, indent...)
		dst = append(dst, "    error: "...)
		dst = append(dst, c.Error...)
		return append(dst, '\n')
	}
	fields := c.Fields
	if c.member != nil {
		lb.fields = c.appendMemberFields(lb.fields[:0])
		fields = lb.fields
	}
	if c.Action == Delete && len(fields) == 0 {
		lines := itemFields(c, opt)
		width := 0
		for _, f := range lines {
			width = max(width, len(f.field))
		}
		for _, f := range lines {
			dst = appendFieldLine(dst, indent, f.field, width)
			if f.change {
				dst = append(dst, f.before...)
				dst = append(dst, " -> "...)
			}
			dst = append(dst, f.after...)
			dst = append(dst, '\n')
		}
		return dst
	}
	if c.Kind == KindPhone && len(fields) > 0 && fields[0].Field == "phone" {
		fields = fields[1:] // the title shows the number
	}
	width := 0
	for _, f := range fields {
		width = max(width, len(f.Field))
	}
	for _, f := range fields {
		dst = appendFieldLine(dst, indent, f.Field, width)
		if c.Action != Create {
			dst = appendDisplay(dst, c, f.Field, f.Before, opt)
			dst = append(dst, " -> "...)
		}
		dst = appendDisplay(dst, c, f.Field, f.After, opt)
		dst = append(dst, '\n')
	}
	return dst
}

// appendFieldLine appends the start of a field line: the field's name under
// indent, padded to width, up to its value.
func appendFieldLine(dst []byte, indent, field string, width int) []byte {
	dst = append(dst, indent...)
	dst = append(dst, "    "...)
	dst = append(dst, field...)
	dst = append(dst, ':')
	for range width - len(field) {
		dst = append(dst, ' ')
	}
	return append(dst, ' ')
}

// appendSource appends the file:line s cites, as sourceOf renders it.
func (lb *lineBuf) appendSource(dst []byte, s Source, opt RenderOptions) []byte {
	if s.File == "" {
		return dst
	}
	if opt.BaseDir != "" {
		if s.File != lb.file {
			lb.file, lb.rel = s.File, RelSource(s, opt.BaseDir).File
		}
		s.File = lb.rel
	}
	dst = append(dst, s.File...)
	if s.Line != 0 {
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(s.Line), 10)
	}
	return dst
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

// appendColored appends an item's symbol, wrapped in its ANSI colour when
// opt.Color is set: + green, ~ yellow, - red, ! bold red.
func appendColored(dst []byte, sym string, opt RenderOptions) []byte {
	code := ""
	if opt.Color {
		switch sym {
		case "+":
			code = "32"
		case "~":
			code = "33"
		case "-":
			code = "31"
		case "!":
			code = "1;31"
		}
	}
	if code == "" {
		return append(dst, sym...)
	}
	dst = append(dst, "\x1b["...)
	dst = append(dst, code...)
	dst = append(dst, 'm')
	dst = append(dst, sym...)
	return append(dst, "\x1b[0m"...)
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

// appendDisplay appends display(c, field, v, opt).
func appendDisplay(dst []byte, c *Change, field string, v Value, opt RenderOptions) []byte {
	if !v.Valid {
		return append(dst, "null"...)
	}
	if spec, ok := FieldSpecFor(c.System, field); ok && spec.Kind == FieldBool {
		return append(dst, v.S...)
	}
	if field == "phone" && !opt.ShowPhones {
		return strconv.AppendQuote(dst, MaskPhone(v.S))
	}
	return strconv.AppendQuote(dst, v.S) // as %q
}

// displayPhone returns the number as human output shows it.
func displayPhone(n string, show bool) string {
	if show {
		return n
	}
	return MaskPhone(n)
}

// appendPhone appends displayPhone(n, show).
func appendPhone(dst []byte, n string, show bool) []byte {
	if show {
		return append(dst, n...)
	}
	return appendMasked(dst, n)
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

// appendMasked appends MaskPhone(n), without allocating when n is ASCII,
// as numbers are.
func appendMasked(dst []byte, n string) []byte {
	for i := 0; i < len(n); i++ {
		if n[i] >= utf8.RuneSelf {
			return append(dst, MaskPhone(n)...)
		}
	}
	keepHead, keepTail := 6, 3
	if len(n) <= keepHead+keepTail {
		keepHead, keepTail = min(len(n)/3, keepHead), min(len(n)/4, keepTail)
	}
	dst = append(dst, n[:keepHead]...)
	for range len(n) - keepHead - keepTail {
		dst = append(dst, '*')
	}
	return append(dst, n[len(n)-keepTail:]...)
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

func (e *errWriter) write(p []byte) {
	if e.err != nil || len(p) == 0 {
		return
	}
	_, e.err = e.w.Write(p)
}

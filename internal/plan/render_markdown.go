package plan

import (
	"fmt"
	"html"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MarkdownLimit is the size, in bytes, a Markdown plan stays under: a
// merge-request comment has a size limit (GitHub's is 65,536 characters).
// Only member lines are cut to fit.
const MarkdownLimit = 60000

// WriteMarkdown writes the plan as GitHub/GitLab-flavoured Markdown, for
// posting in a merge request: a heading with the plan's summary, a leading
// block with the safety guards it breaks, then per system a heading, a
// system that could not be read said plainly, its summary and a table of
// its group-level items (never cut), then per group with member changes a
// collapsed <details> block with its counts and a table of its member
// lines. The whole stays under MarkdownLimit bytes: member lines are cut
// from the end to fit, and it says how many; a group whose member lines are
// all cut gets no block, only a count in one line per system. Group-level
// items are never cut: if they alone are over the limit, they are all
// shown, with every member line cut, and it says so. Cells hold the same words as
// WriteText, with phone numbers masked unless opt.ShowPhones; everything
// taken from the plan is escaped, so no name or value can break the table
// or turn into markup. The output is a pure function of the plan.
func WriteMarkdown(w io.Writer, p *Plan, opt RenderOptions) error {
	return writeMarkdownLimit(w, p, opt, MarkdownLimit)
}

func writeMarkdownLimit(w io.Writer, p *Plan, opt RenderOptions, limit int) error {
	opt.Color = false
	v := newView(p)
	l := mdLayout{rows: map[*block][]string{}, shown: map[*block]int{}}
	var order []*block // the blocks with member rows, in output order
	for _, sv := range v.systems {
		if sv.unread != "" {
			continue
		}
		for _, b := range sv.blocks {
			if len(b.members) == 0 {
				continue
			}
			l.cut += len(b.members)
			order = append(order, b)
		}
	}
	// What is never cut, with every member line cut and every note at its
	// longest: then each group's block, in order, while it fits; the first
	// that does not fit whole shows the member lines that fit, and every
	// later one is cut whole, so that lines are cut from the end. A row is
	// rendered only while the rows so far fit, so a group of a million
	// members costs the rows a comment can hold, not a million.
	size := len(renderMarkdown(p, v, opt, l, limit))
	if size > limit {
		l.over = true
	}
	for _, b := range order {
		if l.over {
			break
		}
		frame := len(mdDetailsHead(b, opt)) + len(mdDetailsTail(0))
		var rows []string
		sum, whole := 0, true
		for _, c := range b.members {
			r := mdRow(memberTitle(c, opt), c, opt)
			rows = append(rows, r)
			sum += len(r)
			if size+frame+sum > limit {
				whole = false
				break
			}
		}
		l.rows[b] = rows
		if whole {
			size += frame + sum
			l.shown[b] = len(rows)
			l.cut -= len(rows)
			continue
		}
		// The rows that fit beside the block's longest cut note are among
		// those rendered: that note is no shorter than none.
		size += len(mdDetails(b, nil, opt))
		n := 0
		for n < len(rows) && size+len(rows[n]) <= limit {
			size += len(rows[n])
			n++
		}
		l.shown[b] = n
		l.cut -= n
		break
	}
	_, err := io.WriteString(w, renderMarkdown(p, v, opt, l, limit))
	return err
}

// mdLayout says which member lines a Markdown plan shows.
type mdLayout struct {
	rows  map[*block][]string // the first member rows of each block, those the limit can show and one more
	shown map[*block]int      // how many of a block's rows are shown; 0: its block is left out
	cut   int                 // member rows not shown
	over  bool                // the part never cut is over the limit alone
}

// renderMarkdown renders the plan with the member lines l shows.
func renderMarkdown(p *Plan, v view, opt RenderOptions, l mdLayout, limit int) string {
	var b strings.Builder
	switch {
	case len(v.systems) == 0:
		b.WriteString("## groupsync plan: No system to plan for\n")
		return b.String()
	case len(p.Unread) > 0 && !p.HasChanges() && !p.HasErrors():
		fmt.Fprintf(&b, "## groupsync plan: %d %s NOT READ\n", len(p.Unread), plural(len(p.Unread), "system", "systems"))
	case !p.HasChanges() && !p.HasErrors():
		b.WriteString("## groupsync plan: No changes\n\nThe remote state matches the files.\n")
	default:
		fmt.Fprintf(&b, "## groupsync plan: %s\n", summary(p.Count("")))
	}
	if len(p.Refused) > 0 {
		fmt.Fprintf(&b, "\n> [!CAUTION]\n> **%s**\n>\n", mdText(refusedIntro))
		for _, r := range p.Refused {
			fmt.Fprintf(&b, "> - %s\n", mdText(oneLine(r)))
		}
	}
	switch n := l.cut; {
	case l.over:
		fmt.Fprintf(&b, "\n%d member %s cut: the group-level changes alone are over %d characters, and they are never cut; `groupsync plan --format text --detail` shows them all.\n", n, plural(n, "line", "lines"), limit)
	case n > 0:
		fmt.Fprintf(&b, "\n%d member %s cut to keep this comment under %d characters; `groupsync plan --format text --detail` shows them all.\n", n, plural(n, "line", "lines"), limit)
	}
	for _, sv := range v.systems {
		fmt.Fprintf(&b, "\n### %s\n\n", mdText(string(sv.sys)))
		if sv.unread != "" {
			fmt.Fprintf(&b, "**%s**\n", mdText(unreadLine(sv.sys, sv.unread)))
			continue
		}
		b.WriteString(summary(sv.counts) + "\n")
		if sc, ok := p.Prune[sv.sys]; ok {
			fmt.Fprintf(&b, "\n%s\n", mdText(pruneLine(p, sv.sys, sc)))
			for _, k := range sc.Kept {
				fmt.Fprintf(&b, "- stays: %s\n", mdText(fmt.Sprintf("group %s %q (%s)", k.Key, k.Name, k.Why)))
			}
		}
		for i, bl := range sv.blocks {
			if i == 0 {
				b.WriteString("\n| | Item | Source | Change |\n|---|---|---|---|\n")
			}
			if bl.head != nil {
				b.WriteString(mdRow(Title(bl.head, opt), bl.head, opt))
				continue
			}
			fmt.Fprintf(&b, "| | %s | | %s |\n", mdText(bl.title(opt)), mdText(bl.rollup()))
		}
		hiddenGroups, hiddenRows := 0, 0
		for _, bl := range sv.blocks {
			if len(bl.members) == 0 {
				continue
			}
			if n := l.shown[bl]; n > 0 {
				b.WriteString(mdDetails(bl, l.rows[bl][:n], opt))
				continue
			}
			hiddenGroups++
			hiddenRows += len(bl.members)
		}
		if hiddenGroups > 0 {
			fmt.Fprintf(&b, "\n… the member lines of %d more %s (%d %s) cut for size\n",
				hiddenGroups, plural(hiddenGroups, "group", "groups"), hiddenRows, plural(hiddenRows, "line", "lines"))
		}
	}
	return b.String()
}

// mdDetails is the collapsed block of a group's member lines showing rows,
// its first member rows, and saying how many of its members it cuts. With
// no rows it is the block's size with no row, at its longest.
func mdDetails(bl *block, rows []string, opt RenderOptions) string {
	var b strings.Builder
	b.WriteString(mdDetailsHead(bl, opt))
	for _, r := range rows {
		b.WriteString(r)
	}
	b.WriteString(mdDetailsTail(len(bl.members) - len(rows)))
	return b.String()
}

// mdDetailsHead is what a group's member block starts with: its summary and
// the head of its table.
func mdDetailsHead(bl *block, opt RenderOptions) string {
	return fmt.Sprintf("\n<details><summary>%s: %s</summary>\n", htmlText(bl.title(opt)), htmlText(bl.rollup())) +
		"\n| | Member | Source | Change |\n|---|---|---|---|\n"
}

// mdDetailsTail is what a group's member block ends with: how many of its
// member lines are cut, when any are.
func mdDetailsTail(cut int) string {
	s := ""
	if cut > 0 {
		s = fmt.Sprintf("\n… %d member %s of this group cut for size\n", cut, plural(cut, "line", "lines"))
	}
	return s + "\n</details>\n"
}

// mdRow is one table row of an item.
func mdRow(title string, c *Change, opt RenderOptions) string {
	return fmt.Sprintf("| %s | %s | %s | %s |\n", mdCode(Symbol(c)), mdText(title), mdSource(c, opt), mdChange(c, opt))
}

// mdSource is an item's Source cell: the file:line as code, and for a
// delete the remote id and the reason, as in WriteText.
func mdSource(c *Change, opt RenderOptions) string {
	var parts []string
	if s := sourceOf(c, opt); s != "" {
		parts = append(parts, mdCode(s))
	}
	if ref := deleteRef(c); ref != "" {
		parts = append(parts, mdText(ref))
	}
	return strings.Join(parts, "; ")
}

// mdChange is an item's Change cell: its error, or one field per line.
func mdChange(c *Change, opt RenderOptions) string {
	if c.Error != "" {
		return mdText("error: " + c.Error)
	}
	fields := itemFields(c, opt)
	lines := make([]string, len(fields))
	for i, f := range fields {
		if !f.change {
			lines[i] = mdText(f.field + ": " + f.after)
			continue
		}
		lines[i] = mdText(f.field+": "+f.before) + " → " + mdText(f.after)
	}
	return strings.Join(lines, "<br>")
}

// mdText escapes s for a table cell: every character that Markdown, GFM
// tables, strikethrough, math or raw HTML would read as syntax gets a
// backslash, and a line break becomes <br>, so the row stays one line.
// Underscores inside a word (name_a) are not emphasis and stay as they are.
func mdText(s string) string {
	var b strings.Builder
	prev := rune(-1)
	for i, r := range s {
		switch r {
		case '\\', '`', '*', '[', ']', '<', '>', '&', '|', '~', '$':
			b.WriteByte('\\')
		case '_':
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if !isWordRune(prev) || !isWordRune(next) {
				b.WriteByte('\\')
			}
		case '\n':
			b.WriteString("<br>")
			prev = r
			continue
		case '\r':
			prev = r
			continue
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// htmlText escapes s for text inside a raw HTML block (a <summary>), where
// Markdown's backslash escapes do not apply: it is HTML-escaped, and a line
// break, which could end the block, becomes a space.
func htmlText(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return html.EscapeString(s)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// mdCode renders s as a code span that holds any text: its fence is one
// backtick longer than the longest run of backticks in s, it is padded
// with a space where s would otherwise touch the fence with a backtick or
// lose an edge space, and line breaks become spaces (as Markdown would do).
// A | must be escaped even in a code span, because GFM splits a table row
// before it parses code: it takes \| as a pipe, and \\| as a backslash and
// the end of the cell. So every | gets an odd number of backslashes before
// it; a row never breaks, though a backslash right before a | may show one
// backslash less or more.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	var b strings.Builder
	slashes := 0
	for _, r := range s {
		if r == '|' && slashes%2 == 0 {
			b.WriteByte('\\')
		}
		if r == '\\' {
			slashes++
		} else {
			slashes = 0
		}
		b.WriteRune(r)
	}
	s = b.String()
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.TrimSpace(s) != "" {
		s = " " + s + " "
	}
	return fmt.Sprintf("%s%s%s", fence, s, fence)
}

package plan

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// markdownMaxRows is how many items of one system WriteMarkdown lists
// before it says how many more there are: a merge request comment has a
// size limit, and a reviewer reads the first rows anyway.
const markdownMaxRows = 200

// WriteMarkdown writes the plan as GitHub/GitLab-flavoured Markdown, for
// posting in a merge request: a heading with the plan's summary, then per
// system a heading, its summary and a table with one row per item (at most
// 200). Cells hold the same words as WriteText, with phone
// numbers masked unless opt.ShowPhones; everything taken from the plan is
// escaped, so no name or value can break the table or turn into markup.
// The output is a pure function of the plan.
func WriteMarkdown(w io.Writer, p *Plan, opt RenderOptions) error {
	ew := &errWriter{w: w}
	switch {
	case len(p.Systems) == 0:
		ew.printf("## groupsync plan: No system to plan for\n")
		return ew.err
	case !p.HasChanges() && !p.HasErrors():
		ew.printf("## groupsync plan: No changes\n\nThe remote state matches the files.\n")
	default:
		ew.printf("## groupsync plan: %s\n", summary(p.Count("")))
	}
	for i, s := range p.Shrinks {
		if i == 0 {
			ew.printf("\n**Refused by the shrink guard:**\n\n")
		}
		ew.printf("- %s\n", mdText(s.Error()))
	}
	for _, sys := range p.Systems {
		ew.printf("\n### %s\n\n%s\n", mdText(string(sys)), summary(p.Count(sys)))
		if sc, ok := p.Prune[sys]; ok {
			ew.printf("\n%s\n", mdText(pruneLine(p, sys, sc)))
			for _, k := range sc.Kept {
				ew.printf("- stays: %s\n", mdText(fmt.Sprintf("group %s %q (%s)", k.Key, k.Name, k.Why)))
			}
		}
		rows, more := 0, 0
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.System != sys {
				continue
			}
			if rows == markdownMaxRows {
				more++
				continue
			}
			if rows == 0 {
				ew.printf("\n| | Item | Source | Change |\n|---|---|---|---|\n")
			}
			rows++
			ew.printf("| %s | %s | %s | %s |\n", mdCode(Symbol(c)), mdText(Title(c, opt)), mdSource(c), mdChange(c, opt))
		}
		if more > 0 {
			ew.printf("\n… and %d more %s (see the full plan with --format text)\n", more, plural(more, "item", "items"))
		}
	}
	return ew.err
}

// mdSource is an item's Source cell: the file:line as code, and for a
// delete the remote id and the reason, as in WriteText.
func mdSource(c *Change) string {
	var parts []string
	if s := c.Source.String(); s != "" {
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
	fields := shownFields(c)
	lines := make([]string, len(fields))
	if c.Kind == KindGroup && c.Action == Delete {
		lines = append(lines, mdText("members: "+memberCount(c)+" (deleted with the group)"))
	}
	for i, f := range fields {
		after := display(c, f.Field, f.After, opt)
		if c.Action == Create {
			lines[i] = mdText(f.Field + ": " + after)
			continue
		}
		lines[i] = mdText(f.Field+": "+display(c, f.Field, f.Before, opt)) + " → " + mdText(after)
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

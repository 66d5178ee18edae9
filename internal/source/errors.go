package source

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxErrorsPerFile bounds how many errors one file reports, so that a member
// file of a million bad rows does not produce a million lines. The rest are
// counted in one closing error.
const maxErrorsPerFile = 100

// Error is one input error, with the place it stands in the input.
type Error struct {
	File   string // the path as the user gave it
	Line   int    // 1-based; 0 when the error concerns the whole file
	Column int    // 1-based; 0 when unknown or not helpful
	Field  string // the field or column concerned, or ""
	Msg    string // what is wrong, lowercase
}

// Error renders e as file:line[:col]: [field: ]msg, for example
// "groups.csv:12: name: 51 characters, at most 50".
func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every input error of a read, sorted by file, line and column.
type Errors []Error

// Error renders one error per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors one by one, so that a caller that lists the
// errors of a joined error (the report's errors list) gets one per line.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// unique drops the repeats of errors found before, keeping the order. A
// member file that several groups name is read for each of them, and its
// errors are the same each time.
func (es Errors) unique() Errors {
	seen := make(map[Error]bool, len(es))
	out := es[:0]
	for _, e := range es {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// sort orders es by file, then line, then column, keeping the order in which
// errors were found for ties.
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b Error) int {
		return cmp.Or(
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
		)
	})
}

// errorList collects the errors of one file, keeping at most
// maxErrorsPerFile of them and counting the rest.
type errorList struct {
	file    string
	errs    Errors
	dropped int
}

// add records an error at line:col of the file.
func (l *errorList) add(line, col int, field, format string, args ...any) {
	if len(l.errs) >= maxErrorsPerFile {
		l.dropped++
		return
	}
	l.errs = append(l.errs, Error{File: l.file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// result returns the errors, sorted, with a note (for the whole file, so it
// sorts first) on those left out.
func (l *errorList) result() Errors {
	es := l.errs
	if l.dropped > 0 {
		es = append(es, Error{File: l.file, Msg: fmt.Sprintf("too many errors: the first %d are shown, %d more are not", len(l.errs), l.dropped)})
	}
	es.sort()
	return es
}

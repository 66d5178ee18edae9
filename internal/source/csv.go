package source

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"groupsync/internal/plan"
)

// The CSV readers use encoding/csv rather than a library that unmarshals rows
// into structs: such a library can tell neither the line a value stood on nor
// an empty cell from an absent column, and both matter here (errors cite
// file:line; an absent column is unmanaged while an empty cell clears a field).

// readCSV calls row for every record of cr after the header, skipping rows
// whose cells are all empty (as spreadsheets write them) and reporting rows
// whose number of cells differs from the header's, repeats of the header, and
// syntax errors. header gets the header row, cells trimmed, and returns false
// if the rows cannot be read with it; row gets each record and its line.
func readCSV(cr *csv.Reader, errs *errorList, header func([]string) bool, row func(rec []string, line int)) {
	rec, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		errs.add(1, 0, "", "empty file: a header row is required")
		return
	case err != nil:
		addCSVError(errs, err)
		return
	}
	cols := make([]string, len(rec))
	for i, c := range rec {
		cols[i] = strings.TrimSpace(c)
	}
	if !header(cols) {
		return
	}
	for {
		before := cr.InputOffset()
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			addCSVError(errs, err)
			var be *badEncodingError
			if errors.As(err, &be) || cr.InputOffset() == before {
				return // no progress: give up on the rest of the file
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(cols) {
			if !blank(rec) {
				errs.add(line, 0, "", "%s, but the header has %d", cells(len(rec)), len(cols))
			}
			continue
		}
		if blank(rec) {
			continue
		}
		if sameCells(rec, cols) {
			errs.add(line, 0, "", "the header row again: a file has one header row")
			continue
		}
		row(rec, line)
	}
}

// cells says how many cells a row has.
func cells(n int) string {
	if n == 1 {
		return "1 cell"
	}
	return fmt.Sprintf("%d cells", n)
}

// addCSVError records a syntax error from encoding/csv.
func addCSVError(errs *errorList, err error) {
	var be *badEncodingError
	if errors.As(err, &be) {
		switch be.enc {
		case "UTF-16":
			errs.add(be.line, 0, "", "not valid UTF-16 (the first bad character is on this line): save the file as \"CSV UTF-8\"")
		case "UTF-8":
			errs.add(be.line, 0, "", "not valid UTF-8 (the first bad byte is on this line): save the file as \"CSV UTF-8\", or name its encoding (encoding: windows-1252)")
		default:
			errs.add(be.line, 0, "", "not valid %s (the first bad byte is on this line): save the file as \"CSV UTF-8\"", be.enc)
		}
		return
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine > 0 && pe.StartLine != pe.Line {
			// A quote left open runs on over the following lines: say
			// where the row began, which is where the mistake usually is.
			errs.add(pe.Line, pe.Column, "", "%s (in the row that starts on line %d)", pe.Err, pe.StartLine)
			return
		}
		errs.add(pe.Line, pe.Column, "", "%s", pe.Err)
		return
	}
	errs.add(0, 0, "", "%s", err)
}

// blank reports whether every cell of rec is empty or spaces.
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// sameCells reports whether rec, cells trimmed, equals cols.
func sameCells(rec, cols []string) bool {
	for i, c := range rec {
		if strings.TrimSpace(c) != cols[i] {
			return false
		}
	}
	return true
}

// ReadGroupsCSV reads one CSV file of groups. The header row names the
// columns: system (lox24 or helloid, required), name (required), and any of
// the other fields of either system (id, description, name_a..name_e, phones,
// phones_mode, groupGuid, isEnabled, isDefault, isQrEnabled,
// managedByUserGuid). A column absent from the header is unmanaged for every
// row. An empty cell clears a nullable text field, leaves a boolean
// unmanaged, and for id, groupGuid, phones and phones_mode means "not given".
// A filled cell in a column of the other system's fields is an error.
// Booleans are true/false/yes/no/1/0 in any letter case. A UTF-8 byte order
// mark and CRLF line ends are accepted; rows whose cells are all empty are
// skipped.
//
// name is the file's path as the user gave it, as for ReadYAML; member
// files are not read. ReadGroupsCSV reports every error it finds, each with
// file and line; when there are errors the groups returned must not be used,
// except to look for further errors.
func ReadGroupsCSV(name string, r io.Reader) ([]plan.Group, Errors) {
	errs := &errorList{file: name}
	var (
		groups []plan.Group
		fields []string // per column: its field, or "" to ignore it
		sysCol = -1
	)
	header := func(cols []string) bool {
		fields = make([]string, len(cols))
		first := map[string]int{}
		for i, c := range cols {
			if c == "" {
				errs.add(1, 0, "", "column %d has no name", i+1)
				continue
			}
			switch j, dup := first[c]; {
			case dup:
				errs.add(1, 0, "", "column %s repeated (first is column %d)", quote(c), j+1)
			case c == fieldSystem:
				sysCol = i
			case c == fieldColumns:
				errs.add(1, 0, "", "column %q: a column mapping can only be given in YAML", c)
			case known(c):
				fields[i] = c
			default:
				errs.add(1, 0, "", "unknown column %s%s", quote(c), suggest(c))
			}
			if _, dup := first[c]; !dup {
				first[c] = i
			}
		}
		ok := true
		for _, c := range []string{fieldSystem, fieldName} {
			if _, found := first[c]; !found {
				errs.add(1, 0, "", "missing column %q (required)", c)
				ok = false
			}
		}
		return ok
	}
	cr := newCSVReader(r)
	row := func(rec []string, line int) {
		cell := strings.TrimSpace(rec[sysCol])
		sys, err := plan.ParseSystem(cell)
		if err != nil {
			if cell == "" {
				errs.add(line, 0, fieldSystem, "missing (want %s or %s)", plan.LOX24, plan.HelloID)
			} else {
				errs.add(line, 0, fieldSystem, "%s is not a system (want %s or %s)", quote(cell), plan.LOX24, plan.HelloID)
			}
			return
		}
		b := newGroup(errs, sys, pos{line: line})
		for i, f := range fields {
			if f == "" {
				continue
			}
			l, _ := cr.FieldPos(i)
			at := pos{line: l}
			if v, ok := csvValue(errs, sys, f, rec[i], at); ok && b.accepts(f, at) {
				b.set(f, v, at)
			}
		}
		groups = append(groups, b.finish())
	}
	readCSV(cr, errs, header, row)
	return groups, errs.result()
}

// csvValue turns the cell of field f in a row of sys into a Value, and
// reports whether the cell gives one. An empty cell clears a nullable field
// and gives nothing for the others, except name, whose empty cell is an
// error (left to groupBuilder). A filled cell of the other system's field is
// passed on for groupBuilder.accepts to report.
func csvValue(errs *errorList, sys plan.System, f, cell string, at pos) (plan.Value, bool) {
	trimmed := strings.TrimSpace(cell)
	if !belongs(sys, f) {
		return plan.Str(cell), trimmed != ""
	}
	if f == fieldName {
		return plan.Str(cell), true
	}
	spec, ok := plan.FieldSpecFor(sys, f)
	if f == fieldAllowExt {
		ok, spec = true, plan.FieldSpec{Name: f, Kind: plan.FieldBool}
	}
	switch {
	case !ok: // id, groupGuid, phones, phones_mode, users, users_mode
		return plan.Str(trimmed), trimmed != ""
	case spec.Kind == plan.FieldBool:
		if trimmed == "" {
			return plan.Null, false
		}
		b, ok := parseBool(trimmed)
		if !ok {
			errs.add(at.line, at.col, f, "%s is not a boolean (want true, false, yes, no, 1 or 0)", quote(trimmed))
			return plan.Null, false
		}
		return plan.Bool(b), true
	case spec.Kind == plan.FieldGUID:
		if trimmed == "" {
			return plan.Null, true
		}
		return plan.Str(trimmed), true
	default: // text: the cell as written
		if cell == "" {
			return plan.Null, true
		}
		return plan.Str(cell), true
	}
}

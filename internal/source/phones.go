package source

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf8"

	"groupsync/internal/plan"
)

// PhoneColumn is the header of the number column of a member file.
const PhoneColumn = "phone"

// ReadPhones reads a member file: a LOX24 group's complete member list, as
// CSV. The header row names the columns: phone (required) and any of a..e
// and callback_data (plan.PhoneColumns). A column of a..e may instead be
// headed by its label, the group's name_a..name_e value: labels maps each
// label to its column's index (0..4 for a..e); an index outside 0..4 marks a
// label that several columns share, which cannot head a column. A header that
// could mean two columns (a label that is also another column's letter) is an
// error.
//
// Numbers are normalised to E.164: spaces, dashes, dots and brackets are
// dropped and a leading 00 becomes +. A number that is then not +, a digit
// 1..9 and 1..14 more digits is an error, and so is a number that an earlier
// row already holds. Cells are checked against plan.PhoneMax (as written) and
// plan.PhoneColumnMax, counting characters. Empty cells are "". A UTF-8 byte
// order mark and CRLF line ends are accepted; rows whose cells are all empty
// are skipped.
//
// ReadPhones streams: it keeps the parsed entries and one small record per
// number for finding repeats, never the text of the file. It fills Managed
// (which columns the file has) and List (in file order); the caller sets
// File, Mode and Source. name is the path used in errors. ReadPhones reports
// every error it finds; when there are errors the result must not be used.
func ReadPhones(name string, r io.Reader, labels map[string]int) (plan.Phones, Errors) {
	return ReadPhonesWith(name, r, PhoneOptions{Labels: labels})
}

// PhoneOptions says how to read a member file.
type PhoneOptions struct {
	// Labels maps the group's column labels to columns (see ReadPhones).
	Labels map[string]int
	// Country is the ISO 3166 alpha-2 code in whose national form numbers
	// without a country code are read; "" refuses them.
	Country string
	// Columns maps LOX24's fields (phone, a..e, callback_data) to the
	// file's own headers. When it is set, the file's other columns are
	// ignored and Labels are not used; a field it does not name is read
	// from a column of its own name, if any.
	Columns map[string]string
	// Dialect is the file's delimiter and encoding.
	Dialect Dialect
}

// ReadPhonesWith is ReadPhones with the options of a group's file
// reference: the default country for national numbers, a mapping of the
// file's own headers and the CSV dialect. Numbers are parsed by
// libphonenumber (plan.AppendE164).
func ReadPhonesWith(name string, r io.Reader, opts PhoneOptions) (plan.Phones, Errors) {
	labels := opts.Labels
	errs := &errorList{file: name}
	var (
		ph       plan.Phones
		phoneCol = -1  // the CSV column of the number
		colOf    []int // per CSV column: index into plan.PhoneColumns, or NoColumn
		// first maps each number (its digits, which fit in a uint64 as E.164
		// has at most 15) to the line it first stood on.
		first = map[uint64]int32{}
	)
	header := func(cols []string) bool {
		colOf = make([]int, len(cols))
		if opts.Columns != nil {
			return mappedHeader(errs, cols, opts.Columns, colOf, &phoneCol, &ph.Managed)
		}
		headedBy := map[int]string{} // column index -> the header that named it
		for i, c := range cols {
			colOf[i] = NoColumn
			if strings.TrimSpace(c) == "" {
				errs.add(1, 0, "", "column %d has no name", i+1)
				continue
			}
			idx, problem := PhoneHeader(c, labels)
			if problem != "" {
				errs.add(1, 0, "", "%s", problem)
				continue
			}
			if prev, dup := headedBy[idx]; dup {
				if prev == c {
					errs.add(1, 0, "", "column %s repeated", quote(c))
				} else {
					errs.add(1, 0, "", "column %s repeats column %s", quote(c), quote(prev))
				}
				continue
			}
			headedBy[idx] = c
			if idx == NumberColumn {
				phoneCol = i
				continue
			}
			colOf[i] = idx
			ph.Managed[idx] = true
		}
		if phoneCol < 0 {
			errs.add(1, 0, "", "missing column %q (required)", PhoneColumn)
			return false
		}
		return true
	}
	cr := newDialectReader(r, opts.Dialect)
	cr.ReuseRecord = true
	// A million entries must not be held twice, as growing a slice by
	// copying would: when the input's size is known (a file), the list is
	// sized once from the bytes per row of its first rows.
	fileSize := int64(-1)
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			fileSize = fi.Size()
		}
	}
	const sample = 512
	var (
		list    []plan.Phone
		scratch []byte // the number being read, normalised
	)
	row := func(rec []string, line int) {
		ok := true
		bad := func(field, format string, args ...any) {
			errs.add(line, 0, field, format, args...)
			ok = false
		}
		raw := rec[phoneCol]
		var (
			number []byte // E.164, in scratch
			digits uint64
		)
		switch n := utf8.RuneCountInString(raw); {
		case strings.TrimSpace(raw) == "":
			bad(PhoneColumn, "missing (required)")
		case n > plan.PhoneMax:
			bad(PhoneColumn, "%d characters, at most %d", n, plan.PhoneMax)
		default:
			var err error
			if number, digits, err = plan.AppendE164(scratch[:0], raw, opts.Country); err != nil {
				bad(PhoneColumn, "%s", err)
			}
		}
		for i, idx := range colOf {
			if idx < 0 || rec[i] == "" {
				continue
			}
			if msg := CheckText(rec[i], plan.PhoneColumnMax[idx]); msg != "" {
				bad(plan.PhoneColumns[idx], "%s", msg)
			}
		}
		if len(number) > 0 {
			scratch = number
			if l, dup := first[digits]; dup {
				bad("", "phone %s is also on line %d", number, l)
			} else {
				first[digits] = int32(line)
			}
		}
		if !ok {
			return
		}
		// rec's cells share the text of the whole row; keep only what the
		// entry needs, in one string.
		var vals [plan.NumPhoneCols]string
		for i, idx := range colOf {
			if idx >= 0 {
				vals[idx] = rec[i]
			}
		}
		if len(list) == sample && fileSize > 0 {
			perRow := float64(cr.InputOffset()) / float64(line)
			sized := make([]plan.Phone, len(list), int(float64(fileSize)/perRow*1.05)+sample)
			copy(sized, list)
			list = sized
		}
		list = append(list, plan.NewPhoneBytes(number, vals[:], line))
	}
	readCSV(cr, errs, header, row)
	ph.List = list
	return ph, errs.result()
}

// What a member file header names, besides a column of plan.PhoneColumns
// (named by its index, 0 and up).
const (
	NumberColumn = -1 // the phone column
	NoColumn     = -2 // nothing: an unknown or ambiguous header
)

// PhoneHeader returns what the header h of a member file names, given the
// group's column labels (as Labels returns them): NumberColumn for the
// number, 0..5 for plan.PhoneColumns. For a header that names no column, or could name two,
// it returns a problem instead, and the index is meaningless.
func PhoneHeader(h string, labels map[string]int) (int, string) {
	named := NoColumn // what h names as written
	if h == PhoneColumn {
		named = NumberColumn
	}
	for i, col := range plan.PhoneColumns {
		if h == col {
			named = i
		}
	}
	label, isLabel := labels[h]
	switch {
	case isLabel && (label < 0 || label > 4): // SharedLabel, or not one of a..e
		return 0, fmt.Sprintf("column %s is ambiguous: several of name_a..name_e have this label", quote(h))
	case isLabel && named != NoColumn && named != label:
		return 0, fmt.Sprintf("column %s is ambiguous: it is a column's name and the label of column %s (name_%s)",
			quote(h), plan.PhoneColumns[label], plan.PhoneColumns[label])
	case isLabel:
		return label, ""
	case named != NoColumn:
		return named, ""
	}
	return 0, fmt.Sprintf("unknown column %s (want phone, a..e, callback_data, or a label from the group's name_a..name_e)", quote(h))
}

// mappedHeader reads the header of a member file through a mapping of
// LOX24's fields to the file's headers: it fills colOf, phoneCol and
// managed, ignores the columns the mapping does not name (even a column
// called as a field, such as b: only the number may be found by its own
// name, phone), and reports mapped headers that the file does not have.
func mappedHeader(errs *errorList, cols []string, mapping map[string]string, colOf []int, phoneCol *int, managed *[plan.NumPhoneCols]bool) bool {
	index := map[string]int{} // header -> its first column
	for i, c := range cols {
		colOf[i] = NoColumn
		if _, dup := index[c]; !dup {
			index[c] = i
		}
	}
	fields := append([]string{PhoneColumn}, plan.PhoneColumns[:]...)
	ok := true
	for f, field := range fields {
		h, mapped := mapping[field]
		switch {
		case !mapped && field != PhoneColumn:
			continue // with a mapping, only the fields it names are read and managed
		case !mapped:
			h = field
		}
		i, found := index[h]
		switch {
		case !found && mapped:
			errs.add(1, 0, "", "column %s (columns: %s) is not in the file", quote(h), field)
			ok = false
			continue
		case !found && field == PhoneColumn:
			errs.add(1, 0, "", "missing column %q (required; or map it with columns: {phone: ...})", PhoneColumn)
			ok = false
			continue
		case !found:
			continue
		}
		if f == 0 {
			*phoneCol = i
			continue
		}
		colOf[i] = f - 1
		managed[f-1] = true
	}
	return ok
}

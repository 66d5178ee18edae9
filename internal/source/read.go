package source

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"groupsync/internal/plan"
)

// Read reads the desired state from files: YAML (.yaml, .yml) and CSV (.csv)
// files of groups, in the order given, and the member file of every LOX24
// group that names one. It checks every limit and rule of the desired state,
// including groups defined twice across files, and reports all the errors it
// finds as Errors, sorted by file and line. On any error the Desired must not
// be used.
//
// Errors cite files by the paths given; a member file is cited as the path of
// its group's file joined with the phones value.
func Read(paths []string) (plan.Desired, error) {
	return ReadWith(paths, Options{})
}

// Options are defaults that the command line gives for every file.
type Options struct {
	// DefaultCountry reads national numbers of groups that set no
	// default_country (ISO 3166 alpha-2; "" for none).
	DefaultCountry string
	// Delimiter is the delimiter of member files whose reference names
	// none (0: detected from each file's header line).
	Delimiter rune
}

// ReadWith is Read with command-line defaults.
func ReadWith(paths []string, opts Options) (plan.Desired, error) {
	var (
		d    plan.Desired
		errs Errors
	)
	var read []fileSeen
	for _, path := range paths {
		if prev, again := seenBefore(&read, path); again {
			msg := "given twice; give each file once"
			if prev != path {
				msg = fmt.Sprintf("the same file as %s; give each file once", prev)
			}
			errs = append(errs, Error{File: path, Msg: msg})
			continue
		}
		groups, es := readFile(path)
		d.Groups = append(d.Groups, groups...)
		errs = append(errs, es...)
	}
	errs = append(errs, duplicates(d.Groups)...)
	for i := range d.Groups {
		g := &d.Groups[i]
		if g.Phones != nil {
			errs = append(errs, loadPhones(g, opts)...)
		}
		if g.Users != nil && g.Users.File != "" {
			errs = append(errs, loadUsers(g, opts)...)
		}
	}
	if len(errs) > 0 {
		errs = errs.unique()
		errs.sort()
		return plan.Desired{}, errs
	}
	return d, nil
}

// fileSeen is a file Read has been given, as the user named it.
type fileSeen struct {
	path string
	info os.FileInfo // nil if it could not be found
}

// seenBefore reports whether path names a file given earlier (by the same
// path, or another path to the same file), and by which path; otherwise it
// records path in seen. Reading a file twice would report each of its
// groups as defined twice, at the same place.
func seenBefore(seen *[]fileSeen, path string) (string, bool) {
	info, _ := os.Stat(path)
	for _, f := range *seen {
		if filepath.Clean(f.path) == filepath.Clean(path) || info != nil && f.info != nil && os.SameFile(f.info, info) {
			return f.path, true
		}
	}
	*seen = append(*seen, fileSeen{path: path, info: info})
	return "", false
}

// readFile reads one file of groups, choosing the reader by its extension.
func readFile(path string) ([]plan.Group, Errors) {
	var read func(string, io.Reader) ([]plan.Group, Errors)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml":
		read = ReadYAML
	case ".csv":
		read = ReadGroupsCSV
	case "":
		return nil, Errors{{File: path, Msg: "no file extension: cannot tell YAML from CSV (want .yaml, .yml or .csv)"}}
	default:
		return nil, Errors{{File: path, Msg: fmt.Sprintf("unknown kind of file %q (want .yaml, .yml or .csv)", ext)}}
	}
	f, err := openFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: openError(err)}}
	}
	defer f.Close()
	return read(path, f)
}

// loadPhones reads the member file of g and fills g.Phones.
func loadPhones(g *plan.Group, opts Options) Errors {
	ph := g.Phones
	if ph.Country == "" {
		ph.Country = opts.DefaultCountry
	}
	if ph.Delimiter == 0 {
		ph.Delimiter = opts.Delimiter
	}
	f, err := openFile(ph.File)
	if err != nil {
		return Errors{{File: ph.Source.File, Line: ph.Source.Line, Field: fieldPhones, Msg: fmt.Sprintf("cannot open %s: %s", ph.File, openError(err))}}
	}
	defer f.Close()
	got, errs := ReadPhonesWith(ph.File, f, PhoneOptions{
		Labels:  Labels(g.Fields),
		Country: ph.Country,
		Columns: ph.Columns,
		Dialect: Dialect{Delimiter: ph.Delimiter, Encoding: ph.Encoding},
	})
	ph.Managed, ph.List = got.Managed, got.List
	return errs
}

// SharedLabel is what Labels maps a label to that several columns share.
const SharedLabel = -1

// Labels maps the labels of a LOX24 group's phone columns (its managed,
// non-null name_a..name_e, trimmed) to the columns' indexes, as ReadPhones
// takes them. A label that several columns share maps to SharedLabel, which
// ReadPhones reports if a header uses it.
func Labels(fields map[string]plan.Value) map[string]int {
	m := map[string]int{}
	for i, col := range plan.PhoneColumns[:5] {
		v, ok := fields["name_"+col]
		label := strings.TrimSpace(v.S)
		if !ok || !v.Valid || label == "" {
			continue
		}
		if _, dup := m[label]; dup {
			m[label] = SharedLabel
			continue
		}
		m[label] = i
	}
	return m
}

// errIsDir is the error for a path that names a directory.
var errIsDir = errors.New("is a directory, not a file")

// openFile opens a file for reading; a directory is an error here rather
// than at the first read.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, errIsDir
	}
	return f, nil
}

// openError says why a file could not be read, without repeating its path.
func openError(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// duplicates reports every group that an earlier group already defines: the
// same system and the same key (HelloID GUIDs in any letter case), or, for
// groups without a key, the same name (LOX24 exactly, HelloID by
// plan.NameKey, as each system matches names).
func duplicates(groups []plan.Group) Errors {
	var errs Errors
	first := map[string]plan.Group{}
	for _, g := range groups {
		var what, id string
		switch {
		case g.Key != "" && g.System == plan.LOX24:
			what, id = "id "+g.Key, g.Key
		case g.Key != "":
			what, id = "groupGuid "+g.Key, strings.ToLower(g.Key) // a valid GUID is ASCII
		case g.Name == "":
			continue // reported already
		case g.System == plan.LOX24:
			what, id = fmt.Sprintf("%q", g.Name), "\x00"+g.Name
		default:
			what, id = fmt.Sprintf("%q", g.Name), "\x00"+plan.NameKey(g.Name)
		}
		id = string(g.System) + "\x00" + id
		if prev, dup := first[id]; dup {
			errs = append(errs, Error{
				File: g.Source.File,
				Line: g.Source.Line,
				Msg:  fmt.Sprintf("%s group %s is also defined at %s", g.System, what, prev.Source),
			})
			continue
		}
		first[id] = g
	}
	return errs
}

package source

import (
	"context"
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
	return ReadContext(context.Background(), paths, Options{})
}

// Options are the bounds of ReadContext and the defaults that the command
// line gives for every file.
type Options struct {
	// Root, when not empty, is the directory every file named inside a
	// desired-state file must resolve into; otherwise each must resolve
	// into the directory of the file that names it.
	Root string
	// MaxFileSize bounds every file read, those given and those named
	// inside them; 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// DefaultCountry reads national numbers of groups that set no
	// default_country (ISO 3166 alpha-2; "" for none).
	DefaultCountry string
	// Delimiter is the delimiter of member files whose reference names
	// none (0: detected from each file's header line).
	Delimiter rune
	// Refuse, when set, is asked about every file before it is read, those
	// given and those named inside them: a file it gives a reason for (a
	// credential file) is not read, and its error names it, never its
	// content.
	Refuse func(fs.FileInfo) string
}

// ReadWith is Read with command-line defaults.
func ReadWith(paths []string, opts Options) (plan.Desired, error) {
	return ReadContext(context.Background(), paths, opts)
}

// ReadContext is Read with bounds and command-line defaults, stopping with
// the context's cause once ctx is done.
func ReadContext(ctx context.Context, paths []string, opt Options) (plan.Desired, error) {
	r := reader{ctx: ctx, opt: opt}
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
		groups, prune, es := r.readFile(path)
		d.Groups = append(d.Groups, groups...)
		errs = append(errs, es...)
		errs = append(errs, mergePrune(&d, prune)...)
		if len(es) == 0 {
			addRows(&d, path, len(groups))
		}
	}
	errs = append(errs, duplicates(d.Groups)...)
	for i := range d.Groups {
		g := &d.Groups[i]
		if g.Phones != nil {
			errs = append(errs, r.loadPhones(g)...)
			addRows(&d, g.Phones.File, len(g.Phones.List))
		}
		if g.Users != nil && g.Users.File != "" {
			errs = append(errs, r.loadUsers(g)...)
			addRows(&d, g.Users.File, len(g.Users.List))
		}
		if err := ctx.Err(); err != nil {
			return plan.Desired{}, context.Cause(ctx)
		}
	}
	if err := ctx.Err(); err != nil {
		return plan.Desired{}, context.Cause(ctx)
	}
	if len(errs) > 0 {
		errs = errs.unique()
		errs.sort()
		return plan.Desired{}, errs
	}
	return d, nil
}

// addRows records how many rows (groups, or members) file held.
func addRows(d *plan.Desired, file string, n int) {
	if d.Rows == nil {
		d.Rows = map[string]int{}
	}
	d.Rows[file] = n
}

// mergePrune adds a file's prune scopes to d; a system whose scope an
// earlier file set differently is an error naming both places.
func mergePrune(d *plan.Desired, prune map[plan.System]plan.Prune) Errors {
	var errs Errors
	for _, sys := range plan.Systems {
		p, ok := prune[sys]
		if !ok {
			continue
		}
		prev, had := d.Prune[sys]
		switch {
		case !had:
			if d.Prune == nil {
				d.Prune = map[plan.System]plan.Prune{}
			}
			d.Prune[sys] = p
		case prev.NamePrefix != p.NamePrefix:
			errs = append(errs, Error{File: p.Source.File, Line: p.Source.Line, Field: "prune",
				Msg: fmt.Sprintf("%s prune name_prefix %s differs from %s at %s; every file must set the same scope",
					sys, quote(p.NamePrefix), quote(prev.NamePrefix), prev.Source)})
		}
	}
	return errs
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

// reader reads the files of one ReadContext.
type reader struct {
	ctx context.Context
	opt Options
}

// readFile reads one file of groups, choosing the reader by its extension.
func (r reader) readFile(path string) ([]plan.Group, map[plan.System]plan.Prune, Errors) {
	var read func(string, io.Reader) ([]plan.Group, map[plan.System]plan.Prune, Errors)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml":
		read = readYAML
	case ".csv":
		read = func(name string, r io.Reader) ([]plan.Group, map[plan.System]plan.Prune, Errors) {
			groups, errs := ReadGroupsCSV(name, r)
			return groups, nil, errs
		}
	case "":
		return nil, nil, Errors{{File: path, Msg: "no file extension: cannot tell YAML from CSV (want .yaml, .yml or .csv)"}}
	default:
		return nil, nil, Errors{{File: path, Msg: fmt.Sprintf("unknown kind of file %s (want .yaml, .yml or .csv)", quote(ext))}}
	}
	f, err := openRegular(path, r.opt.MaxFileSize)
	if err == nil {
		err = r.refuse(f)
	}
	if err != nil {
		return nil, nil, Errors{{File: path, Msg: openError(err)}}
	}
	defer f.Close()
	f.ctx = r.ctx
	return read(path, f)
}

// refuse closes f and returns an error if Options.Refuse refuses it.
func (r reader) refuse(f *File) error {
	if r.opt.Refuse == nil {
		return nil
	}
	st, err := f.Stat()
	if err == nil {
		if why := r.opt.Refuse(st); why != "" {
			err = errors.New(why)
		}
	}
	if err != nil {
		f.Close()
	}
	return err
}

// loadPhones reads the member file of g and fills g.Phones.
func (r reader) loadPhones(g *plan.Group) Errors {
	ph := g.Phones
	if ph.Country == "" {
		ph.Country = r.opt.DefaultCountry
	}
	if ph.Delimiter == 0 {
		ph.Delimiter = r.opt.Delimiter
	}
	dir := filepath.Dir(ph.Source.File)
	rel, err := filepath.Rel(dir, ph.File)
	if err != nil || filepath.IsAbs(ph.File) && !filepath.IsAbs(ph.Source.File) {
		rel = ph.File // absolute as written: OpenReferenced refuses it
	}
	f, err := OpenReferenced(dir, r.opt.Root, rel, r.opt.MaxFileSize)
	if err == nil {
		err = r.refuse(f)
	}
	if err != nil {
		return Errors{{File: ph.Source.File, Line: ph.Source.Line, Field: fieldPhones, Msg: fmt.Sprintf("cannot open %s: %s", shown(ph.File), openError(err))}}
	}
	defer f.Close()
	f.ctx = r.ctx
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
			what, id = quote(g.Name), "\x00"+g.Name
		default:
			what, id = quote(g.Name), "\x00"+plan.NameKey(g.Name)
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

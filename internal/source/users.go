package source

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"groupsync/internal/plan"
)

// UserColumn is the header of the one column of a users file.
const UserColumn = "user"

// UserKey is the form in which two references to a user are the same:
// GUIDs in any letter case, userNames under plan.NameKey.
func UserKey(ref string) string {
	if IsGUID(ref) {
		return "guid:" + strings.ToLower(ref)
	}
	return "name:" + plan.NameKey(ref)
}

// CheckUser checks one user reference (a userName or userGuid) and returns
// what is wrong with it, or "".
func CheckUser(ref string) string {
	switch {
	case ref == "":
		return "an empty user"
	case strings.TrimSpace(ref) != ref:
		return fmt.Sprintf("user %s has leading or trailing white space", quote(ref))
	}
	if msg := CheckText(ref, MaxUserChars); msg != "" {
		return fmt.Sprintf("user %s: %s", quote(ref), msg)
	}
	return ""
}

// MaxUserChars is the longest user reference (userName or userGuid)
// accepted, in characters.
const MaxUserChars = 256

// ReadUsers reads a users file: a HelloID group's complete member list, as
// a CSV with one column, `user`, holding a userName or userGuid per row. A
// user listed twice (userNames compared as plan.NameKey does) is an error
// naming both lines. name is the path used in errors and in each UserRef's
// Source. ReadUsers reports every error it finds; when there are errors the
// result must not be used.
//
// d says how the file is written (the zero Dialect detects it).
func ReadUsers(name string, r io.Reader, d Dialect) ([]plan.UserRef, Errors) {
	errs := &errorList{file: name}
	list := []plan.UserRef{}
	seen := map[string]int{}
	header := func(cols []string) bool {
		ok := true
		for i, c := range cols {
			if c != UserColumn {
				errs.add(1, 0, "", "unknown column %q in column %d (a users file has one column, %q)", c, i+1, UserColumn)
				ok = false
			}
		}
		if len(cols) != 1 {
			if ok {
				errs.add(1, 0, "", "a users file has one column, %q", UserColumn)
			}
			return false
		}
		return ok
	}
	row := func(rec []string, line int) {
		ref := rec[0]
		if msg := CheckUser(ref); msg != "" {
			errs.add(line, 0, UserColumn, "%s", msg)
			return
		}
		k := UserKey(ref)
		if first, dup := seen[k]; dup {
			errs.add(line, 0, UserColumn, "user %s is listed twice (first on line %d)", quote(ref), first)
			return
		}
		seen[k] = line
		list = append(list, plan.UserRef{Ref: ref, Source: plan.Source{File: name, Line: line}})
	}
	readCSV(newDialectReader(r, d), errs, header, row)
	return list, errs.result()
}

// loadUsers reads the users file of g, opened through the same confinement
// as a member file (OpenReferenced), and fills g.Users.List.
func (r reader) loadUsers(g *plan.Group) Errors {
	us := g.Users
	if us.Delimiter == 0 {
		us.Delimiter = r.opt.Delimiter
	}
	dir := filepath.Dir(us.Source.File)
	rel, err := filepath.Rel(dir, us.File)
	if err != nil || filepath.IsAbs(us.File) && !filepath.IsAbs(us.Source.File) {
		rel = us.File // absolute as written: OpenReferenced refuses it
	}
	f, err := OpenReferenced(dir, r.opt.Root, rel, r.opt.MaxFileSize)
	if err == nil {
		err = r.refuse(f)
	}
	if err != nil {
		return Errors{{File: us.Source.File, Line: us.Source.Line, Field: fieldUsers, Msg: fmt.Sprintf("cannot open %s: %s", shown(us.File), openError(err))}}
	}
	defer f.Close()
	f.ctx = r.ctx
	list, errs := ReadUsers(us.File, f, Dialect{Delimiter: us.Delimiter, Encoding: us.Encoding})
	us.List = list
	return errs
}

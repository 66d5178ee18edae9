package main

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/source"
)

// credentialFileVars are the variables that name a file holding a
// credential.
var credentialFileVars = []string{"LOX24_TOKEN_FILE", "HELLOID_API_KEY_FILE", "HELLOID_API_SECRET_FILE"}

// readInput reads the desired-state files with the input flags. A
// credential file is never read as input, and no input error quotes a
// piece of a credential where it cuts a value short.
func (c *cli) readInput(ctx context.Context, files []string, in *inputFlags) (plan.Desired, error) {
	opts := in.options()
	opts.Refuse = refuseCredentialFiles(c.env)
	want, err := source.ReadContext(ctx, files, opts)
	if err != nil {
		return want, hideCutCredentials(err, credentials(c.env))
	}
	if errs := credentialsInValues(want, c.redact); len(errs) > 0 {
		return plan.Desired{}, errs
	}
	return want, nil
}

// credentialsInValues returns an input error for every value of the
// desired state that holds one of the job's credentials, in any form red
// hides. Such a value could not be planned faithfully: every output hides
// it, so a saved plan would hold, and its apply would write, the
// placeholder instead; and writing it would put the credential where
// whoever reads the group can see it. The errors do not say which
// credential.
func credentialsInValues(want plan.Desired, red *sink.Redactor) source.Errors {
	var errs source.Errors
	found := func(file string, line int, field string) {
		errs = append(errs, source.Error{File: file, Line: line, Field: field,
			Msg: "holds one of the credentials this run was given (in some encoding); a credential never goes into a system's records: remove it"})
	}
	for _, g := range want.Groups {
		if red.Contains(g.Name) {
			found(g.Source.File, g.Source.Line, "name")
		}
		if red.Contains(g.Key) {
			found(g.Source.File, g.Source.Line, "key")
		}
		for _, k := range slices.Sorted(maps.Keys(g.Fields)) {
			if red.Contains(g.Fields[k].S) {
				found(g.Source.File, g.Source.Line, k)
			}
		}
		if g.Phones != nil {
			for _, p := range g.Phones.List {
				if red.Contains(p.Number) {
					found(g.Phones.File, p.Line, "phone")
				}
				for i, v := range p.Cols.Array() {
					if red.Contains(v) {
						found(g.Phones.File, p.Line, plan.PhoneColumns[i])
					}
				}
			}
		}
		if g.Users != nil {
			for _, u := range g.Users.List {
				if red.Contains(u.Ref) {
					found(u.Source.File, u.Source.Line, "user")
				}
			}
		}
	}
	return errs
}

// refuseCredentialFiles returns the Options.Refuse that refuses every file
// a *_FILE variable names, whatever path (a symlink, a hard link) leads to
// it, or nil if no variable names one.
func refuseCredentialFiles(getenv env) func(fs.FileInfo) string {
	type credFile struct {
		name string
		info fs.FileInfo
	}
	var creds []credFile
	for _, name := range credentialFileVars {
		if file := getenv(name); file != "" {
			if st, err := os.Stat(file); err == nil {
				creds = append(creds, credFile{name, st})
			}
		}
	}
	if len(creds) == 0 {
		return nil
	}
	return func(st fs.FileInfo) string {
		for _, c := range creds {
			if os.SameFile(c.info, st) {
				return "is the credential file " + c.name + " names; a credential file is never read as input"
			}
		}
		return ""
	}
}

// minCutPiece is the length from which the piece of a credential that
// ends where an input error cuts a value short is hidden.
const minCutPiece = 12

// hideCutCredentials hides, in every message of a source.Errors, the start
// of a credential that a quoted excerpt ends with where it is cut (`"...`):
// cut short, the credential is in no form a Redactor knows.
func hideCutCredentials(err error, creds []string) error {
	var errs source.Errors
	if !errors.As(err, &errs) {
		return err
	}
	var quoted []string
	for _, c := range creds {
		if len(c) >= minCutPiece {
			q := strconv.Quote(c)
			quoted = append(quoted, q[1:len(q)-1])
		}
	}
	if len(quoted) == 0 {
		return err
	}
	out := make(source.Errors, len(errs))
	for i, e := range errs {
		e.Msg = hideCut(e.Msg, quoted)
		out[i] = e
	}
	return out
}

// hideCut replaces, before each `"...` of msg, the longest start of a
// quoted credential of at least minCutPiece characters by sink.Hidden.
func hideCut(msg string, quoted []string) string {
	const cut = `"...`
	var b strings.Builder
	rest := msg
	for {
		i := strings.Index(rest, cut)
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		before := rest[:i]
		longest := 0
		for _, q := range quoted {
			for k := min(len(q), len(before)); k >= minCutPiece && k > longest; k-- {
				if strings.HasSuffix(before, q[:k]) {
					longest = k
					break
				}
			}
		}
		if longest > 0 {
			before = before[:len(before)-longest] + sink.Hidden
		}
		b.WriteString(before)
		b.WriteString(cut)
		rest = rest[i+len(cut):]
	}
}

package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
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
		err = hideCutCredentials(err, credentials(c.env))
	}
	return want, err
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

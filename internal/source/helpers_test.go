package source

import (
	"strings"

	"groupsync/internal/plan"
)

// errStrings renders errors as the user sees them.
func errStrings(es Errors) []string {
	if len(es) == 0 {
		return nil
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Error()
	}
	return out
}

// fields builds a Fields map from name, value pairs.
func fields(kv ...any) map[string]plan.Value {
	m := map[string]plan.Value{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(plan.Value)
	}
	return m
}

// src is a plan.Source.
func src(file string, line int) plan.Source { return plan.Source{File: file, Line: line} }

// letters returns n copies of s.
func letters(s string, n int) string { return strings.Repeat(s, n) }

package plan

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
)

// NameMatchKey returns the form in which sys matches group names: exact
// for LOX24, NameKey (case folded) for HelloID. Two names address the same
// group when their forms are equal.
func NameMatchKey(sys System, name string) string {
	if sys == HelloID {
		return NameKey(name)
	}
	return name
}

// NameKey returns the key under which HelloID group names are compared: two
// names are the same group exactly when their keys are equal. It is the one
// identity rule for HelloID names; the reader, Diff, the HelloID client and
// the emulator all use it, so that none of them can call two names the same
// that another calls different.
//
// The key is the name under full Unicode case folding (the C and F mappings
// of CaseFolding.txt), which is what "Unicode case folding" means without a
// qualifier: "Sales", "SALES" and "ſales" (long s) are one name, as are
// "Kelvin" with the Kelvin sign U+212A and "kelvin", and so are "Straße" and
// "STRASSE", because ß folds to "ss". Simple folding (strings.EqualFold) would
// keep the last pair apart although a user sees one name in them.
//
// LOX24 names are not passed through NameKey: LOX24 compares names exactly.
func NameKey(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			// A Caser keeps state between calls, so each call gets its own.
			return cases.Fold().String(name)
		}
	}
	// For ASCII text full folding is lowering the letters A-Z.
	return strings.ToLower(name)
}

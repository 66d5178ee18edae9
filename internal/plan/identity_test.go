package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNameKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Sales", "sales", true},
		{"Sales", "SALES", true},
		{"ſales", "Sales", true},        // long s folds to s
		{"\u212Aelvin", "kelvin", true}, // Kelvin sign folds to k
		{"\u212Aelvin", "KELVIN", true}, // and so to K
		{"Straße", "STRASSE", true},     // full folding: ß is ss
		{"Straße", "strasse", true},     // in either case
		{"Straẞe", "strasse", true},     // capital sharp s too
		{"ﬁnance", "FINANCE", true},     // ligatures fold apart
		{"ΣΊΣΥΦΟΣ", "σίσυφος", true},    // final sigma
		{"Sales", "Sales ", false},      // white space is not case
		{"Sales", "Sale", false},        // nor are other letters
		{"Straße", "Strase", false},     // ß is two letters
		{"café", "cafe", false},         // accents are not case
		{"Sales", "Ｓａｌｅｓ", false},       // nor is width
		{"", "", true},
	} {
		assert.Equal(t, tc.same, NameKey(tc.a) == NameKey(tc.b), "NameKey(%q) = %q, NameKey(%q) = %q", tc.a, NameKey(tc.a), tc.b, NameKey(tc.b))
	}
}

package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

// phoneSample returns n numbers as a member file of several countries
// would hold them: mobile and landline ranges of DE, AT, CH, FR and NL,
// written with + or 00 and spaces.
func phoneSample(n int) []string {
	prefixes := []struct {
		prefix string
		digits int
	}{{"+49 151 ", 8}, {"+49 176 ", 8}, {"0049 30 ", 8}, {"+43 664 ", 7}, {"+41 79 ", 7}, {"+33 6 ", 8}, {"+31 6 ", 8}}
	rng := rand.New(rand.NewPCG(7, 8))
	out := make([]string, n)
	for i := range out {
		p := prefixes[rng.IntN(len(prefixes))]
		out[i] = fmt.Sprintf("%s%0*d", p.prefix, p.digits, rng.IntN(10_000_000))
	}
	return out
}

// BenchmarkPhoneNumbers parses and validates numbers with libphonenumber
// alone and with groupsync's cache of its verdicts (plan.ParsePhone), which
// must give the same answers (checked here too).
func BenchmarkPhoneNumbers(b *testing.B) {
	numbers := phoneSample(100_000)
	b.Run("libphonenumber", func(b *testing.B) {
		var pn phonenumbers.PhoneNumber
		i := 0
		for b.Loop() {
			s := plusForm(numbers[i%len(numbers)])
			i++
			if phonenumbers.ParseToNumber(s, "", &pn) == nil && phonenumbers.IsValidNumber(&pn) {
				_ = phonenumbers.Format(&pn, phonenumbers.E164)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/number")
	})
	b.Run("groupsync", func(b *testing.B) {
		i := 0
		for b.Loop() {
			_, _ = plan.ParsePhone(numbers[i%len(numbers)], "")
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/number")
	})
	for _, s := range numbers[:2000] {
		pn, err := phonenumbers.Parse(plusForm(s), "")
		want, wantOK := "", err == nil && phonenumbers.IsValidNumber(pn)
		if wantOK {
			want = phonenumbers.Format(pn, phonenumbers.E164)
		}
		got, err := plan.ParsePhone(s, "")
		require.Equal(b, wantOK, err == nil, s)
		require.Equal(b, want, got, s)
	}
}

// plusForm writes a leading 00 as +, as groupsync reads it before
// libphonenumber does.
func plusForm(s string) string {
	if rest, ok := strings.CutPrefix(s, "00"); ok {
		return "+" + rest
	}
	return s
}

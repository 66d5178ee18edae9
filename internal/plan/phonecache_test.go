package plan

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreeTail(t *testing.T) {
	tests := []struct {
		pattern string
		n       int // the length of the numbers
		want    int
	}{
		{`15[0-25-9]\d{8}`, 11, 8},
		{`15[0-25-9]\d{8}`, 10, 10}, // matches no number of 10 digits
		{`\d{5,10}`, 7, 7},          // the length alone decides
		{`[2-9]\d{3,12}`, 10, 9},
		{`1\d{2}(?:\d{4})?`, 7, 6},
		{`(?:1[5-7]\d|2)\d{7}`, 10, 7},            // the first branch is 3 digits long
		{`(?:1[5-7]\d|2)\d{7}`, 8, 7},             // the second: 1 digit
		{`(?:1[5-7]\d|2)\d{7}|3[0-9]{5}45`, 8, 0}, // the least of the branches that can match
		{`49(?:2[024-9]|3[2-689])\d{1,8}`, 11, 7},
		{`12345`, 5, 0},
		{`(\d{3})45`, 5, 0},             // a fixed tail: looks at every digit
		{`(?:[34]0|69|8\d)\d\d?`, 4, 2}, // at 4 digits the group is the first 2
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s at %d", tt.pattern, tt.n), func(t *testing.T) {
			re, err := syntax.Parse(tt.pattern, syntax.Perl)
			require.NoError(t, err)
			assert.Equal(t, tt.want, freeTail(re, tt.n))
		})
	}
}

// libE164 is libphonenumber alone: the slow path, with no cache.
func libE164(s string) (string, bool) {
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) || n.GetExtension() != "" {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// TestFastPathAgreesWithLibphonenumber checks the cache against
// libphonenumber on random numbers of many countries, many of them sharing
// cache keys, valid and not.
func TestFastPathAgreesWithLibphonenumber(t *testing.T) {
	prefixes := []string{"+49151", "+4930", "+49176", "+4989", "+49800", "+43664", "+431", "+4179", "+4144",
		"+447911", "+4420", "+336", "+331", "+316", "+3120", "+12015", "+3906", "+393", "+4670", "+4812",
		"+34612", "+35191", "+8190", "+6141", "+5511", "+91987", "+7912", "+2782"}
	n := 5000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		p := prefixes[rng.IntN(len(prefixes))]
		s := p
		for range 3 + rng.IntN(8) {
			s += fmt.Sprint(rng.IntN(10))
		}
		want, wantOK := libE164(s)
		for range 2 { // the second call may be answered from the cache
			got, err := ParsePhone(s, "")
			require.Equal(t, wantOK, err == nil, "%s: %v", s, err)
			if wantOK {
				require.Equal(t, want, got, s)
			}
		}
	}
}

func TestFastPathIsTaken(t *testing.T) {
	var buf [24]byte
	_, _, err := AppendE164(buf[:0], "+4915112345678", "")
	require.NoError(t, err)
	_, _, ok, _ := fastE164(buf[:0], "+49 151 1234-5679")
	assert.True(t, ok, "a German mobile number of a known range comes from the cache")
	_, _, ok, key := fastE164(buf[:0], "+4901763077052")
	assert.False(t, ok, "a trunk zero after the country code is never a cache hit")
	assert.Empty(t, key)
}

// TestFreeTailOnRealPatterns checks freeTail against the regular
// expressions themselves: numbers that agree on all but their free digits
// match each pattern of a country's metadata alike.
func TestFreeTailOnRealPatterns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, region := range []string{"DE", "AT", "CH", "FR", "NL", "ES", "SE", "PL"} {
		md := metadataByRegion()[region]
		require.NotNil(t, md, region)
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetGeneralDesc(), md.GetFixedLine(), md.GetMobile(),
			md.GetTollFree(), md.GetPremiumRate(), md.GetVoip(), md.GetUan()} {
			p := d.GetNationalNumberPattern()
			if p == "" {
				continue
			}
			parsed, err := syntax.Parse(p, syntax.Perl)
			require.NoError(t, err)
			full := regexp.MustCompile("^(?:" + p + ")$")
			for n := 4; n <= 13; n++ {
				free := freeTail(parsed, n)
				ex := d.GetExampleNumber()
				for i := range 300 {
					a := randomDigits(rng, n)
					if k := min(len(ex), n, rng.IntN(n+1)); i%2 == 0 && k > 0 {
						a = ex[:k] + a[k:] // near a number in use, so that some match
					}
					b := a[:n-free] + randomDigits(rng, free)
					require.Equal(t, full.MatchString(a), full.MatchString(b), "%s %s: %s and %s (free %d)", region, p, a, b, free)
				}
			}
		}
	}
}

func randomDigits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

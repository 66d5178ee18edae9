package plan

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// A member file can hold a million numbers, and libphonenumber takes tens
// of microseconds to parse and validate one. Most of that work does not
// depend on the last digits: whether a number is valid is decided by
// regular expressions on its national significant number (NSN), and in
// every pattern of a country's metadata the last few digits are free
// (`15[0-25-9]\d{8}`: any 8 digits). The fast path below proves, from the
// patterns themselves, how many trailing digits no pattern of a country
// looks at, and remembers the verdict for the rest.
//
// The fast path takes a number written as + and digits (spaces and dashes
// between them allowed; libphonenumber drops them before it looks at the
// digits). For such a number libphonenumber's Parse takes the country code
// as the shortest prefix that is a known code, keeps the rest as the NSN
// unless the country's national prefix for parsing matches at its start,
// and keeps a leading zero of the NSN as such; IsValidNumber then depends
// only on the NSN's length and on which of the country's patterns match
// it. So, for a country code of one region whose national prefix does not
// match at the start of the NSN and an NSN that does not start with 0, the
// E.164 form is the input's digits, and two NSNs of the same length that
// agree on all but their last `free` digits are valid alike. The cache
// holds only verdicts that libphonenumber itself gave.

// phoneCache remembers which (country code, NSN length, NSN prefix) keys
// libphonenumber found valid.
var phoneCache = struct {
	sync.Mutex
	regions map[int]*regionRule // by country code; nil: no fast path
	valid   map[string]bool
}{regions: map[int]*regionRule{}, valid: map[string]bool{}}

// phoneCacheMax bounds the cache; past it, numbers take the slow path.
const phoneCacheMax = 1 << 16

// regionRule is what the fast path needs of a country code's metadata.
type regionRule struct {
	patterns       []*syntax.Regexp // the patterns IsValidNumber may match
	free           map[int]int      // by NSN length: trailing digits no pattern looks at
	nationalPrefix *regexp.Regexp   // its national prefix for parsing, anchored; nil if none
	literalPrefix  string           // the same when it is a plain string, as "0"
}

// stripsPrefix reports whether libphonenumber's parser would look for a
// national prefix at the start of nsn (and might strip it).
func (r *regionRule) stripsPrefix(nsn []byte) bool {
	switch {
	case r.literalPrefix != "":
		return bytes.HasPrefix(nsn, []byte(r.literalPrefix))
	case r.nationalPrefix != nil:
		return r.nationalPrefix.Match(nsn)
	}
	return false
}

// freeAt returns how many trailing digits of an NSN of n digits no
// pattern looks at. Called with phoneCache locked.
func (r *regionRule) freeAt(n int) int {
	if f, ok := r.free[n]; ok {
		return f
	}
	f := n
	for _, re := range r.patterns {
		f = min(f, freeTail(re, n))
	}
	r.free[n] = f
	return f
}

var metadataByRegion = sync.OnceValue(func() map[string]*phonenumbers.PhoneMetadata {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil
	}
	m := map[string]*phonenumbers.PhoneMetadata{}
	for _, md := range coll.GetMetadata() {
		m[md.GetId()] = md
	}
	return m
})

// ruleFor returns the fast-path rule of a country code, or nil when the
// code is shared by several regions, belongs to no region, or its metadata
// cannot be analysed. Called with phoneCache locked.
func ruleFor(cc int) *regionRule {
	if r, ok := phoneCache.regions[cc]; ok {
		return r
	}
	var rule *regionRule
	defer func() { phoneCache.regions[cc] = rule }()
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	if len(regions) != 1 || regions[0] == "001" {
		return nil
	}
	md := metadataByRegion()[regions[0]]
	if md == nil || int(md.GetCountryCode()) != cc {
		return nil
	}
	descs := []*phonenumbers.PhoneNumberDesc{md.GetGeneralDesc(), md.GetPremiumRate(), md.GetTollFree(),
		md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(),
		md.GetVoicemail(), md.GetFixedLine(), md.GetMobile()}
	r := &regionRule{free: map[int]int{}}
	for _, d := range descs {
		p := d.GetNationalNumberPattern()
		if p == "" {
			continue // matches no NSN, whatever its digits
		}
		re, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			return nil
		}
		r.patterns = append(r.patterns, re)
	}
	rule = r
	if npp := md.GetNationalPrefixForParsing(); npp != "" {
		re, err := regexp.Compile("^(?:" + npp + ")")
		if err != nil {
			rule = nil
			return nil
		}
		rule.nationalPrefix = re
		if plain, err := regexp.Compile(npp); err == nil {
			if lit, complete := plain.LiteralPrefix(); complete && lit != "" {
				rule.literalPrefix = lit
			}
		}
	}
	return rule
}

// freeTail returns a number of trailing digits that re's match of a
// whole string of n digits does not depend on: for all strings s, t of n
// digits with s[:n-f] == t[:n-f], re matches s exactly when it matches t.
// It errs low (0 is always right).
//
// For a concatenation X Y, where Y is any digits (\d{m,k}, or several such
// in a row) and X matches strings of a..b characters, s matches when
// s[:n-j] matches X for some j in max(m, n-b)..k: that looks at no more than
// s[:n-max(m, n-b)]. Otherwise a concatenation looks at no more than its
// last part does, at any length it can take. An alternation looks at what its most demanding branch
// that can match n characters looks at; a branch that cannot match n
// characters at all is no constraint.
func freeTail(re *syntax.Regexp, n int) int {
	lo, hi := lengths(re)
	if n < lo || hi >= 0 && n > hi {
		return n // matches no string of this length
	}
	switch re.Op {
	case syntax.OpCapture:
		return freeTail(re.Sub[0], n)
	case syntax.OpAlternate:
		least := n
		for _, sub := range re.Sub {
			least = min(least, freeTail(sub, n))
		}
		return least
	case syntax.OpConcat:
		// The trailing run of any-digit parts, and its least length.
		i, m := len(re.Sub), 0
		for i > 0 {
			lm, ok := freeDigits(re.Sub[i-1])
			if !ok {
				break
			}
			m += lm
			i--
		}
		if i == len(re.Sub) {
			// The last part matches s[j:] for some j; what it looks at,
			// at each length it can take here, bounds what s looks at.
			y := re.Sub[i-1]
			loY, hiY := lengths(y)
			loX, hiX := lengths(&syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[:i-1]})
			from, to := loY, n-loX
			if hiX >= 0 {
				from = max(from, n-hiX)
			}
			if hiY >= 0 {
				to = min(to, hiY)
			}
			least := n
			for l := from; l <= to; l++ {
				least = min(least, freeTail(y, l))
			}
			return least
		}
		if i == 0 {
			return n // any digits: the length alone decides
		}
		x := &syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[:i]}
		if i == 1 {
			x = re.Sub[0]
		}
		_, b := lengths(x)
		if b < 0 {
			return m
		}
		return max(m, n-b)
	}
	if _, ok := freeDigits(re); ok {
		return n
	}
	return 0
}

// lengths returns the least and most characters re matches (-1: no bound).
func lengths(re *syntax.Regexp) (lo, hi int) {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune), len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 1
	case syntax.OpCapture:
		return lengths(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			l, h := lengths(sub)
			lo += l
			if hi >= 0 {
				if h < 0 {
					hi = -1
				} else {
					hi += h
				}
			}
		}
		return lo, hi
	case syntax.OpAlternate:
		lo, hi = -1, 0
		for _, sub := range re.Sub {
			l, h := lengths(sub)
			if lo < 0 || l < lo {
				lo = l
			}
			if hi >= 0 && (h < 0 || h > hi) {
				hi = h
			}
		}
		return max(lo, 0), hi
	case syntax.OpStar:
		return 0, -1
	case syntax.OpPlus:
		l, _ := lengths(re.Sub[0])
		return l, -1
	case syntax.OpQuest:
		_, h := lengths(re.Sub[0])
		return 0, h
	case syntax.OpRepeat:
		l, h := lengths(re.Sub[0])
		lo = l * re.Min
		switch {
		case re.Max < 0 || h < 0:
			hi = -1
		default:
			hi = h * re.Max
		}
		return lo, hi
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, 0
	}
	return 0, -1 // unknown: no bound
}

// freeDigits reports whether re matches any digits (\d, \d{m,k}, \d*,
// \d+, \d?, and such in a row) of lengths that depend on nothing else, and
// its least length.
func freeDigits(re *syntax.Regexp) (int, bool) {
	switch re.Op {
	case syntax.OpCharClass:
		return 1, anyDigit(re)
	case syntax.OpCapture:
		return freeDigits(re.Sub[0])
	case syntax.OpRepeat, syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		m, ok := freeDigits(re.Sub[0])
		switch re.Op {
		case syntax.OpRepeat:
			m *= re.Min
		case syntax.OpStar, syntax.OpQuest:
			m = 0
		}
		return m, ok
	case syntax.OpConcat:
		total := 0
		for _, sub := range re.Sub {
			m, ok := freeDigits(sub)
			if !ok {
				return 0, false
			}
			total += m
		}
		return total, true
	}
	return 0, false
}

// anyDigit reports whether the character class re holds every digit 0..9.
func anyDigit(re *syntax.Regexp) bool {
	for c := '0'; c <= '9'; c++ {
		in := false
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= c && c <= re.Rune[i+1] {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// fastE164 returns the E.164 form of s (+ and digits, spaces and dashes
// allowed between them; see above) when the cache proves it valid, and
// otherwise a cache key under which to remember a valid verdict of the
// slow path ("" when the number is not one for the fast path).
func fastE164(dst []byte, s string) (out []byte, digits uint64, ok bool, key string) {
	start := len(dst)
	if s == "" || s[0] != '+' {
		return dst, 0, false, ""
	}
	dst = append(dst, '+')
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			dst = append(dst, c)
		case c == ' ' || c == '-':
		default:
			return dst[:start], 0, false, ""
		}
	}
	n := dst[start+1:]
	if len(n) < 4 || len(n) > 15 || n[0] == '0' {
		return dst[:start], 0, false, ""
	}
	phoneCache.Lock()
	defer phoneCache.Unlock()
	cc := 0
	for l := 1; l <= 3; l++ {
		cc = cc*10 + int(n[l-1]-'0')
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) == 0 {
			continue
		}
		rule := ruleFor(cc)
		nsn := n[l:]
		if rule == nil || len(nsn) < 2 || nsn[0] == '0' || rule.stripsPrefix(nsn) {
			return dst[:start], 0, false, ""
		}
		var kb [40]byte
		k := append(kb[:0], n[:l]...)
		k = append(k, '/', byte('0'+len(nsn)/10), byte('0'+len(nsn)%10), '/')
		k = append(k, nsn[:len(nsn)-rule.freeAt(len(nsn))]...)
		if phoneCache.valid[string(k)] {
			return dst, e164Digits(string(dst[start:])), true, ""
		}
		return dst[:start], 0, false, string(k)
	}
	return dst[:start], 0, false, ""
}

// rememberValid records that libphonenumber found the numbers of key valid.
func rememberValid(key string) {
	phoneCache.Lock()
	defer phoneCache.Unlock()
	if len(phoneCache.valid) < phoneCacheMax {
		phoneCache.valid[key] = true
	}
}

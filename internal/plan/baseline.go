package plan

import (
	"fmt"
)

// BaselineVersion is the schema version of the baseline file.
const BaselineVersion = 1

// Baseline is what a successful apply asked for: per group, how many members
// the files wanted, and per input file, its rows. The next run compares its
// own Baseline with it to catch a truncated export.
type Baseline struct {
	Version int `json:"version"`
	// Groups counts, per group ("system:name", or "system:key" for a group
	// addressed by key), the members its file asked for: LOX24 phones or
	// HelloID users. Only groups whose members the files manage are counted.
	Groups map[string]int `json:"groups"`
	// Files counts, per input file as cited, its rows.
	Files map[string]int `json:"files"`
}

// BaselineOf returns the baseline of a desired state.
func BaselineOf(want Desired) Baseline {
	b := Baseline{Version: BaselineVersion, Groups: map[string]int{}, Files: map[string]int{}}
	for _, g := range want.Groups {
		switch {
		case g.Phones != nil:
			b.Groups[baselineKey(g)] = len(g.Phones.List)
		case g.Users != nil:
			b.Groups[baselineKey(g)] = len(g.Users.List)
		}
	}
	for f, n := range want.Rows {
		b.Files[f] = n
	}
	return b
}

// check rejects a baseline of another version or with a negative count.
func (b *Baseline) check() error {
	if b.Version != BaselineVersion {
		return fmt.Errorf("version %d is not supported (want %d)", b.Version, BaselineVersion)
	}
	for _, c := range []struct {
		what string
		m    map[string]int
	}{{"groups", b.Groups}, {"files", b.Files}} {
		for _, k := range sortedKeys(c.m) {
			if c.m[k] < 0 {
				return fmt.Errorf("%s: %s: %d is negative", c.what, k, c.m[k])
			}
		}
	}
	return nil
}

func baselineKey(g Group) string {
	if g.Key != "" {
		return string(g.System) + ":" + g.Key
	}
	return string(g.System) + ":" + g.Name
}

// Shrink is a group or file whose count fell past the limit since the
// baseline. It is an error: the shrink guard refuses the plan with it.
type Shrink struct {
	// What is "group" or "file".
	What string `json:"what"`
	// Name is the group ("system:name") or the file.
	Name   string `json:"name"`
	Before int    `json:"before"`
	After  int    `json:"after"`
	// MaxPct is the --max-shrink-pct it broke.
	MaxPct float64 `json:"max_pct"`
}

func (s Shrink) Error() string {
	if s.After == 0 {
		return fmt.Sprintf("%s %s shrank from %d to 0 since the baseline (a truncated export?)", s.What, s.Name, s.Before)
	}
	pct := 100 * float64(s.Before-s.After) / float64(s.Before)
	return fmt.Sprintf("%s %s shrank from %d to %d since the baseline (-%.1f%%, more than --max-shrink-pct %g%%)",
		s.What, s.Name, s.Before, s.After, pct, s.MaxPct)
}

// CompareBaseline returns the groups and files of now whose count fell, from
// the baseline before, by more than maxPct percent, or to zero from
// non-zero, in order: groups by name, then files by name. Groups and files
// missing from either side are not compared.
func CompareBaseline(before, now Baseline, maxPct float64) []Shrink {
	var out []Shrink
	check := func(what string, b, n map[string]int) {
		for _, k := range sortedKeys(b) {
			was, ok := b[k]
			is, ok2 := n[k]
			if !ok || !ok2 || was <= 0 || is >= was {
				continue
			}
			if is == 0 || 100*float64(was-is)/float64(was) > maxPct {
				out = append(out, Shrink{What: what, Name: k, Before: was, After: is, MaxPct: maxPct})
			}
		}
	}
	check("group", before.Groups, now.Groups)
	check("file", before.Files, now.Files)
	return out
}

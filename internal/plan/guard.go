package plan

import (
	"fmt"
	"sort"
)

// Guards are the safety limits checked on the whole plan before any write.
type Guards struct {
	// MaxDeletePct refuses a plan that deletes more than this percentage of
	// a group's current members, for groups of MinGuardedMembers or more.
	MaxDeletePct float64
	// MaxChanges refuses a plan with more items than this; 0 means no limit.
	MaxChanges int
	// Force disables the guards.
	Force bool
}

// DefaultMaxShrinkPct is the default of --max-shrink-pct.
const DefaultMaxShrinkPct = 50

// MinGuardedMembers is the smallest group the delete guard applies to.
const MinGuardedMembers = 10

// DefaultMaxDeletePct is the default of Guards.MaxDeletePct.
const DefaultMaxDeletePct = 30

// Check returns every guard the plan breaks (nil when it may be applied):
// member deletes past MaxDeletePct, prune deletes past MaxDeletePct of the
// groups in the prefix, the plan's Shrinks, and more than MaxChanges items
// (prune deletes included).
func (p *Plan) Check(g Guards) []error {
	if g.Force {
		return nil
	}
	var errs []error
	deletes := map[string]int{}
	names := map[string]string{}
	systems := map[string]System{}
	total := 0
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Error != "" {
			continue
		}
		total++
		if (c.Kind == KindPhone || c.Kind == KindUser) && c.Action == Delete {
			deletes[c.Group]++
			names[c.Group] = c.Name
			systems[c.Group] = c.System
		}
	}
	groups := make([]string, 0, len(deletes))
	for k := range deletes {
		groups = append(groups, k)
	}
	sort.Strings(groups)
	for _, k := range groups {
		n, have := deletes[k], p.Members[k]
		if have < MinGuardedMembers {
			continue
		}
		if pct := 100 * float64(n) / float64(have); pct > g.MaxDeletePct {
			errs = append(errs, fmt.Errorf("%s group %s %q: the plan deletes %d of its %d members (%.1f%%), more than --max-delete-pct %g%%",
				systems[k], k, names[k], n, have, pct, g.MaxDeletePct))
		}
	}
	errs = append(errs, p.pruneChecks(g.MaxDeletePct)...)
	for _, s := range p.Shrinks {
		errs = append(errs, fmt.Errorf("shrink guard: %w", s))
	}
	if g.MaxChanges > 0 && total > g.MaxChanges {
		errs = append(errs, fmt.Errorf("the plan has %d changes, more than --max-changes %d", total, g.MaxChanges))
	}
	return errs
}

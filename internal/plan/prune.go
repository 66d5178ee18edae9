package plan

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
)

// Prune is a system's pruning scope: the groups whose name starts with
// NamePrefix and that no file names are deleted.
type Prune struct {
	NamePrefix string `json:"name_prefix"`
	// Source is where the prune key stands (the first file that sets it).
	Source Source `json:"source"`
}

// PruneScope is, in a plan, what pruning found in one system: how many
// groups are in the prefix and which of them stay, and why. The groups it
// deletes are the plan's group delete items of that system.
type PruneScope struct {
	NamePrefix string `json:"name_prefix"`
	// InScope counts the remote groups whose name starts with NamePrefix.
	InScope int `json:"in_scope"`
	// Kept lists the groups in the prefix that are not deleted.
	Kept []KeptGroup `json:"kept"`
}

// KeptGroup is a group in a prune prefix that stays, and why.
type KeptGroup struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Why  string `json:"why"`
}

// Snapshot is a group's whole remote record and every member as read
// before the group is deleted, so that the deletion can be undone.
type Snapshot struct {
	// Fields is the record: the name and every field of GroupFields.
	Fields map[string]Value `json:"fields"`
	// Phones are the LOX24 group's members with every column.
	Phones []SnapshotPhone `json:"phones,omitempty"`
	// Users are the HelloID group's member user GUIDs.
	Users []string `json:"users,omitempty"`
}

// SnapshotPhone is one LOX24 member in a Snapshot.
type SnapshotPhone struct {
	ID    string `json:"id"`
	Phone string `json:"phone"`
	// Cols are the columns a..e and callback_data by name; empty ones are
	// left out.
	Cols map[string]string `json:"cols,omitempty"`
}

// externalOrigin reports whether a HelloID group's source says another
// system synchronises it.
func externalOrigin(origin string) bool { return IsExternalSource(origin) }

// named reports, per remote key of cur, whether a desired group of want
// addresses it: by key, or by name as Diff matches names.
func named(want []Group, cur Current) map[string]bool {
	d := newDiffer(cur.System, cur)
	out := map[string]bool{}
	for _, g := range want {
		if g.Key != "" {
			if r := d.byKey[d.keyOf(g.Key)]; r != nil {
				out[r.Key] = true
			}
			continue
		}
		for _, r := range d.byName[d.nameOf(g.Name)] {
			out[r.Key] = true
		}
	}
	return out
}

// pruneSplit sorts the remote groups in p's prefix into those to delete and
// those that stay (with why), each in the order the system listed them.
func pruneSplit(want []Group, cur Current, p Prune) (del []*RemoteGroup, kept []KeptGroup, inScope int) {
	names := named(want, cur)
	for i := range cur.Groups {
		r := &cur.Groups[i]
		if !strings.HasPrefix(r.Name, p.NamePrefix) {
			continue
		}
		inScope++
		why := ""
		switch {
		case names[r.Key]:
			why = "named by the files"
		case externalOrigin(r.Origin):
			why = fmt.Sprintf("source %q: synchronised from another system", r.Origin)
		case r.DeletedAt != "":
			why = "already scheduled for deletion (deleted_at " + r.DeletedAt + ")"
		}
		if why != "" {
			kept = append(kept, KeptGroup{Key: r.Key, Name: r.Name, Why: why})
			continue
		}
		del = append(del, r)
	}
	return del, kept, inScope
}

// PruneCandidates returns the keys of the groups of cur that pruning would
// delete, so that a sink can read their members before Diff snapshots them.
func PruneCandidates(want Desired, cur Current) []string {
	p, ok := want.Prune[cur.System]
	if !ok {
		return nil
	}
	del, _, _ := pruneSplit(want.For(cur.System), cur, p)
	keys := make([]string, len(del))
	for i, r := range del {
		keys[i] = r.Key
	}
	return keys
}

// prune adds to plan p the deletes of one system's pruning, and its scope.
func (d *differ) prune(p *Plan, want []Group, cur Current, pr Prune) {
	del, kept, inScope := pruneSplit(want, cur, pr)
	if p.Prune == nil {
		p.Prune = map[System]PruneScope{}
	}
	p.Prune[d.sys] = PruneScope{NamePrefix: pr.NamePrefix, InScope: inScope, Kept: kept}
	for _, r := range del {
		snap := &Snapshot{Fields: map[string]Value{"name": Str(r.Name)}}
		for k, v := range r.Fields {
			snap.Fields[k] = v
		}
		var members *int
		switch {
		case d.sys == LOX24 && r.Phones != nil:
			members = new(len(r.Phones))
			snap.Phones = make([]SnapshotPhone, len(r.Phones))
			for i, ph := range r.Phones {
				sp := SnapshotPhone{ID: ph.ID, Phone: ph.Number}
				for k, v := range ph.Cols.Array() {
					if v != "" {
						if sp.Cols == nil {
							sp.Cols = map[string]string{}
						}
						sp.Cols[PhoneColumns[k]] = v
					}
				}
				snap.Phones[i] = sp
			}
		case d.sys == HelloID && r.Users != nil:
			members = new(len(r.Users))
			snap.Users = append([]string{}, r.Users...)
		}
		p.Changes = append(p.Changes, Change{
			System: d.sys, Kind: KindGroup, Action: Delete, Key: r.Key, Name: r.Name,
			Source: pr.Source, Note: fmt.Sprintf("no file names it (prune: name_prefix %q)", pr.NamePrefix),
			Members: members, Snapshot: snap, Base: maps.Clone(snap.Fields),
		})
	}
}

// pruneChecks returns the refusals of the prune delete guard: more than
// maxPct of a system's groups in the prefix, when there are
// MinGuardedMembers or more.
func (p *Plan) pruneChecks(maxPct float64) []error {
	var errs []error
	for _, sys := range Systems {
		sc, ok := p.Prune[sys]
		if !ok || sc.InScope < MinGuardedMembers {
			continue
		}
		n := 0
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.System == sys && c.Kind == KindGroup && c.Action == Delete && c.Error == "" {
				n++
			}
		}
		if pct := 100 * float64(n) / float64(sc.InScope); pct > maxPct {
			errs = append(errs, fmt.Errorf("%s prune %q: the plan deletes %d of the %d groups in the prefix (%.1f%%), more than --max-delete-pct %g%%",
				sys, sc.NamePrefix, n, sc.InScope, pct, maxPct))
		}
	}
	return errs
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MemberReader is a Sink that can read the members of single groups: the
// groups a plan prunes, whose members the report keeps for undo. It fills
// Phones (LOX24) or Users (HelloID) of the groups of cur with those keys;
// any read that finally fails is an error, and then nothing may be pruned.
type MemberReader interface {
	ReadMembers(ctx context.Context, cur *Current, keys []string) error
}

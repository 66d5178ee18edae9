package plan

// expandAll returns copies of changes with their field lists built, as a
// plan read back from JSON holds them: compact phone creates compare equal
// to the same items written out.
func expandAll(changes []Change) []Change {
	if changes == nil {
		return nil
	}
	out := make([]Change, len(changes))
	for i := range changes {
		out[i] = changes[i]
		out[i].expand()
	}
	return out
}

// expanded returns a shallow copy of p whose changes are expanded.
func expanded(p *Plan) *Plan {
	q := *p
	q.Changes = expandAll(p.Changes)
	return &q
}

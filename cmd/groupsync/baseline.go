package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"

	"groupsync/internal/plan"
)

// baselineFlags are the shrink guard's flags (plan and apply from files).
type baselineFlags struct {
	path      string
	maxShrink float64
}

// register registers on fs the baseline flags that the flag table lists
// for cmd.
func (b *baselineFlags) register(fs *flag.FlagSet, cmd string) {
	b.maxShrink = plan.DefaultMaxShrinkPct
	registerFromTable(fs, cmd, map[string]func(name, usage string){
		"baseline":       func(n, u string) { fs.StringVar(&b.path, n, "", u) },
		"max-shrink-pct": func(n, u string) { fs.Float64Var(&b.maxShrink, n, b.maxShrink, u) },
	})
}

func (b *baselineFlags) check() string {
	if b.maxShrink < 0 || b.maxShrink > 100 {
		return "--max-shrink-pct must be 0..100"
	}
	return ""
}

// readBaseline reads the baseline file; ok is false when it does not exist
// yet (the first run).
func readBaseline(ctx context.Context, path string) (b plan.Baseline, ok bool, err error) {
	data, err := readGiven(ctx, path, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return plan.Baseline{}, false, nil
	}
	if err != nil {
		return plan.Baseline{}, false, fmt.Errorf("baseline: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return plan.Baseline{}, false, fmt.Errorf("baseline %s: %w", path, err)
	}
	if b.Version != plan.BaselineVersion {
		return plan.Baseline{}, false, fmt.Errorf("baseline %s: version %d is not supported (want %d)", path, b.Version, plan.BaselineVersion)
	}
	return b, true, nil
}

// writeBaseline writes the baseline b atomically.
func writeBaseline(path string, b plan.Baseline) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	return nil
}

// loadBaseline reads the baseline file when one is given, before any
// request; a missing file is the first run, and says so (nil, nil).
func (c *cli) loadBaseline(ctx context.Context, b *baselineFlags) (*plan.Baseline, error) {
	if b.path == "" {
		return nil, nil
	}
	before, ok, err := readBaseline(ctx, b.path)
	if err != nil {
		return nil, err
	}
	if !ok {
		fmt.Fprintf(c.stderr, "groupsync: no baseline at %s yet: first run, nothing to compare; apply writes it when it succeeds\n", b.path)
		return nil, nil
	}
	return &before, nil
}

// errPlanWithoutBaseline is apply --plan --baseline given a plan saved
// without the baseline figures to write: a usage error.
var errPlanWithoutBaseline = errors.New("--baseline: this saved plan carries no baseline figures; save it with `plan --baseline FILE --out PLAN.json` (not narrowed by --only or --group), or apply it without --baseline")

// savedBaseline checks a saved plan against the baseline file before any
// request: the plan must carry the figures apply writes, and the file as
// it is now is compared with them (it may have moved on since the plan
// was made), adding what shrank to the shrinks the plan recorded.
func (c *cli) savedBaseline(ctx context.Context, b *baselineFlags, saved *plan.Plan) error {
	if b.path == "" {
		return nil
	}
	if saved.Baseline == nil {
		return errPlanWithoutBaseline
	}
	before, err := c.loadBaseline(ctx, b)
	if err != nil || before == nil {
		return err
	}
	seen := map[string]bool{}
	for _, s := range saved.Shrinks {
		seen[s.What+"\x00"+s.Name] = true
	}
	for _, s := range plan.CompareBaseline(*before, *saved.Baseline, b.maxShrink) {
		if !seen[s.What+"\x00"+s.Name] {
			saved.Shrinks = append(saved.Shrinks, s)
		}
	}
	return nil
}

// baselineOf is the baseline of want, its files named relative to the
// baseline file's directory: the same file is the same entry whichever
// directory groupsync runs from, or whichever way its path is written.
func baselineOf(baselinePath string, want plan.Desired) plan.Baseline {
	rows := make(map[string]int, len(want.Rows))
	base, err := filepath.Abs(filepath.Dir(baselinePath))
	for f, n := range want.Rows {
		key := f
		if abs, aerr := filepath.Abs(f); err == nil && aerr == nil {
			if rel, rerr := filepath.Rel(base, abs); rerr == nil {
				key = filepath.ToSlash(rel)
			}
		}
		rows[key] += n
	}
	want.Rows = rows
	return plan.BaselineOf(want)
}

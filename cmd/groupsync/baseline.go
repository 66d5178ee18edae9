package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

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
func readBaseline(path string) (b plan.Baseline, ok bool, err error) {
	data, err := os.ReadFile(path)
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

// writeBaseline writes the baseline of want atomically.
func writeBaseline(path string, want plan.Desired) error {
	data, err := json.MarshalIndent(plan.BaselineOf(want), "", "  ")
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
func (c *cli) loadBaseline(b *baselineFlags) (*plan.Baseline, error) {
	if b.path == "" {
		return nil, nil
	}
	before, ok, err := readBaseline(b.path)
	if err != nil {
		return nil, err
	}
	if !ok {
		fmt.Fprintf(c.stderr, "groupsync: no baseline at %s yet: first run, nothing to compare; apply writes it when it succeeds\n", b.path)
		return nil, nil
	}
	return &before, nil
}

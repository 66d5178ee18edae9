package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"groupsync/internal/plan"
)

// verify re-reads, per system and side by side, exactly the groups the
// run's succeeded items touched, and those its uncertain failed items may
// have, and checks each item against what it wrote (plan.Verify). A system
// whose re-read fails, or panics, is marked in the report: its items stay
// unverified. The look-up by name of uncertain creates is read apart: when
// it fails, those creates alone stay failed.
func (c *cli) verify(ctx context.Context, log *slog.Logger, r *plan.Report, sinks map[plan.System]plan.Sink) {
	if r.Interrupted || ctx.Err() != nil {
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	have := map[plan.System]plan.Current{}
	for sys, refs := range plan.Touched(r) {
		gr, ok := sinks[sys].(plan.GroupReader)
		if !ok || len(refs) == 0 {
			continue
		}
		var byKey, byName []plan.GroupRef
		for _, ref := range refs {
			if ref.Key == "" {
				byName = append(byName, ref)
			} else {
				byKey = append(byKey, ref)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stage := func() { c.stage("verify " + string(sys)) }
			var cur plan.Current
			if len(byKey) > 0 {
				var err error
				if cur, err = readGroups(ctx, gr, byKey, stage); err != nil {
					log.Error("verify: re-read failed", "system", sys, "err", err)
					mu.Lock()
					r.SetSystemError(sys, fmt.Errorf("not verified: the re-read after apply failed: %w", err))
					mu.Unlock()
					return
				}
			}
			cur.System = sys
			if len(byName) > 0 {
				if len(byKey) > 0 {
					stage = func() {}
				}
				named, err := readGroups(ctx, gr, byName, stage)
				if err != nil {
					log.Warn("verify: looking for uncertain creates by name failed: they stay failed", "system", sys, "creates", len(byName), "err", err)
				}
				seen := map[string]bool{}
				for _, g := range cur.Groups {
					seen[g.Key] = true
				}
				for _, g := range named.Groups {
					if !seen[g.Key] {
						cur.Groups = append(cur.Groups, g)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			have[sys] = cur
		}()
	}
	wg.Wait()
	plan.Verify(r, have)
	if r.Summary.Verified > 0 {
		log.Info("verified", "items", r.Summary.Verified)
	}
}

// readGroups calls stage, then gr.ReadGroups; a panic in either is its
// error, rather than the process's end.
func readGroups(ctx context.Context, gr plan.GroupReader, refs []plan.GroupRef, stage func()) (cur plan.Current, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("internal error: %v", v)
		}
	}()
	stage()
	return gr.ReadGroups(ctx, refs)
}

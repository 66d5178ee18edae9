package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"groupsync/internal/plan"
)

// verify re-reads, per system and side by side, exactly the groups the
// run's succeeded items touched and checks each item against what it
// wrote (plan.Verify). A system whose re-read fails is marked in the
// report: its items stay unverified.
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			cur, err := gr.ReadGroups(ctx, refs)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				log.Error("verify: re-read failed", "system", sys, "err", err)
				r.SetSystemError(sys, fmt.Errorf("not verified: the re-read after apply failed: %w", err))
				return
			}
			have[sys] = cur
		}()
	}
	wg.Wait()
	plan.Verify(r, have)
	if r.Summary.Verified > 0 {
		log.Info("verified", "items", r.Summary.Verified)
	}
}

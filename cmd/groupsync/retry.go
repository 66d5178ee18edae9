package main

import (
	"context"
	"encoding/json"
	"fmt"

	"groupsync/internal/plan"
)

// readReportFile reads a report written by apply.
func readReportFile(ctx context.Context, path string, maxSize int64) (*plan.Report, error) {
	raw, err := readGiven(ctx, path, maxSize)
	if err != nil {
		return nil, err
	}
	var r plan.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: not a groupsync report: %w", path, err)
	}
	if r.Version != plan.ReportVersion {
		return nil, fmt.Errorf("%s: report version %d, want %d", path, r.Version, plan.ReportVersion)
	}
	return &r, nil
}

// loadRetry turns the failed and skipped items of a report into a plan and
// revalidates it like a saved plan, taking out first the items whose wanted
// state already holds.
func (c *cli) loadRetry(ctx context.Context, f *remoteFlags, path string) (*planned, error) {
	r, err := readReportFile(ctx, path, f.input.maxFileSize)
	if err != nil {
		return nil, err
	}
	return c.revalidate(ctx, f, plan.RetryPlan(r), true)
}

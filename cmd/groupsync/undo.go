package main

import (
	"bytes"
	"context"
	"fmt"

	"groupsync/internal/plan"
)

func (c *cli) undo(_ context.Context, args []string) int {
	fs := c.newFlagSet("undo", "undo REPORT.json --out PLAN.json\n\nWrite a saved plan that reverses every succeeded item of an apply's report: updates go\nback to their before, creates are deleted, deleted members are created again. Review it,\nthen apply it with `groupsync apply --plan PLAN.json`; items whose target changed since\nthe report are stale then and not written. Sends no request.")
	out := fs.String("out", "", "where to save the plan (required)")
	showPhones := fs.Bool("show-phones", false, "show phone numbers unmasked in the plan printed")
	pos, err := parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	switch {
	case len(pos) != 1:
		return c.usageErr(fs, "want exactly one report")
	case *out == "":
		return c.usageErr(fs, "--out PLAN.json is required")
	}
	r, err := readReportFile(pos[0])
	if err != nil {
		return c.fatal(err)
	}
	p, left := plan.Undo(r)
	for _, why := range left {
		fmt.Fprintf(c.stderr, "groupsync: %s\n", why)
	}
	if err := plan.WriteText(c.stdout, p, plan.RenderOptions{ShowPhones: *showPhones}); err != nil {
		return c.fatal(err)
	}
	var buf bytes.Buffer
	if err := plan.WriteJSON(&buf, p); err != nil {
		return c.fatal(err)
	}
	if err := c.writeFile(*out, buf.Bytes()); err != nil {
		return c.fatal(fmt.Errorf("save plan: %w", err))
	}
	fmt.Fprintf(c.stderr, "Undo plan saved to %s; apply it with: groupsync apply --plan %s\n", *out, *out)
	if len(left) > 0 {
		return exitFatal
	}
	return exitOK
}

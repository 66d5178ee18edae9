package main

import (
	"context"
	"fmt"
	"io"

	"groupsync/internal/plan"
)

func (c *cli) undo(ctx context.Context, args []string) int {
	fs := c.newFlagSet("undo", "undo REPORT.json --out PLAN.json\n\nWrite a saved plan that reverses every succeeded item of an apply's report: updates go\nback to their before, creates are deleted, deleted members are created again. Review it,\nthen apply it with `groupsync apply --plan PLAN.json`; items whose target changed since\nthe report are stale then and not written. Sends no request.")
	var f remoteFlags
	f.register(fs, "undo", c.env)
	out := fs.String("out", "", usageOf("undo", "out"))
	pos, err := c.parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	switch {
	case len(pos) != 1:
		return c.usageErr(fs, "want exactly one report")
	case *out == "":
		return c.usageErr(fs, "--out PLAN.json is required")
	}
	if msg := f.checkFormat(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	r, err := readReportFile(ctx, pos[0], 0)
	if err != nil {
		return c.fatal(err)
	}
	p, left := plan.Undo(r)
	for _, why := range left {
		fmt.Fprintf(c.stderr, "groupsync: %s\n", why)
	}
	if err := f.render(ctx, c, p); err != nil {
		return c.fatal(err)
	}
	if err := c.writeFileFrom(*out, func(w io.Writer) error { return plan.WriteJSON(w, p) }); err != nil {
		return c.fatal(fmt.Errorf("save plan: %w", err))
	}
	at := c.display(*out)
	fmt.Fprintf(c.stderr, "Undo plan saved to %s; apply it with: groupsync apply --plan %s (groupsync show %s prints it again)\n", at, at, at)
	if len(left) > 0 {
		return exitFatal
	}
	return exitOK
}

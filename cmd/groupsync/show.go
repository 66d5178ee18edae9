package main

import (
	"context"
	"fmt"

	"groupsync/internal/plan"
)

// show renders a plan saved by plan --out, as plan would have printed it:
// for review in another format, or again later. It reads no remote state.
func (c *cli) show(ctx context.Context, args []string) int {
	fs := c.newFlagSet("show", "show [flags] PLAN.json\n\nPrint a plan saved by `plan --out` in text, JSON or Markdown, with the systems it could\nnot read and the safety guards it broke when it was made. Sends no request.")
	var f remoteFlags
	f.register(fs, "show", c.env)
	files, err := c.parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(files) != 1 {
		return c.usageErr(fs, "want exactly one saved plan, got %d arguments", len(files))
	}
	if msg := f.checkFormat(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	data, err := readGiven(ctx, files[0], 0)
	if err != nil {
		return c.fatal(err)
	}
	p, err := plan.ParseJSON(data)
	if err != nil {
		return c.fatal(fmt.Errorf("%s: %w", files[0], err))
	}
	if err := f.render(ctx, c, p); err != nil {
		return c.fatal(err)
	}
	return exitOK
}

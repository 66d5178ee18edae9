package main

import (
	"context"
	"errors"
	"fmt"

	"groupsync/internal/plan"
	"groupsync/internal/source"
)

func (c *cli) validate(ctx context.Context, args []string) int {
	fs := c.newFlagSet("validate", "validate [flags] FILE...\n\nParse and validate the desired state; no request is sent.")
	var in inputFlags
	in.register(fs, "validate")
	files, err := c.parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if msg := in.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	if len(files) == 0 {
		return c.usageErr(fs, "no input files")
	}
	c.stage("files")
	want, err := source.ReadContext(ctx, files, in.options())
	if err != nil {
		return c.inputErr(err)
	}
	n := map[plan.System]int{}
	for _, g := range want.Groups {
		n[g.System]++
	}
	fmt.Fprintf(c.stdout, "%d %s valid: %d lox24 %s, %d helloid %s.\n", len(files), plural(len(files), "file", "files"),
		n[plan.LOX24], plural(n[plan.LOX24], "group", "groups"), n[plan.HelloID], plural(n[plan.HelloID], "group", "groups"))
	return exitOK
}

// inputErr prints every input error and returns exitFatal.
func (c *cli) inputErr(err error) int {
	var errs source.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(c.stderr, e.Error())
		}
		fmt.Fprintf(c.stderr, "groupsync: %d input %s; nothing was sent\n", len(errs), plural(len(errs), "error", "errors"))
		return exitFatal
	}
	return c.fatal(err)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"groupsync/internal/plan"
	"groupsync/internal/source"
)

func (c *cli) validate(ctx context.Context, args []string) int {
	fs := c.newFlagSet("validate", "validate FILE...\n\nParse and validate the desired state; no request is sent.")
	files, err := parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(files) == 0 {
		return c.usageErr(fs, "no input files")
	}
	want, err := source.Read(files)
	if err != nil {
		return c.inputErr(err)
	}
	n := map[plan.System]int{}
	for _, g := range want.Groups {
		n[g.System]++
	}
	fmt.Fprintf(c.stdout, "%d files valid: %d lox24 groups, %d helloid groups.\n", len(files), n[plan.LOX24], n[plan.HelloID])
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

// planned is the outcome of reading files and remote state and diffing.
type planned struct {
	plan     *plan.Plan
	sinks    map[plan.System]plan.Sink
	readErrs map[plan.System]error
}

// makePlan reads the files, builds the clients (every configuration problem
// before any request), reads every system side by side and diffs. Systems
// that could not be read are left out of the plan; their errors come back.
func (c *cli) makePlan(ctx context.Context, f *remoteFlags, files []string) (*planned, error) {
	want, err := f.readDesired(files)
	if err != nil {
		return nil, err
	}
	sinks, err := f.sinks(c.env, want.Systems())
	if err != nil {
		return nil, err
	}
	results := readAll(ctx, f.logger(c), want, sinks)
	have, _ := current(results)
	out := &planned{plan: plan.Diff(want, have), sinks: sinks, readErrs: map[plan.System]error{}}
	for sys, r := range results {
		if r.err != nil {
			out.readErrs[sys] = r.err
		}
	}
	return out, nil
}

func (c *cli) printReadErrors(p *planned) {
	for _, sys := range plan.Systems {
		if err := p.readErrs[sys]; err != nil {
			fmt.Fprintf(c.stderr, "groupsync: %s could not be read; it is left out of the plan: %v\n", sys, err)
		}
	}
}

func (c *cli) plan(ctx context.Context, args []string) int {
	fs := c.newFlagSet("plan", "plan [flags] FILE...\n\nRead the remote state and print what apply would change. Sends GET requests only.")
	var f remoteFlags
	f.register(fs, c.env)
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when changes are pending, 0 when there are none")
	files, err := parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(files) == 0 {
		return c.usageErr(fs, "no input files")
	}
	if msg := f.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	p, err := c.makePlan(ctx, &f, files)
	if err != nil {
		return c.inputErr(err)
	}
	if err := plan.WriteText(c.stdout, p.plan, plan.RenderOptions{ShowPhones: f.showPhones}); err != nil {
		return c.fatal(err)
	}
	c.printReadErrors(p)
	for _, err := range p.plan.Check(f.guards) {
		fmt.Fprintf(c.stderr, "groupsync: apply would refuse this plan (use --force to override): %v\n", err)
	}
	switch {
	case len(p.readErrs) > 0 || p.plan.HasErrors():
		return exitFatal
	case *detailed && p.plan.HasChanges():
		return exitPending
	}
	return exitOK
}

func (c *cli) apply(ctx context.Context, args []string) int {
	fs := c.newFlagSet("apply", "apply [flags] FILE...\n\nPlan, then apply the plan, and write a report of every item's outcome.")
	var f remoteFlags
	f.register(fs, c.env)
	reportPath := fs.String("report", "groupsync-report.json", "where to write the JSON report")
	yes := fs.Bool("yes", false, "apply without asking for confirmation (required without a terminal)")
	files, err := parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(files) == 0 {
		return c.usageErr(fs, "no input files")
	}
	if msg := f.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	start := time.Now()
	p, err := c.makePlan(ctx, &f, files)
	if err != nil {
		code := c.inputErr(err)
		c.writeReport(*reportPath, plan.FailedReport(start, time.Now(), err))
		return code
	}
	opt := plan.RenderOptions{ShowPhones: f.showPhones}
	if err := plan.WriteText(c.stdout, p.plan, opt); err != nil {
		return c.fatal(err)
	}
	c.printReadErrors(p)

	if errs := p.plan.Check(f.guards); len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintf(c.stderr, "groupsync: refused by a safety guard: %v\n", err)
		}
		fmt.Fprintln(c.stderr, "groupsync: nothing was written; review the plan and run again with --force to apply it anyway")
		r := plan.Apply(ctx, p.plan, nil, plan.ApplyOptions{})
		r.StartedAt = start.UTC()
		for _, err := range errs {
			r.Errors = append(r.Errors, "refused by a safety guard: "+err.Error())
		}
		c.writeReport(*reportPath, r)
		return exitRefused
	}
	sinks := p.sinks
	if p.plan.HasChanges() && !*yes {
		if err := c.confirm(); err != nil {
			fmt.Fprintf(c.stderr, "groupsync: %v\n", err)
			sinks = nil // every item is reported skipped; nothing is sent
		}
	}
	var r *plan.Report
	if sinks == nil {
		r = plan.Apply(ctx, p.plan, nil, plan.ApplyOptions{})
		r.Errors = append(r.Errors, "not confirmed: nothing was applied")
	} else {
		r = plan.Apply(ctx, p.plan, sinks, plan.ApplyOptions{Workers: f.workers()})
	}
	r.StartedAt = start.UTC()
	for sys, err := range p.readErrs {
		r.SetSystemError(sys, fmt.Errorf("not read, nothing written: %w", err))
	}
	if err := r.WriteSummary(c.stderr, opt); err != nil {
		return c.fatal(err)
	}
	if code := c.writeReport(*reportPath, r); code != exitOK {
		return code
	}
	switch {
	case r.Fatal():
		return exitFatal
	case !r.OK():
		return exitFailed
	}
	return exitOK
}

// writeReport writes the report atomically and says where.
func (c *cli) writeReport(path string, r *plan.Report) int {
	if err := r.WriteFile(path); err != nil {
		return c.fatal(fmt.Errorf("write report: %w", err))
	}
	fmt.Fprintf(c.stderr, "Report written to %s\n", path)
	return exitOK
}

// confirm asks on the terminal whether to apply. Without a terminal it
// refuses: cron must say --yes.
func (c *cli) confirm() error {
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return errors.New("refusing to apply without confirmation: no terminal to ask on; run with --yes to apply unattended")
	}
	fmt.Fprint(c.stderr, "\nApply these changes? Only 'yes' will be accepted: ")
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read confirmation: %w", err)
	}
	if strings.TrimSpace(line) != "yes" {
		return errors.New("apply cancelled")
	}
	return nil
}

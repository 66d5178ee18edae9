package main

import (
	"bufio"
	"bytes"
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
	var in inputFlags
	in.register(fs)
	files, err := parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if msg := in.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	if len(files) == 0 {
		return c.usageErr(fs, "no input files")
	}
	want, err := source.ReadWith(files, in.options())
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

// planned is the outcome of reading files (or a saved plan) and remote
// state and diffing (or revalidating).
type planned struct {
	plan     *plan.Plan
	sinks    map[plan.System]plan.Sink
	readErrs map[plan.System]error
	stale    map[int]string // saved plans: items whose remote state changed
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
	have := current(results)
	out := &planned{plan: plan.Diff(want, have), sinks: sinks, readErrs: map[plan.System]error{}}
	for sys, r := range results {
		if r.err != nil {
			out.readErrs[sys] = r.err
		}
	}
	return out, nil
}

// loadPlan reads a saved plan, builds the clients of its systems, reads
// their current state and revalidates the plan against it. The input files
// are not read again.
func (c *cli) loadPlan(ctx context.Context, f *remoteFlags, path string) (*planned, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	saved, err := plan.ReadJSON(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sinks, err := f.sinks(c.env, saved.Systems)
	if err != nil {
		return nil, err
	}
	// The clients read members only of the groups the plan changes members of.
	want := plan.Desired{}
	seen := map[string]bool{}
	for _, ch := range saved.Changes {
		if ch.Kind == plan.KindPhone && ch.Group != "" && !seen[ch.Group] {
			seen[ch.Group] = true
			want.Groups = append(want.Groups, plan.Group{System: ch.System, Key: ch.Group, Phones: &plan.Phones{}})
		}
	}
	results := readAll(ctx, f.logger(c), want, sinks)
	have := current(results)
	out := &planned{plan: saved, sinks: sinks, readErrs: map[plan.System]error{}, stale: plan.Revalidate(saved, have)}
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
	out := fs.String("out", "", "also save the plan as JSON to this file, for `apply --plan` (it holds no secret)")
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
	return c.session(ctx, &f, "plan", func(m *runMetrics) int {
		p, err := c.makePlan(ctx, &f, files)
		if err != nil {
			return c.inputErr(err)
		}
		m.fromPlan(p.plan)
		if err := f.render(c.stdout, p.plan); err != nil {
			return c.fatal(err)
		}
		if *out != "" {
			var buf bytes.Buffer
			if err := plan.WriteJSON(&buf, p.plan); err != nil {
				return c.fatal(err)
			}
			if err := plan.WriteFileAtomic(*out, buf.Bytes()); err != nil {
				return c.fatal(fmt.Errorf("save plan: %w", err))
			}
			fmt.Fprintf(c.stderr, "Plan saved to %s; apply it with: groupsync apply --plan %s\n", *out, *out)
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
	})
}

// session runs one command's work holding --lock-file, when given, and
// writes --metrics-file, when given, with the run's final exit code. A run
// that finds the lock held exits 75 at once, sending nothing.
func (c *cli) session(ctx context.Context, f *remoteFlags, command string, work func(*runMetrics) int) int {
	if f.lockFile != "" {
		unlock, err := lock(f.lockFile)
		if errors.Is(err, errLocked) {
			fmt.Fprintf(c.stderr, "groupsync: %v; nothing was done\n", err)
			return exitLocked
		}
		if err != nil {
			return c.fatal(err)
		}
		defer unlock()
	}
	m := newMetrics(f.metricsFile, command)
	code := finalCode(ctx, work(m))
	if err := m.write(code); err != nil {
		fmt.Fprintf(c.stderr, "groupsync: write metrics: %v\n", err)
	}
	return code
}

func (c *cli) apply(ctx context.Context, args []string) int {
	fs := c.newFlagSet("apply", "apply [flags] FILE...\n       groupsync apply [flags] --plan PLAN.json\n\nPlan, then apply the plan, and write a report of every item's outcome.\nWith --plan, apply a plan saved by `plan --out`: the remote state is read again and\nitems whose remote state changed since are reported stale and not written.")
	var f remoteFlags
	f.register(fs, c.env)
	reportPath := fs.String("report", "groupsync-report.json", "where to write the JSON report")
	yes := fs.Bool("yes", false, "apply without asking for confirmation (required without a terminal)")
	saved := fs.String("plan", "", "apply this saved plan (from `plan --out`) instead of planning from files")
	files, err := parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	switch {
	case *saved != "" && len(files) > 0:
		return c.usageErr(fs, "give either --plan or input files, not both")
	case *saved == "" && len(files) == 0:
		return c.usageErr(fs, "no input files (or --plan PLAN.json)")
	case *saved != "" && f.only != "":
		return c.usageErr(fs, "--only cannot narrow a saved plan; make the plan with --only instead")
	}
	if msg := f.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	return c.session(ctx, &f, "apply", func(m *runMetrics) int {
		start := time.Now()
		var p *planned
		var err error
		if *saved != "" {
			p, err = c.loadPlan(ctx, &f, *saved)
		} else {
			p, err = c.makePlan(ctx, &f, files)
		}
		if err != nil {
			code := c.inputErr(err)
			r := plan.FailedReport(start, time.Now(), err)
			m.fromReport(r)
			c.writeReport(*reportPath, r)
			return code
		}
		r, code := c.execute(ctx, &f, p, start, *reportPath, *yes)
		m.fromReport(r)
		return code
	})
}

// execute shows the plan, checks the guards, asks for confirmation, applies
// and writes the report. It returns the report and the exit code.
func (c *cli) execute(ctx context.Context, f *remoteFlags, p *planned, start time.Time, reportPath string, yes bool) (*plan.Report, int) {
	log := f.logger(c)
	if err := f.render(c.stdout, p.plan); err != nil {
		return nil, c.fatal(err)
	}
	c.printReadErrors(p)
	for i := range p.plan.Changes {
		if why, ok := p.stale[i]; ok {
			ch := &p.plan.Changes[i]
			fmt.Fprintf(c.stderr, "groupsync: stale, will not be written: %s %s %s: %s\n", ch.System, ch.Action, plan.Title(ch, plan.RenderOptions{ShowPhones: f.showPhones}), why)
		}
	}
	finish := func(r *plan.Report) {
		r.StartedAt = start.UTC()
		for sys, err := range p.readErrs {
			r.SetSystemError(sys, fmt.Errorf("not read, nothing written: %w", err))
		}
	}
	if errs := p.plan.Check(f.guards); len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintf(c.stderr, "groupsync: refused by a safety guard: %v\n", err)
		}
		fmt.Fprintln(c.stderr, "groupsync: nothing was written; review the plan and run again with --force to apply it anyway")
		r := plan.Apply(ctx, p.plan, nil, plan.ApplyOptions{})
		finish(r)
		for _, err := range errs {
			r.Errors = append(r.Errors, "refused by a safety guard: "+err.Error())
		}
		c.writeReport(reportPath, r)
		return r, exitRefused
	}
	sinks := p.sinks
	for sys := range p.readErrs {
		delete(sinks, sys) // a system that could not be read gets no write
	}
	if p.plan.HasChanges() && !yes {
		if err := c.confirm(ctx); err != nil {
			fmt.Fprintf(c.stderr, "groupsync: %v\n", err)
			sinks = nil // every item is reported skipped; nothing is sent
		}
	}
	var r *plan.Report
	if sinks == nil {
		r = plan.Apply(ctx, p.plan, nil, plan.ApplyOptions{})
		r.Errors = append(r.Errors, "not confirmed: nothing was applied")
	} else {
		advance, done := progress(c.stderr, len(p.plan.Changes))
		r = plan.Apply(ctx, p.plan, sinks, plan.ApplyOptions{Workers: f.workers(), Stale: p.stale, OnItem: func(it plan.Item) {
			if advance != nil {
				advance(it)
			}
			if it.Status == plan.Failed {
				log.Warn("item failed", "system", it.System, "kind", it.Kind, "action", it.Action, "key", it.Key,
					"source", it.Source, "http_status", it.HTTPStatus, "attempts", it.Attempts, "err", it.Error)
			}
		}})
		done()
	}
	finish(r)
	log.Info("apply finished", "planned", r.Summary.Planned, "succeeded", r.Summary.Succeeded, "failed", r.Summary.Failed,
		"skipped", r.Summary.Skipped, "stale", r.Summary.Stale, "unchanged", r.Summary.Unchanged, "interrupted", r.Interrupted)
	if err := r.WriteSummary(c.stderr, plan.RenderOptions{ShowPhones: f.showPhones}); err != nil {
		return r, c.fatal(err)
	}
	if code := c.writeReport(reportPath, r); code != exitOK {
		return r, code
	}
	switch {
	case r.Fatal():
		return r, exitFatal
	case !r.OK():
		return r, exitFailed
	}
	return r, exitOK
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
// refuses: cron must say --yes. An interrupt while it waits counts as no.
func (c *cli) confirm(ctx context.Context) error {
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return errors.New("refusing to apply without confirmation: no terminal to ask on; run with --yes to apply unattended")
	}
	fmt.Fprint(c.stderr, "\nApply these changes? Only 'yes' will be accepted: ")
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() { // ends with the process; a terminal read cannot be cancelled
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		got <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(c.stderr)
		return errors.New("apply cancelled by the interrupt")
	case a := <-got:
		if a.err != nil && a.err != io.EOF {
			return fmt.Errorf("read confirmation: %w", a.err)
		}
		if strings.TrimSpace(a.line) != "yes" {
			return errors.New("apply cancelled")
		}
	}
	return nil
}

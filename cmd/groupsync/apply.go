package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"groupsync/internal/plan"
)

func (c *cli) apply(ctx context.Context, args []string) int {
	fs := c.newFlagSet("apply", "apply [flags] FILE...\n       groupsync apply [flags] --plan PLAN.json\n       groupsync apply [flags] --retry-failed REPORT.json\n\nPlan, then apply the plan, and write a report of every item's outcome.\nWith --plan, apply a plan saved by `plan --out`: the remote state is read again and\nitems whose remote state changed since are reported stale and not written.\nWith --retry-failed, apply again the failed and skipped items of a report the same way;\nitems already as wanted are unchanged. After applying, the touched groups are read again\nand every item is checked (--no-verify skips it).")
	var f remoteFlags
	f.register(fs, "apply", c.env)
	var b baselineFlags
	b.register(fs, "apply")
	reportPath := fs.String("report", "groupsync-report.json", usageOf("apply", "report"))
	yes := fs.Bool("yes", false, usageOf("apply", "yes"))
	saved := fs.String("plan", "", usageOf("apply", "plan"))
	retry := fs.String("retry-failed", "", usageOf("apply", "retry-failed"))
	noVerify := fs.Bool("no-verify", false, usageOf("apply", "no-verify"))
	files, err := c.parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	given := 0
	for _, set := range []bool{*saved != "", *retry != "", len(files) > 0} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return c.usageErr(fs, "give one of --plan, --retry-failed or input files")
	case given == 0:
		return c.usageErr(fs, "no input files (or --plan PLAN.json, or --retry-failed REPORT.json)")
	case (*saved != "" || *retry != "") && (f.only != "" || len(f.groups) > 0):
		return c.usageErr(fs, "--only and --group cannot narrow a saved plan or a report; make the plan with them instead")
	case *retry != "" && b.path != "":
		return c.usageErr(fs, "--baseline compares input files; a report reads none (give --baseline to a run from the files)")
	}
	if msg := f.check() + b.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	if err := checkWritable("--report", *reportPath); err != nil {
		return c.fatal(err)
	}
	if b.path != "" {
		if err := checkWritable("--baseline", b.path); err != nil {
			return c.fatal(err)
		}
	}
	return c.session(ctx, &f, "apply", func(m *runMetrics) (code int) {
		start := time.Now()
		defer func() {
			// A panic anywhere in the run still leaves a report that
			// says what happened; no goroutine dump reaches the user.
			if v := recover(); v != nil {
				err := fmt.Errorf("internal error: %v", v)
				fmt.Fprintf(c.stderr, "groupsync: %v\n", err)
				r := plan.FailedReport(start, time.Now(), err)
				m.fromReport(r)
				c.writeReport(*reportPath, r)
				code = exitFatal
			}
		}()
		var p *planned
		var err error
		switch {
		case *saved != "":
			p, err = c.loadPlan(ctx, &f, &b, *saved)
		case *retry != "":
			p, err = c.loadRetry(ctx, &f, *retry)
		default:
			p, err = c.makePlan(ctx, &f, &b, files)
		}
		if errors.Is(err, errPlanWithoutBaseline) {
			return c.usageErr(fs, "%v", err)
		}
		if err != nil {
			code := c.inputErr(err)
			r := plan.FailedReport(start, time.Now(), err)
			// A signal before the first write still ends an interrupted run.
			r.Interrupted = ctx.Err() != nil
			m.fromReport(r)
			c.writeReport(*reportPath, r)
			return code
		}
		r, code := c.execute(ctx, &f, p, start, *reportPath, *yes, !*noVerify)
		m.fromReport(r)
		narrowed := f.only != "" || len(f.groups) > 0
		if code == exitOK && b.path != "" && p.baseline != nil && narrowed {
			// The baseline records the whole desired state; a run limited
			// to some groups or one system would forget the others.
			fmt.Fprintf(c.stderr, "Baseline %s not updated: --only or --group limited this run\n", b.path)
		}
		if code == exitOK && b.path != "" && p.baseline != nil && !narrowed {
			if err := writeBaseline(b.path, *p.baseline); err != nil {
				return c.fatal(err)
			}
			fmt.Fprintf(c.stderr, "Baseline written to %s\n", b.path)
		}
		return code
	})
}

// execute shows the plan, checks the guards, asks for confirmation, applies
// and writes the report. It returns the report and the exit code.
func (c *cli) execute(ctx context.Context, f *remoteFlags, p *planned, start time.Time, reportPath string, yes, verify bool) (*plan.Report, int) {
	log := f.logger(c)
	// The plan in full where someone is asked to confirm it, or in another
	// format than text; otherwise (--yes: it was reviewed before) its
	// summary, so that a reviewed plan is not printed twice.
	full := *f
	if yes && f.format == "text" {
		full.format = "summary"
	}
	// A signal stops the printing; the run then ends as interrupted, with
	// its report, below.
	if err := full.render(ctx, c, p.plan); err != nil && ctx.Err() == nil {
		return nil, c.fatal(err)
	}
	c.printReadErrors(p)
	for i := range p.plan.Changes {
		if why, ok := p.stale[i]; ok {
			ch := &p.plan.Changes[i]
			fmt.Fprintf(c.stderr, "groupsync: stale, will not be written: %s %s %s: %s\n", ch.System, ch.Action, plan.Title(ch, f.renderOptions(c)), why)
		}
	}
	finish := func(r *plan.Report) {
		r.StartedAt = start.UTC()
		for sys, err := range p.readErrs {
			r.SetSystemError(sys, fmt.Errorf("not read, nothing written: %w", err))
		}
	}
	if errs := p.guardErrors(f.guards); len(errs) > 0 {
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
	var notConfirmed error
	if p.plan.HasChanges() && !yes {
		if notConfirmed = c.confirm(ctx); notConfirmed != nil {
			if !errors.Is(notConfirmed, errCancelled) {
				fmt.Fprintf(c.stderr, "groupsync: %v\n", notConfirmed)
			}
			sinks = nil // every item is reported skipped; nothing is sent
		}
	}
	var r *plan.Report
	if sinks == nil {
		r = plan.Apply(ctx, p.plan, nil, plan.ApplyOptions{})
		if errors.Is(notConfirmed, errCancelled) {
			r.Cancelled = true
		} else {
			r.Errors = append(r.Errors, "not confirmed: nothing was applied")
		}
	} else {
		advance, done := progress(c.stderr, len(p.plan.Changes), c.terminal(c.stderr) && f.logFormat != "json")
		if advance == nil && len(p.plan.Changes) > 0 {
			// Off a terminal, a line every 10 s says how far it is.
			tick, stop := c.newTicker(progressInterval)
			advance, done = progressLog(log, len(p.plan.Changes), tick, stop, c.now)
		}
		c.stage("apply")
		r = plan.Apply(ctx, p.plan, sinks, plan.ApplyOptions{Workers: f.workers(), Stale: p.stale, OnItem: func(it plan.Item) {
			c.stage("item")
			if advance != nil {
				advance(it)
			}
			if it.Status == plan.Failed {
				log.Warn("item failed", "system", it.System, "kind", it.Kind, "action", it.Action, "key", it.Key,
					"source", it.Source, "http_status", it.HTTPStatus, "attempts", it.Attempts, "err", it.Error)
			}
		}})
		done()
		if verify {
			c.verify(ctx, log, r, sinks)
		}
	}
	finish(r)
	log.Info("apply finished", "planned", r.Summary.Planned, "succeeded", r.Summary.Succeeded, "failed", r.Summary.Failed,
		"skipped", r.Summary.Skipped, "stale", r.Summary.Stale, "unchanged", r.Summary.Unchanged, "verified", r.Summary.Verified,
		"interrupted", r.Interrupted)
	if err := r.WriteSummary(c.stderr, f.renderOptions(c)); err != nil {
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

// display is a path as output shows it: relative to c.baseDir when set
// and the path lies under it.
func (c *cli) display(path string) string {
	return plan.RelSource(plan.Source{File: path}, c.baseDir).File
}

// writeReport writes the report atomically and says where.
func (c *cli) writeReport(path string, r *plan.Report) int {
	if err := writeReportFile(path, r, c.redact); err != nil {
		return c.fatal(fmt.Errorf("write report: %w", err))
	}
	fmt.Fprintf(c.stderr, "Report written to %s\n", c.display(path))
	return exitOK
}

// errCancelled is the answer of someone who did not type yes.
var errCancelled = errors.New("apply cancelled at the prompt")

// confirm asks on the terminal whether to apply. Without a terminal it
// refuses: cron must say --yes. An interrupt while it waits counts as no.
func (c *cli) confirm(ctx context.Context) error {
	if !c.terminal(c.stdin) {
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
		if a.err != nil && !errors.Is(a.err, io.EOF) {
			return fmt.Errorf("read confirmation: %w", a.err)
		}
		if strings.TrimSpace(a.line) != "yes" {
			return errCancelled
		}
	}
	return nil
}

// guardErrors returns every safety guard the plan breaks today, and, for a
// saved plan, those it broke when it was made (a reviewer saw it refused:
// applying it with laxer flags must not quietly let it through); none with
// --force.
func (p *planned) guardErrors(g plan.Guards) []error {
	errs := p.plan.Check(g)
	if g.Force {
		return errs
	}
	for _, then := range p.refusedThen {
		if !slices.ContainsFunc(errs, func(e error) bool { return e.Error() == then }) {
			errs = append(errs, fmt.Errorf("when the plan was made: %s", then))
		}
	}
	return errs
}

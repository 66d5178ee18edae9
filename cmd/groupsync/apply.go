package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"groupsync/internal/plan"
)

func (c *cli) apply(ctx context.Context, args []string) int {
	fs := c.newFlagSet("apply", "apply [flags] FILE...\n       groupsync apply [flags] --plan PLAN.json\n       groupsync apply [flags] --retry-failed REPORT.json\n\nPlan, then apply the plan, and write a report of every item's outcome.\nWith --plan, apply a plan saved by `plan --out`: the remote state is read again and\nitems whose remote state changed since are reported stale and not written.\nWith --retry-failed, apply again the failed and skipped items of a report the same way;\nitems already as wanted are unchanged. After applying, the touched groups are read again\nand every item is checked (--no-verify skips it).")
	var f remoteFlags
	f.register(fs, c.env)
	f.input.registerFiles(fs)
	var b baselineFlags
	b.register(fs)
	reportPath := fs.String("report", "groupsync-report.json", "where to write the JSON report")
	yes := fs.Bool("yes", false, "apply without asking for confirmation (required without a terminal)")
	saved := fs.String("plan", "", "apply this saved plan (from `plan --out`) instead of planning from files")
	retry := fs.String("retry-failed", "", "apply again the failed and skipped items of this report (from an earlier apply)")
	noVerify := fs.Bool("no-verify", false, "do not re-read what was applied to check that it took effect")
	files, err := parse(fs, args)
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
	case (*saved != "" || *retry != "") && f.only != "":
		return c.usageErr(fs, "--only cannot narrow a saved plan or a report; make the plan with --only instead")
	case (*saved != "" || *retry != "") && b.path != "":
		return c.usageErr(fs, "--baseline compares input files; a saved plan or a report reads none (give --baseline to the plan that saves it)")
	}
	if msg := f.check() + b.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	if err := checkWritable("--report", *reportPath); err != nil {
		return c.fatal(err)
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
			p, err = c.loadPlan(ctx, &f, *saved)
		case *retry != "":
			p, err = c.loadRetry(ctx, &f, *retry)
		default:
			p, err = c.makePlan(ctx, &f, &b, files)
		}
		if err != nil {
			code := c.inputErr(err)
			r := plan.FailedReport(start, time.Now(), err)
			m.fromReport(r)
			c.writeReport(*reportPath, r)
			return code
		}
		r, code := c.execute(ctx, &f, p, start, *reportPath, *yes, !*noVerify)
		m.fromReport(r)
		if code == exitOK && b.path != "" && p.want != nil {
			if err := writeBaseline(b.path, *p.want); err != nil {
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
		advance, done := progress(c.stderr, len(p.plan.Changes), c.terminal(c.stderr))
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
	if err := writeReportFile(path, r, c.redact); err != nil {
		return c.fatal(fmt.Errorf("write report: %w", err))
	}
	fmt.Fprintf(c.stderr, "Report written to %s\n", path)
	return exitOK
}

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
			return errors.New("apply cancelled")
		}
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
)

// session runs one command's work, with every stderr line JSON under
// --log-format json, holding --lock-file, when given, and
// writes --metrics-file, when given, with the run's final exit code. A run
// that finds the lock held exits 75 at once, sending nothing.
//
// The metrics file must be writable before anything is done; a panic in
// work is caught, reported, and exits 1, with the metrics written.
func (c *cli) session(ctx context.Context, f *remoteFlags, command string, work func(*runMetrics) int) int {
	if err := checkWritable("--metrics-file", f.metricsFile); err != nil {
		return c.fatal(err)
	}
	if f.logFormat == "json" && c.logOut == nil {
		// Every stderr line becomes JSON: the logger writes records to the
		// real stderr, and every plain line is logged as one.
		stderr := c.stderr
		lines := &jsonLines{log: newLogger(stderr, "json")}
		c.stderr, c.logOut = lines, stderr
		defer func() {
			lines.Close()
			c.stderr, c.logOut = stderr, nil
		}()
	}
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
	f.events = sinkEvents(f.logger(c))
	m := newMetrics(f.metricsFile, command)
	if m != nil {
		m.redact = c.redact
	}
	code := finalCode(ctx, c.guarded(func() int { return work(m) }))
	if err := m.write(code); err != nil {
		fmt.Fprintf(c.stderr, "groupsync: write metrics: %v\n", err)
	}
	return code
}

// guarded runs work, turning a panic into an internal error (exit 1)
// printed without a goroutine dump.
func (c *cli) guarded(work func() int) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(c.stderr, "groupsync: internal error: %v\n", p)
			code = exitFatal
		}
	}()
	return work()
}

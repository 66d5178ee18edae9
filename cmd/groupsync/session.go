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
func (c *cli) session(ctx context.Context, f *remoteFlags, command string, work func(*runMetrics) int) int {
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
	code := finalCode(ctx, work(m))
	if err := m.write(code); err != nil {
		fmt.Fprintf(c.stderr, "groupsync: write metrics: %v\n", err)
	}
	return code
}

package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"groupsync/internal/plan"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress returns a function that advances a progress bar of n items on w
// when w is a terminal, and a function that finishes it; both do nothing
// otherwise, so cron logs stay clean.
func progress(w io.Writer, n int, terminal bool) (advance func(plan.Item), finish func()) {
	if n == 0 || !terminal {
		return nil, func() {}
	}
	bar := progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("applying"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return func(plan.Item) { _ = bar.Add(1) }, func() { _ = bar.Finish() }
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/lox24"
	"groupsync/internal/source"
)

// remoteFlags are the flags of every command that talks to the APIs.
type remoteFlags struct {
	input                        inputFlags
	lox24URL, helloidURL         string
	only                         string
	lox24Rate, helloidRate       float64
	lox24Workers, helloidWorkers int
	format                       string
	logFormat                    string
	showPhones                   bool
	guards                       plan.Guards
	maxAttempts                  int
	maxReadItems                 int
	metricsFile, lockFile        string
}

func (f *remoteFlags) register(fs *flag.FlagSet, getenv env) {
	lurl := getenv("LOX24_URL")
	if lurl == "" {
		lurl = lox24.DefaultURL
	}
	fs.StringVar(&f.lox24URL, "lox24-url", lurl, "LOX24 API base URL (env LOX24_URL)")
	fs.StringVar(&f.helloidURL, "helloid-url", getenv("HELLOID_URL"), "HelloID tenant URL, e.g. https://acme.helloid.com (env HELLOID_URL; /api/v1 is added)")
	fs.StringVar(&f.only, "only", "", "limit the run to one system: lox24 or helloid (default: every system the files mention)")
	fs.Float64Var(&f.lox24Rate, "lox24-rate", 10, "LOX24 requests per second")
	fs.Float64Var(&f.helloidRate, "helloid-rate", 10, "HelloID requests per second")
	fs.IntVar(&f.lox24Workers, "lox24-workers", 4, "LOX24 requests in flight")
	fs.IntVar(&f.helloidWorkers, "helloid-workers", 4, "HelloID requests in flight")
	fs.StringVar(&f.format, "format", "text", "plan output on stdout: text, json or markdown")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "write run metrics here in the Prometheus textfile-collector format")
	fs.StringVar(&f.lockFile, "lock-file", "", "hold this lock while running; if another run holds it, exit 75 at once")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.BoolVar(&f.showPhones, "show-phones", false, "show phone numbers unmasked in human output")
	fs.Float64Var(&f.guards.MaxDeletePct, "max-delete-pct", plan.DefaultMaxDeletePct, "refuse to delete more than this percentage of a group's members (groups of 10 or more)")
	fs.IntVar(&f.guards.MaxChanges, "max-changes", 0, "refuse a plan with more changes than this (0: no limit)")
	fs.BoolVar(&f.guards.Force, "force", false, "override the safety guards")
	fs.IntVar(&f.maxAttempts, "max-attempts", sink.DefaultMaxAttempts, "attempts per request on 429, 5xx and connection errors, the first included")
	fs.IntVar(&f.maxReadItems, "max-read-items", sink.DefaultMaxReadItems, "most items one listing may hold or claim; past it the system's read fails")
	f.input.register(fs)
}

// check validates flag values; it returns a usage problem or "".
func (f *remoteFlags) check() string {
	if msg := f.input.check(); msg != "" {
		return msg
	}
	if f.only != "" {
		if _, err := plan.ParseSystem(f.only); err != nil {
			return "--only: " + err.Error()
		}
	}
	switch {
	case f.lox24Rate <= 0 || f.helloidRate <= 0:
		return "--lox24-rate and --helloid-rate must be greater than 0"
	case f.lox24Workers < 1 || f.helloidWorkers < 1:
		return "--lox24-workers and --helloid-workers must be at least 1"
	case f.maxAttempts < 1:
		return "--max-attempts must be at least 1"
	case f.maxReadItems < 1:
		return "--max-read-items must be at least 1"
	}
	if f.guards.MaxDeletePct < 0 || f.guards.MaxDeletePct > 100 || f.guards.MaxChanges < 0 {
		return "--max-delete-pct must be 0..100 and --max-changes must not be negative"
	}
	switch f.format {
	case "text", "json", "markdown":
	default:
		return fmt.Sprintf("--format: unknown format %q (want text, json or markdown)", f.format)
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return fmt.Sprintf("--log-format: unknown format %q (want text or json)", f.logFormat)
	}
	return f.input.check()
}

func (f *remoteFlags) logger(c *cli) *slog.Logger {
	if f.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(c.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(c.stderr, nil))
}

// render writes the plan on w in the --format asked for.
func (f *remoteFlags) render(w io.Writer, p *plan.Plan) error {
	opt := plan.RenderOptions{ShowPhones: f.showPhones}
	switch f.format {
	case "json":
		return plan.WriteJSON(w, p)
	case "markdown":
		return plan.WriteMarkdown(w, p, opt)
	}
	return plan.WriteText(w, p, opt)
}

func (f *remoteFlags) workers() map[plan.System]int {
	return map[plan.System]int{plan.LOX24: f.lox24Workers, plan.HelloID: f.helloidWorkers}
}

func (f *remoteFlags) retry() sink.RetryPolicy {
	return sink.RetryPolicy{MaxAttempts: f.maxAttempts}
}

// readDesired reads and validates the files, keeping only the systems the
// run is limited to.
func (f *remoteFlags) readDesired(ctx context.Context, files []string) (plan.Desired, error) {
	want, err := source.ReadContext(ctx, files, f.input.options())
	if err != nil {
		return plan.Desired{}, err
	}
	if f.only != "" {
		var keep []plan.Group
		for _, g := range want.Groups {
			if string(g.System) == f.only {
				keep = append(keep, g)
			}
		}
		want.Groups = keep
		for sys := range want.Prune {
			if string(sys) != f.only {
				delete(want.Prune, sys)
			}
		}
	}
	return want, nil
}

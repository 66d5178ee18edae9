package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/helloid"
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
	return ""
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
func (f *remoteFlags) readDesired(files []string) (plan.Desired, error) {
	want, err := source.ReadWith(files, f.input.options())
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
	}
	return want, nil
}

// secret reads a credential from NAME or the file named by NAME_FILE.
func secret(getenv env, name string) (string, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	if v != "" && file != "" {
		return "", fmt.Errorf("both %s and %s_FILE are set; set one", name, name)
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			// The error names the file, never its content.
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		v = strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s_FILE: %s is empty", name, file)
		}
	}
	// A credential cannot go into an HTTP header with a line break or other
	// control character in it; say so now instead of failing every request.
	if strings.ContainsFunc(v, unicode.IsControl) {
		return "", fmt.Errorf("%s contains a control character (a trailing newline?); nothing was sent", name)
	}
	return v, nil
}

// sinks builds a client for every system in systems. Every credential and
// URL problem is found here, before any request.
func (f *remoteFlags) sinks(getenv env, systems []plan.System) (map[plan.System]plan.Sink, error) {
	out := map[plan.System]plan.Sink{}
	var errs []error
	for _, sys := range systems {
		switch sys {
		case plan.LOX24:
			token, err := secret(getenv, "LOX24_TOKEN")
			if err != nil {
				errs = append(errs, fmt.Errorf("lox24: %w", err))
				continue
			}
			c, err := lox24.New(sink.Config{BaseURL: f.lox24URL, Rate: f.lox24Rate, Retry: f.retry(), MaxInFlight: f.lox24Workers}, token)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out[sys] = c
		case plan.HelloID:
			key, err1 := secret(getenv, "HELLOID_API_KEY")
			sec, err2 := secret(getenv, "HELLOID_API_SECRET")
			if err := errors.Join(err1, err2); err != nil {
				errs = append(errs, fmt.Errorf("helloid: %w", err))
				continue
			}
			if f.helloidURL == "" {
				errs = append(errs, errors.New("helloid: no tenant URL (set --helloid-url or HELLOID_URL, e.g. https://acme.helloid.com)"))
				continue
			}
			c, err := helloid.New(sink.Config{BaseURL: f.helloidURL, Rate: f.helloidRate, Retry: f.retry(), MaxInFlight: f.helloidWorkers}, key, sec)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out[sys] = c
		}
	}
	return out, errors.Join(errs...)
}

// readResult is one system's current state, or why it could not be read.
type readResult struct {
	cur plan.Current
	err error
}

// readAll reads every system side by side.
func readAll(ctx context.Context, log *slog.Logger, want plan.Desired, sinks map[plan.System]plan.Sink) map[plan.System]readResult {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[plan.System]readResult{}
	for sys, s := range sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			cur, err := s.Read(ctx, want.For(sys))
			if err != nil {
				log.Error("read failed", "system", sys, "err", err)
			} else {
				log.Info("read", "system", sys, "groups", len(cur.Groups), "duration", time.Since(start).Round(time.Millisecond))
			}
			mu.Lock()
			out[sys] = readResult{cur: cur, err: err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// current returns the states that were read; the systems that could not be
// read are left out (their errors stay in results).
func current(results map[plan.System]readResult) map[plan.System]plan.Current {
	have := map[plan.System]plan.Current{}
	for sys, r := range results {
		if r.err == nil {
			have[sys] = r.cur
		}
	}
	return have
}

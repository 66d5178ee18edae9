package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/lox24"
)

// remoteFlags are the flags of every command that talks to the APIs, and of
// show, which renders a plan. Each command registers those of them that the
// flag table lists for it.
type remoteFlags struct {
	input                        inputFlags
	lox24URL, helloidURL         string
	only                         string
	groups                       groupFlag
	lox24Rate, helloidRate       float64
	lox24Workers, helloidWorkers int
	format                       string
	logFormat                    string
	showPhones, detail, noColor  bool
	guards                       plan.Guards
	maxAttempts                  int
	maxReadItems                 int
	maxChangesSet                bool // --max-changes was given
	metricsFile, lockFile        string
	// events logs the clients' retries and 429s; session sets it.
	events func(sink.Event)
}

// setInt is an int flag that remembers whether it was given.
type setInt struct {
	v   *int
	set *bool
}

func (s *setInt) String() string {
	if s == nil || s.v == nil {
		return "0"
	}
	return strconv.Itoa(*s.v)
}

func (s *setInt) Set(text string) error {
	n, err := strconv.ParseInt(text, 0, strconv.IntSize)
	if err != nil {
		return errors.New("not a whole number")
	}
	*s.v, *s.set = int(n), true
	return nil
}

// groupFlag collects the values of a repeatable --group.
type groupFlag []string

func (g *groupFlag) String() string { return strings.Join(*g, ",") }

func (g *groupFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("empty group name")
	}
	*g = append(*g, v)
	return nil
}

// register registers on fs the flags of remoteFlags that cmd takes.
func (f *remoteFlags) register(fs *flag.FlagSet, cmd string, getenv env) {
	f.format, f.logFormat = "text", "text"
	f.lox24Rate, f.helloidRate = 10, 10
	f.lox24Workers, f.helloidWorkers = 4, 4
	f.guards.MaxDeletePct = plan.DefaultMaxDeletePct
	f.maxAttempts = sink.DefaultMaxAttempts
	lurl := getenv("LOX24_URL")
	if lurl == "" {
		lurl = lox24.DefaultURL
	}
	vars := map[string]func(name, usage string){
		"lox24-url":       func(n, u string) { fs.StringVar(&f.lox24URL, n, lurl, u) },
		"helloid-url":     func(n, u string) { fs.StringVar(&f.helloidURL, n, getenv("HELLOID_URL"), u) },
		"only":            func(n, u string) { fs.StringVar(&f.only, n, "", u) },
		"group":           func(n, u string) { fs.Var(&f.groups, n, u) },
		"lox24-rate":      func(n, u string) { fs.Float64Var(&f.lox24Rate, n, f.lox24Rate, u) },
		"helloid-rate":    func(n, u string) { fs.Float64Var(&f.helloidRate, n, f.helloidRate, u) },
		"lox24-workers":   func(n, u string) { fs.IntVar(&f.lox24Workers, n, f.lox24Workers, u) },
		"helloid-workers": func(n, u string) { fs.IntVar(&f.helloidWorkers, n, f.helloidWorkers, u) },
		"format":          func(n, u string) { fs.StringVar(&f.format, n, f.format, u) },
		"detail":          func(n, u string) { fs.BoolVar(&f.detail, n, false, u) },
		"no-color":        func(n, u string) { fs.BoolVar(&f.noColor, n, false, u) },
		"metrics-file":    func(n, u string) { fs.StringVar(&f.metricsFile, n, "", u) },
		"lock-file":       func(n, u string) { fs.StringVar(&f.lockFile, n, "", u) },
		"log-format":      func(n, u string) { fs.StringVar(&f.logFormat, n, f.logFormat, u) },
		"show-phones":     func(n, u string) { fs.BoolVar(&f.showPhones, n, false, u) },
		"max-delete-pct":  func(n, u string) { fs.Float64Var(&f.guards.MaxDeletePct, n, f.guards.MaxDeletePct, u) },
		"max-changes":     func(n, u string) { fs.Var(&setInt{v: &f.guards.MaxChanges, set: &f.maxChangesSet}, n, u) },
		"force":           func(n, u string) { fs.BoolVar(&f.guards.Force, n, false, u) },
		"max-attempts":    func(n, u string) { fs.IntVar(&f.maxAttempts, n, f.maxAttempts, u) },
		"max-read-items":  func(n, u string) { fs.IntVar(&f.maxReadItems, n, sink.DefaultMaxReadItems, u) },
	}
	f.input.addVars(fs, vars)
	registerFromTable(fs, cmd, vars)
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
	case !validRate(f.lox24Rate) || !validRate(f.helloidRate):
		return fmt.Sprintf("--lox24-rate and --helloid-rate must be numbers from %g to %g (requests per second)", minRateFlag, maxRateFlag)
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
	if f.maxChangesSet && f.guards.MaxChanges == 0 {
		// The guard's zero is "no limit"; given, 0 reads as "refuse any
		// change", and silently meaning the opposite would be a trap.
		return "--max-changes 0 would not refuse anything (no limit is the default); give at least 1, or use plan --detailed-exitcode to find out whether anything would change"
	}
	if msg := f.checkFormat(); msg != "" {
		return msg
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return fmt.Sprintf("--log-format: unknown format %q (want text or json)", f.logFormat)
	}
	return ""
}

// checkFormat validates --format; it returns a usage problem or "".
func (f *remoteFlags) checkFormat() string {
	switch f.format {
	case "text", "json", "markdown":
		return ""
	}
	return fmt.Sprintf("--format: unknown format %q (want text, json or markdown)", f.format)
}

func (f *remoteFlags) logger(c *cli) *slog.Logger {
	if c.logOut != nil {
		return newLogger(c.logOut, f.logFormat)
	}
	return newLogger(c.stderr, f.logFormat)
}

// renderOptions are the human output options the flags and c's terminal
// ask for: colour only on a terminal, without NO_COLOR and --no-color.
func (f *remoteFlags) renderOptions(c *cli) plan.RenderOptions {
	return plan.RenderOptions{ShowPhones: f.showPhones, Detail: f.detail, BaseDir: c.baseDir,
		Color: !f.noColor && c.env("NO_COLOR") == "" && c.terminal(c.stdout)}
}

// render writes the plan on c's stdout in the --format asked for. Once ctx
// is done (a signal) it writes no more: a plan of a million lines stops.
func (f *remoteFlags) render(ctx context.Context, c *cli, p *plan.Plan) error {
	c.stage("render")
	w := ctxWriter{ctx: ctx, w: c.stdout}
	opt := f.renderOptions(c)
	switch f.format {
	case "json":
		return plan.WriteJSON(w, p)
	case "markdown":
		return plan.WriteMarkdown(w, p, opt)
	case "summary":
		opt.Summary = true
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
func (f *remoteFlags) readDesired(ctx context.Context, c *cli, files []string) (plan.Desired, error) {
	want, err := c.readInput(ctx, files, &f.input)
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
	if len(f.groups) > 0 {
		keep, err := selectGroups(want.Groups, f.groups)
		if err != nil {
			return plan.Desired{}, err
		}
		want.Groups = keep
		// Pruning deletes the groups in its prefix that no file names: with
		// the files narrowed to a few groups, every other group would look
		// unnamed. A run limited by --group never prunes.
		want.Prune = nil
	}
	return want, nil
}

// selectGroups keeps the groups --group names: each value is a group's
// name (matched as the system matches names) or its remote id, optionally
// prefixed with its system as system:name. A value that matches no group,
// or a name that matches groups of both systems without a prefix, is an
// error: a run limited to the wrong groups must not look like no changes.
func selectGroups(groups []plan.Group, sel []string) ([]plan.Group, error) {
	keep := make([]bool, len(groups))
	for _, s := range sel {
		var sys plan.System
		name := s
		if pre, rest, ok := strings.Cut(s, ":"); ok {
			if ps, err := plan.ParseSystem(pre); err == nil {
				sys, name = ps, rest
			}
		}
		var hit []int
		for i, g := range groups {
			if sys != "" && g.System != sys {
				continue
			}
			if g.Key != "" && strings.EqualFold(g.Key, name) || plan.NameMatchKey(g.System, g.Name) == plan.NameMatchKey(g.System, name) {
				hit = append(hit, i)
			}
		}
		if len(hit) == 0 {
			return nil, fmt.Errorf("--group %s: no group of the files has that name or id", s)
		}
		if sys == "" {
			for _, i := range hit[1:] {
				if groups[i].System != groups[hit[0]].System {
					return nil, fmt.Errorf("--group %s: groups of both systems have that name; say lox24:%s or helloid:%s", s, name, name)
				}
			}
		}
		for _, i := range hit {
			keep[i] = true
		}
	}
	var out []plan.Group
	for i, g := range groups {
		if keep[i] {
			out = append(out, g)
		}
	}
	return out, nil
}

// ctxWriter writes to w until ctx is done, then fails every write with
// ctx's cause.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (cw ctxWriter) Write(p []byte) (int, error) {
	if cw.ctx.Err() != nil {
		return 0, context.Cause(cw.ctx)
	}
	return cw.w.Write(p)
}

// The range of --lox24-rate and --helloid-rate: below it a run would take
// days, above it (or NaN, or infinite) the pace would be silently off.
const (
	minRateFlag = 0.01
	maxRateFlag = 100000.0
)

func validRate(r float64) bool { return r >= minRateFlag && r <= maxRateFlag } // false for NaN

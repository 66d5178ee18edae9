package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"groupsync/internal/sink"
)

// Exit codes (spec.md, "Exit codes").
const (
	exitOK       = 0
	exitFatal    = 1  // input, configuration, authentication, or a system could not be read
	exitPending  = 2  // plan --detailed-exitcode: changes pending
	exitFailed   = 3  // apply finished, some items failed, were stale or were skipped
	exitRefused  = 4  // refused by a safety guard; nothing written
	exitUsage    = 64 // bad flags or arguments
	exitLocked   = 75 // --lock-file held by another run
	exitSIGINT   = 130
	exitSIGTERM  = 143
	defaultEmuAt = "127.0.0.1:8080"
)

// env reads one environment variable.
type env func(string) string

// cli is one invocation: its streams, its environment and how it tells a
// terminal. It holds all of a run's state, so runs can share a process.
type cli struct {
	env    env
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// terminal reports whether a stream is a terminal: one there gets the
	// progress bar and colour, and apply asks on it for confirmation.
	terminal func(any) bool
	// newTicker and now drive apply's progress log off a terminal; tests
	// replace them.
	newTicker tickerFunc
	now       func() time.Time
	// logOut is where the logger writes when stderr is wrapped for
	// --log-format json; nil otherwise.
	logOut io.Writer
	// baseDir, when set, makes the input files a plan cites relative to it
	// (the demo's copy of samples/).
	baseDir string
	// redact is the one redaction step every byte written passes: run
	// wraps stdout and stderr in it, and every file goes through writeFile.
	redact *sink.Redactor
	// hook, when set (by tests), is called as each stage begins: "files",
	// "read", "diff" and "apply", and from each system's reader.
	hook func(stage string)
}

const usage = `groupsync makes the groups in LOX24 and HelloID match what YAML and CSV files say.

Usage:
  groupsync validate FILE...             parse and validate the desired state (no network)
  groupsync plan [flags] FILE...         read the remote state and print the plan (GET only)
  groupsync apply [flags] FILE...        plan, then apply, and write a report
  groupsync apply [flags] --retry-failed REPORT.json
                                         apply again the failed and skipped items of a report
  groupsync undo REPORT.json --out PLAN.json
                                         save a plan that reverses a report's succeeded items
  groupsync export [flags]               print the remote state as a desired-state YAML file (GET only)
  groupsync emulate [flags]              serve a local emulator of both APIs
  groupsync show [flags] PLAN.json       print a plan saved by plan --out
  groupsync demo                         the whole workflow against an in-process emulator
  groupsync --version                    print the version

Run 'groupsync COMMAND --help' for a command's flags.
Credentials come from the environment only: LOX24_TOKEN (or LOX24_TOKEN_FILE),
HELLOID_API_KEY and HELLOID_API_SECRET (or their _FILE variants).

Exit codes:
  0        success (plan --detailed-exitcode: nothing to do)
  1        fatal error: input, configuration, authentication, or a system could not be read
  2        plan --detailed-exitcode: changes pending
  3        apply finished, some items failed, were stale or were skipped (see the report)
  4        refused by a safety guard; nothing written (plan --detailed-exitcode: apply would refuse)
  64       usage error (bad flags or arguments)
  75       --lock-file held by another run
  130/143  interrupted by SIGINT/SIGTERM; report written
`

// run is the whole program: it parses args, runs one command and returns
// the exit code.
func run(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{env: getenv, stdin: stdin, stdout: stdout, stderr: stderr, terminal: isTerminal, newTicker: realTicker, now: time.Now}
	return c.run(ctx, args)
}

// run runs one command with c's streams and environment. Everything it
// prints passes the redaction of the credentials in the environment, and a
// panic is caught: it is printed as an internal error and exits 1.
func (c *cli) run(ctx context.Context, args []string) (code int) {
	if c.newTicker == nil {
		c.newTicker = realTicker
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.redact = credentialRedactor(c.env)
	out, errw := c.redact.Writer(c.stdout), c.redact.Writer(c.stderr)
	rawOut, rawErr, isTerm := c.stdout, c.stderr, c.terminal
	c.stdout, c.stderr = out, errw
	c.terminal = func(s any) bool {
		switch s {
		case out:
			s = rawOut
		case errw:
			s = rawErr
		}
		return isTerm(s)
	}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(c.stderr, "groupsync: internal error: %v\n", p)
			code = exitFatal
		}
		_ = out.Flush()
		_ = errw.Flush()
	}()
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	return finalCode(ctx, c.dispatch(ctx, args[0], args[1:]))
}

// stage calls the test hook, if any, as a stage begins.
func (c *cli) stage(name string) {
	if c.hook != nil {
		c.hook(name)
	}
}

// credentialRedactor returns the redaction of every credential the
// environment gives, directly or through a _FILE variant, with HelloID's
// key:secret pair and the password of a base URL. A credential that cannot
// be read here is reported where it is used.
func credentialRedactor(getenv env) *sink.Redactor {
	return sink.NewRedactor(credentials(getenv)...)
}

// credentials returns every credential the environment gives, as
// credentialRedactor redacts them.
func credentials(getenv env) []string {
	values := func(name string) []string {
		vs := []string{getenv(name)}
		if file := getenv(name + "_FILE"); file != "" {
			if f, err := os.Open(file); err == nil {
				b, _ := io.ReadAll(io.LimitReader(f, 64<<10))
				f.Close()
				vs = append(vs, strings.TrimSpace(string(b)), string(b))
			}
		}
		return vs
	}
	var creds []string
	for _, t := range values("LOX24_TOKEN") {
		creds = append(creds, t)
		if _, key, ok := strings.Cut(t, ":"); ok {
			creds = append(creds, key)
		}
	}
	keys, secrets := values("HELLOID_API_KEY"), values("HELLOID_API_SECRET")
	creds = append(creds, keys...)
	creds = append(creds, secrets...)
	for _, k := range keys {
		for _, s := range secrets {
			if k != "" && s != "" {
				creds = append(creds, k+":"+s)
			}
		}
	}
	for _, name := range []string{"LOX24_URL", "HELLOID_URL"} {
		if u, err := url.Parse(getenv(name)); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok {
				creds = append(creds, pw)
			}
		}
	}
	return creds
}

// writeFile writes data to path atomically, through the redaction.
func (c *cli) writeFile(path string, data []byte) error {
	return writeFileAtomic(path, c.redact.Bytes(data))
}

// writeFileFrom writes what write writes to path atomically, through c's
// redaction, streamed.
func (c *cli) writeFileFrom(path string, write func(io.Writer) error) error {
	return writeAtomic(path, c.redact, write)
}

// checkWritable makes sure a file can be written at path (its directory
// exists and takes a new file, and path is not a directory), so that a run
// finds out before its first request rather than after its writes.
func checkWritable(flag, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s %s: is a directory; nothing was sent", flag, path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.check")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%s %s: cannot be written: %w; nothing was sent", flag, path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// finalCode is 130 or 143 when a signal interrupted the run, whatever the
// command returned; apply has then written its report with the rest skipped.
func finalCode(ctx context.Context, code int) int {
	var sig interrupted
	if errors.As(context.Cause(ctx), &sig) {
		return signalExit(sig.sig)
	}
	return code
}

func (c *cli) dispatch(ctx context.Context, cmd string, rest []string) int {
	switch cmd {
	case "validate":
		return c.validate(ctx, rest)
	case "plan":
		return c.plan(ctx, rest)
	case "apply":
		return c.apply(ctx, rest)
	case "export":
		return c.export(ctx, rest)
	case "undo":
		return c.undo(ctx, rest)
	case "emulate":
		return c.emulate(ctx, rest)
	case "demo":
		return c.demo(ctx, rest)
	case "show":
		return c.show(ctx, rest)
	case "version", "-version", "--version":
		fmt.Fprintf(c.stdout, "groupsync %s\n", version())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(c.stderr, "groupsync: unknown command %q (see groupsync --help)\n", cmd)
	return exitUsage
}

// newFlagSet returns a flag set for one command whose --help prints the
// command's synopsis and its flags from the flag table, on stdout.
func (c *cli) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // c.parse says what went wrong, in one line
	fs.Usage = func() {
		fmt.Fprintf(c.stdout, "Usage: groupsync %s\n\n", synopsis)
		printFlags(c.stdout, name, fs)
	}
	return fs
}

// errHelp means --help was asked for and printed.
var errHelp = flag.ErrHelp

// parse parses flags that may stand before, between or after the
// positional arguments, and returns the positional ones. --help prints the
// command's help; a bad flag gets one line on stderr, with a suggestion
// when a flag of a similar name exists.
func (c *cli) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	help := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = help }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, errHelp) {
				help()
				return nil, err
			}
			fmt.Fprintf(c.stderr, "groupsync %s: %s%s (see groupsync %s --help)\n", fs.Name(), err, suggest(fs, err), fs.Name())
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// suggest returns "; did you mean --x?" for an unknown flag close to a
// flag of fs, or "".
func suggest(fs *flag.FlagSet, err error) string {
	const prefix = "flag provided but not defined: "
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return ""
	}
	bad := strings.TrimLeft(strings.TrimPrefix(msg, prefix), "-")
	if i := strings.IndexByte(bad, '='); i >= 0 {
		bad = bad[:i]
	}
	best, bestD := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(bad, f.Name)
		if strings.HasPrefix(f.Name, bad) && len(bad) >= 3 {
			d = 1
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return "; did you mean --" + best + "?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseExit turns a parse error into an exit code: 0 after --help, 64
// otherwise (the flag package has already printed the problem).
func parseExit(err error) int {
	if errors.Is(err, errHelp) {
		return exitOK
	}
	return exitUsage
}

// usageErr prints a usage problem and returns exitUsage.
func (c *cli) usageErr(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "groupsync %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(c.stderr, "Run 'groupsync %s --help' for usage.\n", fs.Name())
	return exitUsage
}

// fatal prints an error and returns exitFatal.
func (c *cli) fatal(err error) int {
	msg := err.Error()
	if !strings.Contains(msg, "\n") {
		fmt.Fprintf(c.stderr, "groupsync: %s\n", msg)
	} else {
		fmt.Fprintf(c.stderr, "groupsync: %s\n", strings.ReplaceAll(msg, "\n", "\n  "))
	}
	return exitFatal
}

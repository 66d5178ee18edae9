package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"groupsync/internal/emulator"
	"groupsync/samples"
)

func (c *cli) emulate(ctx context.Context, args []string) int {
	fs := c.newFlagSet("emulate", "emulate [flags]\n\nServe a local emulator of both APIs on one loopback listener: LOX24 at /, HelloID at /api/v1/.\nPoint --lox24-url and --helloid-url at the printed URL. GET /_emulator/state and\n/_emulator/stats show the state and request counts.")
	listen := fs.String("listen", defaultEmuAt, "loopback address to listen on (port 0 picks a free port)")
	stateFile := fs.String("state", "", "initial state, a JSON file (see samples/emulator-state.json); default empty")
	latency := fs.Duration("latency", 0, "delay added to every API request, e.g. 50ms")
	failRate := fs.Float64("fail-rate", 0, "fraction of API requests answered 503 at random, 0..1")
	throttle := fs.Float64("throttle", 0, "server-side requests per second per system; beyond it 429 with Retry-After (0: off)")
	loseRate := fs.Float64("lose-rate", 0, "fraction of API writes that are applied but answered 502, as if the answer were lost, 0..1")
	redirect := fs.String("redirect", "", "answer every API request with a 307 to this URL (to check that clients refuse redirects)")
	quirks := fs.String("quirks", "", "comma-separated answer variants: "+strings.Join(emulator.QuirkNames, ", ")+
		"\n      (bare-hydra: Hydra keys without hydra:; int-next: next as a page number; phones-next-path: member listings link\n      "+
		"to /phones?group=; short-pages: pages of 30, 25, 15; no-view: none on single pages; take-cap=N: HelloID pages of\n      "+
		"at most N; data-wrapper, pagedata-wrapper: HelloID lists wrapped; drift-once: the first listing of each collection\n      "+
		"lists one item twice and skips another; drift-always: every listing does)")
	if _, err := parse(fs, args); err != nil {
		return parseExit(err)
	}
	if *failRate < 0 || *failRate > 1 || *loseRate < 0 || *loseRate > 1 {
		return c.usageErr(fs, "--fail-rate and --lose-rate must be between 0 and 1")
	}
	if *throttle < 0 || *latency < 0 {
		return c.usageErr(fs, "--throttle and --latency must not be negative")
	}
	q, err := emulator.ParseQuirks(*quirks)
	if err != nil {
		return c.usageErr(fs, "--quirks: %v", err)
	}
	opts := emulator.Options{Latency: *latency, FailRate: *failRate, Throttle: *throttle, LoseRate: *loseRate, Redirect: *redirect, Quirks: q}
	creds := c.emulatorCredentials(&opts)
	emu := emulator.New(opts)
	if *stateFile != "" {
		f, err := os.Open(*stateFile)
		if err != nil {
			return c.fatal(err)
		}
		st, err := emulator.ReadState(f)
		f.Close()
		if err == nil {
			err = emu.LoadState(st)
		}
		if err != nil {
			return c.fatal(fmt.Errorf("%s: %w", *stateFile, err))
		}
	}
	url, stop, err := emu.Listen(*listen)
	if err != nil {
		return c.fatal(err)
	}
	fmt.Fprintf(c.stdout, "groupsync emulator listening on %s\n", url)
	fmt.Fprintf(c.stdout, "  LOX24:   --lox24-url %s     HelloID: --helloid-url %s\n", url, url)
	for _, line := range creds {
		fmt.Fprintf(c.stdout, "  %s\n", line)
	}
	fmt.Fprintf(c.stdout, "  state: %s/_emulator/state   stats: %s/_emulator/stats\n", url, url)
	fmt.Fprintln(c.stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	if err := stop(); err != nil {
		return c.fatal(err)
	}
	return exitOK
}

// emulatorCredentials takes the credentials the emulator accepts from the
// environment when they are set there, and otherwise uses the demo ones. It
// returns lines telling the user which; only the demo credentials are
// printed, never values from the environment.
func (c *cli) emulatorCredentials(opts *emulator.Options) []string {
	token, _ := secret(c.env, "LOX24_TOKEN")
	key, _ := secret(c.env, "HELLOID_API_KEY")
	sec, _ := secret(c.env, "HELLOID_API_SECRET")
	var lines []string
	if token != "" {
		opts.LOX24Token = token
		lines = append(lines, "LOX24 accepts the token in LOX24_TOKEN")
	} else {
		lines = append(lines, "LOX24_TOKEN=demo:demo")
	}
	if key != "" && sec != "" {
		opts.HelloIDKey, opts.HelloIDSecret = key, sec
		lines = append(lines, "HelloID accepts HELLOID_API_KEY and HELLOID_API_SECRET from the environment")
	} else {
		lines = append(lines, "HELLOID_API_KEY=demo HELLOID_API_SECRET=demo")
	}
	return lines
}

func (c *cli) demo(ctx context.Context, args []string) int {
	fset := c.newFlagSet("demo", "demo\n\nRun the whole workflow against an in-process emulator seeded from samples/:\nplan, apply, the report's summary, and a second plan that shows no changes.")
	showPhones := fset.Bool("show-phones", false, "show phone numbers unmasked")
	if _, err := parse(fset, args); err != nil {
		return parseExit(err)
	}
	raw, err := samples.FS.ReadFile(samples.DemoState)
	if err != nil {
		return c.fatal(err)
	}
	st, err := emulator.ReadState(bytes.NewReader(raw))
	if err != nil {
		return c.fatal(fmt.Errorf("samples/%s: %w", samples.DemoState, err))
	}
	emu := emulator.New(emulator.Options{Seed: 1})
	if err := emu.LoadState(st); err != nil {
		return c.fatal(fmt.Errorf("samples/%s: %w", samples.DemoState, err))
	}
	url, stop, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		return c.fatal(err)
	}
	defer stop()

	dir, err := os.MkdirTemp("", "groupsync-demo-")
	if err != nil {
		return c.fatal(err)
	}
	if err := os.CopyFS(dir, samples.FS); err != nil {
		return c.fatal(err)
	}
	// The demo works in the copy, so the plan cites groups.yaml:8 rather
	// than a long temporary path. It is its own process: nothing else
	// depends on the working directory.
	if err := os.Chdir(dir); err != nil {
		return c.fatal(err)
	}
	files := samples.DemoFiles
	report := filepath.Join(dir, "groupsync-report.json")
	demoEnv := map[string]string{
		"LOX24_TOKEN": "demo:demo", "HELLOID_API_KEY": "demo", "HELLOID_API_SECRET": "demo",
		"LOX24_URL": url, "HELLOID_URL": url,
	}
	sub := &cli{env: func(k string) string { return demoEnv[k] }, stdin: nil, stdout: c.stdout, stderr: c.stderr}
	var extra []string
	if *showPhones {
		extra = append(extra, "--show-phones")
	}

	fmt.Fprintf(c.stdout, "groupsync demo: an emulator of both APIs is serving at %s,\n", url)
	fmt.Fprintf(c.stdout, "seeded with samples/%s. It works in %s, a copy of samples/.\n\n", samples.DemoState, dir)

	step := func(title string, args ...string) int {
		fmt.Fprintf(c.stdout, "==> %s\n\n", title)
		return run(ctx, args, sub.env, nil, c.stdout, c.stderr)
	}
	args1 := append(append([]string{"plan", "--detailed-exitcode"}, extra...), files...)
	if code := step("groupsync plan --detailed-exitcode "+strings.Join(samples.DemoFiles, " "), args1...); code != exitPending {
		return c.fatal(fmt.Errorf("demo: the first plan exited %d, want %d (changes pending)", code, exitPending))
	}
	emu.ResetStats()
	args2 := append(append([]string{"apply", "--yes", "--report", report}, extra...), files...)
	fmt.Fprintln(c.stdout)
	if code := step("groupsync apply --yes "+strings.Join(samples.DemoFiles, " "), args2...); code != exitOK {
		return c.fatal(fmt.Errorf("demo: apply exited %d; see %s", code, report))
	}
	writes := emu.Stats()
	fmt.Fprintf(c.stdout, "\nThe apply sent %d requests (%d writes to LOX24, %d to HelloID). The report is %s.\n\n",
		writes.Total, writes.Systems["lox24"].Writes, writes.Systems["helloid"].Writes, report)

	emu.ResetStats()
	args3 := append(append([]string{"plan", "--detailed-exitcode"}, extra...), files...)
	if code := step("groupsync plan --detailed-exitcode (again: nothing left to do)", args3...); code != exitOK {
		return c.fatal(fmt.Errorf("demo: the second plan exited %d, want 0 (no changes)", code))
	}
	fmt.Fprintf(c.stdout, "\nDone. Try it yourself: `groupsync emulate --state samples/%s` in one terminal,\n", samples.DemoState)
	fmt.Fprintln(c.stdout, "then `LOX24_TOKEN=demo:demo HELLOID_API_KEY=demo HELLOID_API_SECRET=demo groupsync plan --lox24-url http://127.0.0.1:8080 --helloid-url http://127.0.0.1:8080 samples/groups.yaml` in another.")
	return exitOK
}

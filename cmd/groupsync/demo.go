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

func (c *cli) demo(ctx context.Context, args []string) int {
	fset := c.newFlagSet("demo", "demo\n\nRun the whole workflow against an in-process emulator seeded from samples/:\nplan, apply, the report's summary, and a second plan that shows no changes.")
	showPhones := fset.Bool("show-phones", false, usageOf("demo", "show-phones"))
	noColor := fset.Bool("no-color", false, usageOf("demo", "no-color"))
	if _, err := c.parse(fset, args); err != nil {
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
	defer func() { _ = stop() }() // the demo is over; a close error changes nothing

	dir, err := os.MkdirTemp("", "groupsync-demo-")
	if err != nil {
		return c.fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := os.CopyFS(dir, samples.FS); err != nil {
		return c.fatal(err)
	}
	// The demo works in the copy, and says so once: the plan cites its
	// files relative to it, as samples/ would be. The working directory is
	// left alone.
	var files []string
	for _, f := range samples.DemoFiles {
		files = append(files, filepath.Join(dir, f))
	}
	report := filepath.Join(dir, "groupsync-report.json")
	demoEnv := map[string]string{
		"LOX24_TOKEN": "demo:demo", "HELLOID_API_KEY": "demo", "HELLOID_API_SECRET": "demo",
		"LOX24_URL": url, "HELLOID_URL": url,
	}
	sub := &cli{env: func(k string) string { return demoEnv[k] }, stdin: nil, stdout: c.stdout, stderr: c.stderr, terminal: c.terminal,
		baseDir: dir, newTicker: c.newTicker, now: c.now}
	var extra []string
	if *showPhones {
		extra = append(extra, "--show-phones")
	}
	if *noColor {
		extra = append(extra, "--no-color")
	}

	fmt.Fprintf(c.stdout, "groupsync demo: an emulator of both APIs is serving at %s,\n", url)
	fmt.Fprintf(c.stdout, "seeded with samples/%s. It works in a temporary copy of samples/, removed at the end;\n", samples.DemoState)
	fmt.Fprintf(c.stdout, "the files below are named relative to it.\n\n")

	step := func(title string, args ...string) int {
		fmt.Fprintf(c.stdout, "==> %s\n\n", title)
		return sub.run(ctx, args)
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
	fmt.Fprintf(c.stdout, "\nThe apply sent %d requests (%d writes to LOX24, %d to HelloID) and wrote its report\n(in the copy, so it goes with it).\n\n",
		writes.Total, writes.Systems["lox24"].Writes, writes.Systems["helloid"].Writes)

	emu.ResetStats()
	args3 := append(append([]string{"plan", "--detailed-exitcode"}, extra...), files...)
	if code := step("groupsync plan --detailed-exitcode (again: nothing left to do)", args3...); code != exitOK {
		return c.fatal(fmt.Errorf("demo: the second plan exited %d, want 0 (no changes)", code))
	}
	fmt.Fprintf(c.stdout, "\nDone. Try it yourself: `make build`, then `bin/groupsync emulate --state samples/%s` in one terminal,\n", samples.DemoState)
	fmt.Fprintln(c.stdout, "and `LOX24_TOKEN=demo:demo HELLOID_API_KEY=demo HELLOID_API_SECRET=demo bin/groupsync plan --lox24-url http://127.0.0.1:8080 --helloid-url http://127.0.0.1:8080 samples/groups.yaml` in another.")
	return exitOK
}

package main

import (
	"context"
	"fmt"
	"os"

	"groupsync/internal/emulator"
)

func (c *cli) emulate(ctx context.Context, args []string) int {
	fs := c.newFlagSet("emulate", "emulate [flags]\n\nServe a local emulator of both APIs on one loopback listener: LOX24 at /, HelloID at /api/v1/.\nPoint --lox24-url and --helloid-url at the printed URL. GET /_emulator/state and\n/_emulator/stats show the state and request counts.")
	listen := fs.String("listen", defaultEmuAt, usageOf("emulate", "listen"))
	stateFile := fs.String("state", "", usageOf("emulate", "state"))
	latency := fs.Duration("latency", 0, usageOf("emulate", "latency"))
	failRate := fs.Float64("fail-rate", 0, usageOf("emulate", "fail-rate"))
	throttle := fs.Float64("throttle", 0, usageOf("emulate", "throttle"))
	throttleBurst := fs.Int("throttle-burst", 0, usageOf("emulate", "throttle-burst"))
	loseRate := fs.Float64("lose-rate", 0, usageOf("emulate", "lose-rate"))
	dropRate := fs.Float64("drop-rate", 0, usageOf("emulate", "drop-rate"))
	redirect := fs.String("redirect", "", usageOf("emulate", "redirect"))
	quirks := fs.String("quirks", "", usageOf("emulate", "quirks"))
	if _, err := c.parse(fs, args); err != nil {
		return parseExit(err)
	}
	if *failRate < 0 || *failRate > 1 || *loseRate < 0 || *loseRate > 1 || *dropRate < 0 || *dropRate > 1 {
		return c.usageErr(fs, "--fail-rate, --lose-rate and --drop-rate must be between 0 and 1")
	}
	if *throttle < 0 || *latency < 0 || *throttleBurst < 0 {
		return c.usageErr(fs, "--throttle, --throttle-burst and --latency must not be negative")
	}
	q, err := emulator.ParseQuirks(*quirks)
	if err != nil {
		return c.usageErr(fs, "--quirks: %v", err)
	}
	opts := emulator.Options{Latency: *latency, FailRate: *failRate, Throttle: *throttle, ThrottleBurst: *throttleBurst, LoseRate: *loseRate, DropRate: *dropRate, Redirect: *redirect, Quirks: q}
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

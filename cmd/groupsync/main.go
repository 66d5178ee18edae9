// Command groupsync makes the groups in LOX24 and HelloID match what YAML
// and CSV files say: it reads the desired state, reads the current state
// from both APIs, prints the plan and applies it, then writes a report of
// every item's outcome. Run `groupsync --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, sig := notifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	if s := sig(); s != nil {
		// An interrupted run says so with 130/143, whatever it was doing;
		// apply has written its report with the rest marked skipped.
		code = signalExit(s)
	}
	os.Exit(code)
}

// notifyContext returns a context cancelled by the first SIGINT or SIGTERM
// and a function telling which signal it was. A second signal exits at once.
func notifyContext(parent context.Context) (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	got := make(chan os.Signal, 1)
	go func() {
		s := <-ch
		got <- s
		cancel()
		s = <-ch
		os.Exit(signalExit(s))
	}()
	return ctx, func() os.Signal {
		select {
		case s := <-got:
			got <- s
			return s
		default:
			return nil
		}
	}
}

func signalExit(s os.Signal) int {
	if s == syscall.SIGTERM {
		return exitSIGTERM
	}
	return exitSIGINT
}

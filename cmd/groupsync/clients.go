package main

import (
	"context"
	"errors"
	"fmt"
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
)

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
			c, err := lox24.New(sink.Config{BaseURL: f.lox24URL, Rate: f.lox24Rate, Retry: f.retry(), MaxInFlight: f.lox24Workers, MaxReadItems: f.maxReadItems, OnEvent: f.events}, token)
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
			c, err := helloid.New(sink.Config{BaseURL: f.helloidURL, Rate: f.helloidRate, Retry: f.retry(), MaxInFlight: f.helloidWorkers, MaxReadItems: f.maxReadItems, OnEvent: f.events}, key, sec)
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

// readAll reads every system side by side. A panic in a reader fails that
// system's read.
func (c *cli) readAll(ctx context.Context, log *slog.Logger, want plan.Desired, sinks map[plan.System]plan.Sink) map[plan.System]readResult {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[plan.System]readResult{}
	for sys, s := range sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					err := fmt.Errorf("internal error: %v", v)
					log.Error("read failed", "system", sys, "err", err)
					mu.Lock()
					out[sys] = readResult{err: err}
					mu.Unlock()
				}
			}()
			c.stage("read " + string(sys))
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

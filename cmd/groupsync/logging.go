package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"groupsync/internal/plan"
)

// newLogger returns the run's logger on w: text or JSON lines. Durations
// are logged in milliseconds, under their key with "_ms" added.
func newLogger(w io.Writer, format string) *slog.Logger {
	opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() == slog.KindDuration {
			return slog.Int64(a.Key+"_ms", a.Value.Duration().Milliseconds())
		}
		return a
	}}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// jsonLines is a writer for --log-format json: every line written to it
// becomes one JSON log record with the line as its message, so that every
// line on stderr is JSON, the plain summaries included. Close writes a last
// unterminated line.
type jsonLines struct {
	mu   sync.Mutex
	log  *slog.Logger
	part []byte
}

func (j *jsonLines) Write(b []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.part = append(j.part, b...)
	for {
		i := bytes.IndexByte(j.part, '\n')
		if i < 0 {
			return len(b), nil
		}
		j.emit(string(j.part[:i]))
		j.part = j.part[i+1:]
	}
}

// Close logs what is left of an unterminated line.
func (j *jsonLines) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.part) > 0 {
		j.emit(string(j.part))
		j.part = nil
	}
	return nil
}

func (j *jsonLines) emit(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	level := slog.LevelInfo
	if strings.HasPrefix(line, "groupsync") || strings.HasPrefix(line, "error") {
		level = slog.LevelError
	}
	j.log.Log(context.Background(), level, line)
}

// progressInterval is how often apply logs its progress off a terminal.
const progressInterval = 10 * time.Second

// tickerFunc starts a ticker: its channel and its stop function. Tests
// inject their own, so progress logging is tested without waiting.
type tickerFunc func(d time.Duration) (<-chan time.Time, func())

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// progressLog logs, on every tick until finish, how many of total items
// are done, the rate in items per second and the estimated time left,
// measured from now() at the start to the time each tick carries, so that
// tests control the rate.
func progressLog(log *slog.Logger, total int, tick <-chan time.Time, stopTicker func(), now func() time.Time) (advance func(plan.Item), finish func()) {
	var done atomic.Int64
	start := now()
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-quit:
				return
			case at := <-tick:
				n := done.Load()
				elapsed := at.Sub(start)
				rate := 0.0
				if elapsed > 0 {
					rate = float64(n) / elapsed.Seconds()
				}
				attrs := []any{"done", n, "total", total, "rate_per_s", math.Round(rate*10) / 10}
				if rate > 0 {
					eta := time.Duration(float64(int64(total)-n) / rate * float64(time.Second))
					attrs = append(attrs, "eta", eta)
				}
				log.Info("progress", attrs...)
			}
		}
	}()
	var once sync.Once
	return func(plan.Item) { done.Add(1) }, func() {
		once.Do(func() {
			close(quit)
			<-exited
			stopTicker()
		})
	}
}

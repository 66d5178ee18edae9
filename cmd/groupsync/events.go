package main

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// sinkEvents returns the clients' event hook: every 429 and every retry is
// logged with its system, item and attempt, and a retry with how long it
// waits and why (throttling, lockout, or the error).
func sinkEvents(log *slog.Logger) func(sink.Event) {
	return func(e sink.Event) {
		switch e.Kind {
		case sink.EventThrottled:
			log.Warn("throttled: 429 Too Many Requests", "system", e.System, "item", e.Op, "attempt", e.Attempt, "pace_per_s", e.Pace)
		case sink.EventRetry:
			log.Warn("retry", "system", e.System, "item", e.Op, "attempt", e.Attempt, "next_attempt", e.Attempt+1,
				"reason", e.Reason, "wait", e.Wait, "wait_reason", waitReason(e))
		}
	}
}

// waitReason says why a retry waits: "lockout" when LOX24 answers 429 and
// asks for a longer wait than any backoff (its bad-credentials lockout),
// "throttling" for other 429s, "error" otherwise.
func waitReason(e sink.Event) string {
	if !strings.HasPrefix(e.Reason, "HTTP "+strconv.Itoa(http.StatusTooManyRequests)) {
		return "error"
	}
	if e.System == plan.LOX24 && e.Wait > sink.DefaultRetryMax {
		return "lockout"
	}
	return "throttling"
}

package main

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// runMetrics is what a run leaves in its --metrics-file, in the Prometheus
// textfile-collector format: when it finished, how long it took, how it
// exited, and its items by system and status (apply) or action (plan).
type runMetrics struct {
	path    string
	command string
	start   time.Time
	items   map[[2]string]int // {system, status or action} -> count
	label   string            // "status" (apply) or "action" (plan)
	redact  *sink.Redactor
}

func newMetrics(path, command string) *runMetrics {
	if path == "" {
		return nil
	}
	return &runMetrics{path: path, command: command, start: time.Now(), items: map[[2]string]int{}}
}

// fromReport records an apply's items by status, unchanged ones included.
func (m *runMetrics) fromReport(r *plan.Report) {
	if m == nil || r == nil {
		return
	}
	m.label = "status"
	for sys, t := range r.Systems {
		for status, n := range map[string]int{"succeeded": t.Succeeded, "failed": t.Failed, "skipped": t.Skipped, "stale": t.Stale, "unchanged": t.Unchanged} {
			m.items[[2]string{string(sys), status}] = n
		}
	}
}

// fromPlan records a plan's pending items by action.
func (m *runMetrics) fromPlan(p *plan.Plan) {
	if m == nil || p == nil {
		return
	}
	m.label = "action"
	for _, sys := range p.Systems {
		c := p.Count(sys)
		for action, n := range map[string]int{"create": c.Create, "update": c.Update, "delete": c.Delete, "error": c.Errors, "unchanged": c.Unchanged} {
			m.items[[2]string{string(sys), action}] = n
		}
	}
}

// write writes the file atomically, so the collector never reads half of it.
func (m *runMetrics) write(code int) error {
	if m == nil {
		return nil
	}
	var b bytes.Buffer
	end := time.Now()
	cmd := fmt.Sprintf("command=%q", m.command)
	gauge := func(name, help string, value string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s{%s} %s\n", name, help, name, name, cmd, value)
	}
	gauge("groupsync_last_run_timestamp_seconds", "When the last run finished, as a Unix time.", fmt.Sprintf("%.3f", float64(end.UnixMilli())/1000))
	gauge("groupsync_last_run_duration_seconds", "How long the last run took.", fmt.Sprintf("%.3f", end.Sub(m.start).Seconds()))
	gauge("groupsync_last_run_exit_code", "Exit code of the last run (0 success, 3 items failed, 4 refused by a guard, ...).", fmt.Sprint(code))
	if m.label != "" {
		keys := make([][2]string, 0, len(m.items))
		for k := range m.items {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i][0] != keys[j][0] {
				return keys[i][0] < keys[j][0]
			}
			return keys[i][1] < keys[j][1]
		})
		fmt.Fprintf(&b, "# HELP groupsync_last_run_items Items of the last run by system and %s.\n# TYPE groupsync_last_run_items gauge\n", m.label)
		for _, k := range keys {
			fmt.Fprintf(&b, "groupsync_last_run_items{%s,system=%q,%s=%q} %d\n", cmd, k[0], m.label, k[1], m.items[k])
		}
	}
	return writeFileAtomic(m.path, m.redact.Bytes(b.Bytes()))
}

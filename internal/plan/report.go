package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ReportVersion is the schema version of the JSON report.
const ReportVersion = 1

// Report is the plan plus every item's outcome: what apply writes to
// --report (JSON, schema version 1).
type Report struct {
	Version     int              `json:"version"`
	StartedAt   time.Time        `json:"started_at"`
	FinishedAt  time.Time        `json:"finished_at"`
	Interrupted bool             `json:"interrupted"`
	Summary     Tally            `json:"summary"`
	Systems     map[System]Tally `json:"systems"`
	Items       []Item           `json:"items"`
	// Errors are the problems that stopped the run before any item could be
	// planned (bad input, configuration); the items are then empty.
	Errors []string `json:"errors,omitempty"`
	// Cancelled says that the person asked at the confirmation prompt did
	// not answer yes: nothing was applied, by choice.
	Cancelled bool           `json:"cancelled,omitempty"`
	unchanged map[System]int // from the plan
}

// Tally counts items by status for the whole run.
type Tally struct {
	Planned   int `json:"planned"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	Stale     int `json:"stale"`
	Unchanged int `json:"unchanged"`
	// Verified counts the succeeded items that the re-read after apply
	// showed as applied.
	Verified int `json:"verified"`
	// Error says, for a system, why it was not read or was stopped early
	// (bad credentials): no write was sent to it after that.
	Error string `json:"error,omitempty"`
}

// Item is one planned item and its outcome.
type Item struct {
	System System `json:"system"`
	Kind   Kind   `json:"kind"`
	Action Action `json:"action"`
	// Key is the item's own remote id: for a create, the id it was given
	// ("" until then).
	Key   string `json:"key"`
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	// Country is, for phone items, the group's default_country (see
	// Change.Country).
	Country    string `json:"country,omitempty"`
	User       string `json:"user,omitempty"`
	Status     Status `json:"status"`
	HTTPStatus int    `json:"http_status"`
	Attempts   int    `json:"attempts"`
	RequestID  string `json:"request_id"`
	DurationMS int64  `json:"duration_ms"`
	Source     string `json:"source"`
	Error      string `json:"error"`
	// Snapshot is, for a group delete, the group's whole record and every
	// member as read before the delete, so that undo can rebuild it.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// Group is, for a member or phone item, the remote id of its group, also
	// when the group was created in the same run (once it was).
	Group string `json:"group,omitempty"`
	// NewKey is, for creates that succeeded, the id the system gave the
	// new record.
	NewKey string `json:"new_key,omitempty"`
	// DependsOn is, for members of a group created in the same run, the
	// index in Items of that create, plus one.
	DependsOn int `json:"depends_on,omitempty"`
	// Before is the whole remote record before the item (null for
	// creates); After is the record the item leaves behind (null for
	// deletes). Both are null for items that could not be planned.
	Before map[string]Value `json:"before"`
	After  map[string]Value `json:"after"`
	// Expect, when set, is what must still hold for a group delete to be
	// sent (see Change.Expect).
	Expect *Expect `json:"expect,omitempty"`
	// Verified says the re-read after apply showed the item as applied.
	Verified bool `json:"verified,omitempty"`
	// Uncertain says the item's write may have been applied though its
	// answer did not say so (a lost answer, a 5xx or timeout after a
	// request that may have reached the server). Verify re-reads such a
	// failed item: one the re-read shows applied is succeeded and
	// verified, and keeps this mark; the others stay failed.
	Uncertain bool `json:"uncertain,omitempty"`
}

func newReport(p *Plan, start time.Time) *Report {
	r := &Report{
		Version:   ReportVersion,
		StartedAt: start.UTC(),
		Systems:   map[System]Tally{},
		Items:     make([]Item, len(p.Changes)),
		unchanged: p.Unchanged,
	}
	for _, sys := range p.Systems {
		r.Systems[sys] = Tally{}
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		r.Items[i] = Item{
			System: c.System, Kind: c.Kind, Action: c.Action, Key: c.Key, Group: c.GroupKey, Name: c.Name,
			Phone: c.Phone, Country: c.Country, User: c.User, Source: c.Source.String(), DependsOn: c.DependsOn, Expect: c.Expect,
			Snapshot: c.Snapshot,
			// Until an item ends it counts as skipped: an item that never
			// started (interrupt, stopped system) is reported as such.
			Status: Skipped, Error: "not started",
		}
		if c.Error == "" {
			r.Items[i].Before, r.Items[i].After = records(c)
		}
	}
	return r
}

// FailedReport is the report of a run that stopped before it had a plan.
// Its Errors list each error; a joined error (errors.Join, or any error
// with an Unwrap() []error method) gives one entry per error it joins.
func FailedReport(start, end time.Time, errs ...error) *Report {
	r := newReport(&Plan{}, start)
	for _, err := range errs {
		// A joined error (every input error of the files, every missing
		// credential) is listed one error to an entry.
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				r.Errors = append(r.Errors, e.Error())
			}
			continue
		}
		r.Errors = append(r.Errors, err.Error())
	}
	r.finish(end, false)
	return r
}

// SetSystemError records why a system was not read or was stopped.
func (r *Report) SetSystemError(sys System, err error) {
	t := r.Systems[sys]
	t.Error = err.Error()
	r.Systems[sys] = t
}

// set records item i's outcome.
func (r *Report) set(i int, o Outcome) {
	it := &r.Items[i]
	it.Status = o.Status
	it.HTTPStatus = o.HTTPStatus
	it.Attempts = o.Attempts
	it.RequestID = o.RequestID
	it.DurationMS = o.Duration.Milliseconds()
	it.Error = ""
	if o.Err != nil {
		it.Error = o.Err.Error()
	}
	it.Uncertain = o.Uncertain && o.Status == Failed
	if o.NewKey != "" && it.Key == "" {
		it.Key = o.NewKey
	}
	if o.NewKey != "" && it.Action == Create {
		it.NewKey = o.NewKey
	}
}

// records returns the whole record before a change (nil for creates) and
// the one it leaves behind (nil for deletes).
func records(c *Change) (before, after map[string]Value) {
	if c.Kind == KindUser {
		// A membership's whole record is which user it is.
		rec := map[string]Value{"userGuid": Str(c.Key), "userName": Str(c.User)}
		if c.Action == Create {
			return nil, rec
		}
		return rec, nil
	}
	if c.Action != Create && c.Base != nil {
		before = make(map[string]Value, len(c.Base))
		for k, v := range c.Base {
			before[k] = v
		}
	}
	if c.Action != Delete {
		after = c.Record()
	}
	return before, after
}

// finish stamps the end time and computes the tallies.
func (r *Report) finish(end time.Time, interrupted bool) {
	r.FinishedAt = end.UTC()
	r.Interrupted = interrupted
	for i := range r.Items {
		// Members of a group created in the run carry its new id.
		it := &r.Items[i]
		if dep := it.DependsOn - 1; it.Group == "" && dep >= 0 && dep < len(r.Items) {
			it.Group = r.Items[dep].NewKey
		}
	}
	r.tally()
}

// tally computes the per-system and overall tallies from the items.
func (r *Report) tally() {
	r.Summary = Tally{}
	for sys, t := range r.Systems {
		r.Systems[sys] = Tally{Unchanged: r.unchanged[sys], Error: t.Error}
	}
	for _, it := range r.Items {
		t := r.Systems[it.System]
		t.add(it.Status)
		if it.Verified {
			t.Verified++
		}
		r.Systems[it.System] = t
	}
	for _, t := range r.Systems {
		r.Summary.Planned += t.Planned
		r.Summary.Succeeded += t.Succeeded
		r.Summary.Failed += t.Failed
		r.Summary.Skipped += t.Skipped
		r.Summary.Stale += t.Stale
		r.Summary.Unchanged += t.Unchanged
		r.Summary.Verified += t.Verified
	}
}

func (t *Tally) add(s Status) {
	t.Planned++
	switch s {
	case Succeeded:
		t.Succeeded++
	case Failed:
		t.Failed++
	case Skipped:
		t.Skipped++
	case Stale:
		t.Stale++
	}
}

// OK reports whether every planned item succeeded.
func (r *Report) OK() bool {
	return r.Summary.Succeeded == r.Summary.Planned
}

// Fatal reports whether the run hit a problem beyond single items: bad
// input or configuration, or a system that could not be read or was stopped.
func (r *Report) Fatal() bool {
	if len(r.Errors) > 0 || r.Cancelled {
		return true
	}
	for _, t := range r.Systems {
		if t.Error != "" {
			return true
		}
	}
	return false
}

// WriteSummary writes the report's tallies for humans: one line per system
// and one line per item that did not succeed.
func (r *Report) WriteSummary(w io.Writer, opt RenderOptions) error {
	ew := &errWriter{w: w}
	for _, sys := range Systems {
		t, ok := r.Systems[sys]
		if !ok {
			continue
		}
		ew.printf("%s: %s\n", sys, t)
		if t.Error != "" {
			ew.printf("  %s: %s\n", sys, t.Error)
		}
	}
	for _, e := range r.Errors {
		ew.printf("error: %s\n", e)
	}
	if r.Cancelled {
		ew.printf("cancelled at the prompt: nothing was applied\n")
	}
	for _, it := range r.Items {
		if it.Status == Succeeded {
			continue
		}
		c := Change{System: it.System, Kind: it.Kind, Key: it.Key, GroupKey: it.Group, Name: it.Name, Phone: it.Phone, User: it.User}
		where := ""
		if it.Source != "" {
			where = " (" + it.Source + ")"
		}
		ew.printf("  %s %s %s %s%s: %s\n", it.Status, it.System, it.Action, Title(&c, opt), where, it.Error)
	}
	if r.Interrupted {
		ew.printf("interrupted: items not started are reported as skipped\n")
	}
	return ew.err
}

// String renders a tally for humans.
func (t Tally) String() string {
	s := fmt.Sprintf("%d planned, %d succeeded, %d failed, %d skipped", t.Planned, t.Succeeded, t.Failed, t.Skipped)
	if t.Stale > 0 {
		s += fmt.Sprintf(", %d stale", t.Stale)
	}
	if t.Verified > 0 {
		s += fmt.Sprintf(", %d verified", t.Verified)
	}
	return s + fmt.Sprintf(", %d unchanged", t.Unchanged)
}

// Encode writes the report as indented JSON (schema version 1), ending in a
// line break: the bytes json.MarshalIndent(r, "", "  ") gives, written item
// by item, so that the report of a million items is never held whole as
// text.
func (r *Report) Encode(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// value writes v as it stands in the document at indentation prefix.
	value := func(prefix string, v any) error {
		buf.Reset()
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	}
	fields := []struct {
		name string
		v    any
	}{{"version", r.Version}, {"started_at", r.StartedAt}, {"finished_at", r.FinishedAt},
		{"interrupted", r.Interrupted}, {"summary", r.Summary}, {"systems", r.Systems}}
	_, _ = bw.WriteString("{\n")
	for _, f := range fields {
		fmt.Fprintf(bw, "  %q: ", f.name)
		if err := value("  ", f.v); err != nil {
			return err
		}
		_, _ = bw.WriteString(",\n")
	}
	switch {
	case r.Items == nil:
		_, _ = bw.WriteString(`  "items": null`)
	case len(r.Items) == 0:
		_, _ = bw.WriteString(`  "items": []`)
	default:
		_, _ = bw.WriteString("  \"items\": [\n")
		for i := range r.Items {
			_, _ = bw.WriteString("    ")
			if err := value("    ", &r.Items[i]); err != nil {
				return err
			}
			if i < len(r.Items)-1 {
				_, _ = bw.WriteString(",")
			}
			_, _ = bw.WriteString("\n")
		}
		_, _ = bw.WriteString("  ]")
	}
	if len(r.Errors) > 0 {
		_, _ = bw.WriteString(",\n  \"errors\": ")
		if err := value("  ", r.Errors); err != nil {
			return err
		}
	}
	if r.Cancelled {
		_, _ = bw.WriteString(",\n  \"cancelled\": true")
	}
	_, _ = bw.WriteString("\n}\n")
	return bw.Flush()
}

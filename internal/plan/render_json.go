package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FileVersion is the schema version of the JSON plan that WriteJSON writes
// and ReadJSON accepts.
const FileVersion = 1

// planFile is the JSON plan document. Summary and SummaryBySystem are
// derived from the changes; they are written for readers of the file, and
// ReadJSON checks that they still agree with the changes.
type planFile struct {
	Version         int                   `json:"version"`
	Systems         []System              `json:"systems"`
	Summary         planCounts            `json:"summary"`
	SummaryBySystem map[System]planCounts `json:"summary_by_system"`
	Changes         []Change              `json:"changes"`
	Unchanged       map[System]int        `json:"unchanged"`
	Members         map[string]int        `json:"members"`
	// Errors lists the systems that could not be read and why: nothing is
	// planned for them, and the plan is not the whole story.
	Errors []Unreadable `json:"errors"`
	// Refused lists the safety guards the plan breaks: apply would refuse it.
	Refused []string              `json:"refused"`
	Prune   map[System]PruneScope `json:"prune,omitempty"`
	Shrinks []Shrink              `json:"shrinks,omitempty"`
	// Baseline is the desired state's baseline, saved for apply --plan
	// --baseline to write.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// planCounts is Counts as the JSON plan spells it.
type planCounts struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Delete    int `json:"delete"`
	Errors    int `json:"errors"`
	Unchanged int `json:"unchanged"`
}

func countsOf(c Counts) planCounts {
	return planCounts(c)
}

func (c planCounts) String() string {
	return summary(Counts(c))
}

// WriteJSON writes the plan as a JSON document of schema version
// FileVersion: what `plan --format json` prints and `plan --out` saves. It
// holds plan data only, with full phone numbers, since applying the plan
// needs them. The output is indented by two spaces, ends in a newline, and
// is a pure function of the plan: the same plan gives the same bytes.
// WriteJSON refuses a plan that ReadJSON would reject, so that a saved plan
// can always be applied.
func WriteJSON(w io.Writer, p *Plan) error {
	if err := validate(p); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return encodePlan(w, p)
}

// encodePlan writes p as the JSON plan document, unchecked. The changes
// are encoded one by one, so that a plan of a million changes is never
// held as text in memory; the document is the same as encoding planFile
// whole with two-space indentation.
func encodePlan(w io.Writer, p *Plan) error {
	summaryBy := make(map[System]planCounts, len(p.Systems))
	for _, sys := range p.Systems {
		summaryBy[sys] = countsOf(p.Count(sys))
	}
	unchanged, members := p.Unchanged, p.Members
	if unchanged == nil {
		unchanged = map[System]int{}
	}
	if members == nil {
		members = map[string]int{}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	// A write error sticks to bw: put ignores it, and Flush returns it.
	put := func(s string) { _, _ = bw.WriteString(s) }
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // names stay readable: "R&D", not "R\u0026D"
	// value writes v as it stands in the document at indentation prefix.
	value := func(prefix string, v any) error {
		buf.Reset()
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		_, err := bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	}
	field := func(name string, v any) error {
		fmt.Fprintf(bw, "  %q: ", name)
		if err := value("  ", v); err != nil {
			return err
		}
		_, err := bw.WriteString(",\n")
		return err
	}
	put("{\n")
	for _, f := range []struct {
		name string
		v    any
	}{{"version", FileVersion}, {"systems", orEmpty(p.Systems)}, {"summary", countsOf(p.Count(""))}, {"summary_by_system", summaryBy}} {
		if err := field(f.name, f.v); err != nil {
			return err
		}
	}
	if len(p.Changes) == 0 {
		put("  \"changes\": [],\n")
	} else {
		put("  \"changes\": [\n")
		// Each change is written into one reused buffer, and a compact
		// phone create's fields built in one reused list: a million
		// changes are written without an allocation each, so the heap
		// stays what the plan holds.
		var item []byte
		var fields []FieldChange
		for i := range p.Changes {
			var err error
			if item, fields, err = appendChange(item[:0], &p.Changes[i], "    ", fields); err != nil {
				return fmt.Errorf("plan: %w", err)
			}
			put("    ")
			_, _ = bw.Write(item)
			if i < len(p.Changes)-1 {
				put(",")
			}
			put("\n")
		}
		put("  ],\n")
	}
	if err := field("unchanged", unchanged); err != nil {
		return err
	}
	// Optional fields last, as planFile orders them (omitted when empty).
	last := []struct {
		name string
		v    any
	}{{"members", members}, {"errors", orEmpty(p.Unread)}, {"refused", orEmpty(p.Refused)}}
	if len(p.Prune) > 0 {
		last = append(last, struct {
			name string
			v    any
		}{"prune", p.Prune})
	}
	if len(p.Shrinks) > 0 {
		last = append(last, struct {
			name string
			v    any
		}{"shrinks", p.Shrinks})
	}
	if p.Baseline != nil {
		last = append(last, struct {
			name string
			v    any
		}{"baseline", p.Baseline})
	}
	for i, f := range last {
		fmt.Fprintf(bw, "  %q: ", f.name)
		if err := value("  ", f.v); err != nil {
			return err
		}
		if i < len(last)-1 {
			put(",")
		}
		put("\n")
	}
	put("}\n")
	return bw.Flush()
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ReadJSON reads a plan that WriteJSON wrote and returns it as it was
// written; empty Changes, Systems and Members come back nil and Unchanged
// non-nil, as Diff makes them. It rejects a document of another version,
// unknown or repeated fields, unknown systems, kinds, actions and field
// names, a summary that no longer matches the changes, and items Apply
// could not run safely: an update or delete without a key, a phone item
// without a number or bound to no group, a DependsOn that is not an
// earlier group create of the same system. Errors name the item as
// changes[i], i counting from 0.
func ReadJSON(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	return ParseJSON(data)
}

// ParseJSON is ReadJSON for a plan file already read whole.
func ParseJSON(data []byte) (*Plan, error) {
	// The version first, leniently: a newer file may well have fields this
	// version does not know, and the version is the error that explains it.
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("plan file: %w", located(data, err))
	}
	switch {
	case head.Version == nil:
		return nil, errors.New("plan file has no version; is it a plan saved by groupsync plan --out?")
	case *head.Version != FileVersion:
		return nil, fmt.Errorf("plan file version %d is not supported (want %d)", *head.Version, FileVersion)
	}
	f, err := decodePlanFile(data)
	if err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	p := &Plan{Changes: f.Changes, Unchanged: f.Unchanged, Systems: f.Systems, Members: f.Members,
		Unread: f.Errors, Refused: f.Refused, Prune: f.Prune, Shrinks: f.Shrinks, Baseline: f.Baseline}
	if len(p.Unread) == 0 {
		p.Unread = nil
	}
	if len(p.Refused) == 0 {
		p.Refused = nil
	}
	if len(p.Changes) == 0 {
		p.Changes = nil
	}
	if len(p.Systems) == 0 {
		p.Systems = nil
	}
	if p.Unchanged == nil {
		p.Unchanged = map[System]int{}
	}
	if len(p.Members) == 0 {
		p.Members = nil
	}
	if err := validate(p); err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	if err := checkSummary(p, f); err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	return p, nil
}

// decodePlanFile decodes a document that is valid JSON strictly, one
// top-level field and one change at a time, so that an error can say which
// change it is in and a large plan is not held twice.
func decodePlanFile(data []byte) (*planFile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	f := &planFile{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, fmt.Errorf("field %q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "version":
			err = dec.Decode(&f.Version)
		case "systems":
			err = dec.Decode(&f.Systems)
		case "summary":
			err = dec.Decode(&f.Summary)
		case "summary_by_system":
			err = dec.Decode(&f.SummaryBySystem)
		case "unchanged":
			err = dec.Decode(&f.Unchanged)
		case "members":
			err = dec.Decode(&f.Members)
		case "errors":
			err = dec.Decode(&f.Errors)
		case "refused":
			err = dec.Decode(&f.Refused)
		case "prune":
			err = dec.Decode(&f.Prune)
		case "shrinks":
			err = dec.Decode(&f.Shrinks)
		case "baseline":
			if err = dec.Decode(&f.Baseline); err == nil && f.Baseline != nil {
				err = f.Baseline.check()
			}
		case "changes":
			if f.Changes, err = decodeChanges(dec, data); err != nil {
				return nil, err
			}
			continue
		default:
			return nil, fmt.Errorf("unknown field %q", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeChanges decodes the changes array (or null) element by element.
func decodeChanges(dec *json.Decoder, data []byte) ([]Change, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("changes: want an array, got %v", tok)
	}
	var out []Change
	for i := 0; dec.More(); i++ {
		start := dec.InputOffset()
		var c Change
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("changes[%d] (line %d): %w", i, lineAt(data, start), err)
		}
		out = append(out, c)
	}
	if err := expectDelim(dec, ']'); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	return out, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", string(want), tok)
	}
	return nil
}

// lineAt is the line of the first value at or after off, skipping the
// blanks and the comma that separate it from the one before.
func lineAt(data []byte, off int64) int {
	i := int(min(max(off, 0), int64(len(data))))
	for i < len(data) && strings.IndexByte(" \t\r\n,", data[i]) >= 0 {
		i++
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// located adds the line and column to a JSON syntax or type error of
// json.Unmarshal(data), which otherwise only knows its byte offset.
func located(data []byte, err error) error {
	var off int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		return err
	}
	// The offset counts the bytes read, the offending one included.
	off = min(max(off-1, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// validate checks what Apply relies on: known systems, kinds and actions;
// every change in one of the plan's systems; phone items only in LOX24, each
// bound to its group either by id or by DependsOn, an earlier group create
// of the same system; a key on every update and delete that can be applied;
// and only field names the system knows.
func validate(p *Plan) error {
	inPlan := map[System]bool{}
	for _, sys := range p.Systems {
		if _, err := ParseSystem(string(sys)); err != nil {
			return fmt.Errorf("systems: %w", err)
		}
		if inPlan[sys] {
			return fmt.Errorf("systems: %s appears twice", sys)
		}
		inPlan[sys] = true
	}
	for _, sys := range slices.Sorted(maps.Keys(p.Unchanged)) {
		if !inPlan[sys] {
			return fmt.Errorf("unchanged: system %q is not one of the plan's systems (%s)", sys, systemList(p.Systems))
		}
		if p.Unchanged[sys] < 0 {
			return fmt.Errorf("unchanged: %s: %d is negative", sys, p.Unchanged[sys])
		}
	}
	for i, u := range p.Unread {
		if _, err := ParseSystem(string(u.System)); err != nil {
			return fmt.Errorf("errors[%d]: %w", i, err)
		}
		if inPlan[u.System] {
			return fmt.Errorf("errors[%d]: %s was read: it is one of the plan's systems", i, u.System)
		}
	}
	for i := range p.Changes {
		if err := validateChange(p, i, inPlan); err != nil {
			return fmt.Errorf("changes[%d]: %w", i, err)
		}
	}
	return nil
}

func validateChange(p *Plan, i int, inPlan map[System]bool) error {
	c := &p.Changes[i]
	if _, err := ParseSystem(string(c.System)); err != nil {
		return err
	}
	if !inPlan[c.System] {
		return fmt.Errorf("system %s is not one of the plan's systems (%s)", c.System, systemList(p.Systems))
	}
	switch c.Kind {
	case KindGroup, KindPhone, KindUser:
	default:
		return fmt.Errorf("unknown kind %q (want group, phone or user)", c.Kind)
	}
	switch c.Action {
	case Create, Update, Delete:
	default:
		return fmt.Errorf("unknown action %q (want create, update or delete)", c.Action)
	}
	if c.Kind == KindPhone && c.System != LOX24 {
		return fmt.Errorf("a phone item in %s: only %s groups have phone members", c.System, LOX24)
	}
	if c.Kind == KindUser && c.System != HelloID {
		return fmt.Errorf("a user item in %s: only %s groups have user members", c.System, HelloID)
	}
	if c.Kind == KindUser && c.Action == Update {
		return errors.New("a user item is a create (link) or a delete (unlink), never an update")
	}
	if c.DependsOn != 0 {
		if err := validateDependsOn(p, i); err != nil {
			return err
		}
	}
	// A compact phone create's fields are its number and LOX24's member
	// columns by construction (appendMemberFields): only a list of its own
	// can name another, and checking it builds nothing.
	for _, f := range c.Fields {
		if !knownField(c.System, c.Kind, f.Field) {
			return fmt.Errorf("unknown field %q for a %s %s", f.Field, c.System, c.Kind)
		}
	}
	if c.Error != "" {
		return nil // never sent: it needs no key
	}
	if c.Action != Create && c.Key == "" {
		return fmt.Errorf("a %s %s without a key", c.Kind, c.Action)
	}
	if c.Kind == KindPhone {
		if c.Phone == "" {
			return fmt.Errorf("a phone %s without a phone number", c.Action)
		}
		if (c.GroupKey == "") == (c.DependsOn == 0) {
			return errors.New("a phone item needs either a group or depends_on, and not both")
		}
	}
	if c.Kind == KindUser {
		if !IsGUID(c.Key) {
			return fmt.Errorf("a user %s whose key %q is not a userGuid", c.Action, c.Key)
		}
		if (c.GroupKey == "") == (c.DependsOn == 0) {
			return errors.New("a user item needs either a group or depends_on, and not both")
		}
	}
	if err := checkKeys(c); err != nil {
		return err
	}
	if c.Action != Delete {
		for _, f := range c.Fields {
			if err := checkSent(c.System, c.Kind, f.Field, f.After); err != nil {
				return fmt.Errorf("%s: %w", f.Field, err)
			}
		}
	}
	return nil
}

// checkKeys checks the ids an item would put into a request path: LOX24
// ids are positive integers, HelloID group ids groupGuids (user keys are
// checked with the rest of a user item).
func checkKeys(c *Change) error {
	check := func(what, k string, group bool) error {
		switch {
		case k == "":
		case c.System == LOX24 && !isLOX24ID(k):
			return fmt.Errorf("%s %q is not a LOX24 id (a positive integer)", what, excerpt(k))
		case c.System == HelloID && group && !IsGUID(k):
			return fmt.Errorf("%s %q is not a groupGuid", what, excerpt(k))
		}
		return nil
	}
	if c.Kind != KindUser {
		if err := check("key", c.Key, c.Kind == KindGroup); err != nil {
			return err
		}
	}
	return check("group", c.GroupKey, true)
}

// isLOX24ID reports whether s is a LOX24 id as the client writes one: a
// positive integer in decimal, without sign or leading zeros.
func isLOX24ID(s string) bool {
	n, err := strconv.ParseUint(s, 10, 63)
	return err == nil && n > 0 && strconv.FormatUint(n, 10) == s
}

// excerpt is at most the first 40 characters of s, for an error.
func excerpt(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "..."
}

// checkSent checks a value an item sends where no record read from a
// system could hold another (a plan edited by hand must not send what a
// file could not): a name present, null only where a field may be cleared,
// a boolean true or false, a GUID a GUID. Lengths are not checked here:
// an undo plan rightly sends back a value the system held beyond its
// documented limit, and the API answers one that is too long itself.
func checkSent(sys System, kind Kind, field string, v Value) error {
	var nullable bool
	switch {
	case kind == KindPhone:
		nullable = field != "phone"
	case field == "name":
		nullable = false
		if v.Valid && v.S == "" {
			return errors.New("empty")
		}
	default:
		spec, _ := FieldSpecFor(sys, field)
		nullable = spec.Nullable
		switch {
		case !v.Valid:
		case spec.Kind == FieldBool && v.S != "true" && v.S != "false":
			return fmt.Errorf("%q is not true or false", excerpt(v.S))
		case spec.Kind == FieldGUID && !IsGUID(v.S):
			return fmt.Errorf("%q is not a GUID", excerpt(v.S))
		}
	}
	if !v.Valid && !nullable {
		return errors.New("null, but it cannot be cleared")
	}
	return nil
}

// validateDependsOn checks that change i waits for an earlier group create
// of its own system.
func validateDependsOn(p *Plan, i int) error {
	c := &p.Changes[i]
	if c.Kind == KindGroup {
		return fmt.Errorf("depends_on %d on a group item: only member items wait for a group create", c.DependsOn)
	}
	dep := c.DependsOn - 1
	if dep < 0 || dep >= i {
		return fmt.Errorf("depends_on %d does not point at an earlier change (want 1..%d)", c.DependsOn, i)
	}
	d := &p.Changes[dep]
	if d.Kind != KindGroup || d.Action != Create || d.System != c.System {
		return fmt.Errorf("depends_on %d points at changes[%d], a %s %s %s, not a %s group create", c.DependsOn, dep, d.System, d.Kind, d.Action, c.System)
	}
	return nil
}

// knownField reports whether a change of this kind can set field.
func knownField(sys System, kind Kind, field string) bool {
	if kind == KindPhone {
		return field == "phone" || slices.Contains(PhoneColumns[:], field)
	}
	if kind == KindUser {
		return false
	}
	if field == "name" {
		return true
	}
	_, ok := FieldSpecFor(sys, field)
	return ok
}

// checkSummary checks that the file's summaries still agree with its
// changes: a plan edited after review by hand must stay self-consistent.
func checkSummary(p *Plan, f *planFile) error {
	if got, want := f.Summary, countsOf(p.Count("")); got != want {
		return fmt.Errorf("summary says %s, but the changes give %s", got, want)
	}
	for _, sys := range slices.Sorted(maps.Keys(f.SummaryBySystem)) {
		if !slices.Contains(p.Systems, sys) {
			return fmt.Errorf("summary_by_system: system %q is not one of the plan's systems (%s)", sys, systemList(p.Systems))
		}
	}
	for _, sys := range p.Systems {
		got, ok := f.SummaryBySystem[sys]
		if !ok {
			return fmt.Errorf("summary_by_system: %s is missing", sys)
		}
		if want := countsOf(p.Count(sys)); got != want {
			return fmt.Errorf("summary_by_system: %s says %s, but the changes give %s", sys, got, want)
		}
	}
	return nil
}

func systemList(ss []System) string {
	if len(ss) == 0 {
		return "none"
	}
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

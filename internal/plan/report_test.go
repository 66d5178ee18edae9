package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailedReportListsEachJoinedError(t *testing.T) {
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := FailedReport(start, start.Add(time.Second),
		errors.Join(errors.New("g.yaml:3:13: name: must not be empty"), errors.New("m.csv:2: phone: missing (required)")),
		fmt.Errorf("lox24: %w", errors.New("no token")))
	assert.Equal(t, []string{
		"g.yaml:3:13: name: must not be empty",
		"m.csv:2: phone: missing (required)",
		"lox24: no token",
	}, r.Errors)
	assert.Empty(t, r.Items)
}

// A phone create's key is its own id once created, in an existing group as
// in a new one; its group is in `group`. The summary names the group as it
// is, never "new group" for one that exists.
func TestReportKeyIsTheItemsOwnID(t *testing.T) {
	p := &Plan{Systems: []System{LOX24}, Unchanged: map[System]int{}}
	p.Changes = []Change{
		{System: LOX24, Kind: KindPhone, Action: Create, Name: "Old", GroupKey: "12", Phone: "+4915112345678", Source: Source{"a.csv", 2}},
		{System: LOX24, Kind: KindPhone, Action: Create, Name: "Old", GroupKey: "12", Phone: "+4915112345679", Source: Source{"a.csv", 3}},
		{System: LOX24, Kind: KindGroup, Action: Create, Name: "New"},
		{System: LOX24, Kind: KindPhone, Action: Create, Name: "New", Phone: "+4915112345670", DependsOn: 3},
	}
	lox := &fakeSink{sys: LOX24, do: func(c *Change) Outcome {
		switch {
		case c.Kind == KindGroup:
			return Outcome{Status: Succeeded, NewKey: "77"}
		case c.Phone == "+4915112345679":
			return Outcome{Status: Failed, Err: errors.New("HTTP 422: bad number")}
		}
		return Outcome{Status: Succeeded, NewKey: "p-" + c.Phone[len(c.Phone)-1:]}
	}}
	r := Apply(context.Background(), p, map[System]Sink{LOX24: lox}, ApplyOptions{Workers: map[System]int{LOX24: 1}})
	assert.Equal(t, "p-8", r.Items[0].Key, "not the group id")
	assert.Equal(t, "12", r.Items[0].Group)
	assert.Empty(t, r.Items[1].Key, "a failed create has no id")
	assert.Equal(t, "p-0", r.Items[3].Key)

	var buf bytes.Buffer
	require.NoError(t, r.WriteSummary(&buf, RenderOptions{}))
	assert.Contains(t, buf.String(), `failed lox24 create phone +49151*****679 in group 12 "Old" (a.csv:3): HTTP 422: bad number`)
	assert.NotContains(t, buf.String(), "new group")
}

// The report is written item by item, and its bytes are those of
// json.MarshalIndent: empty, failed, cancelled and full reports, with text
// that JSON escapes.
func TestReportEncodeWritesWhatMarshalIndentWrites(t *testing.T) {
	odd := "R&D <x> \"q\" \u2028 caf\xe9"
	full := &Report{Version: ReportVersion, StartedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		FinishedAt: time.Date(2026, 11, 22, 10, 0, 1, 500, time.UTC), Interrupted: true,
		Summary: Tally{Planned: 2, Succeeded: 1, Failed: 1}, Systems: map[System]Tally{LOX24: {Planned: 2, Error: odd}, HelloID: {}},
		Items: []Item{
			{System: LOX24, Kind: KindPhone, Action: Create, Name: odd, Phone: "+4915112345678", Country: "DE", Status: Succeeded,
				HTTPStatus: 201, Attempts: 1, Source: "m.csv:2", DependsOn: 2, After: map[string]Value{"phone": Str("+4915112345678"), "a": Str(odd), "b": Null}},
			{System: LOX24, Kind: KindGroup, Action: Delete, Key: "7", Name: "G", Status: Failed, Error: odd,
				Snapshot: &Snapshot{Fields: map[string]Value{"name": Str("G")}, Phones: []SnapshotPhone{{ID: "1", Phone: "+1"}}},
				Expect:   &Expect{Members: []string{"+1"}}, Before: map[string]Value{"name": Str("G")}, Verified: true},
		},
		Errors: []string{odd, "second"}, Cancelled: true}
	failed := FailedReport(time.Unix(0, 0), time.Unix(1, 0), errors.New(odd))
	for name, r := range map[string]*Report{"full": full, "failed": failed, "nil items": {Version: 1},
		"empty items": {Version: 1, Items: []Item{}, Systems: map[System]Tally{}}} {
		want, err := json.MarshalIndent(r, "", "  ")
		require.NoError(t, err)
		var got bytes.Buffer
		require.NoError(t, r.Encode(&got))
		assert.Equal(t, string(want)+"\n", got.String(), name)
	}
}

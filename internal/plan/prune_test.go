package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deletes returns "system key name" of every group delete of p.
func deletes(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Kind == KindGroup && c.Action == Delete {
			out = append(out, fmt.Sprintf("%s %s %s", c.System, c.Key, c.Name))
		}
	}
	return out
}

func TestDiffPrune(t *testing.T) {
	hr := Prune{NamePrefix: "HR ", Source: src(2)}
	t.Run("only groups in the prefix that no file names are deleted; other prefixes are untouched", func(t *testing.T) {
		want := Desired{
			Groups: []Group{
				{System: LOX24, Name: "HR Sales", Fields: map[string]Value{}, Source: src(4)},
				{System: LOX24, Key: "5", Name: "HR Renamed", Fields: map[string]Value{}, Source: src(5)},
			},
			Prune: map[System]Prune{LOX24: hr},
		}
		lox := []RemoteGroup{
			loxRemote("1", "HR Sales", nil),  // named by name
			loxRemote("5", "HR Old", nil),    // named by id (renamed)
			loxRemote("6", "HR Gone", nil),   // not named: deleted
			loxRemote("7", "Marketing", nil), // other prefix
			loxRemote("8", "hr lower", nil),  // the prefix is case-sensitive
			loxRemote("9", "HR", nil),        // the prefix is "HR " with a space
		}
		p := Diff(want, map[System]Current{LOX24: {System: LOX24, Groups: lox}})
		assert.Equal(t, []string{"lox24 6 HR Gone"}, deletes(p))
		assert.Equal(t, PruneScope{NamePrefix: "HR ", InScope: 3, Kept: []KeptGroup{
			{Key: "1", Name: "HR Sales", Why: "named by the files"},
			{Key: "5", Name: "HR Old", Why: "named by the files"},
		}}, p.Prune[LOX24])
		del := p.Changes[len(p.Changes)-1]
		assert.Equal(t, src(2), del.Source, "a prune delete cites the prune key")
		assert.Contains(t, del.Note, `prune: name_prefix "HR "`)
	})

	t.Run("a helloid group synchronised from another system is kept; empty or Local source is pruned", func(t *testing.T) {
		want := Desired{Prune: map[System]Prune{HelloID: hr}}
		ad, local, none := hidRemote(guidA, "HR AD", nil), hidRemote(guidB, "HR Local", nil), hidRemote("c0b6b2b1-5a9c-4d57-9d7a-3f1e2d4c5b6a", "HR None", nil)
		ad.Origin, local.Origin = "AD", "Local"
		p := Diff(want, map[System]Current{HelloID: {System: HelloID, Groups: []RemoteGroup{ad, local, none}}})
		assert.Equal(t, []string{"helloid " + guidB + " HR Local", "helloid c0b6b2b1-5a9c-4d57-9d7a-3f1e2d4c5b6a HR None"}, deletes(p))
		assert.Equal(t, []KeptGroup{{Key: guidA, Name: "HR AD", Why: `source "AD": synchronised from another system`}}, p.Prune[HelloID].Kept)
	})

	t.Run("helloid names a group case-insensitively, as Diff matches it", func(t *testing.T) {
		want := Desired{Groups: []Group{{System: HelloID, Name: "hr sales", Fields: map[string]Value{}}}, Prune: map[System]Prune{HelloID: hr}}
		p := Diff(want, map[System]Current{HelloID: {System: HelloID, Groups: []RemoteGroup{hidRemote(guidA, "HR Sales", nil)}}})
		assert.Empty(t, deletes(p))
	})

	t.Run("a system that was not read is never pruned", func(t *testing.T) {
		want := Desired{Prune: map[System]Prune{LOX24: hr, HelloID: hr}}
		p := Diff(want, map[System]Current{HelloID: {System: HelloID}})
		assert.Empty(t, deletes(p))
		_, ok := p.Prune[LOX24]
		assert.False(t, ok)
	})

	t.Run("without a prune scope nothing is deleted", func(t *testing.T) {
		p := Diff(Desired{}, map[System]Current{LOX24: {System: LOX24, Groups: []RemoteGroup{loxRemote("6", "HR Gone", nil)}}})
		assert.Empty(t, deletes(p))
		assert.Nil(t, p.Prune)
	})

	t.Run("a pruned lox24 group carries its member count and a snapshot of every member with every column", func(t *testing.T) {
		r := loxRemote("6", "HR Gone", map[string]Value{"description": Str("old"), "name_a": Str("First")})
		r.Phones = []RemotePhone{
			{ID: "60", Number: "+4915112345678", Cols: MakeColumns("Ann", "", "", "", "", "crm-1")},
			{ID: "61", Number: "+4915112345679"},
		}
		p := Diff(Desired{Prune: map[System]Prune{LOX24: hr}}, map[System]Current{LOX24: {System: LOX24, Groups: []RemoteGroup{r}}})
		require.Len(t, p.Changes, 1)
		c := p.Changes[0]
		require.NotNil(t, c.Members)
		assert.Equal(t, 2, *c.Members)
		assert.Equal(t, &Snapshot{
			Fields: map[string]Value{"name": Str("HR Gone"), "description": Str("old"), "name_a": Str("First"),
				"name_b": Null, "name_c": Null, "name_d": Null, "name_e": Null},
			Phones: []SnapshotPhone{
				{ID: "60", Phone: "+4915112345678", Cols: map[string]string{"a": "Ann", "callback_data": "crm-1"}},
				{ID: "61", Phone: "+4915112345679"},
			},
		}, c.Snapshot)

		var text bytes.Buffer
		require.NoError(t, WriteText(&text, p, RenderOptions{}))
		assert.Contains(t, text.String(), "- group 6 \"HR Gone\"")
		assert.Regexp(t, `\n +members: +2 \(deleted with the group\)\n`, text.String(), "the member count is a field line of the delete")
		assert.Contains(t, text.String(), `prune "HR ": 1 of 1 group in the prefix to delete, 0 stay`)

		var md bytes.Buffer
		require.NoError(t, WriteMarkdown(&md, p, RenderOptions{}))
		assert.Contains(t, md.String(), "members: 2 (deleted with the group)")
		assert.Contains(t, md.String(), `prune "HR ": 1 of 1 group in the prefix to delete, 0 stay`)

		var js bytes.Buffer
		require.NoError(t, WriteJSON(&js, p))
		back, err := ReadJSON(&js)
		require.NoError(t, err, js.String())
		assert.Equal(t, p.Changes, back.Changes, "a saved plan keeps the snapshot")
		assert.Equal(t, p.Prune, back.Prune)

		// The report keeps the snapshot of the group it deleted.
		r2 := Apply(context.Background(), p, map[System]Sink{LOX24: &fakeSink{sys: LOX24, do: func(*Change) Outcome {
			return Outcome{Status: Succeeded, HTTPStatus: 204, Attempts: 1}
		}}}, ApplyOptions{Now: func() time.Time { return time.Unix(0, 0) }})
		var rep bytes.Buffer
		require.NoError(t, r2.Encode(&rep))
		var doc struct {
			Items []struct {
				Action   Action    `json:"action"`
				Status   Status    `json:"status"`
				Snapshot *Snapshot `json:"snapshot"`
			} `json:"items"`
		}
		require.NoError(t, json.Unmarshal(rep.Bytes(), &doc))
		require.Len(t, doc.Items, 1)
		assert.Equal(t, Succeeded, doc.Items[0].Status)
		assert.Equal(t, c.Snapshot, doc.Items[0].Snapshot)
	})

	t.Run("PruneCandidates names the groups Diff would delete, so only their members are read", func(t *testing.T) {
		want := Desired{Groups: []Group{{System: LOX24, Name: "HR Sales"}}, Prune: map[System]Prune{LOX24: hr}}
		cur := Current{System: LOX24, Groups: []RemoteGroup{loxRemote("1", "HR Sales", nil), loxRemote("6", "HR Gone", nil), loxRemote("7", "Other", nil)}}
		assert.Equal(t, []string{"6"}, PruneCandidates(want, cur))
		assert.Nil(t, PruneCandidates(Desired{}, cur))
	})
}

func TestPruneGuard(t *testing.T) {
	scope := func(groups, keep int) *Plan {
		var lox []RemoteGroup
		var want []Group
		for i := range groups {
			name := fmt.Sprintf("HR %02d", i)
			lox = append(lox, loxRemote(fmt.Sprint(100+i), name, nil))
			if i < keep {
				want = append(want, Group{System: LOX24, Name: name, Fields: map[string]Value{}})
			}
		}
		return Diff(Desired{Groups: want, Prune: map[System]Prune{LOX24: {NamePrefix: "HR "}}},
			map[System]Current{LOX24: {System: LOX24, Groups: lox}})
	}
	g := Guards{MaxDeletePct: 30}
	t.Run("deleting more than --max-delete-pct of 10 or more groups in the prefix is refused", func(t *testing.T) {
		errs := scope(10, 6).Check(g)
		require.Len(t, errs, 1)
		assert.Equal(t, `lox24 prune "HR ": the plan deletes 4 of the 10 groups in the prefix (40.0%), more than --max-delete-pct 30%`, errs[0].Error())
	})
	t.Run("up to the limit passes", func(t *testing.T) {
		assert.Empty(t, scope(10, 7).Check(g))
	})
	t.Run("fewer than 10 groups in the prefix are not guarded", func(t *testing.T) {
		assert.Empty(t, scope(9, 0).Check(g))
	})
	t.Run("--force overrides", func(t *testing.T) {
		assert.Empty(t, scope(10, 0).Check(Guards{MaxDeletePct: 30, Force: true}))
	})
	t.Run("prune deletes count toward --max-changes", func(t *testing.T) {
		errs := scope(5, 0).Check(Guards{MaxDeletePct: 30, MaxChanges: 4})
		require.Len(t, errs, 1)
		assert.Equal(t, "the plan has 5 changes, more than --max-changes 4", errs[0].Error())
	})
}

func TestCompareBaseline(t *testing.T) {
	before := Baseline{Version: 1,
		Groups: map[string]int{"lox24:HR Sales": 100, "lox24:HR Ops": 10, "lox24:Small": 3},
		Files:  map[string]int{"hr.csv": 200, "groups.yaml": 4, "gone.csv": 1},
	}
	now := Baseline{Version: 1,
		Groups: map[string]int{"lox24:HR Sales": 49, "lox24:HR Ops": 5, "lox24:Small": 0, "lox24:New": 1},
		Files:  map[string]int{"hr.csv": 100, "groups.yaml": 40, "gone.csv": 0},
	}
	got := CompareBaseline(before, now, 50)
	assert.Equal(t, []Shrink{
		{What: "group", Name: "lox24:HR Sales", Before: 100, After: 49, MaxPct: 50},
		{What: "group", Name: "lox24:Small", Before: 3, After: 0, MaxPct: 50},
		{What: "file", Name: "gone.csv", Before: 1, After: 0, MaxPct: 50},
	}, got, "51% and to-zero shrinks are caught; exactly 50%, growth and new entries are not")
	assert.Equal(t, "group lox24:HR Sales shrank from 100 to 49 since the baseline (-51.0%, more than --max-shrink-pct 50%)", got[0].Error())
	assert.Equal(t, "file gone.csv shrank from 1 to 0 since the baseline (a truncated export?)", got[2].Error())

	p := &Plan{Shrinks: got}
	assert.Len(t, p.Check(Guards{MaxDeletePct: 30}), 3, "every shrink is a refusal")
	assert.Empty(t, p.Check(Guards{MaxDeletePct: 30, Force: true}))
}

func TestBaselineOf(t *testing.T) {
	want := Desired{
		Groups: []Group{
			{System: LOX24, Name: "A", Phones: &Phones{List: make([]Phone, 3)}},
			{System: LOX24, Key: "7", Name: "B", Phones: &Phones{}},
			{System: HelloID, Name: "C"},
			{System: HelloID, Name: "D", Users: &Users{List: make([]UserRef, 2)}},
		},
		Rows: map[string]int{"g.yaml": 3, "a.csv": 3},
	}
	assert.Equal(t, Baseline{Version: 1, Groups: map[string]int{"lox24:A": 3, "lox24:7": 0, "helloid:D": 2}, Files: map[string]int{"g.yaml": 3, "a.csv": 3}}, BaselineOf(want),
		"a group's wanted members are its phones or its users, whichever its file manages")
}

func TestRevalidatePrunedGroup(t *testing.T) {
	hr := map[System]Prune{LOX24: {NamePrefix: "HR "}, HelloID: {NamePrefix: "HR "}}
	gone := func() RemoteGroup {
		r := loxRemote("6", "HR Gone", map[string]Value{"description": Str("old")})
		r.Phones = []RemotePhone{{ID: "60", Number: "+4915112345678", Cols: MakeColumns("Ann")}}
		return r
	}
	hid := hidRemote(guidA, "HR A", nil)
	hid.Users = []string{userA}
	saved := Diff(Desired{Prune: hr}, map[System]Current{
		LOX24: {System: LOX24, Groups: []RemoteGroup{gone()}}, HelloID: {System: HelloID, Groups: []RemoteGroup{hid}},
	})
	require.Len(t, saved.Changes, 2)
	check := func(lox RemoteGroup, h RemoteGroup) map[int]string {
		return Revalidate(saved, map[System]Current{LOX24: {System: LOX24, Groups: []RemoteGroup{lox}}, HelloID: {System: HelloID, Groups: []RemoteGroup{h}}})
	}
	assert.Empty(t, check(gone(), hid), "unchanged since the plan: not stale")

	edited := gone()
	edited.Phones[0].Cols = MakeColumns("Bob")
	assert.Equal(t, map[int]string{0: "its members changed since the plan (1 then, 1 now)"}, check(edited, hid))

	added := gone()
	added.Phones = append(added.Phones, RemotePhone{ID: "61", Number: "+4915112345679"})
	assert.Equal(t, map[int]string{0: "its members changed since the plan (1 then, 2 now)"}, check(added, hid))

	renamed := gone()
	renamed.Fields["description"] = Str("new")
	assert.Equal(t, map[int]string{0: `description was "old" when planned and is "new" now`}, check(renamed, hid))

	synced := hid
	synced.Origin = "AD"
	assert.Equal(t, map[int]string{1: `its source is "AD" now: synchronised from another system`}, check(gone(), synced))

	joined := hid
	joined.Users = []string{userA, guidB}
	assert.Equal(t, map[int]string{1: "its members changed since the plan (1 then, 2 now)"}, check(gone(), joined))
}

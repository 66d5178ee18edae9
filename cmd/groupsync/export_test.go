package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
)

func sp(s string) *string { return &s }

// exportThenPlan runs export with args, writing the YAML to a new directory
// (or, with --out "", taking it from stdout into w.dir, where the member
// files land), checks that it sent GET requests only, and proves the
// contract: validate accepts the file and plan against the same emulator
// shows no changes. It returns the YAML, the path it was saved at and
// export's stderr.
func exportThenPlan(t *testing.T, w *world, toStdout bool, args ...string) (yaml, path, stderr string) {
	t.Helper()
	w.emu.ResetStats()
	before := w.emu.State()
	args = append([]string{"export", "--lox24-rate", "1000", "--helloid-rate", "1000"}, args...)
	if toStdout {
		path = filepath.Join(w.dir, "exported.yaml")
	} else {
		dir := filepath.Join(w.dir, "export")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		path = filepath.Join(dir, "groups.yaml")
		args = append(args, "--out", path)
	}
	var r result
	if toStdout {
		// Member files go to the working directory: a process of its own.
		r = exe(t, w.dir, w.env(), args...)
	} else {
		r = runCLI(t, w.env(), args...)
	}
	require.Equal(t, exitOK, r.code, r.stderr)
	st := w.emu.Stats()
	assert.Zero(t, st.Systems["lox24"].Writes+st.Systems["helloid"].Writes, "export sends GET only")
	for _, sys := range []string{"lox24", "helloid"} {
		for m := range st.Systems[sys].ByMethod {
			assert.Equal(t, "GET", m, "%s: export sends GET only", sys)
		}
	}
	assert.Equal(t, before, w.emu.State())
	if toStdout {
		require.NoError(t, os.WriteFile(path, []byte(r.stdout), 0o644))
	} else {
		assert.Empty(t, r.stdout, "with --out, nothing on stdout")
	}
	raw, err := os.ReadFile(path)
	require.NoError(t, err)

	v := runCLI(t, w.env(), "validate", path)
	require.Equal(t, exitOK, v.code, "validate: %s\n%s", v.stderr, raw)
	p := runCLI(t, w.env(), "plan", "--detailed-exitcode", path)
	require.Equal(t, exitOK, p.code, "plan: %s%s\n%s", p.stdout, p.stderr, raw)
	assert.Contains(t, p.stdout, "No changes.")
	return string(raw), path, r.stderr
}

func TestExportDemoStatePlansNoChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		toStdout bool
		check    func(t *testing.T, yaml, dir string)
	}{
		{"both systems", nil, false, func(t *testing.T, yaml, dir string) {
			assert.Contains(t, yaml, "lox24:\n  groups:\n    - id: 12344\n      name: My Clients\n      description: Old text\n      name_a: prefix\n      name_b: surname\n      name_c: null\n")
			assert.Contains(t, yaml, "helloid:\n  groups:\n    - groupGuid: ef24276a-cf39-44d7-b8e5-1012c0db5178\n      name: TestApi\n      isEnabled: true\n      isDefault: false\n      isQrEnabled: false\n      managedByUserGuid: null\n")
			assert.Contains(t, yaml, "managedByUserGuid: 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
			assert.NotContains(t, yaml, "phones:")
			assert.True(t, strings.HasPrefix(yaml, "# groupsync desired state"), "a header says what the file is")
			assert.NoFileExists(t, filepath.Join(dir, "members-12344.csv"))
		}},
		{"both systems with phones", []string{"--phones"}, false, func(t *testing.T, yaml, dir string) {
			assert.Contains(t, yaml, "      name_e: null\n      phones: members-12344.csv\n    - id: 12345\n")
			assert.NotContains(t, yaml, "phones_mode:")
			raw, err := os.ReadFile(filepath.Join(dir, "members-12344.csv"))
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(raw), "phone,a,b,c,d,e,callback_data\n+4915112345678,Mr.,Schmidt,,,,crm-1\n"), string(raw))
			raw, err = os.ReadFile(filepath.Join(dir, "members-12347.csv"))
			require.NoError(t, err)
			assert.Equal(t, "phone,a,b,c,d,e,callback_data\n", string(raw), "an empty group's list is empty")
		}},
		{"lox24 only with phones, to stdout", []string{"--only", "lox24", "--phones"}, true, func(t *testing.T, yaml, dir string) {
			assert.NotContains(t, yaml, "helloid")
			assert.FileExists(t, filepath.Join(dir, "members-12361.csv"), "member files go to the current directory")
		}},
		{"lox24 only", []string{"--only", "lox24"}, false, func(t *testing.T, yaml, dir string) {
			assert.Contains(t, yaml, "lox24:")
			assert.NotContains(t, yaml, "helloid:")
		}},
		{"helloid only", []string{"--only", "helloid"}, false, func(t *testing.T, yaml, dir string) {
			assert.Contains(t, yaml, "helloid:")
			assert.NotContains(t, yaml, "lox24:")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			yaml, path, _ := exportThenPlan(t, w, tt.toStdout, tt.args...)
			tt.check(t, yaml, filepath.Dir(path))
		})
	}
}

func TestExportIsDeterministic(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var yamls []string
	for _, sub := range []string{"a", "b"} {
		dir := filepath.Join(w.dir, sub)
		require.NoError(t, os.Mkdir(dir, 0o755))
		r := runCLI(t, w.env(), "export", "--phones", "--lox24-rate", "1000", "--out", filepath.Join(dir, "groups.yaml"))
		require.Equal(t, exitOK, r.code, r.stderr)
		raw, err := os.ReadFile(filepath.Join(dir, "groups.yaml"))
		require.NoError(t, err)
		yamls = append(yamls, string(raw))
	}
	assert.Equal(t, yamls[0], yamls[1])
	members, err := filepath.Glob(filepath.Join(w.dir, "a", "members-*.csv"))
	require.NoError(t, err)
	require.NotEmpty(t, members)
	for _, m := range members {
		a, err := os.ReadFile(m)
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(w.dir, "b", filepath.Base(m)))
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), filepath.Base(m))
	}
}

func TestExportHonoursLockAndMetricsFiles(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	metrics := filepath.Join(w.dir, "export.prom")
	r := runCLI(t, w.env(), "export", "--only", "helloid", "--metrics-file", metrics, "--lock-file", filepath.Join(w.dir, "lock"))
	require.Equal(t, exitOK, r.code, r.stderr)
	raw, err := os.ReadFile(metrics)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `groupsync_last_run_exit_code{command="export"} 0`)
}

func TestExportTrickyValuesRoundTrip(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	st := emulator.State{
		LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{
			{ID: 1, Name: "yes", Description: sp("line one\nline two")},
			{ID: 2, Name: "123", Description: sp("null")},
			{ID: 3, Name: "null", Description: sp(""), NameA: sp("~")},
			{ID: 4, Name: " leading space", Description: sp("trailing space "), NameA: sp("no"), NameB: sp("off")},
			{ID: 5, Name: "a: b", Description: sp("- item\n  indented\n"), NameA: sp("#hash"), NameB: sp("x #y")},
			{ID: 6, Name: "#hash", Description: sp("tab\there, \"double\" and 'single' quotes, \\ backslash"), NameA: sp("@at"), NameB: sp("*star")},
			{ID: 7, Name: "Grüße 日本 🎉", Description: sp("true"), NameA: sp("1e3"), NameB: sp("2024-01-01"), NameC: sp("0x1F"), NameD: sp("[x]"), NameE: sp("{y}")},
			{ID: 8, Name: "true", Description: sp("crlf\r\nline"), NameA: sp("b"), NameB: sp("Surname"), Phones: []emulator.LOX24Phone{
				{Phone: "0049 151 1111 2222", A: sp("Mr, Jr."), B: sp(`"quoted"`), C: sp("lead: ing"), D: sp("multi, line"), E: sp("Grüße"), CallbackData: sp("x,y")},
				{Phone: "+49 (170) 333-4444", A: sp("#"), B: sp("phone")},
			}},
			{ID: 9, Name: "labels clash", NameC: sp("callback_data"), Phones: []emulator.LOX24Phone{
				{Phone: "+4915155556666", C: sp("c"), CallbackData: sp("kept, unmanaged")},
			}},
			{ID: 10, Name: "phone label", NameA: sp("phone"), Phones: []emulator.LOX24Phone{{Phone: "+4915177778888"}}},
		}},
		HelloID: emulator.HelloIDState{Groups: []emulator.HelloIDGroup{
			{GroupGUID: "11111111-1111-4111-8111-111111111111", Name: "yes", IsEnabled: true},
			{GroupGUID: "22222222-2222-4222-8222-222222222222", Name: "123", IsDefault: true},
			{GroupGUID: "33333333-3333-4333-8333-333333333333", Name: "null", IsQrEnabled: true},
			{GroupGUID: "44444444-4444-4444-8444-444444444444", Name: " leading space", ManagedByUserGUID: sp("ABCDEF01-2345-4678-89AB-CDEF01234567")},
			{GroupGUID: "55555555-5555-4555-8555-555555555555", Name: "a: b"},
			{GroupGUID: "66666666-6666-4666-8666-666666666666", Name: "#hash"},
			{GroupGUID: "77777777-7777-4777-8777-777777777777", Name: "Grüße 日本"},
		}},
	}
	require.NoError(t, w.emu.LoadState(st))

	yaml, path, stderr := exportThenPlan(t, w, false, "--phones")
	assert.Contains(t, yaml, `name: "123"`)
	assert.Contains(t, yaml, `name: "null"`)
	assert.Contains(t, yaml, `name: "yes"`, "YAML 1.1 booleans are quoted for other tools")
	assert.Contains(t, yaml, `description: ""`, "an empty description is not null")

	members, err := os.ReadFile(filepath.Join(filepath.Dir(path), "members-8.csv"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(members), "phone,a,Surname,c,d,e,callback_data\n+4915111112222,"),
		"column b is headed by its label, as \"b\" is column a's label:\n%s", members)

	members, err = os.ReadFile(filepath.Join(filepath.Dir(path), "members-9.csv"))
	require.NoError(t, err)
	assert.Equal(t, "phone,a,b,c,d,e\n+4915155556666,,,c,,\n", string(members))
	assert.Contains(t, stderr, `lox24 group 9 "labels clash": member column callback_data is not exported`)

	assert.NoFileExists(t, filepath.Join(filepath.Dir(path), "members-10.csv"))
	assert.Contains(t, stderr, `lox24 group 10 "phone label": members are not exported`)
	assert.Contains(t, yaml, "# Members are not exported (so unmanaged)")
}

func TestExportLeavesOutBadMembersAndKeepsThemAdditive(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	numbers := []string{"+4915111111111", "0049-151-11111111", "98765", "+0123456789", "+4915122222222", "+4915133333333"}
	st := emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{
		{ID: 20, Name: "Messy", Phones: []emulator.LOX24Phone{
			{Phone: numbers[0], A: sp("first")},
			{Phone: numbers[1], A: sp("duplicate")},
			{Phone: numbers[2]},
			{Phone: numbers[3]},
			{Phone: numbers[4], B: sp("a\r\nb")},
			{Phone: numbers[5]},
		}},
		{ID: 21, Name: "Clean", Phones: []emulator.LOX24Phone{{Phone: "+4915144444444"}}},
	}}}
	require.NoError(t, w.emu.LoadState(st))

	yaml, path, stderr := exportThenPlan(t, w, false, "--only", "lox24", "--phones")
	assert.Contains(t, stderr, `warning: lox24 group 20 "Messy": 4 members left out of members-20.csv`)
	assert.Contains(t, stderr, "2 numbers that are not valid E.164, 1 further entry of a number already listed, 1 entry with a value too long or with a CR LF line break")
	assert.Contains(t, stderr, "phones_mode: additive")
	for _, n := range append(numbers, "+4915144444444") {
		assert.NotContains(t, stderr, n, "numbers are masked on stderr")
		if norm, ok := plan.NormalizePhone(n); ok {
			assert.NotContains(t, stderr, norm, "numbers are masked on stderr")
		}
	}
	assert.Contains(t, stderr, plan.MaskPhone("98765"))
	assert.NotContains(t, stderr, `"Clean"`, "a clean group has no warning")

	assert.Contains(t, yaml, "      phones: members-20.csv\n"+
		"      # 4 members are left out of members-20.csv, which cannot hold them as they are:\n"+
		"      #   2 numbers that are not valid E.164\n"+
		"      #   1 further entry of a number already listed\n")
	assert.Contains(t, yaml, "      phones_mode: additive\n    - id: 21\n")
	assert.Equal(t, 1, strings.Count(yaml, "phones_mode:"), "only the messy group is additive")
	members, err := os.ReadFile(filepath.Join(filepath.Dir(path), "members-20.csv"))
	require.NoError(t, err)
	assert.Equal(t, "phone,a,b,c,d,e,callback_data\n+4915111111111,first,,,,,\n+4915133333333,,,,,,\n", string(members))

	shown := runCLI(t, w.env(), "export", "--only", "lox24", "--phones", "--show-phones", "--out", path)
	require.Equal(t, exitOK, shown.code, shown.stderr)
	assert.Contains(t, shown.stderr, "98765", "--show-phones shows them")
}

func TestExportReadsNationalNumbersInTheDefaultCountry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	st := emulator.State{LOX24: emulator.LOX24State{Groups: []emulator.LOX24Group{
		{ID: 30, Name: "Stored nationally", Phones: []emulator.LOX24Phone{
			{Phone: "0151 12345678", A: sp("national")},
			{Phone: "+49 (0)176 3077052", A: sp("with (0)")},
			{Phone: "+4915122222222"},
		}},
	}}}
	require.NoError(t, w.emu.LoadState(st))

	// The export writes E.164 and the group's default_country; the plan
	// of the exported files against the same state has nothing to do.
	yaml, path, stderr := exportThenPlan(t, w, false, "--only", "lox24", "--phones", "--default-country", "DE")
	assert.NotContains(t, stderr, "left out")
	assert.Contains(t, yaml, "      phones: members-30.csv\n      default_country: DE\n")
	assert.NotContains(t, yaml, "phones_mode:")
	members, err := os.ReadFile(filepath.Join(filepath.Dir(path), "members-30.csv"))
	require.NoError(t, err)
	assert.Equal(t, "phone,a,b,c,d,e,callback_data\n+4915112345678,national,,,,,\n+491763077052,with (0),,,,,\n+4915122222222,,,,,,\n", string(members))
}

func TestExportNeedsBothSystemsConfiguredWithoutOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := []string{"LOX24_TOKEN=demo:demo", "LOX24_URL=" + w.url, "HELLOID_API_KEY=demo", "HELLOID_API_SECRET=demo"}
	r := runCLI(t, env, "export")
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, "HELLOID_URL")
	assert.Contains(t, r.stderr, "--only lox24")
	assert.Empty(t, r.stdout)
	assert.Zero(t, w.emu.Stats().Total, "no request before the configuration is complete")

	r = runCLI(t, []string{"HELLOID_URL=" + w.url}, "export")
	assert.Equal(t, exitFatal, r.code)
	for _, want := range []string{"LOX24_TOKEN", "HELLOID_API_KEY", "HELLOID_API_SECRET", "--only"} {
		assert.Contains(t, r.stderr, want)
	}
	assert.Zero(t, w.emu.Stats().Total)

	r = runCLI(t, env, "export", "--only", "lox24")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Zero(t, w.emu.Stats().Systems["helloid"].Total)
}

func TestExportAuthFailureIsFatalAndWritesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := append(w.env(), "HELLOID_API_SECRET=sentinel-wrong-secret")
	out := filepath.Join(w.dir, "out.yaml")
	r := runCLI(t, env, "export", "--phones", "--out", out)
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, "helloid")
	assert.NotContains(t, r.stdout+r.stderr, "sentinel-wrong-secret")
	assert.NoFileExists(t, out)
	assert.NoFileExists(t, filepath.Join(w.dir, "members-12344.csv"))
	assert.Equal(t, 1, w.emu.Stats().Systems["helloid"].Total, "401 stops the system at once")
}

func TestExportUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, exitOK, "groupsync export"},
		{[]string{"export", "--help"}, exitOK, "--out FILE"},
		{[]string{"export", "--help"}, exitOK, "--phones"},
		{[]string{"export", "groups.yaml"}, exitUsage, "unexpected argument"},
		{[]string{"export", "--only", "ldap"}, exitUsage, "unknown system"},
		{[]string{"export", "--out", "no/such/dir/x.yaml"}, exitFatal, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Contains(t, r.stdout+r.stderr, tt.want)
		})
	}
}

// A state exported with --emulator-state loads into the emulator and is the
// same state: a rehearsal runs against a faithful copy.
func TestExportEmulatorStateRoundTrips(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	out := filepath.Join(w.dir, "state.json")
	r := runCLI(t, w.env(), "export", "--emulator-state", "--out", out)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes+w.emu.Stats().Systems["helloid"].Writes)
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	st, err := emulator.ReadState(f)
	require.NoError(t, err)
	copyEmu := emulator.New(emulator.Options{})
	require.NoError(t, copyEmu.LoadState(st))
	assert.Equal(t, w.emu.State(), copyEmu.State(), "users, memberships and group sources included")
}

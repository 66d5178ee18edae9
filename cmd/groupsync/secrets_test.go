package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/emulator"
	"groupsync/samples"
)

// Sentinel secrets: distinctive strings that no output may hold in any
// form. The LOX24 token has the clientid:apikey shape.
const (
	sentinelToken  = "70001:SENTINEL-lox24-token-7f3a"
	sentinelKey    = "SENTINEL-hid-key-4c1d"
	sentinelSecret = "SENTINEL-hid-secret-9b2e"
	// sentinelURLPass is a password written into a base URL by mistake.
	sentinelURLPass = "SENTINEL-url-pass-2d8e"
)

// leakForms returns every form in which a secret could leak: as written
// (matched in any letter case), percent-encoded, hex, and base64 in both
// alphabets at each of the three alignments it can have inside a longer
// encoded text (HelloID's Basic auth is base64 of key:secret).
func leakForms() []string {
	secrets := []string{sentinelToken, strings.SplitN(sentinelToken, ":", 2)[1], sentinelKey, sentinelSecret,
		sentinelKey + ":" + sentinelSecret, sentinelURLPass}
	var forms []string
	for _, s := range secrets {
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s), hex.EncodeToString([]byte(s)))
		for pad := range 3 {
			b := append(bytes.Repeat([]byte{0}, pad), s...)
			// The characters wholly determined by s, whatever stands
			// before and after it.
			from, to := (8*pad+5)/6, 8*len(b)/6
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				forms = append(forms, enc.EncodeToString(b)[from:to])
			}
		}
	}
	return forms
}

// assertNoSecret fails t if text holds any leak form of a sentinel, or the
// word SENTINEL at all.
func assertNoSecret(t *testing.T, where, text string) {
	t.Helper()
	lower := strings.ToLower(text)
	if strings.Contains(lower, "sentinel") {
		i := strings.Index(lower, "sentinel")
		t.Errorf("%s holds a secret: ...%s...", where, text[max(0, i-60):min(len(text), i+40)])
		return
	}
	for _, f := range leakForms() {
		if strings.Contains(text, f) {
			t.Errorf("%s holds an encoded secret %q", where, f)
		}
	}
}

// assertNothingLeaks scans a run's stdout and stderr and every file under
// dir (plans, reports, metrics, exports, member files, logs).
func assertNothingLeaks(t *testing.T, r result, dir string) {
	t.Helper()
	assertNoSecret(t, "stdout", r.stdout)
	assertNoSecret(t, "stderr", r.stderr)
	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		assertNoSecret(t, path, string(raw))
		return nil
	}))
	assert.Positive(t, files)
}

// secretWorld is newWorld with an emulator that accepts the sentinel
// credentials (or, with wrongCreds, only the demo ones), with the extra
// emulator options given.
func secretWorld(t *testing.T, opts emulator.Options, wrongCreds bool) *world {
	t.Helper()
	raw, err := samples.FS.ReadFile(samples.DemoState)
	require.NoError(t, err)
	st, err := emulator.ReadState(bytes.NewReader(raw))
	require.NoError(t, err)
	opts.Seed = 7
	if !wrongCreds {
		opts.LOX24Token, opts.HelloIDKey, opts.HelloIDSecret = sentinelToken, sentinelKey, sentinelSecret
	}
	emu := emulator.New(opts)
	require.NoError(t, emu.LoadState(st))
	u, stop, err := emu.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stop()) })
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, samples.FS))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "export"), 0o755))
	w := &world{emu: emu, url: u, dir: dir}
	for _, f := range samples.DemoFiles {
		w.files = append(w.files, filepath.Join(dir, f))
	}
	return w
}

// secretEnv is the environment of a run: the sentinel credentials given
// directly or, with viaFiles, through _FILE variants (written outside dir,
// so that the scan of dir finds only what groupsync wrote).
func secretEnv(t *testing.T, lox24URL, helloidURL string, viaFiles bool) []string {
	t.Helper()
	env := []string{"LOX24_URL=" + lox24URL, "HELLOID_URL=" + helloidURL, "PATH=" + os.Getenv("PATH")}
	creds := [][2]string{{"LOX24_TOKEN", sentinelToken}, {"HELLOID_API_KEY", sentinelKey}, {"HELLOID_API_SECRET", sentinelSecret}}
	if !viaFiles {
		for _, c := range creds {
			env = append(env, c[0]+"="+c[1])
		}
		return env
	}
	dir := t.TempDir()
	for _, c := range creds {
		p := filepath.Join(dir, strings.ToLower(c[0]))
		require.NoError(t, os.WriteFile(p, []byte(c[1]+"\n"), 0o600))
		env = append(env, c[0]+"_FILE="+p)
	}
	return env
}

// TestSecretsNeverLeak runs every command with sentinel credentials, given
// directly and through _FILE variants, with text and JSON logs, metrics and
// reports, through success and every kind of failure, and scans everything
// each run printed or wrote for the secrets in any form.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	fast := []string{"--lox24-rate", "1000", "--helloid-rate", "1000"}
	type step struct {
		args []string
		code int // the exit code the step must have
	}
	type scenario struct {
		name  string
		opts  emulator.Options
		wrong bool                         // the emulator rejects the sentinel credentials (401)
		once  bool                         // the secrets are not read: one variant is enough
		urls  func(w *world) [2]string     // LOX24 and HelloID URLs; default the emulator's
		steps func(w *world) []step        // run in order, in one world
		check func(t *testing.T, w *world) // after the steps
	}
	files := func(w *world) []string { return w.files }
	at := func(w *world, name string) string { return filepath.Join(w.dir, name) }
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	scenarios := []scenario{
		{name: "validate", steps: func(w *world) []step {
			return []step{{cat([]string{"validate"}, files(w)), exitOK}}
		}},
		{name: "plan in every format, saved, then applied", steps: func(w *world) []step {
			return []step{
				{cat([]string{"plan", "--format", "text", "--out", at(w, "plan.json"), "--metrics-file", at(w, "plan.prom")}, fast, files(w)), exitOK},
				{cat([]string{"plan", "--format", "json", "--detailed-exitcode"}, fast, files(w)), exitPending},
				{cat([]string{"plan", "--format", "markdown", "--show-phones"}, fast, files(w)), exitOK},
				{cat([]string{"apply", "--yes", "--plan", at(w, "plan.json"), "--report", at(w, "saved.json"), "--metrics-file", at(w, "saved.prom")}, fast), exitOK},
			}
		}},
		{name: "apply, then export", steps: func(w *world) []step {
			return []step{
				{cat([]string{"apply", "--yes", "--report", at(w, "report.json"), "--metrics-file", at(w, "apply.prom"), "--lock-file", at(w, "run.lock")}, fast, files(w)), exitOK},
				{cat([]string{"export"}, fast), exitOK},
				{cat([]string{"export", "--phones", "--out", at(w, "export/groups.yaml"), "--metrics-file", at(w, "export.prom")}, fast), exitOK},
				{cat([]string{"export", "--emulator-state", "--out", at(w, "state.json")}, fast), exitOK},
			}
		}, check: func(t *testing.T, w *world) {
			matches, _ := filepath.Glob(filepath.Join(w.dir, "export", "members-*.csv"))
			assert.NotEmpty(t, matches, "member files were written and scanned")
		}},
		{name: "the API answers 401", wrong: true, steps: func(w *world) []step {
			return []step{
				{cat([]string{"plan"}, fast, files(w)), exitFatal},
				{cat([]string{"apply", "--yes", "--report", at(w, "report.json"), "--metrics-file", at(w, "m.prom")}, fast, files(w)), exitFatal},
				{cat([]string{"export", "--phones", "--out", at(w, "x.yaml")}, fast), exitFatal},
			}
		}, check: func(t *testing.T, w *world) {
			assert.Positive(t, w.emu.Stats().Systems["lox24"].ByStatus["401"])
			assert.Positive(t, w.emu.Stats().Systems["helloid"].ByStatus["401"])
		}},
		{name: "the API redirects", opts: emulator.Options{Redirect: "http://127.0.0.1:1/elsewhere"}, steps: func(w *world) []step {
			return []step{
				{cat([]string{"plan"}, fast, files(w)), exitFatal},
				{cat([]string{"apply", "--yes", "--report", at(w, "report.json")}, fast, files(w)), exitFatal},
			}
		}},
		{name: "the API is unreachable", urls: func(*world) [2]string {
			return [2]string{"http://127.0.0.1:1", "http://127.0.0.1:1"}
		}, steps: func(w *world) []step {
			return []step{
				{cat([]string{"apply", "--yes", "--max-attempts", "1", "--report", at(w, "report.json"), "--metrics-file", at(w, "m.prom")}, fast, files(w)), exitFatal},
				{cat([]string{"export", "--max-attempts", "1"}, fast), exitFatal},
			}
		}},
		{name: "a base URL holds a password", urls: func(*world) [2]string {
			return [2]string{"https://u:" + sentinelURLPass + "@api.lox24.eu", "http://" + sentinelKey + ":" + sentinelURLPass + "@127.0.0.1:1"}
		}, steps: func(w *world) []step {
			return []step{
				{cat([]string{"plan"}, files(w)), exitFatal},
				{cat([]string{"apply", "--yes", "--report", at(w, "report.json")}, files(w)), exitFatal},
				{cat([]string{"export"}), exitFatal},
				{cat([]string{"plan", "--lox24-url", "https://u:" + sentinelURLPass + "%zz@host", "--helloid-url", sentinelKey + ":" + sentinelURLPass + "@"}, files(w)), exitFatal},
			}
		}},
		{name: "help and demo", once: true, steps: func(w *world) []step {
			return []step{{[]string{"emulate", "--help"}, exitOK}, {[]string{"demo"}, exitOK}, {[]string{"--help"}, exitOK}}
		}},
	}
	for _, sc := range scenarios {
		for _, viaFiles := range []bool{false, true} {
			for _, logFormat := range []string{"text", "json"} {
				if sc.once && (viaFiles || logFormat != "text") {
					continue
				}
				name := sc.name + " env"
				if viaFiles {
					name = sc.name + " _FILE"
				}
				t.Run(name+" "+logFormat+" logs", func(t *testing.T) {
					t.Parallel()
					w := secretWorld(t, sc.opts, sc.wrong)
					urls := [2]string{w.url, w.url}
					if sc.urls != nil {
						urls = sc.urls(w)
					}
					env := secretEnv(t, urls[0], urls[1], viaFiles)
					for _, s := range sc.steps(w) {
						args := s.args
						if args[0] != "validate" && args[0] != "demo" && args[0] != "emulate" && args[0] != "--help" {
							args = append([]string{args[0], "--log-format", logFormat}, args[1:]...)
						}
						r := runCLI(t, env, args...)
						require.Equal(t, s.code, r.code, "%v\n%s%s", args, r.stdout, r.stderr)
						assertNothingLeaks(t, r, w.dir)
					}
					if sc.check != nil {
						sc.check(t, w)
					}
				})
			}
		}
	}
}

// TestSecretFileProblemsSayWhatIsWrong: a _FILE that is missing, empty, a
// directory, or set together with the variable says so, names the
// variable, prints no content, and sends nothing.
func TestSecretFileProblemsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	secrets := t.TempDir()
	empty := filepath.Join(secrets, "empty")
	require.NoError(t, os.WriteFile(empty, []byte(" \n\t\n"), 0o600))
	good := filepath.Join(secrets, "token")
	require.NoError(t, os.WriteFile(good, []byte(sentinelToken+"\n"), 0o600))
	hid := []string{"HELLOID_API_KEY=" + sentinelKey, "HELLOID_API_SECRET=" + sentinelSecret}
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"missing", append([]string{"LOX24_TOKEN_FILE=" + filepath.Join(secrets, "nowhere")}, hid...), []string{"LOX24_TOKEN_FILE", "no such file"}},
		{"empty", append([]string{"LOX24_TOKEN_FILE=" + empty}, hid...), []string{"LOX24_TOKEN_FILE", "is empty"}},
		{"a directory", append([]string{"LOX24_TOKEN_FILE=" + secrets}, hid...), []string{"LOX24_TOKEN_FILE", "is a directory"}},
		{"both set", append([]string{"LOX24_TOKEN_FILE=" + good, "LOX24_TOKEN=" + sentinelToken}, hid...), []string{"both LOX24_TOKEN and LOX24_TOKEN_FILE are set"}},
		{"helloid missing", []string{"LOX24_TOKEN_FILE=" + good, "HELLOID_API_KEY_FILE=" + filepath.Join(secrets, "nokey"), "HELLOID_API_SECRET_FILE=" + empty},
			[]string{"HELLOID_API_KEY_FILE", "no such file", "HELLOID_API_SECRET_FILE", "is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := secretWorld(t, emulator.Options{}, false)
			env := append([]string{"LOX24_URL=" + w.url, "HELLOID_URL=" + w.url}, tt.env...)
			for _, args := range [][]string{
				append([]string{"plan"}, w.files...),
				append([]string{"apply", "--yes", "--report", filepath.Join(w.dir, "report.json")}, w.files...),
				{"export"},
			} {
				r := runCLI(t, env, args...)
				assert.Equal(t, exitFatal, r.code, r.stderr)
				for _, s := range tt.want {
					assert.Contains(t, r.stderr, s)
				}
				assertNothingLeaks(t, r, w.dir)
			}
			assert.Zero(t, w.emu.Stats().Total, "nothing is sent")
		})
	}
}

// TestEmulateNeverPrintsTheCredentialsItAccepts: emulate takes the
// credentials it accepts from the environment and says so without printing
// them (only the demo credentials are printed).
func TestEmulateNeverPrintsTheCredentialsItAccepts(t *testing.T) {
	t.Parallel()
	for _, viaFiles := range []bool{false, true} {
		env := map[string]string{}
		for _, kv := range secretEnv(t, "", "", viaFiles) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // emulate prints its banner and stops at once
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"emulate", "--listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, nil, &stdout, &stderr)
		assert.Equal(t, exitOK, code, stderr.String())
		assert.Contains(t, stdout.String(), "LOX24 accepts the token in LOX24_TOKEN")
		assertNoSecret(t, "stdout", stdout.String())
		assertNoSecret(t, "stderr", stderr.String())
	}
}

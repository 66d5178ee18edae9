package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/sink"
)

// runHooked runs groupsync in-process like runCLI, with hook called as
// each stage begins; hook may cancel the run as a signal would.
func runHooked(t *testing.T, env []string, hook func(stage string, signal func()), args ...string) result {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var stdout, stderr strings.Builder
	c := &cli{
		env:      func(k string) string { return vars[k] },
		stdin:    strings.NewReader(""),
		stdout:   &stdout,
		stderr:   &stderr,
		terminal: func(any) bool { return false },
		hook: func(stage string) {
			hook(stage, func() { cancel(interrupted{syscall.SIGTERM}) })
		},
	}
	code := c.run(ctx, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// The first signal is honoured at every stage; before the first write the
// run exits 143 having written nothing remote, and apply's report says so.
func TestSignalAtEveryStageBeforeTheFirstWrite(t *testing.T) {
	t.Parallel()
	for _, at := range []string{"files", "read", "read lox24", "read helloid", "diff", "render", "apply"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			report := filepath.Join(w.dir, "report.json")
			r := runHooked(t, w.env(), func(stage string, signal func()) {
				if stage == at {
					signal()
				}
			}, append([]string{"apply", "--yes", "--report", report}, w.files...)...)
			assert.Equal(t, exitSIGTERM, r.code, r.stderr)
			assert.Zero(t, w.emu.Stats().Systems["lox24"].Writes+w.emu.Stats().Systems["helloid"].Writes, "nothing remote is written")
			raw, err := os.ReadFile(report)
			require.NoError(t, err, "the report is written: %s", r.stderr)
			assert.Regexp(t, `"interrupted":\s*true`, string(raw), "the report says the run was interrupted")
			assert.NotContains(t, string(raw), `"status": "succeeded"`)
		})
	}
	t.Run("plan while it prints", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		r := runHooked(t, w.env(), func(stage string, signal func()) {
			if stage == "render" {
				signal()
			}
		}, append([]string{"plan", "--detail"}, w.files...)...)
		assert.Equal(t, exitSIGTERM, r.code, r.stderr)
		assert.Empty(t, r.stdout, "nothing more is printed once the signal came")
	})
	t.Run("plan and validate", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		stop := func(stage string, signal func()) { signal() }
		r := runHooked(t, w.env(), stop, append([]string{"plan"}, w.files...)...)
		assert.Equal(t, exitSIGTERM, r.code, r.stderr)
		assert.Zero(t, w.emu.Stats().Total)
		r = runHooked(t, w.env(), stop, append([]string{"validate"}, w.files...)...)
		assert.Equal(t, exitSIGTERM, r.code, r.stderr)
	})
}

// A panic in any stage, in the main goroutine or in a reader's or an
// applier's, is caught: exit 1, the report written with the error, no
// goroutine dump.
func TestPanicInAnyStageIsCaughtAndReported(t *testing.T) {
	t.Parallel()
	for _, at := range []string{"files", "read", "read lox24", "diff", "apply", "item", "verify lox24"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			report := filepath.Join(w.dir, "report.json")
			var once sync.Once
			r := runHooked(t, w.env(), func(stage string, _ func()) {
				if stage == at {
					once.Do(func() { panic("injected fault") })
				}
			}, append([]string{"apply", "--yes", "--report", report, "--lox24-workers", "1", "--helloid-workers", "1"}, w.files...)...)
			assert.Equal(t, exitFatal, r.code, r.stderr)
			assert.Contains(t, r.stderr, "internal error: injected fault")
			assert.NotContains(t, r.stderr, "goroutine ")
			raw, err := os.ReadFile(report)
			require.NoError(t, err, "the report is written: %s", r.stderr)
			assert.Contains(t, string(raw), "internal error: injected fault")
		})
	}
	t.Run("plan", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		r := runHooked(t, w.env(), func(stage string, _ func()) {
			if stage == "diff" {
				panic("injected fault")
			}
		}, append([]string{"plan"}, w.files...)...)
		assert.Equal(t, exitFatal, r.code, r.stderr)
		assert.Contains(t, r.stderr, "internal error: injected fault")
	})
}

// An unwritable --report or --metrics-file is found before the first
// request: exit 1, nothing sent.
func TestOutputPathsAreCheckedBeforeTheFirstRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	missing := filepath.Join(w.dir, "no such dir")
	for _, args := range [][]string{
		{"apply", "--yes", "--report", filepath.Join(missing, "report.json")},
		{"apply", "--yes", "--report", w.dir},
		{"apply", "--yes", "--report", filepath.Join(w.dir, "r.json"), "--metrics-file", filepath.Join(missing, "m.prom")},
		{"plan", "--metrics-file", filepath.Join(missing, "m.prom")},
	} {
		r := runCLI(t, w.env(), append(args, w.files...)...)
		assert.Equal(t, exitFatal, r.code, "%v: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "nothing was sent", args)
		assert.Zero(t, w.emu.Stats().Total, "%v sent a request", args)
	}
	export := runCLI(t, w.env(), "export", "--metrics-file", filepath.Join(missing, "m.prom"))
	assert.Equal(t, exitFatal, export.code, export.stderr)
	assert.Zero(t, w.emu.Stats().Total)
}

// A desired-state file cannot make groupsync read a credential, the
// process environment, a device or a FIFO.
func TestReferencedFilesCannotReachSecrets(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	secrets := filepath.Join(w.dir, "secrets")
	require.NoError(t, os.Mkdir(secrets, 0o700))
	tokenFile := filepath.Join(secrets, "lox24.token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(sentinelToken+"\n"), 0o600))
	conf := filepath.Join(w.dir, "conf")
	require.NoError(t, os.Mkdir(conf, 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(conf, "fifo.csv"), 0o644))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(conf, "zero.csv")))
	env := []string{"LOX24_TOKEN_FILE=" + tokenFile, "HELLOID_API_KEY=" + sentinelKey, "HELLOID_API_SECRET=" + sentinelSecret,
		"LOX24_URL=" + w.url, "HELLOID_URL=" + w.url}
	for _, phones := range []string{"/proc/self/environ", "../secrets/lox24.token", tokenFile, "fifo.csv", "zero.csv"} {
		file := filepath.Join(conf, "g.yaml")
		require.NoError(t, os.WriteFile(file, []byte("lox24:\n  groups:\n    - name: Drivers\n      phones: "+phones+"\n"), 0o644))
		for _, args := range [][]string{
			{"validate", file},
			{"plan", file},
			{"apply", "--yes", "--report", filepath.Join(w.dir, "report.json"), file},
		} {
			r := runCLI(t, env, args...)
			assert.Equal(t, exitFatal, r.code, "%s %v: %s", phones, args, r.stderr)
			assert.Contains(t, r.stderr, "g.yaml:4: phones: cannot open", phones)
			assertNoSecret(t, "stderr", r.stderr)
			assertNoSecret(t, "stdout", r.stdout)
		}
	}
	assert.Zero(t, w.emu.Stats().Total, "nothing is sent")
	require.NoError(t, os.Remove(filepath.Join(conf, "fifo.csv")))
	require.NoError(t, os.Remove(filepath.Join(conf, "zero.csv")))
	require.NoError(t, os.RemoveAll(secrets))
	assertNothingLeaks(t, result{}, w.dir)
}

// Credentials holding / + = : that an API echoes percent-encoded, in a
// redirect's Location or in a plain-text error body, never come out.
func TestEchoedCredentialsAreRedactedInEveryEncoding(t *testing.T) {
	t.Parallel()
	const (
		token  = "70001:SENTINEL/lox+24=tok:en"
		key    = "SENTINEL-k/e+y="
		secret = "SENTINEL:s/e+c=ret"
	)
	echo := func(r *http.Request) string {
		user, pass, _ := r.BasicAuth()
		t := r.Header.Get("X-LOX24-AUTH-TOKEN")
		return "token=" + url.QueryEscape(t) + "&path=/" + url.PathEscape(t) + "&user=" + url.QueryEscape(user) +
			"&pass=" + url.QueryEscape(pass) + "&auth=" + url.QueryEscape(r.Header.Get("Authorization"))
	}
	for _, mode := range []string{"location", "body"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if mode == "location" {
					rw.Header().Set("Location", "http://127.0.0.1:1/elsewhere?"+echo(r))
					rw.WriteHeader(http.StatusTemporaryRedirect)
					return
				}
				rw.Header().Set("Content-Type", "text/plain")
				rw.WriteHeader(http.StatusBadRequest)
				_, _ = rw.Write([]byte("bad credentials: " + echo(r) + "\n"))
			}))
			t.Cleanup(srv.Close)
			env := []string{"LOX24_TOKEN=" + token, "HELLOID_API_KEY=" + key, "HELLOID_API_SECRET=" + secret,
				"LOX24_URL=" + srv.URL, "HELLOID_URL=" + srv.URL}
			report := filepath.Join(w.dir, "report.json")
			for _, args := range [][]string{
				append([]string{"plan", "--max-attempts", "1"}, w.files...),
				append([]string{"plan", "--max-attempts", "1", "--log-format", "json", "--format", "json"}, w.files...),
				append([]string{"apply", "--yes", "--max-attempts", "1", "--report", report, "--metrics-file", filepath.Join(w.dir, "m.prom")}, w.files...),
			} {
				r := runCLI(t, env, args...)
				assert.Equal(t, exitFatal, r.code, "%v: %s", args, r.stderr)
				for where, text := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
					assert.NotContains(t, strings.ToLower(text), "sentinel", where)
					for _, s := range []string{token, "SENTINEL/lox+24=tok:en", key, secret, key + ":" + secret} {
						for _, f := range sink.Forms(s) {
							assert.NotContains(t, text, f, where)
						}
					}
				}
			}
			raw, err := os.ReadFile(report)
			require.NoError(t, err)
			assert.NotContains(t, strings.ToLower(string(raw)), "sentinel")
		})
	}
}

// The other files a command is given (a saved plan, a report, a baseline)
// are read as the desired-state files are: a FIFO or a device is refused
// before anything is read, and a file over --max-file-size stops there.
// Nothing hangs and nothing is sent.
func TestGivenPlanReportAndBaselineFilesAreBounded(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fifo := filepath.Join(w.dir, "fifo.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	big := filepath.Join(w.dir, "big.json")
	require.NoError(t, os.WriteFile(big, []byte(`{"version": 1, "padding": "`+strings.Repeat("x", 5000)+`"}`), 0o644))
	report := filepath.Join(w.dir, "report.json")
	for _, bad := range []struct{ path, want string }{{fifo, "is a FIFO"}, {"/dev/zero", "is a device"}} {
		for _, args := range [][]string{
			{"apply", "--yes", "--report", report, "--plan", bad.path},
			{"apply", "--yes", "--report", report, "--retry-failed", bad.path},
			{"plan", "--baseline", bad.path, w.files[0]},
			{"show", bad.path},
			{"undo", "--out", filepath.Join(w.dir, "undo.json"), bad.path},
		} {
			r := runCLI(t, w.env(), args...)
			assert.NotEqual(t, exitOK, r.code, "%v", args)
			assert.Contains(t, r.stderr, bad.path+": "+bad.want, "%v", args)
		}
	}
	for _, args := range [][]string{
		{"apply", "--yes", "--max-file-size", "1000", "--report", report, "--plan", big},
		{"apply", "--yes", "--max-file-size", "1000", "--report", report, "--retry-failed", big},
	} {
		r := runCLI(t, w.env(), args...)
		assert.NotEqual(t, exitOK, r.code, "%v", args)
		assert.Contains(t, r.stderr, "larger than --max-file-size (1000 bytes)", "%v", args)
	}
	assert.Zero(t, w.emu.Stats().Total, "nothing is sent")
}

// A value of the files that holds one of the run's credentials, in any
// form the redaction hides, is an input error naming the file, line and
// field, and not the credential: every output hides it, so a saved plan
// held, and its apply wrote, the placeholder instead (the direct apply
// wrote the credential where whoever reads the group sees it).
func TestCredentialsInValuesAreInputErrors(t *testing.T) {
	t.Parallel()
	const token, secret = "1234567:S3cr3tLoxKey_abcdef", "hidSECRET/+=&q 42"
	w := newWorld(t)
	dir := t.TempDir()
	yaml := "lox24:\n  groups:\n    - name: Leaky\n      description: pre S3cr3tLoxKey_abcdef post\n      phones: leaky.csv\n" +
		"helloid:\n  groups:\n    - name: H " + url.QueryEscape(secret) + "\n      users: [alice@acme.example]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "g.yaml"), []byte(yaml), 0o600))
	csv := "phone,a,callback_data\n+4915100000001,fine,ok\n+4915100000002,x," + base64.StdEncoding.EncodeToString([]byte("demo:"+secret)) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "leaky.csv"), []byte(csv), 0o600))
	env := append(w.env(), "LOX24_TOKEN="+token, "HELLOID_API_SECRET="+secret)
	for _, cmd := range []string{"validate", "plan", "apply"} {
		args := []string{cmd, filepath.Join(dir, "g.yaml")}
		if cmd == "apply" {
			args = append(args, "--yes", "--report", filepath.Join(dir, "r.json"))
		}
		r := runCLI(t, env, args...)
		assert.Equal(t, exitFatal, r.code, cmd)
		out := r.stdout + r.stderr
		assert.Contains(t, out, "g.yaml:3: description: holds one of the credentials this run was given", cmd)
		assert.Contains(t, out, "g.yaml:8: name: holds one of the credentials", cmd)
		assert.Contains(t, out, "leaky.csv:3: callback_data: holds one of the credentials", cmd)
		assert.NotContains(t, out, "leaky.csv:2", cmd)
		for _, c := range []string{"S3cr3tLoxKey_abcdef", secret, url.QueryEscape(secret)} {
			assert.NotContains(t, out, c, cmd)
		}
	}
	assert.Zero(t, w.emu.Stats().Total, "no request")
}

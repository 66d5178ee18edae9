package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// longSecret is a credential longer than an input error quotes of a cell.
var longSecret = "S3cr3tValue" + strings.Repeat("q7Zx9Kp2", 12) + "Wv4Ty" // 112 characters

// assertNoFragment fails t if text holds any 12 characters of secret in a
// row.
func assertNoFragment(t *testing.T, text, secret string) {
	t.Helper()
	for i := 0; i+12 <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+12]) {
			t.Fatalf("output holds %q, a piece of the secret:\n%s", secret[i:i+12], text)
		}
	}
}

// A file that a *_FILE variable names is refused as input, given or
// referenced: the error names the file and says why, and never quotes it.
func TestCredentialFileIsNeverReadAsInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "hsecret.txt")
	require.NoError(t, os.WriteFile(secretFile, []byte(longSecret+"\n"), 0o600))
	require.NoError(t, os.Symlink("hsecret.txt", filepath.Join(dir, "alias.csv")))
	yml := filepath.Join(dir, "g.yaml")
	require.NoError(t, os.WriteFile(yml, []byte("lox24:\n  groups:\n    - name: Drivers\n      phones: hsecret.txt\n    - name: Riders\n      phones: alias.csv\n"+
		"helloid:\n  groups:\n    - name: Staff\n      users: alias.csv\n"), 0o644))
	env := []string{"LOX24_TOKEN=70001:tok-abcdefgh", "HELLOID_API_KEY=key-abcdefgh", "HELLOID_API_SECRET_FILE=" + secretFile,
		"LOX24_URL=http://127.0.0.1:1", "HELLOID_URL=http://127.0.0.1:1"}
	for _, args := range [][]string{{"validate", yml}, {"plan", yml}, {"validate", filepath.Join(dir, "alias.csv")}} {
		r := runCLIIn(t, dir, env, args...)
		assert.Equal(t, exitFatal, r.code, "%v: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "HELLOID_API_SECRET_FILE", args)
		assertNoFragment(t, r.stderr+r.stdout, longSecret)
	}
	r := runCLIIn(t, dir, env, "validate", yml)
	assert.Contains(t, r.stderr, "g.yaml:4: phones: cannot open hsecret.txt")
	assert.Contains(t, r.stderr, "g.yaml:6: phones: cannot open alias.csv")
	assert.Contains(t, r.stderr, "g.yaml:10: users: cannot open alias.csv")
}

// A credential copied into an input file is not quoted in part where an
// input error cuts the cell it is in.
func TestInputErrorsDoNotQuoteAPieceOfACredential(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(t.TempDir(), "hsecret.txt")
	require.NoError(t, os.WriteFile(secretFile, []byte(longSecret+"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "members.csv"), []byte(longSecret+"\n+4915112345678\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.csv"), []byte("x"+longSecret+"\n+4915112345678\n"), 0o644))
	yml := filepath.Join(dir, "g.yaml")
	require.NoError(t, os.WriteFile(yml, []byte("lox24:\n  groups:\n    - name: Drivers\n      phones: members.csv\n    - name: Riders\n      phones: x.csv\n"), 0o644))
	for _, env := range [][]string{
		{"HELLOID_API_SECRET_FILE=" + secretFile},
		{"HELLOID_API_SECRET=" + longSecret},
	} {
		env = append(env, "LOX24_TOKEN=70001:tok-abcdefgh", "HELLOID_API_KEY=key-abcdefgh", "LOX24_URL=http://127.0.0.1:1", "HELLOID_URL=http://127.0.0.1:1")
		for _, cmd := range []string{"validate", "plan"} {
			r := runCLIIn(t, dir, env, cmd, yml)
			assert.Equal(t, exitFatal, r.code, r.stderr)
			assert.Contains(t, r.stderr, "unknown column", "the error is still reported")
			assertNoFragment(t, r.stderr+r.stdout, longSecret)
		}
	}
}

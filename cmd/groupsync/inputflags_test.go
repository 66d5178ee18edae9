package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBinaryInputFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := writeFiles(t, dir, map[string]string{
		"g.yaml":   "lox24:\n  groups:\n    - name: A\n      phones: m.csv\n",
		"m.csv":    "phone|a\n0151 12345678|x\n",
		"semi.csv": "phone;a\n0151 12345678;x\n",
	}, "g.yaml")
	env := []string{"PATH=" + os.Getenv("PATH")}

	r := exe(t, dir, env, append([]string{"validate"}, files...)...)
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, `unknown column "phone|a"`)

	r = exe(t, dir, env, "validate", "--default-country", "de", "--csv-delimiter", "|", files[0])
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `--csv-delimiter: "|" is not a delimiter`)

	r = exe(t, dir, env, "validate", "--default-country", "XY", files[0])
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--default-country XY is not a country code")

	files = writeFiles(t, dir, map[string]string{"g.yaml": "lox24:\n  groups:\n    - name: A\n      phones: semi.csv\n"}, "g.yaml")
	r = exe(t, dir, env, "validate", files[0])
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, `"0151 12345678" is a national number`)

	r = exe(t, dir, env, "validate", "--default-country", "de", "--csv-delimiter", ";", files[0])
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "1 files valid: 1 lox24 groups")
}

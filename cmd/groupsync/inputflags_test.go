package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInputFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := writeFiles(t, dir, map[string]string{
		"g.yaml":   "lox24:\n  groups:\n    - name: A\n      phones: m.csv\n",
		"m.csv":    "phone|a\n0151 12345678|x\n",
		"semi.csv": "phone;a\n0151 12345678;x\n",
	}, "g.yaml")

	r := runCLI(t, nil, append([]string{"validate"}, files...)...)
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, `unknown column "phone|a"`)

	r = runCLI(t, nil, "validate", "--default-country", "de", "--csv-delimiter", "|", files[0])
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `--csv-delimiter: "|" is not a delimiter`)

	r = runCLI(t, nil, "validate", "--default-country", "XY", files[0])
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--default-country XY is not a country code")

	files = writeFiles(t, dir, map[string]string{"g.yaml": "lox24:\n  groups:\n    - name: A\n      phones: semi.csv\n"}, "g.yaml")
	r = runCLI(t, nil, "validate", files[0])
	assert.Equal(t, exitFatal, r.code)
	assert.Contains(t, r.stderr, `"0151 12345678" is a national number`)

	r = runCLI(t, nil, "validate", "--default-country", "de", "--csv-delimiter", ";", files[0])
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "1 file valid: 1 lox24 group,")
}

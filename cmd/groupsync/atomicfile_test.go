package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

func TestWriteReportFileReplacesAtomicallyAndLeavesNoTemporaryFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	r := plan.FailedReport(start, start, assert.AnError)
	require.NoError(t, writeReportFile(path, r, nil))

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	assert.EqualValues(t, plan.ReportVersion, got["version"])
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "a replaced file keeps its permissions: a report holds phone numbers")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	fresh := filepath.Join(dir, "new.json")
	require.NoError(t, writeReportFile(fresh, r, nil))
	st, err = os.Stat(fresh)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "a new file is 0644")
}

// A write that panics leaves neither the temporary file nor a half file.
func TestWriteAtomicLeavesNothingWhenTheWriterPanics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	assert.Panics(t, func() {
		_ = writeAtomic(path, nil, func(w io.Writer) error {
			_, _ = w.Write([]byte("half"))
			panic("injected")
		})
	})
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestWriteFileAtomicLeavesNothingWhenTheDirectoryIsMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	err := writeFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"))
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

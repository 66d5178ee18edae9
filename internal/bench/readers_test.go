package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"groupsync/internal/source"
)

// BenchmarkReadMembers reads and validates a member file of a million rows
// with the reader groupsync uses (encoding/csv, streaming, one allocation
// per member kept).
func BenchmarkReadMembers(b *testing.B) {
	n, path := memberFile(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		require.NoError(b, err)
		ph, errs := source.ReadPhones(path, f, nil)
		f.Close()
		require.Empty(b, errs)
		require.Len(b, ph.List, n)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// memberFile writes the benchmarks' member file (a tenth of it with -short)
// and returns its row count and path.
func memberFile(b *testing.B) (int, string) {
	n := million
	if testing.Short() {
		n = million / 10
	}
	dir := b.TempDir()
	writeMillion(b, dir, n)
	return n, filepath.Join(dir, "members.csv")
}

package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gocarina/gocsv"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
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

// memberRow is a member file's row as gocsv decodes it.
type memberRow struct {
	Phone string `csv:"phone"`
	A     string `csv:"a"`
	B     string `csv:"b"`
}

// BenchmarkReadMembersGocsv does the same reading with gocsv, streaming
// (UnmarshalToCallback) and normalising each number, for comparison: gocsv
// decodes by reflection and cannot tell an absent column from an empty one
// or report line numbers, which is why the readers use encoding/csv.
func BenchmarkReadMembersGocsv(b *testing.B) {
	n, path := memberFile(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		require.NoError(b, err)
		list := make([]plan.Phone, 0, n)
		var buf [plan.PhoneMax + 2]byte
		err = gocsv.UnmarshalToCallback(f, func(r memberRow) {
			num, _, err := plan.AppendE164(buf[:0], r.Phone, "")
			require.NoError(b, err)
			list = append(list, plan.NewPhoneBytes(num, []string{r.A, r.B}, len(list)+2))
		})
		f.Close()
		require.NoError(b, err)
		require.Len(b, list, n)
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

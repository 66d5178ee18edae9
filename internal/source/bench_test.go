package source

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkReadPhones reads a member file of a million rows, as a large
// LOX24 group would have.
func BenchmarkReadPhones(b *testing.B) {
	const rows = 1_000_000
	path := filepath.Join(b.TempDir(), "members.csv")
	f, err := os.Create(path)
	require.NoError(b, err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "phone,prefix,b,callback_data")
	for i := range rows {
		fmt.Fprintf(w, "+49 151 %08d,Mr.,Customer %d,crm-%d\n", i, i, i)
	}
	require.NoError(b, w.Flush())
	require.NoError(b, f.Close())
	labels := map[string]int{"prefix": 0}

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		require.NoError(b, err)
		ph, errs := ReadPhones(path, f, labels)
		f.Close()
		require.Empty(b, errs)
		require.Len(b, ph.List, rows)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

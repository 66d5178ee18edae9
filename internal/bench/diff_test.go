package bench

import (
	"testing"

	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
	"groupsync/internal/source"
)

// BenchmarkDiffMillion diffs a million desired members against a million
// current ones (1% changed, 1% new, 1% gone), without reading files.
func BenchmarkDiffMillion(b *testing.B) {
	n := million
	if testing.Short() {
		n = million / 10
	}
	want, err := source.Read([]string{writeMillion(b, b.TempDir(), n)})
	require.NoError(b, err)
	have := map[plan.System]plan.Current{plan.LOX24: remoteMillion(n)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p := plan.Diff(want, have)
		require.Equal(b, n/100, p.Count("").Create)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "members/s")
}

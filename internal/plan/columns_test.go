package plan

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestColumns(t *testing.T) {
	long := strings.Repeat("ä", 1530) // a two-byte letter: a length past one varint byte
	tests := [][]string{
		nil,
		{"Mr."},
		{"", "", "", "", "", "crm-1"},
		{"Mr.", "Smith", "", "", "", ""},
		{long, "", long, "x", "", "cb"},
		{"a", "b", "c", "d", "e", "f"},
	}
	for _, vals := range tests {
		c := MakeColumns(vals...)
		var want [NumPhoneCols]string
		copy(want[:], vals)
		assert.Equal(t, want, c.Array())
		for i := range NumPhoneCols {
			assert.Equal(t, want[i], c.Get(i))
		}
		assert.Equal(t, c, MakeColumns(want[:]...), "trailing empty columns do not change the value")
		assert.Equal(t, c, NewPhone("+49", vals, 1).Cols)
		assert.Equal(t, NewPhone("+49", vals, 1), NewPhoneBytes([]byte("+49"), vals, 1))
		assert.Equal(t, c, NewRemotePhone("7", "+49", vals).Cols)
	}
	assert.Equal(t, Columns{}, MakeColumns("", ""), "all empty is the zero value")
	c := MakeColumns("a", "b")
	assert.Equal(t, MakeColumns("a", "B", "", "", "", "x"), c.With(1, "B").With(5, "x"))
	assert.Equal(t, "a", c.Get(0), "With does not change the original")
	p := NewRemotePhone("500001", "+4915112345678", []string{"Mr."})
	assert.Equal(t, RemotePhone{ID: "500001", Number: "+4915112345678", Cols: MakeColumns("Mr.")}, p)
}

func TestColumnsGetDoesNotAllocate(t *testing.T) {
	c := MakeColumns("Mr.", "Smith", "", "", "", "crm-1")
	allocs := testing.AllocsPerRun(100, func() {
		_ = c.Get(5)
		_ = c.Array()
	})
	assert.Zero(t, allocs)
}

package plan

import (
	"encoding/binary"
	"strings"
)

// Columns holds a phone entry's column values a..e and callback_data
// (indexed like PhoneColumns) packed into one string: each value as its
// length (uvarint) and bytes, up to the last non-empty one. A million
// members then cost one small allocation each instead of six strings and
// 96 bytes of headers. The zero Columns has every column empty. Equal
// values have equal Columns, so == and reflect.DeepEqual compare contents.
type Columns struct{ packed string }

// MakeColumns packs vals (at most NumPhoneCols; missing ones are empty).
func MakeColumns(vals ...string) Columns {
	if len(vals) > NumPhoneCols {
		panic("plan: more than NumPhoneCols column values")
	}
	return Columns{packed: string(appendColumns(nil, vals))}
}

// appendColumns appends the packed form of vals to dst.
func appendColumns(dst []byte, vals []string) []byte {
	last := len(vals) - 1
	for last >= 0 && vals[last] == "" {
		last--
	}
	for _, v := range vals[:last+1] {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// Get returns column i ("" when empty).
func (c Columns) Get(i int) string {
	s := c.packed
	for k := 0; s != ""; k++ {
		n, w := uvarint(s)
		s = s[w:]
		if k == i {
			return s[:n]
		}
		s = s[n:]
	}
	return ""
}

// Array returns every column.
func (c Columns) Array() [NumPhoneCols]string {
	var out [NumPhoneCols]string
	s := c.packed
	for k := 0; s != "" && k < NumPhoneCols; k++ {
		n, w := uvarint(s)
		s = s[w:]
		out[k], s = s[:n], s[n:]
	}
	return out
}

// With returns c with column i set to v.
func (c Columns) With(i int, v string) Columns {
	a := c.Array()
	a[i] = v
	return MakeColumns(a[:]...)
}

// NewPhoneBytes returns a desired member whose number and columns share one
// allocation. The number is read from a buffer (a reader's scratch space)
// without converting it to a string first.
func NewPhoneBytes(number []byte, cols []string, line int) Phone {
	s := pack("", number, cols)
	return Phone{Number: s[:len(number)], Cols: Columns{packed: s[len(number):]}, Line: line}
}

// NewRemotePhone returns a remote phone entry whose id, number and columns
// share one allocation.
func NewRemotePhone(id, number string, cols []string) RemotePhone {
	s := pack(id+number, nil, cols) // the concatenation is short-lived
	n := len(id) + len(number)
	return RemotePhone{ID: s[:len(id)], Number: s[len(id):n], Cols: Columns{packed: s[n:]}}
}

// pack returns prefix and bprefix followed by the packed columns, in one
// allocation.
func pack(prefix string, bprefix []byte, cols []string) string {
	size := len(prefix) + len(bprefix)
	for _, v := range cols {
		size += len(v) + uvarintLen(len(v))
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(prefix)
	b.Write(bprefix)
	var tmp [binary.MaxVarintLen64]byte
	last := len(cols) - 1
	for last >= 0 && cols[last] == "" {
		last--
	}
	for _, v := range cols[:last+1] {
		b.Write(binary.AppendUvarint(tmp[:0], uint64(len(v))))
		b.WriteString(v)
	}
	return b.String()
}

// NewRemotePhoneBytes is NewRemotePhone for values held in a buffer (a
// response being decoded): one allocation, without converting any value to
// a string first. cols beyond NumPhoneCols are ignored.
func NewRemotePhoneBytes(id, number []byte, cols *[NumPhoneCols][]byte) RemotePhone {
	last := len(cols) - 1
	for last >= 0 && len(cols[last]) == 0 {
		last--
	}
	size := len(id) + len(number)
	for _, v := range cols[:last+1] {
		size += len(v) + uvarintLen(len(v))
	}
	var b strings.Builder
	b.Grow(size)
	b.Write(id)
	b.Write(number)
	var tmp [binary.MaxVarintLen64]byte
	for _, v := range cols[:last+1] {
		b.Write(binary.AppendUvarint(tmp[:0], uint64(len(v))))
		b.Write(v)
	}
	s := b.String()
	n := len(id) + len(number)
	return RemotePhone{ID: s[:len(id)], Number: s[len(id):n], Cols: Columns{packed: s[n:]}}
}

// uvarintLen is the length of n as a uvarint.
func uvarintLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

// uvarint decodes a uvarint at the start of s without converting s.
func uvarint(s string) (n, width int) {
	var shift uint
	for i := 0; i < len(s); i++ {
		b := s[i]
		n |= int(b&0x7f) << shift
		if b < 0x80 {
			return n, i + 1
		}
		shift += 7
	}
	return 0, len(s) // malformed: treat the rest as consumed
}

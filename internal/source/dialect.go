package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Dialect says how a CSV file is written: its delimiter and its encoding.
// The zero Dialect detects both: the delimiter from the header line (a comma;
// or, when the header has none, a semicolon or a tab), the encoding from a
// byte order mark (UTF-8 or UTF-16), else UTF-8.
type Dialect struct {
	Delimiter rune   // ',', ';' or '\t'; 0 to detect
	Encoding  string // "", "utf-8", "windows-1252" or "iso-8859-1"
}

// Encodings lists the encodings a Dialect may name besides UTF-8.
var Encodings = []string{"windows-1252", "iso-8859-1"}

// ParseDelimiter reads a delimiter as a file reference or a flag gives it:
// one of , ; or a tab (also written "tab" or "\t").
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case ",":
		return ',', nil
	case ";":
		return ';', nil
	case "\t", `\t`, "tab":
		return '\t', nil
	}
	return 0, fmt.Errorf("%s is not a delimiter (want \",\", \";\" or \"tab\")", quote(s))
}

// CheckEncoding returns an error unless s names an encoding a Dialect reads.
func CheckEncoding(s string) error {
	switch strings.ToLower(s) {
	case "", "utf-8", "utf8", "windows-1252", "cp1252", "iso-8859-1", "latin1":
		return nil
	}
	return fmt.Errorf("%s is not an encoding groupsync reads (want utf-8, windows-1252 or iso-8859-1)", quote(s))
}

// badEncodingError is a file whose bytes are not valid in its encoding
// (enc: "UTF-8", "UTF-16" or the single-byte encoding the file names).
type badEncodingError struct {
	line int
	enc  string
}

func (e *badEncodingError) Error() string {
	return fmt.Sprintf("line %d: not valid %s", e.line, e.enc)
}

// newCSVReader returns a csv.Reader on r that reads the file as d says,
// skips a byte order mark and leaves checking the number of cells per row
// to the caller. encoding/csv accepts both LF and CRLF line ends.
func newCSVReader(r io.Reader) *csv.Reader { return newDialectReader(r, Dialect{}) }

// newDialectReader is newCSVReader for a file of dialect d.
func newDialectReader(r io.Reader, d Dialect) *csv.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	var text io.Reader
	b, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(b, []byte("\uFEFF")):
		_, _ = br.Discard(3)
		text = &utf8Checker{r: br, line: 1}
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		_, _ = br.Discard(2)
		text = &utf16Reader{r: br, big: b[0] == 0xFE, line: 1}
	default:
		switch strings.ToLower(d.Encoding) {
		case "windows-1252", "cp1252":
			text = &singleByteReader{r: br, cm: charmap.Windows1252, name: "windows-1252", line: 1}
		case "iso-8859-1", "latin1":
			text = &singleByteReader{r: br, cm: charmap.ISO8859_1, name: "iso-8859-1", line: 1}
		default:
			text = &utf8Checker{r: br, line: 1}
		}
	}
	tr := bufio.NewReaderSize(text, 64<<10)
	delim := d.Delimiter
	if delim == 0 {
		delim = detectDelimiter(tr)
	}
	cr := csv.NewReader(tr)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	return cr
}

// detectDelimiter looks at the header line: a comma unless it has none and
// has a semicolon or a tab.
func detectDelimiter(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	switch {
	case bytes.IndexByte(b, ',') >= 0:
		return ','
	case bytes.IndexByte(b, ';') >= 0:
		return ';'
	case bytes.IndexByte(b, '\t') >= 0:
		return '\t'
	}
	return ','
}

// utf8Checker passes UTF-8 text through and fails, naming the line, at the
// first byte sequence that is not UTF-8, so that a file in another encoding
// gets one error, not one per cell. The line that holds the bad bytes is not
// passed on at all, so that the CSV reader sees no half row.
type utf8Checker struct {
	chunks
	r    io.Reader
	line int    // the line of the first byte not yet checked
	buf  []byte // read but not yet checked: an incomplete character
}

// chunks hands out text a reader produced a chunk at a time, then its
// error: what utf8Checker and utf16Reader share.
type chunks struct {
	out []byte // checked or decoded, not yet returned
	err error  // returned once out is empty
}

// read returns what is left of the current chunk, calling fill for the
// next one while there is none and no error.
func (c *chunks) read(p []byte, fill func()) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		fill()
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

func (c *utf8Checker) Read(p []byte) (int, error) { return c.read(p, c.fill) }

// fill reads the next chunk and checks it.
func (c *utf8Checker) fill() {
	const size = 32 << 10
	if cap(c.buf) < size+utf8.UTFMax {
		c.buf = make([]byte, 0, size+utf8.UTFMax)
	}
	pending := len(c.buf)
	chunk := c.buf[:pending+size]
	m, err := c.r.Read(chunk[pending:])
	chunk = chunk[:pending+m]
	// Hold back an incomplete last character unless the input has ended.
	keep := 0
	if err == nil {
		for i := len(chunk) - 1; i >= 0 && i >= len(chunk)-utf8.UTFMax; i-- {
			if utf8.RuneStart(chunk[i]) {
				if !utf8.FullRune(chunk[i:]) {
					keep = len(chunk) - i
				}
				break
			}
		}
	}
	good := chunk[:len(chunk)-keep]
	lineStart := 0
	for i := 0; i < len(good); {
		if good[i] < utf8.RuneSelf {
			if good[i] == '\n' {
				c.line++
				lineStart = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(good[i:])
		if r == utf8.RuneError && size <= 1 {
			c.out = append([]byte(nil), good[:lineStart]...)
			c.err = &badEncodingError{line: c.line, enc: "UTF-8"}
			return
		}
		i += size
	}
	c.out = append(c.out[:0], good...)
	c.buf = append(c.buf[:0], chunk[len(good):]...)
	if err != nil {
		c.err = err
		if len(c.buf) > 0 && errors.Is(err, io.EOF) {
			c.err = &badEncodingError{line: c.line, enc: "UTF-8"}
		}
	}
}

// utf16Reader decodes UTF-16 to UTF-8 strictly: at a lone surrogate or a
// last odd byte it fails, naming the line, as utf8Checker does for UTF-8
// (a decoder that writes U+FFFD instead would change the text silently).
// The line that holds the bad character is not passed on.
type utf16Reader struct {
	chunks
	r    *bufio.Reader
	big  bool // big endian
	line int  // the line of the next character
}

func (c *utf16Reader) Read(p []byte) (int, error) { return c.read(p, c.fill) }

// unit reads one UTF-16 code unit.
func (c *utf16Reader) unit() (rune, error) {
	var b [2]byte
	if _, err := io.ReadFull(c.r, b[:]); err != nil {
		return 0, err
	}
	if c.big {
		return rune(b[0])<<8 | rune(b[1]), nil
	}
	return rune(b[1])<<8 | rune(b[0]), nil
}

// fill decodes the next chunk.
func (c *utf16Reader) fill() {
	const size = 32 << 10
	chunk := make([]byte, 0, size+utf8.UTFMax)
	lineStart := 0
	bad := func() {
		c.out = chunk[:lineStart]
		c.err = &badEncodingError{line: c.line, enc: "UTF-16"}
	}
	for len(chunk) < size {
		r, err := c.unit()
		switch {
		case errors.Is(err, io.EOF):
			c.out, c.err = chunk, io.EOF
			return
		case errors.Is(err, io.ErrUnexpectedEOF):
			bad()
			return
		case err != nil:
			c.out, c.err = chunk, err
			return
		}
		if utf16.IsSurrogate(r) {
			r2, err := c.unit()
			if r >= 0xDC00 || err != nil {
				bad()
				return
			}
			if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
				bad()
				return
			}
		}
		chunk = utf8.AppendRune(chunk, r)
		if r == '\n' {
			c.line++
			lineStart = len(chunk)
		}
	}
	c.out = chunk
}

// singleByteReader decodes a single-byte encoding to UTF-8 strictly: at a
// byte the encoding does not define (0x81, 0x8D, 0x8F, 0x90 and 0x9D in
// windows-1252) it fails, naming the line, as utf8Checker does for UTF-8
// (the charmap's own decoder writes U+FFFD instead, changing the text
// silently). The line that holds the bad byte is not passed on.
type singleByteReader struct {
	chunks
	r    io.Reader
	cm   *charmap.Charmap
	name string // the encoding's name, for the error
	line int    // the line of the next byte
	in   []byte
}

func (c *singleByteReader) Read(p []byte) (int, error) { return c.read(p, c.fill) }

// fill decodes the next chunk.
func (c *singleByteReader) fill() {
	const size = 16 << 10
	if c.in == nil {
		c.in = make([]byte, size)
	}
	n, err := c.r.Read(c.in)
	chunk := make([]byte, 0, n*3)
	lineStart := 0
	for _, b := range c.in[:n] {
		r := c.cm.DecodeByte(b)
		if r == utf8.RuneError {
			c.out = chunk[:lineStart]
			c.err = &badEncodingError{line: c.line, enc: c.name}
			return
		}
		chunk = utf8.AppendRune(chunk, r)
		if b == '\n' {
			c.line++
			lineStart = len(chunk)
		}
	}
	c.out, c.err = chunk, err
}

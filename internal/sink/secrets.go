package sink

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// hide replaces every secret of the client in s by "xxxxx", in every form
// the Redactor knows. It runs before a message is cut short, so that no
// piece of a secret survives the cut.
func (c *Client) hide(s string) string {
	for _, secret := range c.secrets {
		s = strings.ReplaceAll(s, secret, "xxxxx")
	}
	return c.redactor.String(s)
}

// nonEmpty returns the non-empty strings of ss, longest first, so that a
// secret that contains another is replaced whole.
func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// Hidden is what a Redactor puts in place of a credential.
const Hidden = "xxxxx"

// MinRedacted is the length below which a credential is not looked for
// outside the messages of its own client: a credential that short (the
// emulator's "demo") would blank out ordinary words, and guards nothing.
const MinRedacted = 6

// Redactor replaces every form of a set of credentials in text by Hidden:
// the credential as written, percent-encoded (query, path and strict forms,
// in either letter case of the hex digits), JSON-escaped, hex in either
// case, and base64 (standard and URL alphabets) at each of the three
// alignments it can have inside a longer encoded text. Give it "key:secret"
// as one of the credentials to cover HTTP Basic authorization. The zero
// Redactor and a nil one change nothing.
type Redactor struct {
	forms  [][]byte // longest first
	first  [256]bool
	maxLen int
}

// NewRedactor returns a Redactor for credentials; those shorter than
// MinRedacted are ignored.
func NewRedactor(credentials ...string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	add := func(f string) {
		if len(f) < 4 || seen[f] {
			return
		}
		seen[f] = true
		r.forms = append(r.forms, []byte(f))
	}
	for _, c := range credentials {
		if len(c) < MinRedacted {
			continue
		}
		for _, f := range Forms(c) {
			add(f)
		}
	}
	slices.SortStableFunc(r.forms, func(a, b []byte) int { return len(b) - len(a) })
	for _, f := range r.forms {
		r.first[f[0]] = true
		r.maxLen = max(r.maxLen, len(f))
	}
	return r
}

// Forms returns every form in which s could be echoed.
func Forms(s string) []string {
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), strictEscape(s), (&url.URL{Path: s}).EscapedPath()}
	for _, f := range forms[1:] {
		forms = append(forms, lowerHexEscapes(f))
	}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(s)
		j := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)
		j = strings.TrimPrefix(j, `"`)
		forms = append(forms, j, strings.ReplaceAll(j, "/", `\/`))
	}
	h := hex.EncodeToString([]byte(s))
	forms = append(forms, h, strings.ToUpper(h))
	for pad := range 3 {
		b := append(bytes.Repeat([]byte{0}, pad), s...)
		// The characters wholly determined by s, whatever stands before
		// and after it.
		from, to := (8*pad+5)/6, 8*len(b)/6
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			forms = append(forms, enc.EncodeToString(b)[from:to])
		}
	}
	return forms
}

// strictEscape percent-encodes every byte of s but the unreserved ones of
// RFC 3986.
func strictEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// lowerHexEscapes writes the hex digits of every %XX escape of s in lower
// case.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = toLower(b[i+1])
			b[i+2] = toLower(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Bytes returns b with every form of every credential replaced by Hidden;
// b itself is not changed.
func (r *Redactor) Bytes(b []byte) []byte {
	if r == nil || len(r.forms) == 0 {
		return b
	}
	var out []byte
	for _, f := range r.forms {
		src := b
		if out != nil {
			src = out
		}
		if !bytes.Contains(src, f) {
			continue
		}
		out = bytes.ReplaceAll(src, f, []byte(Hidden))
	}
	if out == nil {
		return b
	}
	return out
}

// Contains reports whether s holds any form of any credential: what Bytes
// would hide. It allocates nothing, and looks at most forms only where s
// has one of their first bytes.
func (r *Redactor) Contains(s string) bool {
	if r == nil || len(r.forms) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !r.first[s[i]] {
			continue
		}
		for _, f := range r.forms {
			if f[0] == s[i] && len(s)-i >= len(f) && s[i:i+len(f)] == string(f) {
				return true
			}
		}
	}
	return false
}

// String is Bytes for a string.
func (r *Redactor) String(s string) string {
	if r == nil || len(r.forms) == 0 {
		return s
	}
	return string(r.Bytes([]byte(s)))
}

// heldBack returns how many bytes at the end of b could be the start of a
// form that more text would complete.
func (r *Redactor) heldBack(b []byte) int {
	for k := min(len(b), r.maxLen-1); k > 0; k-- {
		tail := b[len(b)-k:]
		if !r.first[tail[0]] {
			continue
		}
		for _, f := range r.forms {
			if len(f) > k && bytes.HasPrefix(f, tail) {
				return k
			}
		}
	}
	return 0
}

// Writer returns a writer that passes everything written to w through r.
// It holds back only the end of what was written that could begin a
// credential, until more text shows it does not (or Flush). It is safe for
// concurrent use.
func (r *Redactor) Writer(w io.Writer) *RedactWriter {
	return &RedactWriter{r: r, w: w}
}

// RedactWriter is a writer through a Redactor; see Redactor.Writer.
type RedactWriter struct {
	mu   sync.Mutex
	r    *Redactor
	w    io.Writer
	held []byte
	// joined is reused to put held and the next write together, so that
	// streaming a large document allocates nothing per write.
	joined []byte
}

// Write redacts p, with what was held back before it, and writes what can
// be written now.
func (rw *RedactWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.r == nil || len(rw.r.forms) == 0 {
		return rw.w.Write(p)
	}
	buf := p
	if len(rw.held) > 0 {
		rw.joined = append(append(rw.joined[:0], rw.held...), p...)
		buf = rw.joined
	}
	buf = rw.r.Bytes(buf) // p itself is never changed
	k := rw.r.heldBack(buf)
	if _, err := rw.w.Write(buf[:len(buf)-k]); err != nil {
		return 0, err
	}
	rw.held = append(rw.held[:0], buf[len(buf)-k:]...) // held's own array: buf is p, joined or new
	return len(p), nil
}

// Flush writes what is held back.
func (rw *RedactWriter) Flush() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.held) == 0 {
		return nil
	}
	_, err := rw.w.Write(rw.held)
	rw.held = nil
	return err
}

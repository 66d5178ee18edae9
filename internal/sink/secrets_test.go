package sink

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Credentials with the characters URLs, JSON and base64 treat specially.
const (
	redKey    = "k/ey+Qz=9:x<y>&\"w"
	redSecret = "s3c/ret+Z==:%41 end"
)

func TestRedactorHidesEveryForm(t *testing.T) {
	r := NewRedactor(redKey, redSecret, redKey+":"+redSecret)
	jsonOf := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for _, s := range []string{redKey, redSecret} {
		forms := map[string]string{
			"literal":      s,
			"query":        "https://h/x?token=" + url.QueryEscape(s) + "&a=1",
			"path":         "https://h/" + url.PathEscape(s) + "/x",
			"lower hex":    lowerHexEscapes(url.QueryEscape(s)),
			"json":         `{"error":` + jsonOf(s) + `}`,
			"hex":          "0x" + hex.EncodeToString([]byte(s)),
			"HEX":          strings.ToUpper(hex.EncodeToString([]byte(s))),
			"strict query": (&url.URL{Path: s}).EscapedPath(),
		}
		for name, text := range forms {
			got := r.String("before " + text + " after")
			assert.NotContains(t, got, s, name)
			assert.Contains(t, got, Hidden, name)
		}
	}
	for pad := range 3 {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			text := enc.EncodeToString([]byte(strings.Repeat("p", pad) + redKey + ":" + redSecret + "tail"))
			got := r.String("Authorization: Basic " + text)
			assert.Contains(t, got, Hidden, "alignment %d", pad)
			for _, f := range Forms(redKey + ":" + redSecret)[len(Forms(redKey+":"+redSecret))-6:] {
				assert.NotContains(t, got, f)
			}
		}
	}
	assert.Equal(t, "nothing secret", r.String("nothing secret"))
	assert.Equal(t, "demo", NewRedactor("demo").String("demo"), "too short to look for")
}

// Contains tells exactly what Bytes would hide: every form of every
// credential, anywhere in a text, and nothing else; without allocating.
func TestRedactorContainsWhatItWouldHide(t *testing.T) {
	r := NewRedactor(redKey, redSecret, redKey+":"+redSecret)
	texts := []string{"", "nothing secret", "k/ey+Qz", redKey[:len(redKey)-1]}
	for _, c := range []string{redKey, redSecret, redKey + ":" + redSecret} {
		for _, f := range Forms(c) {
			texts = append(texts, f, "pre "+f, f+" post", "pre "+f+" post", f[1:], f[:len(f)-1])
		}
	}
	for _, text := range texts {
		assert.Equal(t, r.String(text) != text, r.Contains(text), "%q", text)
	}
	assert.True(t, r.Contains("x "+redSecret))
	assert.False(t, r.Contains("x "+redSecret[:len(redSecret)-1]))
	assert.False(t, (*Redactor)(nil).Contains(redKey))
	assert.False(t, NewRedactor("demo").Contains("demo"), "too short to look for")
	long := strings.Repeat("ks3%/+", 50)
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.Contains(long) }))
}

func TestRedactWriterHidesSecretsSplitAcrossWrites(t *testing.T) {
	r := NewRedactor(redSecret)
	text := "a line " + url.QueryEscape(redSecret) + " and " + redSecret + "\nprompt: "
	for cut := range len(text) {
		var out bytes.Buffer
		w := r.Writer(&out)
		_, err := w.Write([]byte(text[:cut]))
		require.NoError(t, err)
		_, err = w.Write([]byte(text[cut:]))
		require.NoError(t, err)
		assert.Equal(t, "a line "+Hidden+" and "+Hidden+"\nprompt: ", out.String(), "nothing held back at the end")
		require.NoError(t, w.Flush())
	}
	var out bytes.Buffer
	w := r.Writer(&out)
	_, _ = w.Write([]byte("ends with s3c"))
	assert.Equal(t, "ends with ", out.String(), "a possible start is held back")
	require.NoError(t, w.Flush())
	assert.Equal(t, "ends with s3c", out.String())
}

// Cut in three, with held-back text carried through two writes in a row,
// the credential is still hidden: the writer's reused buffers never mix
// what it held with what it writes.
func TestRedactWriterReusesItsBuffersSafely(t *testing.T) {
	r := NewRedactor(redSecret)
	text := redSecret[:4] + "x " + redSecret + " " + url.QueryEscape(redSecret) + " s3c"
	want := redSecret[:4] + "x " + Hidden + " " + Hidden + " s3c"
	for i := range len(text) {
		for j := i; j < len(text); j++ {
			var out bytes.Buffer
			w := r.Writer(&out)
			for _, part := range []string{text[:i], text[i:j], text[j:]} {
				buf := []byte(part)
				_, err := w.Write(buf)
				require.NoError(t, err)
				for k := range buf {
					buf[k] = '#' // the caller reuses its buffer
				}
			}
			require.NoError(t, w.Flush())
			require.Equal(t, want, out.String(), "cut at %d and %d", i, j)
		}
	}
}

// Streaming a large document through the writer allocates nothing per
// write when nothing is held back: a plan of a million items costs no
// copy of itself.
func TestRedactWriterStreamsWithoutCopying(t *testing.T) {
	r := NewRedactor(redSecret, redKey)
	chunk := bytes.Repeat([]byte("a plan line with nothing secret in it\n"), 1700)
	sink := r.Writer(discard{})
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := sink.Write(chunk); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

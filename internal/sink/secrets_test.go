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

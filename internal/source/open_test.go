package source

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readErr reads files with opt and returns the error text.
func readErr(t *testing.T, opt Options, paths ...string) string {
	t.Helper()
	_, err := ReadContext(context.Background(), paths, opt)
	require.Error(t, err)
	return err.Error()
}

const secretLine = "LOX24_TOKEN=s3cr3t-t0ken"

func TestReadConfinesReferencedFiles(t *testing.T) {
	group := func(phones string) string {
		return "lox24:\n  groups:\n    - name: A\n      phones: " + phones + "\n"
	}
	setup := func(t *testing.T) string {
		base := t.TempDir()
		t.Chdir(base)
		require.NoError(t, os.MkdirAll("conf", 0o755))
		require.NoError(t, os.MkdirAll("secrets", 0o755))
		require.NoError(t, os.WriteFile("secrets/lox24.token", []byte(secretLine+"\n"), 0o600))
		return base
	}
	for _, tt := range []struct {
		name, phones, want string
	}{
		{"an escape by ..", "../secrets/lox24.token", "resolves outside"},
		{"an absolute path", "", "absolute path is not allowed"},
		{"the environment of the process", "/proc/self/environ", "absolute path is not allowed"},
		{"a symlink out", "link.csv", "resolves outside"},
		{"a device through a symlink", "zero.csv", "resolves outside"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := setup(t)
			phones := tt.phones
			if phones == "" {
				phones = filepath.Join(base, "secrets", "lox24.token")
			}
			require.NoError(t, os.Symlink(filepath.Join(base, "secrets", "lox24.token"), "conf/link.csv"))
			require.NoError(t, os.Symlink("/dev/zero", "conf/zero.csv"))
			require.NoError(t, os.WriteFile("conf/g.yaml", []byte(group(phones)), 0o644))
			msg := readErr(t, Options{}, "conf/g.yaml")
			assert.Contains(t, msg, tt.want)
			assert.Contains(t, msg, "conf/g.yaml:4: phones:")
			assert.NotContains(t, msg, "s3cr3t")
		})
	}
	t.Run("--root widens the directory a reference may resolve into", func(t *testing.T) {
		base := setup(t)
		require.NoError(t, os.MkdirAll("members", 0o755))
		require.NoError(t, os.WriteFile("members/a.csv", []byte("phone\n+4915112345678\n"), 0o644))
		require.NoError(t, os.WriteFile("conf/g.yaml", []byte(group("../members/a.csv")), 0o644))
		assert.Contains(t, readErr(t, Options{}, "conf/g.yaml"), "resolves outside")
		d, err := ReadContext(context.Background(), []string{"conf/g.yaml"}, Options{Root: base})
		require.NoError(t, err)
		require.Len(t, d.Groups, 1)
		assert.Len(t, d.Groups[0].Phones.List, 1)
		require.NoError(t, os.WriteFile("conf/g.yaml", []byte(group("../secrets/lox24.token")), 0o644))
		assert.Contains(t, readErr(t, Options{Root: filepath.Join(base, "conf")}, "conf/g.yaml"), "resolves outside")
	})
	t.Run("a symlink that stays inside is followed", func(t *testing.T) {
		setup(t)
		require.NoError(t, os.WriteFile("conf/real.csv", []byte("phone\n+4915112345678\n"), 0o644))
		require.NoError(t, os.Symlink("real.csv", "conf/m.csv"))
		require.NoError(t, os.WriteFile("conf/g.yaml", []byte(group("m.csv")), 0o644))
		_, err := ReadContext(context.Background(), []string{"conf/g.yaml"}, Options{})
		require.NoError(t, err)
	})
	t.Run("a FIFO is refused without blocking", func(t *testing.T) {
		setup(t)
		require.NoError(t, syscall.Mkfifo("conf/fifo.csv", 0o644))
		require.NoError(t, os.WriteFile("conf/g.yaml", []byte(group("fifo.csv")), 0o644))
		assert.Contains(t, readErr(t, Options{}, "conf/g.yaml"), "is a FIFO, not a regular file")
	})
	t.Run("a directory is refused", func(t *testing.T) {
		setup(t)
		require.NoError(t, os.MkdirAll("conf/d", 0o755))
		require.NoError(t, os.WriteFile("conf/g.yaml", []byte(group("d")), 0o644))
		assert.Contains(t, readErr(t, Options{}, "conf/g.yaml"), "is a directory")
	})
}

func TestReadBoundsGivenFiles(t *testing.T) {
	t.Run("a YAML file symlinked to a device", func(t *testing.T) {
		t.Chdir(t.TempDir())
		require.NoError(t, os.Symlink("/dev/zero", "g.yaml"))
		assert.Contains(t, readErr(t, Options{}, "g.yaml"), "g.yaml: is a device, not a regular file")
	})
	t.Run("--max-file-size bounds given and referenced files", func(t *testing.T) {
		t.Chdir(t.TempDir())
		yml := "lox24:\n  groups:\n    - name: A\n      phones: m.csv\n"
		require.NoError(t, os.WriteFile("g.yaml", []byte(yml), 0o644))
		require.NoError(t, os.WriteFile("m.csv", []byte("phone\n"+strings.Repeat("+4915112345678\n", 100)), 0o644))
		assert.Contains(t, readErr(t, Options{MaxFileSize: 10}, "g.yaml"), "g.yaml: larger than --max-file-size (10 bytes)")
		assert.Contains(t, readErr(t, Options{MaxFileSize: int64(len(yml))}, "g.yaml"), "g.yaml:4: phones: cannot open m.csv: larger than --max-file-size")
	})
	t.Run("a file that grows past the limit while read stops there", func(t *testing.T) {
		f := &File{f: mustOpen(t, "/dev/zero"), left: 100, max: 100}
		buf := make([]byte, 64)
		var total int
		var err error
		for err == nil {
			var n int
			n, err = f.Read(buf)
			total += n
		}
		assert.Equal(t, 100, total)
		var tl *tooLargeError
		assert.True(t, errors.As(err, &tl))
	})
	t.Run("a done context stops the read with its cause", func(t *testing.T) {
		t.Chdir(t.TempDir())
		require.NoError(t, os.WriteFile("g.yaml", []byte("lox24:\n  groups: []\n"), 0o644))
		ctx, cancel := context.WithCancelCause(context.Background())
		stop := errors.New("interrupted by terminated")
		cancel(stop)
		_, err := ReadContext(ctx, []string{"g.yaml"}, Options{})
		assert.ErrorIs(t, err, stop)
	})
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestTextRefusesControlCharacters(t *testing.T) {
	for _, tt := range []struct{ escape, want string }{
		{`\0`, "U+0000"},
		{`\e`, "U+001B"},
		{`\N`, "U+0085"},
		{`\u202E`, "U+202E"},
		{`\u2028`, "U+2028"},
		{`\x7f`, "U+007F"},
		{`\u2066`, "U+2066"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			in := "helloid:\n  groups:\n    - name: \"Sales" + tt.escape + "x\"\n"
			_, errs := ReadYAML("g.yaml", strings.NewReader(in))
			assert.Equal(t, []string{"g.yaml:3:13: name: contains control character " + tt.want + " (not allowed in text)"}, errStrings(errs))
		})
	}
	t.Run("white space at either end", func(t *testing.T) {
		_, errs := ReadYAML("g.yaml", strings.NewReader("lox24:\n  groups:\n    - name: \" Staff\"\n      description: \"x\\t\"\n"))
		assert.Equal(t, []string{
			"g.yaml:3:13: name: has leading or trailing white space (not allowed in text)",
			"g.yaml:4:20: description: contains control character U+0009 (not allowed in text)",
		}, errStrings(errs))
	})
}

func TestMemberFileErrorsQuoteAShortExcerpt(t *testing.T) {
	header := secretLine + strings.Repeat("A", 200)
	_, errs := ReadPhones("m.csv", strings.NewReader(header+"\n"), nil)
	require.Len(t, errs, 2)
	msg := errs.Error()
	assert.Contains(t, msg, `unknown column "`+header[:80]+`"...`)
	assert.Less(t, len(msg), 400)
}

// Whether a file outside the directory exists or not, a reference to it
// gets the same error: the error is no way to probe for files.
func TestAnEscapeSaysNothingOfWhetherTheFileExists(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	require.NoError(t, os.MkdirAll("conf/sub", 0o755))
	require.NoError(t, os.WriteFile("there.csv", []byte("phone\n"), 0o644))
	require.NoError(t, os.Symlink(base, "conf/up"))
	require.NoError(t, os.Symlink("../there.csv", "conf/to-there.csv"))
	require.NoError(t, os.Symlink("../absent.csv", "conf/to-absent.csv"))
	require.NoError(t, os.Symlink("../../absent-dir/x", "conf/sub/deep.csv"))
	errFor := func(t *testing.T, opt Options, phones string) string {
		t.Helper()
		require.NoError(t, os.WriteFile("conf/g.yaml", []byte("lox24:\n  groups:\n    - name: A\n      phones: "+phones+"\n"), 0o644))
		return regexp.MustCompile(`cannot open [^:]*:`).ReplaceAllString(readErr(t, opt, "conf/g.yaml"), "cannot open PATH:")
	}
	for _, opt := range []Options{{}, {Root: filepath.Join(base, "conf")}} {
		for _, pair := range [][2]string{
			{"../there.csv", "../absent.csv"},
			{"up/there.csv", "up/absent.csv"},
			{"to-there.csv", "to-absent.csv"},
			{"../there.csv", "../absent-dir/x.csv"},
			{"../there.csv", "sub/deep.csv"},
			{"../there.csv", "up/absent-dir/x.csv"},
		} {
			exists, absent := errFor(t, opt, pair[0]), errFor(t, opt, pair[1])
			assert.Contains(t, exists, "resolves outside", pair)
			assert.Equal(t, exists, absent, "root %q: %v", opt.Root, pair)
		}
	}
	assert.Contains(t, errFor(t, Options{}, "absent.csv"), "no such file", "a missing file inside is still named missing")
	assert.Contains(t, errFor(t, Options{}, "sub/absent.csv"), "no such file")
}

// A file reference is text: control characters and bidirectional
// controls in it are refused before anything is opened, a long one is
// refused, and the error that names a file that cannot be opened shows a
// short, escaped excerpt of it.
func TestFileReferencesAreCheckedAndQuotedShort(t *testing.T) {
	dir := t.TempDir()
	write := func(name, yml string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(yml), 0o644))
		return p
	}
	esc := write("esc.yaml", "lox24:\n  groups:\n    - name: A\n      phones: \"a\\e[2J\\u202Eb.csv\"\nhelloid:\n  groups:\n    - name: B\n      users: \"u\\u202E.csv\"\n")
	msg := readErr(t, Options{}, esc)
	assert.Contains(t, msg, `phones: "a\x1b[2J\u202eb.csv": contains control character U+001B (not allowed in text)`)
	assert.Contains(t, msg, `users: "u\u202e.csv": contains control character U+202E (not allowed in text)`)
	assert.NotContains(t, msg, "\x1b")
	assert.NotContains(t, msg, "\u202e")

	long := strings.Repeat("d/", 600) + "m.csv" // 1,205 characters
	msg = readErr(t, Options{}, write("long.yaml", "lox24:\n  groups:\n    - name: A\n      phones: "+long+"\n"))
	assert.Contains(t, msg, "1205 characters, at most 1024")
	assert.Less(t, len(msg), 400)

	absent := strings.Repeat("x", 200) + ".csv" // allowed, but not there
	msg = readErr(t, Options{}, write("absent.yaml", "lox24:\n  groups:\n    - name: A\n      phones: "+absent+"\n"))
	assert.Contains(t, msg, "cannot open "+filepath.Join(dir, absent)+":", "a plain path is shown whole, unquoted")
}

// A user reference longer than MaxUserChars is refused, inline and in a
// users file, and the error quotes only its start.
func TestUserReferencesAreBounded(t *testing.T) {
	long := strings.Repeat("u", MaxUserChars+1)
	_, errs := ReadYAML("g.yaml", strings.NewReader("helloid:\n  groups:\n    - name: B\n      users: ["+long+"]\n"))
	require.Len(t, errs, 1)
	assert.Contains(t, errs.Error(), "257 characters, at most 256")
	assert.Less(t, len(errs.Error()), 300)
	_, errs = ReadUsers("u.csv", strings.NewReader("user\n"+long+"\n"+strings.Repeat("v", MaxUserChars)+"\n"), Dialect{})
	require.Len(t, errs, 1)
	assert.Contains(t, errs.Error(), "u.csv:2")
	assert.Contains(t, errs.Error(), "257 characters, at most 256")
}

// ReadAll reads a given file whole into one buffer of the file's size,
// stops at the limit like Read, and reads an empty file as empty.
func TestGivenFileReadAll(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	content := bytes.Repeat([]byte("0123456789"), 10_000)
	f, err := OpenGiven(context.Background(), write("whole", content), 0)
	require.NoError(t, err)
	got, err := f.ReadAll()
	require.NoError(t, err)
	assert.Equal(t, content, got)
	assert.Equal(t, len(content)+1, cap(got), "sized from the file, not grown")
	require.NoError(t, f.Close())

	f, err = OpenGiven(context.Background(), write("empty", nil), 0)
	require.NoError(t, err)
	got, err = f.ReadAll()
	require.NoError(t, err)
	assert.Empty(t, got)
	require.NoError(t, f.Close())

	// Opened within the limit, grown past it before it is read.
	path := write("grows", content[:100])
	f, err = OpenGiven(context.Background(), path, 150)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, content[:1000], 0o600))
	_, err = f.ReadAll()
	assert.ErrorContains(t, err, "150")
	require.NoError(t, f.Close())
}

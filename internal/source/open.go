package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultMaxFileSize bounds every file the desired state is read from
// unless --max-file-size says otherwise.
const DefaultMaxFileSize int64 = 4 << 30

// File is a regular file opened for reading whose reads stop with an error
// past a size limit, and once its context is done.
type File struct {
	f    *os.File
	ctx  context.Context
	left int64 // bytes that may still be read
	max  int64
}

// Read reads from the file; past the size limit, or once the context is
// done, it returns an error instead.
func (f *File) Read(p []byte) (int, error) {
	if f.ctx != nil {
		if err := f.ctx.Err(); err != nil {
			return 0, context.Cause(f.ctx)
		}
	}
	if f.left <= 0 {
		// One byte more than allowed tells a file of exactly the limit
		// from a longer one.
		var one [1]byte
		if n, _ := f.f.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, &tooLargeError{max: f.max}
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.f.Read(p)
	f.left -= int64(n)
	return n, err
}

// ReadAll reads the rest of the file into one buffer sized from the file
// (within the limit) rather than grown as it fills: a saved plan of a
// million members is some 500 MB, which growing copied and cleared over
// and over (some 12 s of a 22 s read). A file that grows meanwhile is
// still read whole, up to the limit.
func (f *File) ReadAll() ([]byte, error) {
	size := int64(512)
	if st, err := f.f.Stat(); err == nil && st.Size() > 0 {
		size = min(st.Size(), f.left) + 1 // +1: the read that finds the end
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Stat returns the file's information.
func (f *File) Stat() (fs.FileInfo, error) { return f.f.Stat() }

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// tooLargeError is the error of a file larger than the limit.
type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("larger than --max-file-size (%d bytes)", e.max)
}

// Errors of OpenReferenced and openRegular; their text does not repeat the
// path, which the caller cites.
var (
	errAbsolute = errors.New("an absolute path is not allowed here: name a file relative to the file that names it")
	errEscapes  = errors.New("resolves outside the directory it must stay in (the directory of the file that names it, or --root)")
)

// OpenReferenced opens a file named inside a desired-state file (phones:,
// users:). rel is the value as written, relative to dir, the directory of
// the file that names it. The file must resolve, symlinks followed, inside
// root when root is not empty, otherwise inside dir; it must be a regular
// file of at most maxSize bytes (0: DefaultMaxFileSize), which the returned
// File enforces while it is read. Every reference is opened through here.
func OpenReferenced(dir, root, rel string, maxSize int64) (*File, error) {
	if rel == "" {
		return nil, errors.New("empty path")
	}
	if filepath.IsAbs(rel) || filepath.VolumeName(rel) != "" || strings.HasPrefix(rel, "/") || strings.HasPrefix(rel, `\`) {
		return nil, errAbsolute
	}
	within := dir
	if root != "" {
		within = root
	}
	withinReal, err := realPath(within)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve the directory it must stay in: %w", unwrapPath(err))
	}
	// A path outside gets errEscapes whether or not it exists, so that
	// the error tells nothing of the files outside: first lexically, then
	// resolved as far as the path exists, dangling symlinks followed.
	if root == "" && !filepath.IsLocal(rel) {
		return nil, errEscapes
	}
	full, err := filepath.Abs(filepath.Join(dir, rel))
	if err != nil {
		return nil, err
	}
	target, err := filepath.EvalSymlinks(full)
	if err != nil {
		if !inside(withinReal, resolveAsFar(full, 0)) {
			return nil, errEscapes
		}
		return nil, err
	}
	if !inside(withinReal, target) {
		return nil, errEscapes
	}
	return openRegular(target, maxSize)
}

// maxLinkHops bounds how many symlinks resolveAsFar follows.
const maxLinkHops = 40

// resolveAsFar returns where the absolute, clean path p leads: its symlinks
// resolved as far as it exists, a dangling symlink's target followed, and
// the rest of p joined on.
func resolveAsFar(p string, hops int) string {
	if resolved, err := filepath.EvalSymlinks(p); err == nil {
		return resolved
	}
	parent := filepath.Dir(p)
	if parent == p {
		return p
	}
	q := filepath.Join(resolveAsFar(parent, hops), filepath.Base(p))
	if hops < maxLinkHops {
		if link, err := os.Readlink(q); err == nil {
			if !filepath.IsAbs(link) {
				link = filepath.Join(filepath.Dir(q), link)
			}
			return resolveAsFar(link, hops+1)
		}
	}
	return q
}

// realPath returns the absolute path of p with every symlink resolved.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// inside reports whether path p lies in directory dir (both absolute and
// resolved).
func inside(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// OpenGiven opens a file named on the command line that is not a
// desired-state file (a saved plan, a report, a baseline): like those, a
// regular file of at most maxSize bytes (0: DefaultMaxFileSize), never a
// FIFO or device, whose reads stop once ctx is done.
func OpenGiven(ctx context.Context, path string, maxSize int64) (*File, error) {
	f, err := openRegular(path, maxSize)
	if err != nil {
		return nil, err
	}
	f.ctx = ctx
	return f, nil
}

// openRegular opens path for reading if it is a regular file of at most
// maxSize bytes (0: DefaultMaxFileSize). A FIFO, device, socket or
// directory is refused before it is opened, and the file is opened without
// blocking, so that a FIFO swapped in meanwhile cannot hang the run.
func openRegular(path string, maxSize int64) (*File, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(st); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fst, err := f.Stat()
	if err == nil {
		err = regular(fst)
	}
	if err == nil && !os.SameFile(st, fst) {
		err = errors.New("changed while it was opened")
	}
	if err == nil && fst.Size() > maxSize {
		err = &tooLargeError{max: maxSize}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{f: f, left: maxSize, max: maxSize}, nil
}

// regular returns an error unless st is a regular file.
func regular(st fs.FileInfo) error {
	m := st.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return errIsDir
	case m&fs.ModeNamedPipe != 0:
		return errors.New("is a FIFO, not a regular file")
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return errors.New("is a device, not a regular file")
	}
	return errors.New("is not a regular file")
}

// unwrapPath returns the cause of a path error without the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

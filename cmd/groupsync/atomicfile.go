package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/source"
)

// openGiven opens a file given on the command line that groupsync reads
// whole (a saved plan, a report, a baseline): a regular file, at most
// maxSize bytes (0: the default), read until ctx is done. Its errors name
// the path.
func openGiven(ctx context.Context, path string, maxSize int64) (*source.File, error) {
	f, err := source.OpenGiven(ctx, path, maxSize)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// readGiven reads a file given on the command line whole (see openGiven).
func readGiven(ctx context.Context, path string, maxSize int64) ([]byte, error) {
	f, err := openGiven(ctx, path, maxSize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := f.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// writeReportFile writes the report as JSON to path atomically: a reader never
// sees a half-written report.
// It passes the redaction red (nil: none).
func writeReportFile(path string, r *plan.Report, red *sink.Redactor) error {
	return writeAtomic(path, red, r.Encode)
}

// writeFileAtomic writes data to path through a synced temporary file in the
// same directory and a rename.
func writeFileAtomic(path string, data []byte) error {
	return writeAtomic(path, nil, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic writes what write writes to path, through the redaction red
// (nil: none), a synced temporary file in the same directory and a rename.
// The content is streamed: a plan or report of a million items is never
// held whole in memory.
func writeAtomic(path string, red *sink.Redactor, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		// Also when write panics: the temporary file never stays behind.
		if !renamed {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	rw := red.Writer(bw)
	if err = write(rw); err != nil {
		return err
	}
	if err = rw.Flush(); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	// A file replaced keeps its permissions (a report kept 0600 stays so);
	// a new one is 0644, as files are.
	mode := os.FileMode(0o644)
	if st, serr := os.Stat(path); serr == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	if err = os.Chmod(f.Name(), mode); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	renamed = true
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		d.Close()
	}
	return nil
}

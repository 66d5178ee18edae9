package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

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
	defer func() {
		if err != nil {
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
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		d.Close()
	}
	return nil
}

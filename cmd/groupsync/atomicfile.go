package main

import (
	"bytes"
	"os"
	"path/filepath"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// writeReportFile writes the report as JSON to path atomically: a reader never
// sees a half-written report.
// It passes the redaction red (nil: none).
func writeReportFile(path string, r *plan.Report, red *sink.Redactor) error {
	var b bytes.Buffer
	if err := r.Encode(&b); err != nil {
		return err
	}
	return writeFileAtomic(path, red.Bytes(b.Bytes()))
}

// writeFileAtomic writes data to path through a synced temporary file in the
// same directory and a rename.
func writeFileAtomic(path string, data []byte) (err error) {
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
	if _, err = f.Write(data); err != nil {
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

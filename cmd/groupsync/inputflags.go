package main

import (
	"flag"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/source"
)

// inputFlags are the flags that say how to read the desired-state files.
type inputFlags struct {
	defaultCountry string
	csvDelimiter   string
	root           string
	maxFileSize    int64
	files          bool // registerFiles was called
}

// registerFiles registers the flags that bound the reading of the files,
// for the commands that read them.
func (f *inputFlags) registerFiles(fs *flag.FlagSet) {
	f.files = true
	fs.StringVar(&f.root, "root", "", "files named inside the input files (phones:, users:) must resolve inside `DIR` (default: the directory of the file naming them)")
	fs.Int64Var(&f.maxFileSize, "max-file-size", source.DefaultMaxFileSize, "largest input file read, in bytes (the files given and the files they name)")
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.defaultCountry, "default-country", "", "read national phone numbers (0151 ...) as numbers of this `COUNTRY` (ISO 3166 alpha-2, as DE) where a group sets no default_country")
	fs.StringVar(&f.csvDelimiter, "csv-delimiter", "", "delimiter of member files whose phones: reference names none: \",\", \";\" or \"tab\" (default: detected from the header line)")
}

// check returns what is wrong with the flags, or "".
func (f *inputFlags) check() string {
	if f.files && f.maxFileSize < 1 {
		return "--max-file-size must be at least 1"
	}
	if f.defaultCountry != "" && !plan.ValidCountry(strings.ToUpper(f.defaultCountry)) {
		return "--default-country " + f.defaultCountry + " is not a country code (want ISO 3166 alpha-2, as DE or GB)"
	}
	if f.csvDelimiter != "" {
		if _, err := source.ParseDelimiter(f.csvDelimiter); err != nil {
			return "--csv-delimiter: " + err.Error()
		}
	}
	return ""
}

// options returns the flags as the reader takes them; check must have
// passed.
func (f *inputFlags) options() source.Options {
	opts := source.Options{DefaultCountry: strings.ToUpper(f.defaultCountry), Root: f.root, MaxFileSize: f.maxFileSize}
	if f.csvDelimiter != "" {
		opts.Delimiter, _ = source.ParseDelimiter(f.csvDelimiter)
	}
	return opts
}

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
	files          bool // --max-file-size is registered: the command reads files
}

// register registers on fs the input flags that the flag table lists for
// cmd.
func (f *inputFlags) register(fs *flag.FlagSet, cmd string) {
	vars := map[string]func(name, usage string){}
	f.addVars(fs, vars)
	registerFromTable(fs, cmd, vars)
}

// addVars adds to vars how to register each input flag on fs.
func (f *inputFlags) addVars(fs *flag.FlagSet, vars map[string]func(name, usage string)) {
	vars["default-country"] = func(n, u string) { fs.StringVar(&f.defaultCountry, n, "", u) }
	vars["csv-delimiter"] = func(n, u string) { fs.StringVar(&f.csvDelimiter, n, "", u) }
	vars["root"] = func(n, u string) { fs.StringVar(&f.root, n, "", u) }
	vars["max-file-size"] = func(n, u string) {
		f.files = true
		fs.Int64Var(&f.maxFileSize, n, source.DefaultMaxFileSize, u)
	}
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

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
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.defaultCountry, "default-country", "", "read national phone numbers (0151 ...) as numbers of this `COUNTRY` (ISO 3166 alpha-2, as DE) where a group sets no default_country")
	fs.StringVar(&f.csvDelimiter, "csv-delimiter", "", "delimiter of member files whose phones: reference names none: \",\", \";\" or \"tab\" (default: detected from the header line)")
}

// check returns what is wrong with the flags, or "".
func (f *inputFlags) check() string {
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
	opts := source.Options{DefaultCountry: strings.ToUpper(f.defaultCountry)}
	if f.csvDelimiter != "" {
		opts.Delimiter, _ = source.ParseDelimiter(f.csvDelimiter)
	}
	return opts
}

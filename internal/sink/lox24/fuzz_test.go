package lox24

import (
	"encoding/json"
	"testing"
)

var pageSeeds = []string{
	`{"hydra:member":[{"id":1,"name":"A"}],"hydra:totalItems":3,"hydra:view":{"hydra:next":"/groups?page=2"}}`,
	`{"member":[{"id":"2","phone":"+4915100000001","a":null}],"totalItems":1,"view":{"next":2}}`,
	`{"hydra:member":[],"hydra:totalItems":-1}`,
	`{"hydra:member":[null],"hydra:view":{"hydra:next":1e99}}`,
	`{"hydra:member":[{"id":".."}],"member":[]}`,
	`[{"id":1}]`, `null`, `{}`, ``,
}

// decodeGroups and decodePhones take any body without a panic, and every
// page they accept has a sane shape.
func FuzzDecodeGroups(f *testing.F) {
	for _, s := range pageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pg, err := decodeGroups(body)
		if err != nil {
			return
		}
		if pg.Total < 0 || pg.NextPage < 0 || (pg.NextIRI != "" && pg.NextPage != 0) {
			t.Fatalf("accepted an insane page: %+v", pg)
		}
		for i := range pg.Items {
			if k, err := checkID("group", pg.Items[i].ID); err == nil && !isKey(k) {
				t.Fatalf("checkID gave %q, which is no key", k)
			}
		}
	})
}

func FuzzDecodePhones(f *testing.F) {
	for _, s := range pageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pg, err := decodePhones(body, nil)
		if err != nil {
			return
		}
		if pg.Total < 0 || pg.NextPage < 0 {
			t.Fatalf("accepted an insane page: %+v", pg)
		}
		for i := range pg.Items {
			if !isKey(pg.Items[i].ID) {
				t.Fatalf("accepted the phone id %q, which is no key", pg.Items[i].ID)
			}
		}
	})
}

// The scanner reads a string as encoding/json does: the same text, and the
// same strings refused (control characters, bad escapes; invalid UTF-8 is
// replaced, not refused).
func FuzzScannerString(f *testing.F) {
	for _, s := range []string{`plain`, `Customer 12`, `tab\tand \u00fc \"q\"`, "K\xc3\xa4se", "x\xffy", "a\nb", `\`, `\u12`, `\ud800`, "\x7f", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		quoted := append(append([]byte{'"'}, text...), '"')
		var want string
		werr := json.Unmarshal(quoted, &want)
		d := &scanner{b: quoted}
		got, gerr := d.str()
		switch {
		case werr == nil && gerr != nil:
			t.Fatalf("%q: the scanner refused it: %v", quoted, gerr)
		case werr != nil && gerr == nil && d.i == len(quoted):
			t.Fatalf("%q: the scanner took what encoding/json refused: %v", quoted, werr)
		case werr != nil || gerr != nil:
			return // refused by both, or the text holds a quote that ends the string early
		}
		if string(got) != want || d.i != len(quoted) {
			t.Fatalf("%q: encoding/json %q, scanner %q (stopped at %d of %d)", quoted, want, got, d.i, len(quoted))
		}
	})
}

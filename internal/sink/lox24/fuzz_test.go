package lox24

import "testing"

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
		pg, err := decodePhones(body)
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

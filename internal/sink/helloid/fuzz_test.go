package helloid

import (
	"encoding/json"
	"testing"
)

// decodeList takes any body without a panic; what it accepts is a list
// that re-encodes, and null is never accepted.
func FuzzDecodeGroupList(f *testing.F) {
	for _, s := range []string{
		`[{"groupGuid":"ef24276a-cf39-44d7-b8e5-1012c0db5178","name":"A","isEnabled":true}]`,
		`{"data":[{"groupGuid":"x"}]}`, `{"pageData":[]}`, `{"data":null}`, `null`, `[]`, `[null]`, ``, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := decodeList[group](body)
		if err != nil {
			return
		}
		if string(body) == "null" {
			t.Fatal("null accepted as a list")
		}
		for i := range list {
			if _, err := groupListing().key(&list[i]); err == nil {
				_ = list[i].remote()
			}
		}
		if _, err := json.Marshal(list); err != nil {
			t.Fatal(err)
		}
	})
}

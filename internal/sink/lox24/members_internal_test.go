package lox24

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

func TestMemberPagesDecodeIntoThePackedForm(t *testing.T) {
	body := ` {"@context":"/contexts/Phone","hydra:totalItems":2,"hydra:member":[
		{"@id":"/phones/7","id":"7","phone":"+491510000001","a":"Mr.","b":null,"c":"","e":"Tab\tand \u00fc \"q\"","callback_data":"crm",
		 "subscribed_at":1700000000,"extra":{"nested":[1,2.5e3,true,false,null,"x"]}},
		{"id":8,"phone":"+491510000002","a":null,"d":"Käse"}],
		"hydra:view":{"@id":"/groups/1/phones?page=1","hydra:next":"/groups/1/phones?page=2"}} `
	pg, err := decodePhones([]byte(body), nil)
	require.NoError(t, err)
	assert.Equal(t, []plan.RemotePhone{
		plan.NewRemotePhone("7", "+491510000001", []string{"Mr.", "", "", "", "Tab\tand ü \"q\"", "crm"}),
		plan.NewRemotePhone("8", "+491510000002", []string{"", "", "", "Käse"}),
	}, pg.Items)
	assert.True(t, pg.HasTotal)
	assert.Equal(t, int64(2), pg.Total)
	assert.Equal(t, "/groups/1/phones?page=2", pg.NextIRI)
}

func TestMemberPagesTakeEitherSpellingAndAPageNumberForNext(t *testing.T) {
	pg, err := decodePhones([]byte(`{"member":[{"id":"0012","phone":"+4915100"}],"totalItems":1,"view":{"next":3}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, []plan.RemotePhone{plan.NewRemotePhone("12", "+4915100", nil)}, pg.Items, "the id as checkID gives it")
	assert.Equal(t, int64(1), pg.Total)
	assert.Equal(t, int64(3), pg.NextPage)

	pg, err = decodePhones([]byte(`{"hydra:member":[],"hydra:totalItems":null,"hydra:view":{"hydra:next":null}}`), nil)
	require.NoError(t, err)
	assert.False(t, pg.HasTotal)
	assert.Zero(t, pg.NextPage)
	assert.Empty(t, pg.NextIRI)
}

// The hand decoder answers as decodePage does, body for body.
func TestMemberPagesAreDecodedAsDecodePageDecodesThem(t *testing.T) {
	for _, body := range append(pageSeeds,
		`{"hydra:member":[{"id":5,"phone":"+49","a":"x","callback_data":null}],"hydra:view":{"hydra:next":"/p?page=2"}}`,
		`{"hydra:member":[{"id":"5","phone":"+49"}],"member":[]}`,
		`{"hydra:member":[],"hydra:totalItems":"3"}`,
		`{"hydra:member":[],"hydra:totalItems":1.5}`,
		`{"hydra:member":[],"hydra:view":{"hydra:next":"/a","next":"/b"}}`,
		`{"hydra:member":[],"hydra:view":{"hydra:next":0}}`,
		`{"hydra:member":null}`,
		`{"hydra:member":[{"id":"1","phone":"+49"}]} x`,
	) {
		want, werr := decodePage[phone]([]byte(body))
		got, gerr := decodePhones([]byte(body), nil)
		if werr != nil || gerr != nil {
			assert.Equal(t, werr != nil, gerr != nil, "%s: decodePage %v, decodePhones %v", body, werr, gerr)
			continue
		}
		assert.Equal(t, len(want.Items), len(got.Items), body)
		assert.Equal(t, want.Total, got.Total, body)
		assert.Equal(t, want.HasTotal, got.HasTotal, body)
		assert.Equal(t, want.NextIRI, got.NextIRI, body)
		assert.Equal(t, want.NextPage, got.NextPage, body)
	}
}

func TestMemberPagesThatCannotBeTrustedAreRefused(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"a plain array":              {`[{"id":"1","phone":"+49"}]`, "plain JSON array"},
		"no members":                 {`{"hydra:totalItems":0}`, "no hydra:member"},
		"members twice":              {`{"hydra:member":[],"hydra:member":[]}`, "given twice"},
		"members in both spellings":  {`{"hydra:member":[],"member":[]}`, "both hydra:member and member"},
		"a member's key twice":       {`{"hydra:member":[{"id":"1","phone":"+49","phone":"+48"}]}`, "given twice"},
		"a negative total":           {`{"hydra:member":[],"hydra:totalItems":-1}`, "not a count"},
		"a number for a column":      {`{"hydra:member":[{"id":"1","phone":"+49","a":5}]}`, "unexpected response body"},
		"truncated":                  {`{"hydra:member":[{"id":"1","phone":"+49"`, "unexpected response body"},
		"data after the page":        {`{"hydra:member":[]} {}`, "data after the page"},
		"a raw control character":    {"{\"hydra:member\":[{\"id\":\"1\",\"phone\":\"+4\n9\"}]}", "control character"},
		"an id that is no number":    {`{"hydra:member":[{"id":"7/../8","phone":"+49"}]}`, "item 1: a phone has the id"},
		"no id":                      {`{"hydra:member":[{"id":"1","phone":"+49"},{"phone":"+49"}]}`, "item 2: a phone has no id"},
		"a next that is neither":     {`{"hydra:member":[],"hydra:view":{"hydra:next":true}}`, "neither a link nor a page number"},
		"an id of zero":              {`{"hydra:member":[{"id":0,"phone":"+49"}]}`, "not a positive integer"},
		"an unterminated escape":     {`{"hydra:member":[{"id":"1","phone":"+49\`, "unexpected response body"},
		"a bad number among extras":  {`{"hydra:member":[{"id":"1","phone":"+49","x":01}]}`, "unexpected response body"},
		"a bad literal among extras": {`{"hydra:member":[{"id":"1","phone":"+49","x":nul}]}`, "unexpected response body"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodePhones([]byte(c.body), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestInvalidUTF8IsReplacedAsEncodingJSONDoes(t *testing.T) {
	pg, err := decodePhones([]byte("{\"hydra:member\":[{\"id\":\"1\",\"phone\":\"+49\",\"a\":\"x\xffy\"}]}"), nil)
	require.NoError(t, err)
	assert.Equal(t, "x\uFFFDy", pg.Items[0].Cols.Get(0))
}

// Keys are checked for duplicates as numbers, once, however far apart the
// two listings of a key are.
func TestDistinctKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		keys     []uint64
		distinct int
		twice    uint64
	}{
		"none":           {nil, 0, 0},
		"all distinct":   {[]uint64{30, 1, 20}, 3, 0},
		"far apart":      {[]uint64{9, 1, 2, 3, 9}, 4, 9},
		"smallest named": {[]uint64{8, 5, 8, 5, 5}, 2, 5},
		"large ids":      {[]uint64{1 << 62, 7, 1 << 62}, 2, 1 << 62},
	} {
		t.Run(name, func(t *testing.T) {
			distinct, twice := distinctKeys(tc.keys)
			assert.Equal(t, tc.distinct, distinct)
			assert.Equal(t, tc.twice, twice)
		})
	}
}

// memberPage is a page of n members as API Platform writes it (and the
// emulator serves it).
func memberPage(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"@context":"/contexts/Phones","@id":"/groups/1/phones","@type":"hydra:Collection","hydra:member":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"@id":"/phones/%d","@type":"Phones","id":"%d","phone":"+49151%08d","a":"Mr.","b":"Customer %d","c":null,"d":null,"e":null,"callback_data":"crm-%d","subscribed_at":null,"unsubscribed_at":null,"unsubscribe_reason":null}`,
			500000+i, 500000+i, i, i, i)
	}
	fmt.Fprintf(&b, `],"hydra:totalItems":1000000,"hydra:view":{"@id":"/groups/1/phones?page=5","@type":"hydra:PartialCollectionView","hydra:first":"/groups/1/phones?page=1","hydra:last":"/groups/1/phones?page=33334","hydra:previous":"/groups/1/phones?page=4","hydra:next":"/groups/1/phones?page=6"}}`)
	return []byte(b.String())
}

// BenchmarkDecodePhones decodes a page of 30 members, the size LOX24 serves.
func BenchmarkDecodePhones(b *testing.B) {
	body := memberPage(30)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var items []plan.RemotePhone // reused, as a listing reuses its pages' slices
	for b.Loop() {
		pg, err := decodePhones(body, items)
		if err != nil || len(pg.Items) != 30 {
			b.Fatal(err)
		}
		items = pg.Items[:0]
	}
}

// A page's slice is kept for the next page, emptied: what it held lives on
// in the listing only, and the spares are bounded.
func TestSparesKeepSlicesNotTheirItems(t *testing.T) {
	var s spares[plan.RemotePhone]
	assert.Nil(t, s.get())
	items := []plan.RemotePhone{plan.NewRemotePhone("1", "+49", nil), plan.NewRemotePhone("2", "+48", nil)}
	s.put(items)
	assert.Equal(t, plan.RemotePhone{}, items[0], "the item is no longer referenced from the spare")
	got := s.get()
	assert.Empty(t, got)
	assert.Equal(t, 2, cap(got))
	assert.Nil(t, s.get())
	for range 2 * maxSpares {
		s.put(make([]plan.RemotePhone, 1))
	}
	assert.Len(t, s.free, maxSpares)
}

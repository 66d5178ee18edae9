package lox24

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

func decode(t *testing.T, body string, limit int) ([]plan.RemotePhone, pageMeta, error) {
	t.Helper()
	var out []plan.RemotePhone
	meta, err := decodeMemberPage([]byte(body), &out, limit)
	return out, meta, err
}

func TestMemberPagesDecodeIntoThePackedForm(t *testing.T) {
	body := ` {"@context":"/contexts/Phone","hydra:totalItems":2,"hydra:member":[
		{"@id":"/phones/7","id":"7","phone":"+491510000001","a":"Mr.","b":null,"c":"","e":"Tab\tand \u00fc \"q\"","callback_data":"crm",
		 "subscribed_at":1700000000,"extra":{"nested":[1,2.5e3,true,false,null,"x"]}},
		{"id":8,"phone":"+491510000002","a":null,"d":"Käse"}],
		"hydra:view":{"@id":"/groups/1/phones?page=1","hydra:next":"/groups/1/phones?page=2"}} `
	got, meta, err := decode(t, body, -1)
	require.NoError(t, err)
	assert.Equal(t, []plan.RemotePhone{
		plan.NewRemotePhone("7", "+491510000001", []string{"Mr.", "", "", "", "Tab\tand ü \"q\"", "crm"}),
		plan.NewRemotePhone("8", "+491510000002", []string{"", "", "", "Käse"}),
	}, got)
	require.NotNil(t, meta.total)
	assert.Equal(t, 2, *meta.total)
	assert.Equal(t, "/groups/1/phones?page=2", meta.next)
	assert.Equal(t, 2, meta.count)
}

func TestMemberPagesTakeEitherSpellingOfTheHydraKeys(t *testing.T) {
	got, meta, err := decode(t, `{"member":[{"id":"1","phone":"+4915100"}],"totalItems":1,"view":{"next":null}}`, -1)
	require.NoError(t, err)
	assert.Equal(t, []plan.RemotePhone{plan.NewRemotePhone("1", "+4915100", nil)}, got)
	require.NotNil(t, meta.total)
	assert.Equal(t, 1, *meta.total)
	assert.Empty(t, meta.next)
}

func TestMemberPagesThatCannotBeTrustedAreRefused(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"a plain array":           {`[{"id":"1","phone":"+49"}]`, "plain JSON array"},
		"no members":              {`{"hydra:totalItems":0}`, "no hydra:member"},
		"members twice":           {`{"hydra:member":[],"hydra:member":[]}`, "given twice"},
		"members in two spelling": {`{"hydra:member":[],"member":[]}`, "given twice"},
		"total twice":             {`{"hydra:member":[],"hydra:totalItems":1,"totalItems":1}`, "given twice"},
		"next twice":              {`{"hydra:member":[],"hydra:view":{"hydra:next":"a","next":"b"}}`, "given twice"},
		"a member's key twice":    {`{"hydra:member":[{"id":"1","phone":"+49","phone":"+48"}]}`, "given twice in a member"},
		"a negative total":        {`{"hydra:member":[],"hydra:totalItems":-1}`, "not a count"},
		"a fractional total":      {`{"hydra:member":[],"hydra:totalItems":1.5}`, "not a count"},
		"a number for a column":   {`{"hydra:member":[{"id":"1","phone":"+49","a":5}]}`, "unexpected response body"},
		"truncated":               {`{"hydra:member":[{"id":"1","phone":"+49"`, "unexpected response body"},
		"unterminated string":     {`{"hydra:member":[{"id":"1","phone":"+49`, "unexpected response body"},
		"data after the page":     {`{"hydra:member":[]} {}`, "data after the page"},
		"a bad number":            {`{"hydra:member":[{"id":01,"phone":"+49"}]}`, "unexpected response body"},
		"an id that is no number": {`{"hydra:member":[{"id":"7/../8","phone":"+49"}]}`, "is not a number"},
		"a raw control character": {"{\"hydra:member\":[{\"id\":\"1\",\"phone\":\"+4\n9\"}]}", "control character"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := decode(t, c.body, -1)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestAMemberPageLargerThanItsPlaceIsAnError(t *testing.T) {
	body := `{"hydra:member":[` + strings.TrimSuffix(strings.Repeat(`{"id":"1","phone":"+49"},`, 3), ",") + `]}`
	_, _, err := decode(t, body, 2)
	require.ErrorIs(t, err, errPageOverflow)
	got, _, err := decode(t, body, 3)
	require.NoError(t, err)
	assert.Len(t, got, 3)
}

func TestInvalidUTF8IsReplacedAsEncodingJSONDoes(t *testing.T) {
	got, _, err := decode(t, "{\"hydra:member\":[{\"id\":\"1\",\"phone\":\"+49\",\"a\":\"x\xffy\"}]}", -1)
	require.NoError(t, err)
	assert.Equal(t, "x\uFFFDy", got[0].Cols.Get(0))
}

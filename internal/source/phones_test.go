package source

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"groupsync/internal/plan"
)

func TestReadPhones(t *testing.T) {
	cols := func(kv ...string) plan.Columns {
		var c [plan.NumPhoneCols]string
		for i := 0; i+1 < len(kv); i += 2 {
			for j, name := range plan.PhoneColumns {
				if name == kv[i] {
					c[j] = kv[i+1]
				}
			}
		}
		return plan.MakeColumns(c[:]...)
	}
	managed := func(names ...string) [plan.NumPhoneCols]bool {
		var m [plan.NumPhoneCols]bool
		for _, n := range names {
			for j, name := range plan.PhoneColumns {
				if name == n {
					m[j] = true
				}
			}
		}
		return m
	}
	tests := []struct {
		name     string
		in       string
		labels   map[string]int
		want     plan.Phones // checked when wantErrs is empty
		wantErrs []string
	}{
		{
			name: "columns a..e and callback_data are managed when present",
			in:   "phone,a,c,callback_data\n+49 151 1234-5678,Mr.,x,crm-1\n0049 170 1234567,,,\n",
			want: plan.Phones{Managed: managed("a", "c", "callback_data"), List: []plan.Phone{
				{Number: "+4915112345678", Cols: cols("a", "Mr.", "c", "x", "callback_data", "crm-1"), Line: 2},
				{Number: "+491701234567", Line: 3},
			}},
		},
		{
			name: "only the phone column",
			in:   "phone\n+4915112345678\n",
			want: plan.Phones{List: []plan.Phone{{Number: "+4915112345678", Line: 2}}},
		},
		{
			name: "a header row only is an empty member list",
			in:   "phone,b\n",
			want: plan.Phones{Managed: managed("b")},
		},
		{
			name:   "a header may be the column's label",
			in:     "phone,prefix,city\n+4915112345678,Mr.,Berlin\n",
			labels: map[string]int{"prefix": 0, "city": 4},
			want: plan.Phones{Managed: managed("a", "e"), List: []plan.Phone{
				{Number: "+4915112345678", Cols: cols("a", "Mr.", "e", "Berlin"), Line: 2},
			}},
		},
		{
			name:   "a label that is its own column's letter is unambiguous",
			in:     "phone,a,b\n+4915112345678,x,y\n",
			labels: map[string]int{"a": 0},
			want: plan.Phones{Managed: managed("a", "b"), List: []plan.Phone{
				{Number: "+4915112345678", Cols: cols("a", "x", "b", "y"), Line: 2},
			}},
		},
		{
			name:     "a label that is another column's letter is ambiguous",
			in:       "phone,b\n+4915112345678,x\n",
			labels:   map[string]int{"b": 0},
			wantErrs: []string{`p.csv:1: column "b" is ambiguous: it is a column's name and the label of column a (name_a)`},
		},
		{
			name:     "a label several columns share is ambiguous",
			in:       "phone,x\n+4915112345678,x\n",
			labels:   map[string]int{"x": -1},
			wantErrs: []string{`p.csv:1: column "x" is ambiguous: several of name_a..name_e have this label`},
		},
		{
			name:     "a column and its label together repeat the column",
			in:       "phone,a,prefix\n+4915112345678,x,y\n",
			labels:   map[string]int{"prefix": 0},
			wantErrs: []string{`p.csv:1: column "prefix" repeats column "a"`},
		},
		{
			name:     "unknown and repeated columns are errors",
			in:       "phone,f,a,a,phone\n+4915112345678,x,y,z,+4915112345679\n",
			wantErrs: []string{`p.csv:1: unknown column "f" (want phone, a..e, callback_data, or a label from the group's name_a..name_e)`, `p.csv:1: column "a" repeated`, `p.csv:1: column "phone" repeated`},
		},
		{
			name:     "the phone column is required",
			in:       "a,b\nx,y\n",
			wantErrs: []string{`p.csv:1: missing column "phone" (required)`},
		},
		{
			name:     "a header row is required",
			in:       "",
			wantErrs: []string{"p.csv:1: empty file: a header row is required"},
		},
		{
			name: "a UTF-8 byte order mark and CRLF line ends are accepted",
			in:   "\uFEFFphone,a\r\n+4915112345678,x\r\n+4915112345679,\r\n",
			want: plan.Phones{Managed: managed("a"), List: []plan.Phone{
				{Number: "+4915112345678", Cols: cols("a", "x"), Line: 2},
				{Number: "+4915112345679", Line: 3},
			}},
		},
		{
			name: "limits count characters, not bytes",
			in:   "phone,a,callback_data\n+4915112345678," + letters("ü", 1530) + "," + letters("ü", 36) + "\n",
			want: plan.Phones{Managed: managed("a", "callback_data"), List: []plan.Phone{
				{Number: "+4915112345678", Cols: cols("a", letters("ü", 1530), "callback_data", letters("ü", 36)), Line: 2},
			}},
		},
		{
			name: "columns over their limits are errors",
			in:   "phone,e,callback_data\n+4915112345678," + letters("ü", 1531) + "," + letters("ü", 37) + "\n",
			wantErrs: []string{
				"p.csv:2: e: 1531 characters, at most 1530",
				"p.csv:2: callback_data: 37 characters, at most 36",
			},
		},
		{
			name:     "a phone is at most 30 characters as written",
			in:       "phone\n+49 151 1234 5678 9 0 1 2 3 4 5\n+49 151 1234 5678 9 0 1 2 3 4\n",
			wantErrs: []string{"p.csv:2: phone: 31 characters, at most 30", `p.csv:3: phone: "+49 151 1234 5678 9 0 1 2 3 4" is too long`},
		},
		{
			name:     "a national number without a default country is an error",
			in:       "phone\n0151 123\n",
			wantErrs: []string{`p.csv:2: phone: "0151 123" is a national number: set default_country for its group (or --default-country), or write it with its country code (+...)`},
		},
		{
			name:     "an empty phone is an error",
			in:       "phone,a\n,x\n",
			wantErrs: []string{"p.csv:2: phone: missing (required)"},
		},
		{
			name:     "the same number twice is an error naming both lines",
			in:       "phone\n+4915112345678\n+4915112345679\n0049 151 1234 5678\n",
			wantErrs: []string{"p.csv:4: phone +4915112345678 is also on line 2"},
		},
		{
			name:     "a row with the wrong number of cells is an error",
			in:       "phone,a\n+4915112345678\n",
			wantErrs: []string{"p.csv:2: 1 cell, but the header has 2"},
		},
		{
			name:     "a second header row is an error",
			in:       "phone,a\n+4915112345678,x\nphone,a\n",
			wantErrs: []string{"p.csv:3: the header row again: a file has one header row"},
		},
		{
			name: "one run reports every error",
			in:   "phone,a\n0151,x\n+4915112345678,y\n+4915112345678,z\n+49 1\n",
			wantErrs: []string{
				`p.csv:2: phone: "0151" is a national number: set default_country for its group (or --default-country), or write it with its country code (+...)`,
				"p.csv:4: phone +4915112345678 is also on line 3",
				"p.csv:5: 1 cell, but the header has 2",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ReadPhones("p.csv", strings.NewReader(tt.in), tt.labels)
			assert.Equal(t, tt.wantErrs, errStrings(errs))
			if len(tt.wantErrs) == 0 {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestReadPhonesCapsErrorsPerFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone\n")
	for range maxErrorsPerFile + 5 {
		b.WriteString("bad\n")
	}
	_, errs := ReadPhones("p.csv", strings.NewReader(b.String()), nil)
	assert.Len(t, errs, maxErrorsPerFile+1)
	assert.Equal(t, "p.csv: too many errors: the first 100 are shown, 5 more are not", errs[0].Error())
	assert.Equal(t, `p.csv:2: phone: "bad" has 'b', which a phone number cannot have`, errs[1].Error())
}

package source

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

// utf16File encodes s as UTF-16 with a byte order mark.
func utf16File(s string, bigEndian bool) string {
	var b strings.Builder
	put := func(u uint16) {
		if bigEndian {
			b.WriteByte(byte(u >> 8))
			b.WriteByte(byte(u))
		} else {
			b.WriteByte(byte(u))
			b.WriteByte(byte(u >> 8))
		}
	}
	put(0xFEFF)
	for _, u := range utf16.Encode([]rune(s)) {
		put(u)
	}
	return b.String()
}

func TestReadPhonesDialects(t *testing.T) {
	want := []plan.Phone{{Number: "+4915112345678", Cols: plan.MakeColumns("Jürgen", "Müller"), Line: 2}}
	tests := []struct {
		name string
		in   string
		d    Dialect
	}{
		{"a semicolon-separated file (Excel in most of Europe) is detected", "phone;a;b\n+49 151 12345678;Jürgen;Müller\n", Dialect{}},
		{"a tab-separated file is detected", "phone\ta\tb\n+49 151 12345678\tJürgen\tMüller\n", Dialect{}},
		{"a delimiter given explicitly wins", "phone;a;b\n+49 151 12345678;Jürgen;Müller\n", Dialect{Delimiter: ';'}},
		{"a semicolon file whose cells hold commas", "phone;a;b\n+49 151 12345678;Jürgen;Müller\n", Dialect{Delimiter: ';'}},
		{"UTF-8 with a byte order mark", "\uFEFFphone,a,b\r\n+49 151 12345678,Jürgen,Müller\r\n", Dialect{}},
		{"UTF-16 little endian with a byte order mark", utf16File("phone;a;b\r\n+49 151 12345678;Jürgen;Müller\r\n", false), Dialect{}},
		{"UTF-16 big endian with a byte order mark", utf16File("phone,a,b\n+49 151 12345678,Jürgen,Müller\n", true), Dialect{}},
		{"windows-1252", "phone;a;b\n+49 151 12345678;J\xfcrgen;M\xfcller\n", Dialect{Encoding: "windows-1252"}},
		{"iso-8859-1", "phone,a,b\n+49 151 12345678,J\xfcrgen,M\xfcller\n", Dialect{Encoding: "iso-8859-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ReadPhonesWith("p.csv", strings.NewReader(tt.in), PhoneOptions{Dialect: tt.d})
			require.Empty(t, errStrings(errs))
			assert.Equal(t, want, got.List)
		})
	}
	t.Run("bytes that are not UTF-8 are one error for the file, naming the first line", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("phone,a,b\n+49 151 12345678,Jürgen,Müller\n")
		for i := range 500 {
			b.WriteString("+49 151 1234" + strings.Repeat("5", 1) + string(rune('0'+i%10)) + "00,J\xfcrgen,M\xfcller\n")
		}
		_, errs := ReadPhonesWith("p.csv", strings.NewReader(b.String()), PhoneOptions{})
		assert.Equal(t, []string{`p.csv:3: not valid UTF-8 (the first bad byte is on this line): save the file as "CSV UTF-8", or name its encoding (encoding: windows-1252)`}, errStrings(errs))
	})
	t.Run("a lone surrogate in UTF-16 is one error for the file, naming its line", func(t *testing.T) {
		for _, big := range []bool{false, true} {
			in := utf16File("phone,a\n+49 151 12345678,Ann\n+49 151 12345679,B", big)
			if big {
				in += "\xD8\x00"
			} else {
				in += "\x00\xD8"
			}
			in += utf16File("ob\n+49 151 12345670,Cy\n", big)[2:] // no second byte order mark
			_, errs := ReadPhonesWith("p.csv", strings.NewReader(in), PhoneOptions{})
			assert.Equal(t, []string{`p.csv:3: not valid UTF-16 (the first bad character is on this line): save the file as "CSV UTF-8"`}, errStrings(errs))
		}
	})
	t.Run("a UTF-16 file that ends in half a character is an error", func(t *testing.T) {
		in := utf16File("phone,a\n+49 151 12345678,Ann\n", false) + "x"
		_, errs := ReadPhonesWith("p.csv", strings.NewReader(in), PhoneOptions{})
		assert.Equal(t, []string{`p.csv:3: not valid UTF-16 (the first bad character is on this line): save the file as "CSV UTF-8"`}, errStrings(errs))
	})
	t.Run("a replacement character written in UTF-16 is text like any other", func(t *testing.T) {
		in := utf16File("phone,a\n+49 151 12345678,A\uFFFD\U0001F600\n", false)
		got, errs := ReadPhonesWith("p.csv", strings.NewReader(in), PhoneOptions{})
		require.Empty(t, errStrings(errs))
		assert.Equal(t, []plan.Phone{{Number: "+4915112345678", Cols: plan.MakeColumns("A\uFFFD\U0001F600"), Line: 2}}, got.List)
	})
	t.Run("bytes windows-1252 does not define are one error for the file, naming the first line", func(t *testing.T) {
		for _, b := range []string{"\x81", "\x8d", "\x8f", "\x90", "\x9d"} {
			in := "phone,a\n+4915112345678,Ann\n+4915112345679,J" + b + "rgen\n+4915112345670,M" + b + "ller\n"
			got, errs := ReadPhonesWith("p.csv", strings.NewReader(in), PhoneOptions{Dialect: Dialect{Encoding: "windows-1252"}})
			assert.Equal(t, []string{`p.csv:3: not valid windows-1252 (the first bad byte is on this line): save the file as "CSV UTF-8"`}, errStrings(errs), "byte %q", b)
			for _, p := range got.List {
				assert.NotContains(t, p.Cols.Get(0), "\uFFFD", "no damaged text is read")
			}
		}
	})
	t.Run("every byte is defined in iso-8859-1", func(t *testing.T) {
		in := "phone,a\n+4915112345678,\xe9\xff\xa4\n"
		got, errs := ReadPhonesWith("p.csv", strings.NewReader(in), PhoneOptions{Dialect: Dialect{Encoding: "latin1"}})
		require.Empty(t, errStrings(errs))
		assert.Equal(t, []plan.Phone{{Number: "+4915112345678", Cols: plan.MakeColumns("éÿ¤"), Line: 2}}, got.List)
	})
	t.Run("a windows-1252 bad byte is found across the reader's buffer", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("phone,a\n")
		for i := range 40 { // 40 rows of 1 kB: the bad byte is far past the first read
			b.WriteString("+49151123456" + string(rune('1'+i/10)) + string(rune('0'+i%10)) + "," + strings.Repeat("\xe9\x80", 500) + "\n")
		}
		b.WriteString("+4915112345999,\x81\n")
		_, errs := ReadPhonesWith("p.csv", strings.NewReader(b.String()), PhoneOptions{Dialect: Dialect{Encoding: "cp1252"}})
		require.Len(t, errs, 1)
		assert.Contains(t, errs[0].Error(), "p.csv:42: not valid windows-1252")
	})
	t.Run("the first bad byte is found across the reader's buffer", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("phone,a\n")
		for i := range 40 { // 40 rows of 2 kB: the bad byte is far past the first read
			b.WriteString("+49151123456" + string(rune('1'+i/10)) + string(rune('0'+i%10)) + "," + strings.Repeat("é", 1000) + "\n")
		}
		b.WriteString("+4915112345999,\xff\n")
		_, errs := ReadPhonesWith("p.csv", strings.NewReader(b.String()), PhoneOptions{})
		require.Len(t, errs, 1)
		assert.Contains(t, errs[0].Error(), "p.csv:42: not valid UTF-8")
	})
}

func TestReadPhonesColumnMapping(t *testing.T) {
	hr := "Personnel no.;First name;Last name;Email;Department;Mobile\n" +
		"1001;Anna;Schmidt;anna@acme.example;Sales;0151 12345678\n" +
		"1002;Ben;Weber;ben@acme.example;IT;+49 (0)176 3077052\n"
	opts := PhoneOptions{Country: "DE", Columns: map[string]string{"phone": "Mobile", "a": "First name", "b": "Last name"}}
	got, errs := ReadPhonesWith("hr.csv", strings.NewReader(hr), opts)
	require.Empty(t, errStrings(errs))
	assert.Equal(t, [plan.NumPhoneCols]bool{true, true}, got.Managed, "only the mapped columns are managed")
	assert.Equal(t, []plan.Phone{
		{Number: "+4915112345678", Cols: plan.MakeColumns("Anna", "Schmidt"), Line: 2},
		{Number: "+491763077052", Cols: plan.MakeColumns("Ben", "Weber"), Line: 3},
	}, got.List)

	t.Run("without a mapping the extra columns are errors, as before", func(t *testing.T) {
		_, errs := ReadPhonesWith("hr.csv", strings.NewReader(hr), PhoneOptions{Country: "DE"})
		assert.Contains(t, errStrings(errs), `hr.csv:1: unknown column "Email" (want phone, a..e, callback_data, or a label from the group's name_a..name_e)`)
	})
	t.Run("a column the mapping does not name is ignored, even one called as a field", func(t *testing.T) {
		in := "Mobile,a,b,callback_data\n+49 151 12345678,Dr.,Anna,crm-1\n"
		got, errs := ReadPhonesWith("hr.csv", strings.NewReader(in), PhoneOptions{Columns: map[string]string{"phone": "Mobile", "a": "b"}})
		require.Empty(t, errStrings(errs))
		assert.Equal(t, [plan.NumPhoneCols]bool{true}, got.Managed, "only a is managed, read from the file's b")
		assert.Equal(t, []plan.Phone{{Number: "+4915112345678", Cols: plan.MakeColumns("Anna"), Line: 2}}, got.List)
	})
	t.Run("a mapped header the file does not have is an error", func(t *testing.T) {
		opts := PhoneOptions{Columns: map[string]string{"phone": "Handy"}}
		_, errs := ReadPhonesWith("hr.csv", strings.NewReader(hr), opts)
		assert.Equal(t, []string{`hr.csv:1: column "Handy" (columns: phone) is not in the file`}, errStrings(errs))
	})
}

func TestReadPhonesNumbers(t *testing.T) {
	in := "phone\n+49 (0)176 3077052\n0049 176 3077052\n+1 23\n4915112345678\n4.91511E+12\n0151 12345678\n"
	_, errs := ReadPhonesWith("p.csv", strings.NewReader(in), PhoneOptions{})
	assert.Equal(t, []string{
		"p.csv:3: phone +491763077052 is also on line 2",
		`p.csv:4: phone: "+1 23" is too short`,
		`p.csv:5: phone: "4915112345678" has no country code: did you mean +4915112345678?`,
		`p.csv:6: phone: "4.91511E+12" is in scientific notation: a spreadsheet rounded this number; format the column as text and export the file again`,
		`p.csv:7: phone: "0151 12345678" is a national number: set default_country for its group (or --default-country), or write it with its country code (+...)`,
	}, errStrings(errs))
}

func TestReadFileReferences(t *testing.T) {
	t.Run("a YAML group maps its file's headers, names its dialect and country", func(t *testing.T) {
		inDir(t, map[string]string{
			"groups.yaml": "lox24:\n  groups:\n    - name: Staff\n      default_country: de\n" +
				"      phones: {path: hr.csv, delimiter: \";\", encoding: windows-1252}\n" +
				"      columns: {phone: Mobile, a: First name, b: Last name}\n",
			"hr.csv": "Email;First name;Last name;Mobile\nj@acme.example;J\xfcrgen;M\xfcller;0151 12345678\n",
		})
		d, err := Read([]string{"groups.yaml"})
		require.NoError(t, err)
		ph := d.Groups[0].Phones
		assert.Equal(t, "DE", ph.Country)
		assert.Equal(t, []plan.Phone{{Number: "+4915112345678", Cols: plan.MakeColumns("Jürgen", "Müller"), Line: 2}}, ph.List)
	})
	t.Run("the groups CSV takes default_country; --default-country fills in for groups without", func(t *testing.T) {
		inDir(t, map[string]string{
			"groups.csv": "system,name,phones,default_country\nlox24,AT,at.csv,AT\nlox24,DE,de.csv,\n",
			"at.csv":     "phone\n0664 123456\n",
			"de.csv":     "phone\n0151 12345678\n",
		})
		_, err := Read([]string{"groups.csv"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "de.csv:2: phone: \"0151 12345678\" is a national number")
		d, err := ReadWith([]string{"groups.csv"}, Options{DefaultCountry: "DE"})
		require.NoError(t, err)
		assert.Equal(t, "+43664123456", d.Groups[0].Phones.List[0].Number)
		assert.Equal(t, "+4915112345678", d.Groups[1].Phones.List[0].Number)
	})
	t.Run("bad references are errors", func(t *testing.T) {
		inDir(t, map[string]string{
			"groups.yaml": "lox24:\n  groups:\n    - name: A\n      default_country: XX\n      phones: {path: a.csv, delimiter: \"|\", encoding: ebcdic, sheet: 1}\n" +
				"      columns: {phone: Mobile, f: Fax, a: Mobile}\n    - name: B\n      default_country: DE\n    - name: C\n      phones: {delimiter: \";\"}\n",
			"a.csv": "Mobile\n+4915112345678\n",
		})
		_, err := Read([]string{"groups.yaml"})
		require.Error(t, err)
		for _, want := range []string{
			`groups.yaml:4:24: default_country: "XX" is not a country code (want ISO 3166 alpha-2, as DE or GB)`,
			`delimiter: "|" is not a delimiter`,
			`encoding: "ebcdic" is not an encoding groupsync reads`,
			`unknown key "sheet" in phones (want path, delimiter or encoding)`,
			`columns: unknown field "f" (want phone, a..e or callback_data)`,
			`columns: "Mobile" is mapped to both phone and a`,
			`groups.yaml:8:24: default_country: only valid with phones`,
			`groups.yaml:10:15: phones: path: missing (required)`,
		} {
			assert.Contains(t, err.Error(), want)
		}
	})
}

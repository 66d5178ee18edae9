package plan

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// appendChange appends c to dst as the JSON plan writes an item: the bytes
// encoding/json writes for Change's fields (two-space indentation after
// prefix, text not HTML-escaped, a Value as Value.MarshalJSON writes it),
// without reflection and without an allocation for an item whose fields
// are plain: a million member creates are written in constant memory. The
// rare parts of a group delete (base, members, snapshot, expect) are
// encoded by encoding/json. fields is scratch space for a compact phone
// create's field list; the grown scratch is returned for the next call.
func appendChange(dst []byte, c *Change, prefix string, fields []FieldChange) ([]byte, []FieldChange, error) {
	in := indentOf(prefix)
	key := func(name string) {
		dst = append(dst, ",\n"...)
		dst = append(dst, in...)
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `": `...)
	}
	text := func(name, v string) {
		key(name)
		dst = appendJSONString(dst, v, false)
	}
	dst = append(dst, "{\n"...)
	dst = append(dst, in...)
	dst = append(dst, `"system": `...)
	dst = appendJSONString(dst, string(c.System), false)
	text("kind", string(c.Kind))
	text("action", string(c.Action))
	if c.Key != "" {
		text("key", c.Key)
	}
	text("name", c.Name)
	if c.GroupKey != "" {
		text("group", c.GroupKey)
	}
	if c.DependsOn != 0 {
		key("depends_on")
		dst = strconv.AppendInt(dst, int64(c.DependsOn), 10)
	}
	if c.Phone != "" {
		text("phone", c.Phone)
	}
	if c.User != "" {
		text("user", c.User)
	}
	if c.Country != "" {
		text("country", c.Country)
	}
	list := c.Fields
	if c.member != nil {
		fields = c.appendMemberFields(fields[:0])
		list = fields
	}
	if len(list) > 0 {
		key("fields")
		dst = append(dst, "[\n"...)
		for i, f := range list {
			if i > 0 {
				dst = append(dst, ",\n"...)
			}
			dst = append(dst, in...)
			dst = append(dst, "  {\n"...)
			dst = append(dst, in...)
			dst = append(dst, `    "field": `...)
			dst = appendJSONString(dst, f.Field, false)
			dst = append(dst, ",\n"...)
			dst = append(dst, in...)
			dst = append(dst, `    "before": `...)
			dst = appendValue(dst, f.Before)
			dst = append(dst, ",\n"...)
			dst = append(dst, in...)
			dst = append(dst, `    "after": `...)
			dst = appendValue(dst, f.After)
			dst = append(dst, '\n')
			dst = append(dst, in...)
			dst = append(dst, "  }"...)
		}
		dst = append(dst, '\n')
		dst = append(dst, in...)
		dst = append(dst, ']')
	}
	var err error
	rare := func(name string, v any) {
		if err != nil {
			return
		}
		key(name)
		dst, err = appendIndented(dst, in, v)
	}
	if len(c.Base) > 0 {
		rare("base", c.Base)
	}
	key("source")
	dst = append(dst, "{\n"...)
	dst = append(dst, in...)
	dst = append(dst, `  "file": `...)
	dst = appendJSONString(dst, c.Source.File, false)
	dst = append(dst, ",\n"...)
	dst = append(dst, in...)
	dst = append(dst, `  "line": `...)
	dst = strconv.AppendInt(dst, int64(c.Source.Line), 10)
	dst = append(dst, '\n')
	dst = append(dst, in...)
	dst = append(dst, '}')
	if c.Note != "" {
		text("note", c.Note)
	}
	if c.Members != nil {
		rare("members", c.Members)
	}
	if c.Snapshot != nil {
		rare("snapshot", c.Snapshot)
	}
	if c.Expect != nil {
		rare("expect", c.Expect)
	}
	if c.Error != "" {
		text("error", c.Error)
	}
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	dst = append(dst, '}')
	return dst, fields, err
}

// spaces is indentation that needs no allocation.
const spaces = "                                "

// indentOf returns prefix and one more level of indentation.
func indentOf(prefix string) string {
	if n := len(prefix) + 2; n <= len(spaces) && prefix == spaces[:len(prefix)] {
		return spaces[:n]
	}
	return prefix + "  "
}

// appendIndented appends v as encoding/json writes it at indentation
// prefix, text not HTML-escaped.
func appendIndented(dst []byte, prefix string, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

// appendValue appends v as Value.MarshalJSON writes it: null, or a string
// as json.Marshal writes one (HTML characters escaped).
func appendValue(dst []byte, v Value) []byte {
	if !v.Valid {
		return append(dst, "null"...)
	}
	return appendJSONString(dst, v.S, true)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it: quotes, backslashes and control characters escaped (\b, \f,
// \n, \r, \t by name), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped,
// and <, > and & escaped when html is set.
func appendJSONString(dst []byte, s string, html bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && (!html || (b != '<' && b != '>' && b != '&')) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

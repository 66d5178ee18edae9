package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// member is one key and raw value of a JSON object, in document order.
type member struct {
	key string
	val json.RawMessage
}

// errTooLarge is returned by readBody for bodies over maxRequestBody.
var errTooLarge = errors.New("request body too large")

// readBody reads r's body up to maxRequestBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return b, err
}

// decodeValue checks that data is exactly one JSON value and returns it.
func decodeValue(data []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty body")
		}
		return nil, fmt.Errorf("syntax error: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("syntax error: data after the JSON value")
	}
	return raw, nil
}

// decodeObject splits a JSON object into its members in document order. It
// fails on anything that is not exactly one object. Two keys equal under
// same (exact, or ignoring case) are an error.
func decodeObject(raw json.RawMessage, same func(a, b string) bool) ([]member, error) {
	if jsonKind(raw) != "object" {
		return nil, fmt.Errorf("expected a JSON object, got %s", jsonKind(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		for _, m := range out {
			if same(m.key, key) {
				return nil, fmt.Errorf("duplicate key %q", key)
			}
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		out = append(out, member{key, val})
	}
	return out, nil
}

// decodeArray splits a JSON array into its elements.
func decodeArray(raw json.RawMessage) ([]json.RawMessage, error) {
	if jsonKind(raw) != "array" {
		return nil, fmt.Errorf("expected a JSON array, got %s", jsonKind(raw))
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// jsonKind names the type of a raw JSON value.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// nullableString decodes a JSON string or null.
func nullableString(raw json.RawMessage) (*string, bool) {
	switch jsonKind(raw) {
	case "null":
		return nil, true
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false
		}
		return &s, true
	}
	return nil, false
}

// jsonBool decodes a JSON true or false; anything else (null included) fails.
func jsonBool(raw json.RawMessage) (bool, bool) {
	if jsonKind(raw) != "boolean" {
		return false, false
	}
	var b bool
	return b, json.Unmarshal(raw, &b) == nil
}

// mediaType returns the media type of a Content-Type or Accept entry,
// lowercased and without parameters ("" when absent or unparsable).
func mediaType(v string) string {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

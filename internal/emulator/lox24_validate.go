package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// violation is one failed constraint, as API Platform reports it.
type violation struct {
	PropertyPath string `json:"propertyPath"`
	Message      string `json:"message"`
}

// violationList is API Platform's 422 body.
type violationList struct {
	Context     string      `json:"@context"`
	Type        string      `json:"@type"`
	Title       string      `json:"hydra:title"`
	Description string      `json:"hydra:description"`
	Violations  []violation `json:"violations"`
}

func newViolationList(vs []violation) violationList {
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.PropertyPath + ": " + v.Message
	}
	return violationList{
		Context: "/contexts/ConstraintViolationList", Type: "ConstraintViolationList",
		Title: "An error occurred", Description: strings.Join(lines, "\n"), Violations: vs,
	}
}

func loxViolations(w http.ResponseWriter, vs []violation) {
	writeJSON(w, http.StatusUnprocessableEntity, ctypeLD, encodeJSON(newViolationList(vs), false))
}

func tooLongMsg(n int) string {
	return fmt.Sprintf("This value is too long. It should have %d characters or less.", n)
}

// groupWrite is a decoded POST/PUT /groups body.
type groupWrite struct {
	name        *string
	description *string
	cols        [5]*string
	hasPhones   bool
	phones      []phoneWrite
}

// phoneWrite is a decoded Phone (write) body.
type phoneWrite struct {
	phone        *string
	cols         [5]*string
	callbackData *string
}

// badRequestError is a body that cannot be deserialized: 400.
type badRequestError struct{ msg string }

func (e *badRequestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &badRequestError{fmt.Sprintf(format, args...)}
}

func phpType(raw json.RawMessage) string {
	switch k := jsonKind(raw); k {
	case "number":
		if strings.ContainsAny(string(raw), ".eE") {
			return "float"
		}
		return "int"
	case "boolean":
		return "bool"
	case "object":
		return "array"
	case "null":
		return "NULL"
	default:
		return k
	}
}

func typeError(attr string, raw json.RawMessage) error {
	return badRequest("The type of the %q attribute must be \"string\", %q given.", attr, phpType(raw))
}

func sameKey(a, b string) bool { return a == b }

// parseBody reads the request body as exactly one JSON value.
func parseBody(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	raw, err := decodeValue(body)
	if err != nil {
		return nil, badRequest("Syntax error: %v", err)
	}
	return raw, nil
}

// parseGroupWrite decodes a group body. Unknown keys and wrong types are
// 400 errors; the read-only keys id, count_items, deleted_at and the
// JSON-LD keys are accepted and ignored (§3 #9).
func parseGroupWrite(raw json.RawMessage) (groupWrite, []violation, error) {
	var gw groupWrite
	members, err := decodeObject(raw, sameKey)
	if err != nil {
		return gw, nil, badRequest("Syntax error: %v", err)
	}
	var vs []violation
	for _, m := range members {
		switch m.key {
		case "name", "description", "name_a", "name_b", "name_c", "name_d", "name_e":
			v, ok := nullableString(m.val)
			if !ok {
				return gw, nil, typeError(m.key, m.val)
			}
			switch m.key {
			case "name":
				gw.name = v
			case "description":
				gw.description = v
			default:
				gw.cols[m.key[5]-'a'] = v
			}
		case "phones":
			gw.hasPhones = true
			switch jsonKind(m.val) {
			case "array":
				items, err := decodeArray(m.val)
				if err != nil {
					return gw, nil, badRequest("Syntax error: %v", err)
				}
				for i, it := range items {
					pw, pvs, err := parsePhoneWrite(it, fmt.Sprintf("phones[%d].", i))
					if err != nil {
						return gw, nil, err
					}
					gw.phones = append(gw.phones, pw)
					vs = append(vs, pvs...)
				}
			case "object":
				// The EN 2.24 schema: an object of phones under arbitrary
				// keys, taken in document order (§1.3, §3 #7).
				items, err := decodeObject(m.val, sameKey)
				if err != nil {
					return gw, nil, badRequest("Syntax error: %v", err)
				}
				for _, it := range items {
					pw, pvs, err := parsePhoneWrite(it.val, "phones["+it.key+"].")
					if err != nil {
						return gw, nil, err
					}
					gw.phones = append(gw.phones, pw)
					vs = append(vs, pvs...)
				}
			default:
				return gw, nil, badRequest("The type of the \"phones\" attribute must be \"array\", %q given.", phpType(m.val))
			}
		case "id", "count_items", "deleted_at", "@context", "@id", "@type":
			// read-only: ignored on write
		default:
			return gw, nil, badRequest("Extra attributes are not allowed (%q is unknown).", m.key)
		}
	}
	var head []violation
	switch {
	case gw.name == nil || *gw.name == "":
		head = append(head, violation{"name", msgNotBlank})
	case tooLong(gw.name, maxGroupName):
		head = append(head, violation{"name", tooLongMsg(maxGroupName)})
	}
	if tooLong(gw.description, maxDescription) {
		head = append(head, violation{"description", tooLongMsg(maxDescription)})
	}
	for i, c := range gw.cols {
		if tooLong(c, maxColumnName) {
			head = append(head, violation{"name_" + string(rune('a'+i)), tooLongMsg(maxColumnName)})
		}
	}
	return gw, append(head, vs...), nil
}

// parsePhoneWrite decodes a Phone (write) object; prefix goes before the
// property paths of its violations.
func parsePhoneWrite(raw json.RawMessage, prefix string) (phoneWrite, []violation, error) {
	var pw phoneWrite
	if jsonKind(raw) != "object" {
		return pw, nil, badRequest("The type of the %q attribute must be \"array\", %q given.", strings.TrimSuffix(prefix, "."), phpType(raw))
	}
	members, err := decodeObject(raw, sameKey)
	if err != nil {
		return pw, nil, badRequest("Syntax error: %v", err)
	}
	for _, m := range members {
		switch m.key {
		case "phone", "a", "b", "c", "d", "e", "callback_data":
			v, ok := nullableString(m.val)
			if !ok {
				return pw, nil, typeError(prefix+m.key, m.val)
			}
			switch m.key {
			case "phone":
				pw.phone = v
			case "callback_data":
				pw.callbackData = v
			default:
				pw.cols[m.key[0]-'a'] = v
			}
		case "id", "subscribed_at", "unsubscribed_at", "unsubscribe_reason", "@context", "@id", "@type":
			// read-only: ignored on write
		default:
			return pw, nil, badRequest("Extra attributes are not allowed (%q is unknown).", prefix+m.key)
		}
	}
	var vs []violation
	switch {
	case pw.phone == nil || *pw.phone == "":
		vs = append(vs, violation{prefix + "phone", msgNotBlank})
	case tooLong(pw.phone, maxPhone):
		vs = append(vs, violation{prefix + "phone", tooLongMsg(maxPhone)})
	}
	for i, c := range pw.cols {
		if tooLong(c, maxColumnValue) {
			vs = append(vs, violation{prefix + string(rune('a'+i)), tooLongMsg(maxColumnValue)})
		}
	}
	if tooLong(pw.callbackData, maxCallbackData) {
		vs = append(vs, violation{prefix + "callback_data", tooLongMsg(maxCallbackData)})
	}
	return pw, vs, nil
}

func (pw phoneWrite) newPhone() *loxPhone {
	return &loxPhone{phone: *pw.phone, cols: pw.cols, callbackData: pw.callbackData}
}

// writeFailure answers the error of reading or decoding a body.
func writeFailure(w http.ResponseWriter, err error) {
	var br *badRequestError
	switch {
	case errors.Is(err, errTooLarge):
		loxError(w, http.StatusRequestEntityTooLarge, "Request body too large")
	case errors.As(err, &br):
		loxError(w, http.StatusBadRequest, br.msg)
	default:
		loxError(w, http.StatusBadRequest, "Cannot read the request body")
	}
}

// readWrite reads a body and parses it with parse, answering 400/413/415
// or 422 with violations itself; ok is false when it did.
func readWrite[T any](w http.ResponseWriter, r *http.Request, parse func(json.RawMessage) (T, []violation, error)) (T, bool) {
	var zero T
	raw, err := parseBody(w, r)
	if err != nil {
		writeFailure(w, err)
		return zero, false
	}
	v, vs, err := parse(raw)
	if err != nil {
		writeFailure(w, err)
		return zero, false
	}
	if len(vs) > 0 {
		loxViolations(w, vs)
		return zero, false
	}
	return v, true
}

// readGroupWrite reads and validates a group body (see readWrite).
func readGroupWrite(w http.ResponseWriter, r *http.Request) (groupWrite, bool) {
	return readWrite(w, r, parseGroupWrite)
}

// readPhoneWrite reads and validates a phone body (see readWrite).
func readPhoneWrite(w http.ResponseWriter, r *http.Request) (phoneWrite, bool) {
	return readWrite(w, r, func(raw json.RawMessage) (phoneWrite, []violation, error) { return parsePhoneWrite(raw, "") })
}

package lox24

import (
	"encoding/json"
	"fmt"
	"strconv"

	"groupsync/internal/plan"
)

// group is a group as the API reads and writes it.
type group struct {
	ID          json.RawMessage `json:"id,omitempty"` // checked by checkID before use
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	NameA       *string         `json:"name_a"`
	NameB       *string         `json:"name_b"`
	NameC       *string         `json:"name_c"`
	NameD       *string         `json:"name_d"`
	NameE       *string         `json:"name_e"`
	// DeletedAt is read only: never set on a write, so never sent.
	DeletedAt *string `json:"deleted_at,omitempty"`
}

// fields maps the plan's field names to the group's.
func (g *group) fields() map[string]**string {
	return map[string]**string{
		"description": &g.Description,
		"name_a":      &g.NameA, "name_b": &g.NameB, "name_c": &g.NameC,
		"name_d": &g.NameD, "name_e": &g.NameE,
	}
}

// remote maps a group whose id was checked (key is checkID's answer).
func (g *group) remote(key string) plan.RemoteGroup {
	r := plan.RemoteGroup{Key: key, Name: g.Name, Fields: map[string]plan.Value{}}
	if g.DeletedAt != nil {
		r.DeletedAt = *g.DeletedAt
	}
	for name, p := range g.fields() {
		r.Fields[name] = value(*p)
	}
	return r
}

func value(p *string) plan.Value {
	if p == nil {
		return plan.Null
	}
	return plan.Str(*p)
}

func ptr(v plan.Value) *string {
	if !v.Valid {
		return nil
	}
	s := v.S
	return &s
}

// phone is a phone entry as the API reads and writes it.
type phone struct {
	ID           json.RawMessage `json:"id,omitempty"` // a string in the docs' schema, an integer in paths; checked by checkID
	Phone        string          `json:"phone"`
	A            *string         `json:"a"`
	B            *string         `json:"b"`
	C            *string         `json:"c"`
	D            *string         `json:"d"`
	E            *string         `json:"e"`
	CallbackData *string         `json:"callback_data"`
}

func (p *phone) cols() [plan.NumPhoneCols]**string {
	return [plan.NumPhoneCols]**string{&p.A, &p.B, &p.C, &p.D, &p.E, &p.CallbackData}
}

// phoneBody is the write representation of a change's resulting record.
func phoneBody(rec map[string]plan.Value) phone {
	p := phone{Phone: rec["phone"].S}
	for i, c := range p.cols() {
		*c = ptr(rec[plan.PhoneColumns[i]])
	}
	return p
}

// checkID checks a record id as the API gave it (a JSON number or a
// numeric string) and returns it as a key: a positive integer in decimal.
// Nothing else ever goes into a path.
func checkID(noun string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", fmt.Errorf("a %s has no id", noun)
	}
	text := string(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		text = s
	}
	n, err := strconv.ParseUint(text, 10, 63)
	if err != nil || n == 0 {
		return "", fmt.Errorf("a %s has the id %s, not a positive integer", noun, trimRaw(raw))
	}
	return strconv.FormatUint(n, 10), nil
}

package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// readHIDObject reads the body as one JSON object whose keys are matched
// ignoring case (§3 HelloID #9); the returned map is keyed in lowercase.
func readHIDObject(w http.ResponseWriter, r *http.Request) ([]member, bool) {
	body, err := readBody(w, r)
	if err != nil {
		hidError(w, http.StatusBadRequest, "The request body could not be read: "+err.Error())
		return nil, false
	}
	raw, err := decodeValue(body)
	if err != nil {
		hidError(w, http.StatusBadRequest, "The request is invalid: "+err.Error())
		return nil, false
	}
	obj, err := hidObject(raw)
	if err != nil {
		hidError(w, http.StatusBadRequest, "The request is invalid: "+err.Error())
		return nil, false
	}
	return obj, true
}

// hidObject splits a JSON object into its members with lowercased keys, in
// document order. Keys that differ only in case are duplicates.
func hidObject(raw json.RawMessage) ([]member, error) {
	members, err := decodeObject(raw, strings.EqualFold)
	for i := range members {
		members[i].key = strings.ToLower(members[i].key)
	}
	return members, err
}

// hidWrite is a decoded POST or PUT group body; nil pointers are absent keys.
type hidWrite struct {
	name        *string
	isEnabled   *bool
	isDefault   *bool
	isQrEnabled *bool
	hasManager  bool
	manager     *string // lowercase GUID, or nil to clear
	users       []string
}

// parseHIDWrite decodes a group body. create allows the membership lists of
// POST: userGuids become members; userNames, applicationNames and
// applicationGUIDs are type-checked and ignored (the emulator has no
// application directory, and groupsync sends GUIDs). Anything else unknown is an error. The second
// result is the message of a 400 answer, "" when the body is valid.
func parseHIDWrite(obj []member, create bool) (hidWrite, string) {
	var hw hidWrite
	for _, m := range obj {
		key, val := m.key, m.val
		switch key {
		case "name":
			v, ok := nullableString(val)
			if !ok || v == nil {
				return hw, fmt.Sprintf("Name must be a string, not %s.", jsonKind(val))
			}
			if strings.TrimSpace(*v) == "" {
				return hw, "The Name field is required."
			}
			hw.name = v
		case "isenabled", "isdefault", "isqrenabled":
			b, ok := jsonBool(val)
			if !ok {
				return hw, fmt.Sprintf("%s must be true or false, not %s.", hidField(key), jsonKind(val))
			}
			switch key {
			case "isenabled":
				hw.isEnabled = &b
			case "isdefault":
				hw.isDefault = &b
			default:
				hw.isQrEnabled = &b
			}
		case "managedbyuserguid":
			v, ok := nullableString(val)
			if !ok {
				return hw, fmt.Sprintf("ManagedByUserGuid must be a GUID or null, not %s.", jsonKind(val))
			}
			hw.hasManager = true
			if v != nil {
				guid, ok := parseGUID(*v)
				if !ok {
					return hw, fmt.Sprintf("ManagedByUserGuid %q is not a valid GUID.", *v)
				}
				hw.manager = &guid
			}
		case "userguids", "usernames", "applicationnames", "applicationguids":
			if !create {
				return hw, fmt.Sprintf("%s cannot be changed with PUT; use the membership endpoints.", hidField(key))
			}
			var list []string
			if jsonKind(val) != "null" {
				if jsonKind(val) != "array" || json.Unmarshal(val, &list) != nil {
					return hw, fmt.Sprintf("%s must be an array of strings.", hidField(key))
				}
			}
			if key == "userguids" {
				for _, u := range list {
					guid, ok := parseGUID(u)
					if !ok {
						return hw, fmt.Sprintf("UserGUIDs: %q is not a valid GUID.", u)
					}
					hw.users = appendUnique(hw.users, guid)
				}
			}
		default:
			return hw, fmt.Sprintf("The property '%s' is not known.", key)
		}
	}
	if create && hw.name == nil {
		return hw, "The Name field is required."
	}
	return hw, ""
}

// hidField spells a lowercased key as the docs do.
func hidField(key string) string {
	switch key {
	case "isenabled":
		return "IsEnabled"
	case "isdefault":
		return "IsDefault"
	case "isqrenabled":
		return "IsQrEnabled"
	case "userguids":
		return "UserGUIDs"
	case "usernames":
		return "UserNames"
	case "applicationnames":
		return "ApplicationNames"
	case "applicationguids":
		return "ApplicationGUIDs"
	}
	return key
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func (hw hidWrite) newGroup(guid string) *hidGroup {
	g := &hidGroup{guid: guid, name: *hw.name, manager: hw.manager, users: hw.users}
	if hw.isEnabled != nil {
		g.isEnabled = *hw.isEnabled
	}
	if hw.isDefault != nil {
		g.isDefault = *hw.isDefault
	}
	if hw.isQrEnabled != nil {
		g.isQrEnabled = *hw.isQrEnabled
	}
	return g
}

func duplicateName(name string) string {
	return fmt.Sprintf("A group with the name '%s' already exists.", name)
}

// queryInt reads an integer query parameter whose name matches ignoring
// case. ok is false when it is present but not an integer >= least.
func queryInt(r *http.Request, name string, least int) (n int, present, ok bool) {
	for k, vs := range r.URL.Query() {
		if !strings.EqualFold(k, name) {
			continue
		}
		n, err := strconv.Atoi(vs[len(vs)-1])
		return n, true, err == nil && n >= least
	}
	return 0, false, true
}

// readGUIDBody reads a body of exactly one key (matched ignoring case)
// holding a GUID, such as {"userGUID": "..."}.
func readGUIDBody(w http.ResponseWriter, r *http.Request, key string) (string, bool) {
	obj, ok := readHIDObject(w, r)
	if !ok {
		return "", false
	}
	var raw json.RawMessage
	for _, m := range obj {
		if m.key != strings.ToLower(key) {
			hidError(w, http.StatusBadRequest, fmt.Sprintf("The property '%s' is not known.", m.key))
			return "", false
		}
		raw = m.val
	}
	v, isString := nullableString(raw)
	present := raw != nil
	if !present || !isString || v == nil {
		hidError(w, http.StatusBadRequest, fmt.Sprintf("The %s field is required.", key))
		return "", false
	}
	guid, ok := parseGUID(*v)
	if !ok {
		hidError(w, http.StatusBadRequest, fmt.Sprintf("%s %q is not a valid GUID.", key, *v))
		return "", false
	}
	return guid, true
}

// unknownUser returns the message of a 400 answer when a create names a
// userGuid the directory does not hold, "" when every one exists.
func (db *store) unknownUser(guids []string) string {
	for _, g := range guids {
		if u := db.hidUser(g); u == nil || u.guid != g {
			return fmt.Sprintf("UserGUIDs: user '%s' not found.", g)
		}
	}
	return ""
}

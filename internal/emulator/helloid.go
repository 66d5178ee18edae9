package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// HelloID messages. "Group not found" and "User not found" are matched by
// real clients (§2.0, §3 HelloID #6).
const (
	msgGroupNotFound = "Group not found"
	msgUserNotFound  = "User not found"
	msgUnauthorized  = "Authorization has been denied for this request."
)

// hidOut is a HelloID group as every endpoint returns it (camelCase, §3 #9).
type hidOut struct {
	GroupGUID         string   `json:"groupGuid"`
	Name              string   `json:"name"`
	IsEnabled         bool     `json:"isEnabled"`
	IsDefault         bool     `json:"isDefault"`
	IsQrEnabled       bool     `json:"isQrEnabled"`
	ManagedByUserGUID *string  `json:"managedByUserGuid"`
	Users             []string `json:"users"`
}

func hidRep(g *hidGroup) hidOut {
	return hidOut{
		GroupGUID: g.guid, Name: g.name, IsEnabled: g.isEnabled, IsDefault: g.isDefault,
		IsQrEnabled: g.isQrEnabled, ManagedByUserGUID: clone(g.manager),
		Users: append(make([]string, 0, len(g.users)), g.users...),
	}
}

// hidError answers status with HelloID's error shape {"message": ...}.
func hidError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ctypeJSON, encodeJSON(map[string]string{"message": msg}, false))
}

func hidRespond(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, ctypeJSON, encodeJSON(v, false))
}

// hidOK answers 200 with an empty body (DELETE and the link endpoints).
func hidOK(w http.ResponseWriter) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// serveHelloID runs the HelloID checks (credentials, route, method,
// Content-Type) and then the handler. HelloID has no lockout.
func (s *Server) serveHelloID(w http.ResponseWriter, r *http.Request, rt *route, args []string) {
	key, secret, ok := r.BasicAuth()
	if !ok ||
		subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.HelloIDKey)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.HelloIDSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="HelloID"`)
		hidError(w, http.StatusUnauthorized, msgUnauthorized)
		return
	}
	if rt == nil {
		hidError(w, http.StatusNotFound, fmt.Sprintf("No HTTP resource was found that matches the request URI '%s'.", r.URL.Path))
		return
	}
	h := rt.handlers[r.Method]
	if h == nil {
		w.Header().Set("Allow", rt.allow())
		hidError(w, http.StatusMethodNotAllowed, fmt.Sprintf("The requested resource does not support http method '%s'.", r.Method))
		return
	}
	// Content-Type is required on POST and PUT; the docs list it for DELETE
	// too, but a DELETE has no body, so the emulator does not insist there.
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if mediaType(r.Header.Get("Content-Type")) != "application/json" {
			hidError(w, http.StatusUnsupportedMediaType,
				fmt.Sprintf("The request entity's media type '%s' is not supported for this resource.", r.Header.Get("Content-Type")))
			return
		}
	}
	h(w, r, args)
}

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
// applicationGUIDs are type-checked and ignored (the emulator has no user
// or application directory). Anything else unknown is an error. The second
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

// hidListGroups answers a bare array in creation order (§3 HelloID #3),
// paged by skip (>= 0) and take (>= 1); without take, every group after
// skip (§3 HelloID #2).
func (s *Server) hidListGroups(w http.ResponseWriter, r *http.Request, _ []string) {
	skip, _, ok := queryInt(r, "skip", 0)
	if !ok {
		hidError(w, http.StatusBadRequest, "The request is invalid: skip must be an integer of at least 0.")
		return
	}
	take, hasTake, ok := queryInt(r, "take", 1)
	if !ok {
		hidError(w, http.StatusBadRequest, "The request is invalid: take must be an integer of at least 1.")
		return
	}
	s.mu.Lock()
	groups := s.db.hid
	lo := min(skip, len(groups))
	hi := len(groups)
	if hasTake {
		hi = lo + min(take, hi-lo)
	}
	out := make([]hidOut, 0, hi-lo)
	for _, g := range groups[lo:hi] {
		out = append(out, hidRep(g))
	}
	s.mu.Unlock()
	hidRespond(w, http.StatusOK, out)
}

func (s *Server) hidGetGroup(w http.ResponseWriter, r *http.Request, args []string) {
	s.mu.Lock()
	_, g := s.db.hidFind(args[0])
	var out hidOut
	if g != nil {
		out = hidRep(g)
	}
	s.mu.Unlock()
	if g == nil {
		hidError(w, http.StatusNotFound, msgGroupNotFound)
		return
	}
	hidRespond(w, http.StatusOK, out)
}

func (s *Server) hidCreateGroup(w http.ResponseWriter, r *http.Request, _ []string) {
	obj, ok := readHIDObject(w, r)
	if !ok {
		return
	}
	hw, msg := parseHIDWrite(obj, true)
	if msg != "" {
		hidError(w, http.StatusBadRequest, msg)
		return
	}
	guid := s.newGUID()
	s.mu.Lock()
	if _, dup := s.db.hidByName(*hw.name); dup != nil {
		s.mu.Unlock()
		hidError(w, http.StatusBadRequest, duplicateName(*hw.name))
		return
	}
	g := hw.newGroup(guid)
	s.db.hid = append(s.db.hid, g)
	out := hidRep(g)
	s.mu.Unlock()
	hidRespond(w, http.StatusOK, out)
}

// hidCreateGroups is POST /groups/batch. The docs do not say how a batch
// with a bad item behaves; the emulator takes the strict reading: every item
// is checked first, and one bad item (or a name used twice) fails the whole
// batch with 400 and creates nothing. Success is 200 with the created groups.
func (s *Server) hidCreateGroups(w http.ResponseWriter, r *http.Request, _ []string) {
	body, err := readBody(w, r)
	if err != nil {
		hidError(w, http.StatusBadRequest, "The request body could not be read: "+err.Error())
		return
	}
	raw, err := decodeValue(body)
	var items []json.RawMessage
	if err == nil {
		items, err = decodeArray(raw)
	}
	if err == nil && len(items) == 0 {
		err = errors.New("empty array")
	}
	if err != nil {
		hidError(w, http.StatusBadRequest, "The request is invalid: "+err.Error())
		return
	}
	writes := make([]hidWrite, len(items))
	for i, it := range items {
		obj, err := hidObject(it)
		if err != nil {
			hidError(w, http.StatusBadRequest, fmt.Sprintf("Item %d: the request is invalid: %v", i, err))
			return
		}
		var msg string
		if writes[i], msg = parseHIDWrite(obj, true); msg != "" {
			hidError(w, http.StatusBadRequest, fmt.Sprintf("Item %d: %s", i, msg))
			return
		}
	}
	guids := make([]string, len(writes))
	for i := range guids {
		guids[i] = s.newGUID()
	}
	s.mu.Lock()
	seen := map[string]bool{}
	for i, hw := range writes {
		key := foldName(*hw.name)
		if _, dup := s.db.hidByName(*hw.name); dup != nil || seen[key] {
			s.mu.Unlock()
			hidError(w, http.StatusBadRequest, fmt.Sprintf("Item %d: %s", i, duplicateName(*hw.name)))
			return
		}
		seen[key] = true
	}
	out := make([]hidOut, len(writes))
	for i, hw := range writes {
		g := hw.newGroup(guids[i])
		s.db.hid = append(s.db.hid, g)
		out[i] = hidRep(g)
	}
	s.mu.Unlock()
	hidRespond(w, http.StatusOK, out)
}

// hidPutGroup is a partial update (§2.2): only keys present change, a null
// manager clears it (§3 HelloID #8), {} changes nothing.
func (s *Server) hidPutGroup(w http.ResponseWriter, r *http.Request, args []string) {
	obj, ok := readHIDObject(w, r)
	if !ok {
		return
	}
	hw, msg := parseHIDWrite(obj, false)
	if msg != "" {
		hidError(w, http.StatusBadRequest, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g := s.db.hidFind(args[0])
	if g == nil {
		hidError(w, http.StatusNotFound, msgGroupNotFound)
		return
	}
	if hw.name != nil {
		if _, other := s.db.hidByName(*hw.name); other != nil && other != g {
			hidError(w, http.StatusBadRequest, duplicateName(*hw.name))
			return
		}
		g.name = *hw.name
	}
	if hw.isEnabled != nil {
		g.isEnabled = *hw.isEnabled
	}
	if hw.isDefault != nil {
		g.isDefault = *hw.isDefault
	}
	if hw.isQrEnabled != nil {
		g.isQrEnabled = *hw.isQrEnabled
	}
	if hw.hasManager {
		g.manager = hw.manager
	}
	hidRespond(w, http.StatusOK, hidRep(g))
}

// hidDeleteGroup answers 200 with no body; an unknown group is 404 (§3
// HelloID #7).
func (s *Server) hidDeleteGroup(w http.ResponseWriter, r *http.Request, args []string) {
	s.mu.Lock()
	i, g := s.db.hidFind(args[0])
	if g != nil {
		s.db.hid = append(s.db.hid[:i], s.db.hid[i+1:]...)
	}
	s.mu.Unlock()
	if g == nil {
		hidError(w, http.StatusNotFound, msgGroupNotFound)
		return
	}
	hidOK(w)
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

// userRef resolves a user path segment. The emulator keeps no user
// directory: any GUID is an existing user, and a user name cannot be
// resolved (404 "User not found").
func userRef(ref string) (string, bool) {
	return parseGUID(ref)
}

// link makes user a member of the group named by ref: 200 also when it
// already is one (§3 HelloID #10).
func (s *Server) link(w http.ResponseWriter, find func() *hidGroup, user string) {
	s.mu.Lock()
	g := find()
	if g != nil {
		g.users = appendUnique(g.users, user)
	}
	s.mu.Unlock()
	if g == nil {
		hidError(w, http.StatusNotFound, msgGroupNotFound)
		return
	}
	hidOK(w)
}

// unlink removes user from the group named by ref: 400 when the user is
// not a member (§3 HelloID #10).
func (s *Server) unlink(w http.ResponseWriter, groupRef, userSeg string) {
	user, ok := userRef(userSeg)
	if !ok {
		hidError(w, http.StatusNotFound, msgUserNotFound)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g := s.db.hidFind(groupRef)
	if g == nil {
		hidError(w, http.StatusNotFound, msgGroupNotFound)
		return
	}
	for i, u := range g.users {
		if u == user {
			g.users = append(g.users[:i], g.users[i+1:]...)
			hidOK(w)
			return
		}
	}
	hidError(w, http.StatusBadRequest, "The user is not a member of the group.")
}

// hidLinkUser is POST /groups/{group}/users with {"userGUID": ...}.
func (s *Server) hidLinkUser(w http.ResponseWriter, r *http.Request, args []string) {
	user, ok := readGUIDBody(w, r, "userGUID")
	if !ok {
		return
	}
	s.link(w, func() *hidGroup { _, g := s.db.hidFind(args[0]); return g }, user)
}

// hidUnlinkUser is DELETE /groups/{group}/users/{user}.
func (s *Server) hidUnlinkUser(w http.ResponseWriter, r *http.Request, args []string) {
	s.unlink(w, args[0], args[1])
}

// hidLinkGroupToUser is POST /users/{user}/groups with {"groupGUID": ...}.
func (s *Server) hidLinkGroupToUser(w http.ResponseWriter, r *http.Request, args []string) {
	user, ok := userRef(args[0])
	if !ok {
		hidError(w, http.StatusNotFound, msgUserNotFound)
		return
	}
	group, ok := readGUIDBody(w, r, "groupGUID")
	if !ok {
		return
	}
	s.link(w, func() *hidGroup {
		for _, g := range s.db.hid {
			if g.guid == group {
				return g
			}
		}
		return nil
	}, user)
}

// hidUnlinkGroupFromUser is DELETE /users/{user}/groups/{group}.
func (s *Server) hidUnlinkGroupFromUser(w http.ResponseWriter, r *http.Request, args []string) {
	s.unlink(w, args[1], args[0])
}

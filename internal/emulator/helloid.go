package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
	Source            string   `json:"source"`
}

// hidListItem is a HelloID group as GET /groups lists it: without its
// members. They come with the single-group GET, as the connectors read
// them; a listing leaves them out, so that it stays small however many
// members the groups have, and no client can rely on them there (the docs
// do not say a listing holds them).
type hidListItem struct {
	GroupGUID         string  `json:"groupGuid"`
	Name              string  `json:"name"`
	IsEnabled         bool    `json:"isEnabled"`
	IsDefault         bool    `json:"isDefault"`
	IsQrEnabled       bool    `json:"isQrEnabled"`
	ManagedByUserGUID *string `json:"managedByUserGuid"`
	Source            string  `json:"source"`
}

// hidUserOut is a HelloID user as /users returns it.
type hidUserOut struct {
	UserGUID string `json:"userGuid"`
	UserName string `json:"userName"`
}

func hidRep(g *hidGroup) hidOut {
	return hidOut{
		GroupGUID: g.guid, Name: g.name, IsEnabled: g.isEnabled, IsDefault: g.isDefault,
		IsQrEnabled: g.isQrEnabled, ManagedByUserGUID: clone(g.manager),
		Users:  append(make([]string, 0, len(g.users)), g.users...),
		Source: hidSource(g.source),
	}
}

// hidSource is the source a group reports: "Local" for one made in HelloID.
func hidSource(s string) string {
	if s == "" {
		return "Local"
	}
	return s
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

// hidListGroups answers the groups in creation order (§3 HelloID #2, #3).
func (s *Server) hidListGroups(w http.ResponseWriter, r *http.Request, _ []string) {
	s.hidListPaged(w, r, "/api/v1/groups", func() int { return len(s.db.hid) },
		func(i int) any {
			g := s.db.hid[i]
			return hidListItem{GroupGUID: g.guid, Name: g.name, IsEnabled: g.isEnabled, IsDefault: g.isDefault,
				IsQrEnabled: g.isQrEnabled, ManagedByUserGUID: clone(g.manager), Source: hidSource(g.source)}
		})
}

// hidListUsers is GET /users: the directory in creation order, paged (and
// quirked) like /groups.
func (s *Server) hidListUsers(w http.ResponseWriter, r *http.Request, _ []string) {
	s.hidListPaged(w, r, "/api/v1/users", func() int { return len(s.db.hidUsers) },
		func(i int) any { u := s.db.hidUsers[i]; return hidUserOut{UserGUID: u.guid, UserName: u.name} })
}

// hidListPaged answers one page of a HelloID list (a bare array, §3
// HelloID #3), paged by skip (>= 0) and take (>= 1); without take, every
// item after skip (§3 HelloID #2). The quirks take-cap, the wrappers and
// drift apply. count and rep are called under s.mu: the number of items in
// the list, and item i as answered. coll names the list for drift.
func (s *Server) hidListPaged(w http.ResponseWriter, r *http.Request, coll string, count func() int, rep func(i int) any) {
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
	if most := s.opts.Quirks.TakeCap; most > 0 {
		if !hasTake {
			take = most
		}
		take, hasTake = min(take, most), true
	}
	if skip == 0 {
		s.driftStart(coll)
	}
	s.mu.Lock()
	n := count()
	lo := min(skip, n)
	hi := n
	if hasTake {
		hi = lo + min(take, hi-lo)
	}
	d := s.driftIndex(coll, lo, hi, n)
	out := make([]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		j := i
		if i == hi-1 && d >= 0 {
			j = d // the listing drifts: one item again, the last one skipped
		}
		out = append(out, rep(j))
	}
	s.mu.Unlock()
	s.hidList(w, out)
}

// hidGetUser is GET /users/{userNameOrGuid}: 404 "User not found".
func (s *Server) hidGetUser(w http.ResponseWriter, r *http.Request, args []string) {
	s.mu.Lock()
	u := s.db.hidUser(args[0])
	var out hidUserOut
	if u != nil {
		out = hidUserOut{UserGUID: u.guid, UserName: u.name}
	}
	s.mu.Unlock()
	if u == nil {
		hidError(w, http.StatusNotFound, msgUserNotFound)
		return
	}
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
	if msg := s.db.unknownUser(hw.users); msg != "" {
		s.mu.Unlock()
		hidError(w, http.StatusBadRequest, msg)
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
		if msg := s.db.unknownUser(hw.users); msg != "" {
			s.mu.Unlock()
			hidError(w, http.StatusBadRequest, fmt.Sprintf("Item %d: %s", i, msg))
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

// link makes the user (a GUID or userName) a member of the group find
// returns: 200 also when it already is one (§3 HelloID #10); an unknown user
// or group is 404.
func (s *Server) link(w http.ResponseWriter, find func() *hidGroup, userSeg string) {
	s.mu.Lock()
	g, u := find(), s.db.hidUser(userSeg)
	if g != nil && u != nil {
		g.users = appendUnique(g.users, u.guid)
	}
	s.mu.Unlock()
	switch {
	case u == nil:
		hidError(w, http.StatusNotFound, msgUserNotFound)
	case g == nil:
		hidError(w, http.StatusNotFound, msgGroupNotFound)
	default:
		hidOK(w)
	}
}

// unlink removes user from the group named by ref: 400 when the user is
// not a member (§3 HelloID #10).
func (s *Server) unlink(w http.ResponseWriter, groupRef, userSeg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.db.hidUser(userSeg)
	if u == nil {
		hidError(w, http.StatusNotFound, msgUserNotFound)
		return
	}
	user := u.guid
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
	user := args[0]
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

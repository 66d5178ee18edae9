package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"groupsync/internal/plan"
)

// State is the whole content of the emulator: every group of both systems.
// It is the JSON format of the --state file, of GET /_emulator/state and of
// the body of POST /_emulator/state.
type State struct {
	LOX24   LOX24State   `json:"lox24"`
	HelloID HelloIDState `json:"helloid"`
}

// LOX24State is the LOX24 account: its groups and their phone entries.
type LOX24State struct {
	Groups []LOX24Group `json:"groups"`
}

// LOX24Group is one LOX24 group (an SMS distribution list) with its phone
// entries. An ID of 0 in a loaded state means "assign one".
type LOX24Group struct {
	ID          int64        `json:"id"`
	Name        string       `json:"name"`
	Description *string      `json:"description"`
	NameA       *string      `json:"name_a"`
	NameB       *string      `json:"name_b"`
	NameC       *string      `json:"name_c"`
	NameD       *string      `json:"name_d"`
	NameE       *string      `json:"name_e"`
	DeletedAt   *string      `json:"deleted_at"` // RFC 3339 date-time; only settable through the state
	Phones      []LOX24Phone `json:"phones"`
}

// LOX24Phone is one phone entry of a LOX24 group. ID is a decimal integer
// written as a string (the API's read schema says string, its paths say
// integer); an empty ID in a loaded state means "assign one".
type LOX24Phone struct {
	ID                string  `json:"id"`
	Phone             string  `json:"phone"`
	A                 *string `json:"a"`
	B                 *string `json:"b"`
	C                 *string `json:"c"`
	D                 *string `json:"d"`
	E                 *string `json:"e"`
	CallbackData      *string `json:"callback_data"`
	SubscribedAt      *int64  `json:"subscribed_at"`
	UnsubscribedAt    *int64  `json:"unsubscribed_at"`
	UnsubscribeReason *int    `json:"unsubscribe_reason"`
}

// HelloIDState is the HelloID tenant: its groups and its user directory.
type HelloIDState struct {
	Groups []HelloIDGroup `json:"groups"`
	Users  []HelloIDUser  `json:"users"`
}

// HelloIDUser is one user of the HelloID directory. An empty UserGUID in a
// loaded state means "assign one". userNames are unique under the one
// identity rule (plan.NameKey).
type HelloIDUser struct {
	UserGUID string `json:"userGuid"`
	UserName string `json:"userName"`
}

// HelloIDGroup is one HelloID group. An empty GroupGUID in a loaded state
// means "assign one". GUIDs are stored in lowercase.
type HelloIDGroup struct {
	GroupGUID         string   `json:"groupGuid"`
	Name              string   `json:"name"`
	IsEnabled         bool     `json:"isEnabled"`
	IsDefault         bool     `json:"isDefault"`
	IsQrEnabled       bool     `json:"isQrEnabled"`
	ManagedByUserGUID *string  `json:"managedByUserGuid"`
	Users             []string `json:"users"` // user GUIDs, each one of HelloIDState.Users
	// Source is where the group comes from: "" or "Local" for a group made
	// in HelloID, otherwise the system that synchronises it (e.g. "AD").
	Source string `json:"source,omitempty"`
}

// ReadState parses a state file. Unknown keys, trailing data and values of
// the wrong type are errors. The state is not validated against the API's
// limits here; LoadState does that.
func ReadState(r io.Reader) (State, error) {
	var st State
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return State{}, fmt.Errorf("read state: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return State{}, errors.New("read state: unexpected data after the JSON object")
	}
	return st, nil
}

// maxLen are the API's length limits, in characters.
const (
	maxGroupName     = 50
	maxDescription   = 255
	maxColumnName    = 50
	maxPhone         = 30
	maxColumnValue   = 1530
	maxCallbackData  = 36
	minUnsubscribe   = 1
	maxUnsubscribe   = 6
	firstLOX24Group  = 1000   // see doc.go: group and phone ids come from distinct ranges
	firstLOX24Phone  = 500000 // so that a client mixing them up hits nothing
	maxRequestBody   = 64 << 20
	lockoutThreshold = 3
)

// tooLong reports whether s has more than n characters (not bytes).
func tooLong(s *string, n int) bool {
	return s != nil && utf8.RuneCountInString(*s) > n
}

// validateState checks st against the API's own limits and the emulator's
// identity rules, and returns a copy with missing ids assigned.
func (s *Server) validateState(st State) (*store, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	db := newStore()
	groupIDs := map[int64]bool{}
	phoneIDs := map[int64]bool{}
	for i, g := range st.LOX24.Groups {
		where := fmt.Sprintf("lox24.groups[%d]", i)
		if g.ID < 0 {
			bad("%s.id: %d is not a positive integer", where, g.ID)
		} else if g.ID > 0 {
			if groupIDs[g.ID] {
				bad("%s.id: %d is used twice", where, g.ID)
			}
			groupIDs[g.ID] = true
		}
		if g.Name == "" {
			bad("%s.name: required", where)
		} else if tooLong(&g.Name, maxGroupName) {
			bad("%s.name: more than %d characters", where, maxGroupName)
		}
		if tooLong(g.Description, maxDescription) {
			bad("%s.description: more than %d characters", where, maxDescription)
		}
		for j, c := range []*string{g.NameA, g.NameB, g.NameC, g.NameD, g.NameE} {
			if tooLong(c, maxColumnName) {
				bad("%s.name_%c: more than %d characters", where, 'a'+j, maxColumnName)
			}
		}
		if g.DeletedAt != nil {
			if _, err := time.Parse(time.RFC3339, *g.DeletedAt); err != nil {
				bad("%s.deleted_at: %q is not an RFC 3339 date-time", where, *g.DeletedAt)
			}
		}
		for j, p := range g.Phones {
			pw := fmt.Sprintf("%s.phones[%d]", where, j)
			if p.ID != "" {
				id, err := parseID(p.ID)
				if err != nil {
					bad("%s.id: %q is not a positive decimal integer", pw, p.ID)
				} else {
					if phoneIDs[id] {
						bad("%s.id: %s is used twice", pw, p.ID)
					}
					phoneIDs[id] = true
				}
			}
			if p.Phone == "" {
				bad("%s.phone: required", pw)
			} else if tooLong(&p.Phone, maxPhone) {
				bad("%s.phone: more than %d characters", pw, maxPhone)
			}
			for k, c := range []*string{p.A, p.B, p.C, p.D, p.E} {
				if tooLong(c, maxColumnValue) {
					bad("%s.%c: more than %d characters", pw, 'a'+k, maxColumnValue)
				}
			}
			if tooLong(p.CallbackData, maxCallbackData) {
				bad("%s.callback_data: more than %d characters", pw, maxCallbackData)
			}
			if r := p.UnsubscribeReason; r != nil && (*r < minUnsubscribe || *r > maxUnsubscribe) {
				bad("%s.unsubscribe_reason: %d is not between %d and %d", pw, *r, minUnsubscribe, maxUnsubscribe)
			}
		}
	}

	userGUIDs := map[string]bool{}
	userNames := map[string]int{}
	for i, u := range st.HelloID.Users {
		where := fmt.Sprintf("helloid.users[%d]", i)
		if u.UserGUID != "" {
			id, ok := parseGUID(u.UserGUID)
			switch {
			case !ok:
				bad("%s.userGuid: %q is not a GUID", where, u.UserGUID)
			case userGUIDs[id]:
				bad("%s.userGuid: %s is used twice", where, u.UserGUID)
			}
			userGUIDs[id] = true
		}
		if strings.TrimSpace(u.UserName) == "" {
			bad("%s.userName: required", where)
		} else if j, dup := userNames[foldName(u.UserName)]; dup {
			bad("%s.userName: %q is also the userName of helloid.users[%d] (ignoring case)", where, u.UserName, j)
		} else {
			userNames[foldName(u.UserName)] = i
		}
	}
	guids := map[string]bool{}
	names := map[string]int{}
	for i, g := range st.HelloID.Groups {
		where := fmt.Sprintf("helloid.groups[%d]", i)
		if g.GroupGUID != "" {
			id, ok := parseGUID(g.GroupGUID)
			if !ok {
				bad("%s.groupGuid: %q is not a GUID", where, g.GroupGUID)
			} else {
				if guids[id] {
					bad("%s.groupGuid: %s is used twice", where, g.GroupGUID)
				}
				guids[id] = true
			}
		}
		if strings.TrimSpace(g.Name) == "" {
			bad("%s.name: required", where)
		} else {
			key := foldName(g.Name)
			if j, dup := names[key]; dup {
				bad("%s.name: %q is also the name of helloid.groups[%d] (names are unique, ignoring case)", where, g.Name, j)
			} else {
				names[key] = i
			}
		}
		if m := g.ManagedByUserGUID; m != nil {
			if _, ok := parseGUID(*m); !ok {
				bad("%s.managedByUserGuid: %q is not a GUID", where, *m)
			}
		}
		seen := map[string]bool{}
		for j, u := range g.Users {
			id, ok := parseGUID(u)
			if !ok {
				bad("%s.users[%d]: %q is not a GUID", where, j, u)
				continue
			}
			if seen[id] {
				bad("%s.users[%d]: %s is listed twice", where, j, u)
			}
			if !userGUIDs[id] {
				bad("%s.users[%d]: %s is not a user of helloid.users", where, j, u)
			}
			seen[id] = true
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid state: %w", errors.Join(errs...))
	}

	// Valid: build the store, assigning ids where none were given.
	for id := range groupIDs {
		db.nextGroupID = max(db.nextGroupID, id+1)
	}
	for id := range phoneIDs {
		db.nextPhoneID = max(db.nextPhoneID, id+1)
	}
	for _, g := range st.LOX24.Groups {
		lg := &loxGroup{
			id:          g.ID,
			name:        g.Name,
			description: clone(g.Description),
			cols:        [5]*string{clone(g.NameA), clone(g.NameB), clone(g.NameC), clone(g.NameD), clone(g.NameE)},
			deletedAt:   clone(g.DeletedAt),
		}
		if lg.id == 0 {
			lg.id = db.newGroupID()
		}
		for _, p := range g.Phones {
			lp := &loxPhone{
				group:             lg.id,
				phone:             p.Phone,
				cols:              [5]*string{clone(p.A), clone(p.B), clone(p.C), clone(p.D), clone(p.E)},
				callbackData:      clone(p.CallbackData),
				subscribedAt:      clone(p.SubscribedAt),
				unsubscribedAt:    clone(p.UnsubscribedAt),
				unsubscribeReason: clone(p.UnsubscribeReason),
			}
			if p.ID == "" {
				lp.id = db.newPhoneID()
			} else {
				lp.id, _ = parseID(p.ID)
			}
			lg.phones = append(lg.phones, lp)
		}
		db.insertGroup(lg)
	}
	for _, u := range st.HelloID.Users {
		hu := &hidUser{name: u.UserName}
		if u.UserGUID == "" {
			hu.guid = s.newGUID()
		} else {
			hu.guid, _ = parseGUID(u.UserGUID)
		}
		db.hidUsers = append(db.hidUsers, hu)
	}
	for _, g := range st.HelloID.Groups {
		hg := &hidGroup{
			name:        g.Name,
			isEnabled:   g.IsEnabled,
			isDefault:   g.IsDefault,
			isQrEnabled: g.IsQrEnabled,
			source:      g.Source,
		}
		if g.GroupGUID == "" {
			hg.guid = s.newGUID()
		} else {
			hg.guid, _ = parseGUID(g.GroupGUID)
		}
		if m := g.ManagedByUserGUID; m != nil {
			id, _ := parseGUID(*m)
			hg.manager = &id
		}
		for _, u := range g.Users {
			id, _ := parseGUID(u)
			hg.users = append(hg.users, id)
		}
		db.hid = append(db.hid, hg)
	}
	return db, nil
}

// parseID parses a positive decimal integer id as it appears in a path or in
// a phone's string id. Signs, spaces and other notations are refused.
func parseID(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, errors.New("not an id")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not an id")
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, errors.New("not an id")
	}
	return id, nil
}

// parseGUID accepts a GUID in the 8-4-4-4-12 hex form, optionally in braces,
// in any letter case, and returns it in lowercase without braces.
func parseGUID(s string) (string, bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

// foldName is the key under which HelloID compares group names: groupsync's
// own identity rule, so that the emulator and the client agree.
func foldName(s string) string {
	return plan.NameKey(s)
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// snapshot returns a deep copy of the store as a State. Slices are never nil,
// so the JSON form always has arrays.
func (db *store) snapshot() State {
	st := State{
		LOX24:   LOX24State{Groups: make([]LOX24Group, 0, len(db.groups))},
		HelloID: HelloIDState{Groups: make([]HelloIDGroup, 0, len(db.hid)), Users: make([]HelloIDUser, 0, len(db.hidUsers))},
	}
	for _, u := range db.hidUsers {
		st.HelloID.Users = append(st.HelloID.Users, HelloIDUser{UserGUID: u.guid, UserName: u.name})
	}
	for _, g := range db.groups {
		out := LOX24Group{
			ID:          g.id,
			Name:        g.name,
			Description: clone(g.description),
			NameA:       clone(g.cols[0]),
			NameB:       clone(g.cols[1]),
			NameC:       clone(g.cols[2]),
			NameD:       clone(g.cols[3]),
			NameE:       clone(g.cols[4]),
			DeletedAt:   clone(g.deletedAt),
			Phones:      make([]LOX24Phone, 0, len(g.phones)),
		}
		for _, p := range g.phones {
			out.Phones = append(out.Phones, LOX24Phone{
				ID:                strconv.FormatInt(p.id, 10),
				Phone:             p.phone,
				A:                 clone(p.cols[0]),
				B:                 clone(p.cols[1]),
				C:                 clone(p.cols[2]),
				D:                 clone(p.cols[3]),
				E:                 clone(p.cols[4]),
				CallbackData:      clone(p.callbackData),
				SubscribedAt:      clone(p.subscribedAt),
				UnsubscribedAt:    clone(p.unsubscribedAt),
				UnsubscribeReason: clone(p.unsubscribeReason),
			})
		}
		st.LOX24.Groups = append(st.LOX24.Groups, out)
	}
	for _, g := range db.hid {
		st.HelloID.Groups = append(st.HelloID.Groups, HelloIDGroup{
			GroupGUID:         g.guid,
			Name:              g.name,
			IsEnabled:         g.isEnabled,
			IsDefault:         g.isDefault,
			IsQrEnabled:       g.isQrEnabled,
			ManagedByUserGUID: clone(g.manager),
			Users:             append(make([]string, 0, len(g.users)), g.users...),
			Source:            g.source,
		})
	}
	return st
}

// encodeJSON marshals v without HTML escaping, as the real APIs do.
func encodeJSON(v any, indent bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		// Every value encoded here is built from plain structs, maps and
		// slices; failing to encode one is a bug in this package.
		panic(fmt.Sprintf("emulator: encode response: %v", err))
	}
	return buf.Bytes()
}

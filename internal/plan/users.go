package plan

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// userDirectory is the HelloID user directory, indexed for resolving the
// users the files name.
type userDirectory struct {
	byGUID map[string]*RemoteUser   // lowercase userGuid
	byName map[string][]*RemoteUser // NameKey(userName)
}

func newUserDirectory(users []RemoteUser) *userDirectory {
	dir := &userDirectory{
		byGUID: make(map[string]*RemoteUser, len(users)),
		byName: make(map[string][]*RemoteUser, len(users)),
	}
	for i := range users {
		u := &users[i]
		dir.byGUID[strings.ToLower(u.GUID)] = u
		if u.UserName != "" {
			k := NameKey(u.UserName)
			dir.byName[k] = append(dir.byName[k], u)
		}
	}
	return dir
}

// resolve finds the user a file names: by userGuid when ref is a GUID of
// the directory, otherwise by userName under the one identity rule.
func (dir *userDirectory) resolve(ref string) (*RemoteUser, error) {
	if IsGUID(ref) {
		if u := dir.byGUID[strings.ToLower(ref)]; u != nil {
			return u, nil
		}
	}
	us := dir.byName[NameKey(ref)]
	switch len(us) {
	case 0:
		return nil, fmt.Errorf("user %s does not exist in helloid", quoteCut(ref))
	case 1:
		return us[0], nil
	}
	return nil, fmt.Errorf("ambiguous: %d helloid users are named %s; name the user by its userGuid", len(us), quoteCut(ref))
}

// name returns how a member is shown: its userName, or its GUID when the
// directory does not know it.
func (dir *userDirectory) name(guid string) string {
	if u := dir.byGUID[strings.ToLower(guid)]; u != nil && u.UserName != "" {
		return u.UserName
	}
	return guid
}

// IsGUID reports whether s is a GUID written as 8-4-4-4-12 hex digits, in
// either letter case. It is the one GUID rule of the reader, the plan and
// the clients.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// users adds the member items of one HelloID group: links in the files'
// order, then unlinks in the remote order. r is nil for a group created in
// this run (createIdx then being the create's index in p.Changes): its
// links wait for the create, and a sink that can sends them in its body.
func (d *differ) users(p *Plan, g Group, r *RemoteGroup, createIdx int) {
	us := g.Users
	key, name, dependsOn := "", g.Name, 0
	if r == nil {
		dependsOn = createIdx + 1
	} else {
		key, name = r.Key, r.Name
		if IsExternalSource(r.Origin) && !us.AllowExternalSource {
			p.Changes = append(p.Changes, Change{System: HelloID, Kind: KindGroup, Action: Update, Key: r.Key,
				Name: r.Name, Source: us.Source,
				Error: fmt.Sprintf("the group's members are synced from source %q, which would overwrite them; "+
					"set allow_external_source: true to manage them anyway", r.Origin)})
			return
		}
	}
	dir := d.dir
	if dir == nil {
		dir = newUserDirectory(nil)
	}
	have := map[string]bool{}
	if r != nil {
		for _, u := range r.Users {
			have[strings.ToLower(u)] = true
		}
	}
	wanted := make(map[string]bool, len(us.List))
	for _, ref := range us.List {
		u, err := dir.resolve(ref.Ref)
		if err != nil {
			p.Changes = append(p.Changes, Change{System: HelloID, Kind: KindUser, Action: Create, Name: name,
				GroupKey: key, DependsOn: dependsOn, User: ref.Ref, Source: ref.Source, Error: err.Error()})
			continue
		}
		k := strings.ToLower(u.GUID)
		if wanted[k] {
			continue // named twice (by userName and by userGuid): one member
		}
		wanted[k] = true
		if have[k] {
			p.Unchanged[HelloID]++
			continue
		}
		p.Changes = append(p.Changes, Change{System: HelloID, Kind: KindUser, Action: Create, Key: u.GUID,
			Name: name, GroupKey: key, DependsOn: dependsOn, User: dir.name(u.GUID), Source: ref.Source})
	}
	if r == nil {
		return
	}
	if p.Members == nil {
		p.Members = map[string]int{}
	}
	p.Members[r.Key] = len(r.Users)
	note := "not in the users list"
	if us.File != "" {
		note = "not in " + filepath.Base(us.File)
	}
	for _, u := range r.Users {
		if wanted[strings.ToLower(u)] {
			continue
		}
		if us.Mode == PhonesAdditive {
			p.Unchanged[HelloID]++
			continue
		}
		p.Changes = append(p.Changes, Change{System: HelloID, Kind: KindUser, Action: Delete, Key: u,
			Name: name, GroupKey: key, User: dir.name(u), Source: us.Source, Note: note})
	}
}

// quoteCut quotes s for a message, cut to its first 80 characters: a
// reference read from a file is never echoed whole.
func quoteCut(s string) string {
	if r := []rune(s); len(r) > 80 {
		return strconv.Quote(string(r[:80])) + "..."
	}
	return strconv.Quote(s)
}

package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// LOX24 constants: page size (§3 #1) and the lockout rule (§1.0, §3 #13).
const (
	loxPageSize      = 30
	lockoutWindow    = time.Minute
	lockoutDuration  = 10 * time.Minute
	ctypeLD          = "application/ld+json; charset=utf-8"
	ctypeJSON        = "application/json; charset=utf-8"
	msgBadCredential = "Client ID or API key isn't active or invalid!"
	msgLockedOut     = "IP address was temporary blocked due to too many requests with wrong credentials. Try again in 10 minutes."
	msgNotBlank      = "This value should not be blank."
)

// ipRecord is one client IP's recent bad-credential requests.
type ipRecord struct {
	failures []time.Time // within the last lockoutWindow
	until    time.Time   // blocked before this instant
}

// serveLOX24 runs the LOX24 checks every request passes (lockout,
// credentials, route, method, Accept, Content-Type) and then the handler.
func (s *Server) serveLOX24(w http.ResponseWriter, r *http.Request, rt *route, args []string) {
	ip := clientIP(r)
	now := s.opts.Now()
	if until, blocked := s.loxBlocked(ip, now); blocked {
		// Retry-After is an extension (§3 #13): the docs promise none.
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(until.Sub(now).Seconds())))))
		loxError(w, http.StatusTooManyRequests, msgLockedOut)
		return
	}
	if !s.loxAuthorized(r) {
		s.loxFailed(ip, now)
		loxError(w, http.StatusUnauthorized, msgBadCredential)
		return
	}
	if rt == nil {
		loxError(w, http.StatusNotFound, fmt.Sprintf("No route found for %q", r.Method+" "+r.URL.Path))
		return
	}
	h := rt.handlers[r.Method]
	if h == nil {
		w.Header().Set("Allow", rt.allow())
		loxError(w, http.StatusMethodNotAllowed,
			fmt.Sprintf("No route found for %q: Method Not Allowed (Allow: %s)", r.Method+" "+r.URL.Path, rt.allow()))
		return
	}
	if _, ok := negotiate(r.Header.Get("Accept")); !ok {
		loxError(w, http.StatusNotAcceptable, fmt.Sprintf("Requested format %q is not supported. Supported MIME types are \"application/ld+json\", \"application/json\".", r.Header.Get("Accept")))
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		switch mediaType(r.Header.Get("Content-Type")) {
		case "application/json", "application/ld+json", "application/json+ld":
		default:
			loxError(w, http.StatusUnsupportedMediaType,
				fmt.Sprintf("The content-type %q is not supported. Supported MIME types are \"application/ld+json\", \"application/json\".", r.Header.Get("Content-Type")))
			return
		}
	}
	h(w, r, args)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loxAuthorized checks X-LOX24-AUTH-TOKEN ("clientid:apikey"), or the legacy
// pair X-LOX24-CLIENT-ID + X-LOX24-AUTH-TOKEN (the API key alone).
func (s *Server) loxAuthorized(r *http.Request) bool {
	token := r.Header.Get("X-LOX24-AUTH-TOKEN")
	if token == "" {
		return false
	}
	if ids := r.Header.Values("X-LOX24-CLIENT-ID"); len(ids) > 0 {
		token = ids[0] + ":" + token
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.LOX24Token)) == 1
}

// loxBlocked reports whether ip is locked out at now, and until when.
func (s *Server) loxBlocked(ip string, now time.Time) (time.Time, bool) {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	rec := s.lockout[ip]
	if rec == nil || !now.Before(rec.until) {
		return time.Time{}, false
	}
	return rec.until, true
}

// loxFailed records a bad-credential request from ip. More than
// lockoutThreshold of them within lockoutWindow lock the IP out for
// lockoutDuration; the request that crosses the threshold is still a 401.
func (s *Server) loxFailed(ip string, now time.Time) {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	rec := s.lockout[ip]
	if rec == nil {
		rec = &ipRecord{}
		s.lockout[ip] = rec
	}
	kept := rec.failures[:0]
	for _, t := range rec.failures {
		if now.Sub(t) < lockoutWindow {
			kept = append(kept, t)
		}
	}
	rec.failures = append(kept, now)
	if len(rec.failures) > lockoutThreshold {
		rec.until = now.Add(lockoutDuration)
		rec.failures = nil
	}
}

// negotiate picks the response format from an Accept header: JSON-LD
// (application/ld+json, or application/json+ld as the PHP client sends it)
// or plain JSON (application/json, application/*, */*, or no header). It
// reports false when the header accepts neither.
func negotiate(accept string) (ld, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return false, true
	}
	best := 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, has := params["q"]; has {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		var isLD bool
		switch mt {
		case "application/ld+json", "application/json+ld":
			isLD = true
		case "application/json", "application/*", "*/*":
		default:
			continue
		}
		if q > best {
			best, ld = q, isLD
		}
	}
	return ld, best > 0
}

func wantsLD(r *http.Request) bool {
	ld, _ := negotiate(r.Header.Get("Accept"))
	return ld
}

// hydraError is API Platform's error body.
type hydraError struct {
	Context     string `json:"@context"`
	Type        string `json:"@type"`
	Title       string `json:"hydra:title"`
	Description string `json:"hydra:description"`
}

// loxError answers status with a Hydra error body (always JSON-LD).
func loxError(w http.ResponseWriter, status int, desc string) {
	writeJSON(w, status, ctypeLD, encodeJSON(hydraError{
		Context: "/contexts/Error", Type: "hydra:Error", Title: "An error occurred", Description: desc,
	}, false))
}

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

// loxRespond answers status with v in the negotiated format.
func loxRespond(w http.ResponseWriter, r *http.Request, status int, v any) {
	ct := ctypeJSON
	if wantsLD(r) {
		ct = ctypeLD
	}
	writeJSON(w, status, ct, encodeJSON(v, false))
}

// groupOut is the Group (read) shape.
type groupOut struct {
	Context    string  `json:"@context,omitempty"`
	IRI        string  `json:"@id,omitempty"`
	Type       string  `json:"@type,omitempty"`
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Desc       *string `json:"description"`
	NameA      *string `json:"name_a"`
	NameB      *string `json:"name_b"`
	NameC      *string `json:"name_c"`
	NameD      *string `json:"name_d"`
	NameE      *string `json:"name_e"`
	CountItems int     `json:"count_items"`
	DeletedAt  *string `json:"deleted_at"`
}

// phoneOut is the Phone (read) shape; id is a string (§3 #16).
type phoneOut struct {
	Context           string  `json:"@context,omitempty"`
	IRI               string  `json:"@id,omitempty"`
	Type              string  `json:"@type,omitempty"`
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

// repr says which JSON-LD keys an item gets: none (plain JSON), @id and
// @type (a collection member), or all three (a top-level item).
type repr int

const (
	reprPlain repr = iota
	reprMember
	reprItem
)

func itemRepr(r *http.Request) repr {
	if wantsLD(r) {
		return reprItem
	}
	return reprPlain
}

func memberRepr(r *http.Request) repr {
	if wantsLD(r) {
		return reprMember
	}
	return reprPlain
}

// The stored strings are never modified in place, so the pointers can be
// shared with a response built under the lock and encoded after it.
func groupRep(g *loxGroup, how repr) groupOut {
	out := groupOut{
		ID: g.id, Name: g.name, Desc: g.description,
		NameA: g.cols[0], NameB: g.cols[1], NameC: g.cols[2], NameD: g.cols[3], NameE: g.cols[4],
		CountItems: len(g.phones), DeletedAt: g.deletedAt,
	}
	if how != reprPlain {
		out.IRI, out.Type = "/groups/"+strconv.FormatInt(g.id, 10), "Groups"
	}
	if how == reprItem {
		out.Context = "/contexts/Groups"
	}
	return out
}

func phoneRep(p *loxPhone, how repr) phoneOut {
	out := phoneOut{
		ID: strconv.FormatInt(p.id, 10), Phone: p.phone,
		A: p.cols[0], B: p.cols[1], C: p.cols[2], D: p.cols[3], E: p.cols[4],
		CallbackData: p.callbackData, SubscribedAt: p.subscribedAt,
		UnsubscribedAt: p.unsubscribedAt, UnsubscribeReason: p.unsubscribeReason,
	}
	if how != reprPlain {
		out.IRI, out.Type = "/phones/"+out.ID, "Phones"
	}
	if how == reprItem {
		out.Context = "/contexts/Phones"
	}
	return out
}

// collectionOut is the Hydra collection envelope (§1.1, §3 #4).
type collectionOut struct {
	Context    string   `json:"@context"`
	IRI        string   `json:"@id"`
	Type       string   `json:"@type"`
	Member     any      `json:"hydra:member"`
	TotalItems int      `json:"hydra:totalItems"`
	View       *viewOut `json:"hydra:view,omitempty"`
}

type viewOut struct {
	IRI      string `json:"@id"`
	Type     string `json:"@type"`
	First    string `json:"hydra:first"`
	Last     string `json:"hydra:last"`
	Previous string `json:"hydra:previous,omitempty"`
	Next     string `json:"hydra:next,omitempty"`
}

// msgBadPage is API Platform's answer to a page below 1 (a non-integer
// page casts to 0 in PHP, so it gets the same answer).
const msgBadPage = "Page should not be less than 1"

// pageParam reads the page query parameter: an integer >= 1, default 1.
func pageParam(r *http.Request) (int, bool) {
	vs, ok := r.URL.Query()["page"]
	if !ok {
		return 1, true
	}
	n, err := strconv.Atoi(vs[len(vs)-1])
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// pageBounds returns the slice [lo:hi] of total items on page.
func pageBounds(page, total int) (lo, hi int) {
	if page-1 > total/loxPageSize {
		return total, total
	}
	lo = (page - 1) * loxPageSize
	return min(lo, total), min(lo+loxPageSize, total)
}

// loxCollection answers one page of a collection: a Hydra collection for
// JSON-LD, a bare array of that page's items for plain JSON (§3 #3).
func loxCollection(w http.ResponseWriter, r *http.Request, context, path string, page, total int, members []any) {
	if !wantsLD(r) {
		loxRespond(w, r, http.StatusOK, members)
		return
	}
	last := max(1, (total+loxPageSize-1)/loxPageSize)
	iri := func(n int) string { return path + "?page=" + strconv.Itoa(n) }
	view := &viewOut{IRI: iri(page), Type: "hydra:PartialCollectionView", First: iri(1), Last: iri(last)}
	if page > 1 {
		view.Previous = iri(page - 1)
	}
	if page < last {
		view.Next = iri(page + 1)
	}
	loxRespond(w, r, http.StatusOK, collectionOut{
		Context: context, IRI: path, Type: "hydra:Collection",
		Member: members, TotalItems: total, View: view,
	})
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

// loxGroupID parses a {id} path parameter and checks that the group exists.
func (s *Server) loxGroupID(w http.ResponseWriter, arg string) (int64, bool) {
	id, err := parseID(arg)
	if err == nil {
		s.mu.Lock()
		found := s.db.group(id) != nil
		s.mu.Unlock()
		if found {
			return id, true
		}
	}
	loxError(w, http.StatusNotFound, "Not Found")
	return 0, false
}

func (s *Server) loxListGroups(w http.ResponseWriter, r *http.Request, _ []string) {
	page, ok := pageParam(r)
	if !ok {
		loxError(w, http.StatusBadRequest, msgBadPage)
		return
	}
	how := memberRepr(r)
	s.mu.Lock()
	total := len(s.db.groups)
	lo, hi := pageBounds(page, total)
	members := make([]any, 0, hi-lo)
	for _, g := range s.db.groups[lo:hi] {
		members = append(members, groupRep(g, how))
	}
	s.mu.Unlock()
	loxCollection(w, r, "/contexts/Groups", "/groups", page, total, members)
}

func (s *Server) loxGetGroup(w http.ResponseWriter, r *http.Request, args []string) {
	id, _ := parseID(args[0])
	s.mu.Lock()
	g := s.db.group(id)
	var out groupOut
	if g != nil {
		out = groupRep(g, itemRepr(r))
	}
	s.mu.Unlock()
	if g == nil {
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	loxRespond(w, r, http.StatusOK, out)
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

func (s *Server) loxCreateGroup(w http.ResponseWriter, r *http.Request, _ []string) {
	gw, ok := readGroupWrite(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	g := &loxGroup{name: *gw.name, description: gw.description, cols: gw.cols}
	g.id = s.db.newGroupID()
	s.db.insertGroup(g)
	for _, pw := range gw.phones {
		s.db.addPhone(g, pw.newPhone())
	}
	out := groupRep(g, itemRepr(r))
	s.mu.Unlock()
	w.Header().Set("Location", "/groups/"+strconv.FormatInt(out.ID, 10))
	loxRespond(w, r, http.StatusCreated, out)
}

func (s *Server) loxPutGroup(w http.ResponseWriter, r *http.Request, args []string) {
	id, ok := s.loxGroupID(w, args[0])
	if !ok {
		return
	}
	gw, ok := readGroupWrite(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	g := s.db.group(id)
	if g == nil { // deleted meanwhile
		s.mu.Unlock()
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	// Full replacement (§3 #8): what the body leaves out becomes null.
	g.name, g.description, g.cols = *gw.name, gw.description, gw.cols
	if gw.hasPhones { // §3 #7: phones present replaces the list
		phones := make([]*loxPhone, len(gw.phones))
		for i, pw := range gw.phones {
			phones[i] = pw.newPhone()
		}
		s.db.setPhones(g, phones)
	}
	out := groupRep(g, itemRepr(r))
	s.mu.Unlock()
	loxRespond(w, r, http.StatusOK, out)
}

func (s *Server) loxDeleteGroup(w http.ResponseWriter, r *http.Request, args []string) {
	id, _ := parseID(args[0])
	s.mu.Lock()
	found := s.db.deleteGroup(id)
	s.mu.Unlock()
	if !found {
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) loxListPhones(w http.ResponseWriter, r *http.Request, args []string) {
	id, err := parseID(args[0])
	if err != nil {
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	page, ok := pageParam(r)
	if !ok {
		loxError(w, http.StatusBadRequest, msgBadPage)
		return
	}
	how := memberRepr(r)
	s.mu.Lock()
	g := s.db.group(id)
	if g == nil {
		s.mu.Unlock()
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	total := len(g.phones)
	lo, hi := pageBounds(page, total)
	members := make([]any, 0, hi-lo)
	for _, p := range g.phones[lo:hi] {
		members = append(members, phoneRep(p, how))
	}
	s.mu.Unlock()
	loxCollection(w, r, "/contexts/Phones", "/groups/"+strconv.FormatInt(id, 10)+"/phones", page, total, members)
}

// readPhoneWrite reads and validates a phone body (see readWrite).
func readPhoneWrite(w http.ResponseWriter, r *http.Request) (phoneWrite, bool) {
	return readWrite(w, r, func(raw json.RawMessage) (phoneWrite, []violation, error) { return parsePhoneWrite(raw, "") })
}

func (s *Server) loxCreatePhone(w http.ResponseWriter, r *http.Request, args []string) {
	id, ok := s.loxGroupID(w, args[0])
	if !ok {
		return
	}
	pw, ok := readPhoneWrite(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	g := s.db.group(id)
	if g == nil {
		s.mu.Unlock()
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	p := pw.newPhone()
	s.db.addPhone(g, p) // duplicates of a number are allowed (§3 #11)
	out := phoneRep(p, itemRepr(r))
	s.mu.Unlock()
	w.Header().Set("Location", "/phones/"+out.ID)
	loxRespond(w, r, http.StatusCreated, out)
}

// batchItem is one member of the batch response.
type batchItem struct {
	Status int `json:"status"`
	Body   any `json:"body"`
}

// batchOut is the batch response envelope (§1.2, §3 #12).
type batchOut struct {
	Context    string      `json:"@context"`
	IRI        string      `json:"@id"`
	Type       string      `json:"@type"`
	TotalItems int         `json:"hydra:totalItems"`
	Member     []batchItem `json:"hydra:member"`
}

func (s *Server) loxBatchPhones(w http.ResponseWriter, r *http.Request, args []string) {
	id, ok := s.loxGroupID(w, args[0])
	if !ok {
		return
	}
	raw, err := parseBody(w, r)
	if err != nil {
		writeFailure(w, err)
		return
	}
	items, err := decodeArray(raw)
	if err != nil {
		loxError(w, http.StatusBadRequest, "The batch body must be a JSON array of phones: "+err.Error())
		return
	}
	if len(items) == 0 {
		loxError(w, http.StatusBadRequest, "The batch body must not be an empty array")
		return
	}
	// Each item succeeds or fails on its own (§3 #12).
	out := batchOut{
		Context: "/contexts/Phones", IRI: "/groups/" + args[0] + "/phones/batch", Type: "hydra:Collection",
		TotalItems: len(items), Member: make([]batchItem, len(items)),
	}
	writes := make([]*phoneWrite, len(items))
	for i, it := range items {
		pw, vs, err := parsePhoneWrite(it, "")
		var br *badRequestError
		switch {
		case errors.As(err, &br):
			out.Member[i] = batchItem{http.StatusBadRequest, hydraError{
				Context: "/contexts/Error", Type: "hydra:Error", Title: "An error occurred", Description: br.msg,
			}}
		case len(vs) > 0:
			out.Member[i] = batchItem{http.StatusUnprocessableEntity, newViolationList(vs)}
		default:
			writes[i] = &pw
		}
	}
	how := itemRepr(r)
	s.mu.Lock()
	g := s.db.group(id)
	if g == nil {
		s.mu.Unlock()
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	for i, pw := range writes {
		if pw == nil {
			continue
		}
		p := pw.newPhone()
		s.db.addPhone(g, p)
		out.Member[i] = batchItem{http.StatusCreated, phoneRep(p, how)}
	}
	s.mu.Unlock()
	loxRespond(w, r, http.StatusCreated, out)
}

func (s *Server) loxPutPhone(w http.ResponseWriter, r *http.Request, args []string) {
	id, err := parseID(args[0])
	if err == nil {
		s.mu.Lock()
		_, p := s.db.phone(id)
		s.mu.Unlock()
		if p == nil {
			err = errors.New("not found")
		}
	}
	if err != nil {
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	pw, ok := readPhoneWrite(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	_, p := s.db.phone(id)
	if p == nil {
		s.mu.Unlock()
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	// Full replacement (§3 #8); the subscription fields are read-only.
	p.phone, p.cols, p.callbackData = *pw.phone, pw.cols, pw.callbackData
	out := phoneRep(p, itemRepr(r))
	s.mu.Unlock()
	loxRespond(w, r, http.StatusOK, out)
}

func (s *Server) loxDeletePhone(w http.ResponseWriter, r *http.Request, args []string) {
	id, err := parseID(args[0])
	found := false
	if err == nil {
		s.mu.Lock()
		found = s.db.deletePhone(id)
		s.mu.Unlock()
	}
	if !found {
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

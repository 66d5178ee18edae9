package emulator

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
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
	if page == 1 {
		s.driftStart("/groups")
	}
	s.mu.Lock()
	total := len(s.db.groups)
	lo, hi, last := s.loxPageRange(page, total)
	d := s.driftIndex("/groups", lo, hi, total)
	members := make([]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		j := i
		if i == hi-1 && d >= 0 {
			j = d // the listing drifts: one item again, the last one skipped
		}
		members = append(members, groupRep(s.db.groups[j], how))
	}
	s.mu.Unlock()
	s.loxCollection(w, r, "/contexts/Groups", "/groups", 0, page, last, total, members)
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
	path := "/groups/" + strconv.FormatInt(id, 10) + "/phones"
	if page == 1 {
		s.driftStart(path)
	}
	s.mu.Lock()
	g := s.db.group(id)
	if g == nil {
		s.mu.Unlock()
		loxError(w, http.StatusNotFound, "Not Found")
		return
	}
	total := len(g.phones)
	lo, hi, last := s.loxPageRange(page, total)
	d := s.driftIndex(path, lo, hi, total)
	members := make([]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		j := i
		if i == hi-1 && d >= 0 {
			j = d // the listing drifts: one item again, the last one skipped
		}
		members = append(members, phoneRep(g.phones[j], how))
	}
	s.mu.Unlock()
	s.loxCollection(w, r, "/contexts/Phones", path, id, page, last, total, members)
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

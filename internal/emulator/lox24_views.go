package emulator

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

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

// loxCollection answers one page of a collection: a Hydra collection for
// JSON-LD (shaped by the quirks), a bare array of that page's items for
// plain JSON (§3 #3). group is the group of a member listing, 0 otherwise.
func (s *Server) loxCollection(w http.ResponseWriter, r *http.Request, context, path string, group int64, page, last, total int, members []any) {
	if !wantsLD(r) {
		loxRespond(w, r, http.StatusOK, members)
		return
	}
	out := map[string]any{"@context": context, "@id": path, "@type": "hydra:Collection",
		s.hydraKey("member"): members, s.hydraKey("totalItems"): total}
	if view := s.loxView(r, path, group, page, last); view != nil {
		out[s.hydraKey("view")] = view
	}
	loxRespond(w, r, http.StatusOK, out)
}

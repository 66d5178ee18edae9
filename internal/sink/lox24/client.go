// Package lox24 is the client of the LOX24 SMS gateway API for groupsync:
// it reads groups (and the members of groups whose phones are managed) and
// writes group and phone items.
//
// Collections are read as application/ld+json (the plain JSON
// representation is a bare array with no paging metadata), from page 1
// along the next links, in either Hydra spelling, with every id checked and
// the listing's integrity with it: a listing that moved is read once more,
// and then fails (hydra.go). While the links follow the page=N scheme the
// next pages are asked for a few at a time. Group updates send the whole group
// (PUT is a full replacement), taking the current value of every field the
// plan does not change.
//
// client.go builds the client, types.go maps the API's records to plan
// types and checks their ids, hydra.go reads collections (decodeGroups and
// decodePhones decode one page each), read.go and write.go hold the
// plan.Sink methods.
package lox24

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"groupsync/internal/plan"
	"groupsync/internal/sink"
)

// DefaultURL is the production API.
const DefaultURL = "https://api.lox24.eu"

// Client talks to one LOX24 account.
type Client struct {
	api         *sink.Client
	readWorkers int
	batchSize   int
	shape       sink.ListingShape // of the last group listing read
}

var (
	_ plan.Sink    = (*Client)(nil)
	_ plan.Batcher = (*Client)(nil)
)

// DefaultBatchSize is how many phone entries one batch request carries. The
// API documents no limit; this keeps a request body near 100 KB.
const DefaultBatchSize = 500

// BatchSize is the most phone creates one DoBatch request carries.
func (c *Client) BatchSize() int { return c.batchSize }

// New returns a client that authenticates with token ("clientid:apikey").
func New(cfg sink.Config, token string) (*Client, error) {
	if token == "" {
		return nil, fmt.Errorf("lox24: no token (set LOX24_TOKEN or LOX24_TOKEN_FILE)")
	}
	api, err := sink.NewClient(plan.LOX24, cfg, sink.Options{
		Auth: func(r *http.Request) {
			r.Header.Set("X-LOX24-AUTH-TOKEN", token)
			r.Header.Set("Accept", "application/ld+json")
		},
		RequestIDHeader: "X-LOX24-REQUEST-ID",
		Message:         errorMessage,
		Secrets:         tokenSecrets(token),
	})
	if err != nil {
		return nil, err
	}
	// As many groups' members are read at once as requests may be in
	// flight (--lox24-workers).
	return &Client{api: api, readWorkers: api.MaxInFlight(), batchSize: DefaultBatchSize}, nil
}

// tokenSecrets is what of a token must never be shown: the token, and its
// API key (the part after "clientid:").
func tokenSecrets(token string) []string {
	if _, key, ok := strings.Cut(token, ":"); ok {
		return []string{token, key}
	}
	return []string{token}
}

// System returns plan.LOX24.
func (c *Client) System() plan.System { return plan.LOX24 }

// errorMessage extracts the API's text from a Hydra error or an API
// Platform constraint-violation list.
func errorMessage(body []byte) string {
	var e struct {
		Description string `json:"hydra:description"`
		Title       string `json:"hydra:title"`
		Detail      string `json:"detail"`
		Message     string `json:"message"`
		Violations  []struct {
			PropertyPath string `json:"propertyPath"`
			Message      string `json:"message"`
		} `json:"violations"`
	}
	if json.Unmarshal(body, &e) != nil {
		return strings.TrimSpace(string(body))
	}
	if len(e.Violations) > 0 {
		parts := make([]string, len(e.Violations))
		for i, v := range e.Violations {
			parts[i] = v.PropertyPath + ": " + v.Message
		}
		return strings.Join(parts, "; ")
	}
	for _, s := range []string{e.Description, e.Detail, e.Message, e.Title} {
		if s != "" {
			return s
		}
	}
	return ""
}

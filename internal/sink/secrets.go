package sink

import (
	"slices"
	"strings"
)

// hide replaces every secret of the client in s by "xxxxx". It runs before
// a message is cut short, so that no piece of a secret survives the cut.
func (c *Client) hide(s string) string {
	for _, secret := range c.secrets {
		s = strings.ReplaceAll(s, secret, "xxxxx")
	}
	return s
}

// nonEmpty returns the non-empty strings of ss, longest first, so that a
// secret that contains another is replaced whole.
func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

package sink

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckBaseURL parses a base URL and requires https, except for loopback
// hosts. A URL with credentials in it (user:password@) is refused, and no
// error message repeats them: messages show the URL with its user
// information replaced by "xxxxx" (see RedactURL).
func CheckBaseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("no base URL")
	}
	shown := RedactURL(s)
	u, err := url.Parse(s)
	switch {
	case err != nil && shown != s:
		// The parser's message may quote a piece of the password.
		return nil, fmt.Errorf("base URL %q: not a valid URL; credentials belong in the environment, not in the URL", shown)
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it repeats the URL
		}
		return nil, fmt.Errorf("base URL %q: %w", shown, err)
	case u.User != nil || shown != s:
		return nil, fmt.Errorf("base URL %q: credentials belong in the environment, not in the URL", shown)
	case u.Host == "":
		return nil, fmt.Errorf("base URL %q: no host", shown)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("base URL %q: must be https:// (http:// is allowed only for loopback hosts)", shown)
		}
	default:
		return nil, fmt.Errorf("base URL %q: must be https://", shown)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// RedactURL returns s, a URL as the user wrote it, fit to be shown: user
// information (everything between the scheme's "//" and the last "@" of the
// authority) is replaced by "xxxxx", user name included, since a user name
// can be an API key. It works on the raw text, so that a URL that does not
// parse is redacted too, and errs on the side of hiding: the last "@"
// before any query or fragment counts, even one in the path.
func RedactURL(s string) string {
	start := 0
	if i := strings.Index(s, "//"); i >= 0 {
		start = i + 2
	}
	end := len(s)
	if i := strings.IndexAny(s[start:], "?#"); i >= 0 {
		end = start + i
	}
	// A "/" in a password would end the authority early; hide up to the
	// last "@" before any query, whatever stands between.
	at := strings.LastIndex(s[start:end], "@")
	if at < 0 {
		return s
	}
	return s[:start] + "xxxxx" + s[start+at:]
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package backend

import (
	"net"
	"net/url"
	"strings"
)

// NotSent is what a result says of a report's text when no model server
// received it: screened by the rules or an offline backend, replayed from
// the cache, or never handed to a backend.
const NotSent = "not sent"

// Remote is implemented by a backend that sends reports over the network:
// Destination names the server (scheme, host and port, never a path, query
// or credentials), so that every result and summary can say where a
// report's text went.
type Remote interface {
	Destination() string
}

// DestinationOf returns where b sends reports: its Destination when it is
// Remote, else "" (the report stays on this machine). The retry, rate-limit
// and cache layers of Wrap pass it through; an offline cache says "".
func DestinationOf(b Backend) string {
	if r, ok := b.(Remote); ok {
		return r.Destination()
	}
	return ""
}

// ServerOf reduces a server URL to scheme://host[:port], dropping any user
// information, path and query, for naming a destination without leaking a
// token someone put in the URL.
func ServerOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparseable server URL)"
	}
	return u.Scheme + "://" + u.Host
}

// IsLoopback reports whether a server URL (or a bare host[:port]) names this
// machine: localhost, an address in 127.0.0.0/8, or ::1.
func IsLoopback(raw string) bool {
	host := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return false
		}
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(raw); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (r *retrying) Destination() string { return DestinationOf(r.Backend) }

func (l *limited) Destination() string { return DestinationOf(l.Backend) }

// Destination is "" in offline mode: a replaying cache never calls out.
func (cb *caching) Destination() string {
	if cb.c.Mode == CacheOffline {
		return ""
	}
	return DestinationOf(cb.Backend)
}

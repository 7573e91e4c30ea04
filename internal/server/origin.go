package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
)

// origins is the browser-origin policy of the API, one rule for CORS and
// for the WebSocket origin check (docs/security.md, "Browsers").
//
// With no origins configured the API is a public read API: any origin
// with a scheme and host may read anonymously, but may send neither a
// token (Authorization is not an allowed header) nor credentials, and
// cross-origin WebSockets, which carry a staff token, are refused. The
// opaque origin "null" (sandboxed frames, local files) gets nothing.
//
// With origins configured, only those may call the API, with a token, and
// open WebSockets; every other origin gets no CORS headers and a 403 on an
// upgrade. An origin matches a pattern on its scheme and host, exactly or
// with one wildcard ("https://*.example.org").
type origins struct {
	patterns []originPattern
}

type originPattern struct {
	scheme, prefix, suffix string
	wildcard               bool
}

func newOrigins(configured []string) origins {
	var o origins
	for _, c := range configured {
		scheme, host, ok := strings.Cut(strings.ToLower(strings.TrimSpace(c)), "://")
		if !ok || host == "" {
			// Never matches, but keeps the policy restrictive: a mistyped
			// origin must not turn the API public. config.go refuses it.
			o.patterns = append(o.patterns, originPattern{scheme: "invalid"})
			continue
		}
		p := originPattern{scheme: scheme, prefix: host}
		if before, after, ok := strings.Cut(host, "*"); ok {
			p = originPattern{scheme: scheme, prefix: before, suffix: after, wildcard: true}
		}
		o.patterns = append(o.patterns, p)
	}
	return o
}

// public reports whether no origins are configured: the default policy.
func (o origins) public() bool { return len(o.patterns) == 0 }

// parseOrigin splits an Origin header into its scheme and host; ok is false
// for "null" and anything that is not an http(s) origin.
func parseOrigin(origin string) (scheme, host string, ok bool) {
	u, err := url.Parse(strings.ToLower(origin))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
		return "", "", false
	}
	return u.Scheme, u.Host, true
}

// listed reports whether origin matches a configured pattern.
func (o origins) listed(origin string) bool {
	scheme, host, ok := parseOrigin(origin)
	if !ok {
		return false
	}
	for _, p := range o.patterns {
		if p.scheme != scheme {
			continue
		}
		if !p.wildcard && host == p.prefix ||
			p.wildcard && len(host) > len(p.prefix)+len(p.suffix) && strings.HasPrefix(host, p.prefix) && strings.HasSuffix(host, p.suffix) {
			return true
		}
	}
	return false
}

// cors returns the CORS handler of the policy; credentials lets the
// configured origins send cookies and HTTP authentication.
func (o origins) cors(credentials bool) *cors.Cors {
	opts := cors.Options{
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Content-Type", "Authorization", "Apollo-Require-Preflight", "X-Request-Id"},
		ExposedHeaders: []string{"X-Request-Id", "Retry-After"},
		MaxAge:         600,
		AllowOriginFunc: func(origin string) bool {
			return o.listed(origin)
		},
		AllowCredentials: credentials,
	}
	if o.public() {
		opts.AllowedHeaders = []string{"Content-Type", "Apollo-Require-Preflight", "X-Request-Id"}
		opts.AllowOriginFunc = func(origin string) bool {
			_, _, ok := parseOrigin(origin)
			return ok
		}
		opts.AllowCredentials = false
	}
	return cors.New(opts)
}

// allowWebSocket reports whether a WebSocket upgrade from r's Origin may
// proceed: a client that sends none (not a browser), a page of the
// server's own host, or a configured origin.
func (o origins) allowWebSocket(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if _, host, ok := parseOrigin(origin); ok && strings.EqualFold(host, r.Host) {
		return true
	}
	return o.listed(origin)
}

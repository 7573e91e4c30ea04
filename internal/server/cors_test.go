package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/partnergraph/partnergraph/internal/server"
)

// preflight sends a CORS preflight for a POST with headers from origin and
// returns the answer's headers.
func preflight(t *testing.T, url, origin, headers string) http.Header {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, url+"/graphql", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", headers)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header
}

// By default the API is a public read API for browsers: any origin may
// read anonymously, but none may send a token or credentials, and the
// opaque origin "null" (sandboxed frames, files) gets nothing.
func TestCORSDefaultAllowsAnonymousReadsFromAnyOrigin(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	h := preflight(t, a.URL, "https://some.portal.example", "content-type")
	if got := h.Get("Access-Control-Allow-Origin"); got != "*" && got != "https://some.portal.example" {
		t.Errorf("anonymous preflight: allow-origin %q, want the origin or *", got)
	}
	if h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("anonymous preflight: allow-credentials %q, want none", h.Get("Access-Control-Allow-Credentials"))
	}
	h = preflight(t, a.URL, "https://some.portal.example", "content-type, authorization")
	if got := h.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight with Authorization: allow-origin %q, want none (tokens only from configured origins)", got)
	}
	h = preflight(t, a.URL, "null", "content-type")
	if got := h.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight from null: allow-origin %q, want none", got)
	}
	// A simple GET, which needs no preflight, is readable too.
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/graphql?query=%7B__typename%7D", nil)
	req.Header.Set("Origin", "https://some.portal.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got == "" {
		t.Errorf("GET from another origin: no allow-origin, want it readable")
	}
}

// The WebSocket origin check compares the scheme and the host, as CORS
// does: http://app.example.org is not https://app.example.org.
func TestWebSocketOriginComparesSchemeAndHost(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{CORSOrigins: []string{"https://app.example.org", "https://*.ngo.example"}})
	url := "ws" + strings.TrimPrefix(a.URL, "http") + "/graphql"
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://app.example.org", true},
		{"https://wtz.ngo.example", true},
		{"http://app.example.org", false},
		{"http://wtz.ngo.example", false},
		{"https://evil.example.com", false},
		{"null", false},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{
			Subprotocols: []string{"graphql-transport-ws"},
			HTTPHeader:   http.Header{"Origin": {tc.origin}},
		})
		cancel()
		if c != nil {
			c.CloseNow()
		}
		if tc.ok && err != nil {
			t.Errorf("origin %s: %v, want accepted", tc.origin, err)
		}
		if !tc.ok && (err == nil || res == nil || res.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %s: accepted or not 403 (%v), want refused", tc.origin, err)
		}
	}
}

package server_test

import (
	"bytes"
	"net/http"
	"net/netip"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

// hitFrom posts a small anonymous query with the headers h and returns
// the status.
func (a *api) hitFrom(h map[string]string) int {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader([]byte(`{"query":"{ partners { totalCount } }"}`)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Each address may make one request (no refill during the test): a second
// request from the same client address gets 429, one from another passes.
var onePerAddress = server.RateLimit{Rate: 0.001, Burst: 1, StaffRate: 0.001, StaffBurst: 1}

// TestForwardedClientFromTrustedProxy: behind a trusted proxy (the test
// client, on 127.0.0.1) each forwarded client has a bucket of its own,
// and the client is the rightmost untrusted address, so an address a
// client prepends to the header changes nothing.
func TestForwardedClientFromTrustedProxy(t *testing.T) {
	a := newAPI(t, "reference", server.Config{RateLimit: onePerAddress,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16")}})
	steps := []struct {
		header map[string]string
		want   int
	}{
		{map[string]string{"X-Forwarded-For": "192.0.2.1"}, http.StatusOK},
		{map[string]string{"X-Forwarded-For": "192.0.2.2"}, http.StatusOK},
		{map[string]string{"X-Forwarded-For": "192.0.2.1"}, http.StatusTooManyRequests},
		// A spoofed first hop, then the real client, then a trusted proxy.
		{map[string]string{"X-Forwarded-For": "198.51.100.9, 192.0.2.2, 10.1.2.3"}, http.StatusTooManyRequests},
		{map[string]string{"Forwarded": `for=192.0.2.3;proto=https, for="10.1.2.3:8080"`}, http.StatusOK},
		{map[string]string{"Forwarded": `for="[2001:db8::1]:4711"`}, http.StatusOK},
		{map[string]string{"Forwarded": `for=2001:db8::1`, "X-Forwarded-For": "192.0.2.9"}, http.StatusTooManyRequests},
		// The proxy's own address, without a header: the proxy's bucket.
		{nil, http.StatusOK},
		{nil, http.StatusTooManyRequests},
	}
	for i, s := range steps {
		if got := a.hitFrom(s.header); got != s.want {
			t.Errorf("step %d %v: status %d, want %d", i, s.header, got, s.want)
		}
	}
}

// TestForwardedHeadersFromUntrustedPeerChangeNothing: without the peer in
// the trusted proxies, every header is ignored: one bucket, the peer's.
func TestForwardedHeadersFromUntrustedPeerChangeNothing(t *testing.T) {
	for name, trusted := range map[string][]netip.Prefix{
		"none":  nil,
		"other": {netip.MustParsePrefix("10.0.0.0/8")},
	} {
		t.Run(name, func(t *testing.T) {
			a := newAPI(t, "reference", server.Config{RateLimit: onePerAddress, TrustedProxies: trusted})
			if got := a.hitFrom(map[string]string{"X-Forwarded-For": "192.0.2.1"}); got != http.StatusOK {
				t.Fatalf("first request: %d", got)
			}
			for _, h := range []map[string]string{
				{"X-Forwarded-For": "192.0.2.2"},
				{"Forwarded": "for=192.0.2.3"},
				{"X-Forwarded-For": "10.0.0.1"},
			} {
				if got := a.hitFrom(h); got != http.StatusTooManyRequests {
					t.Errorf("%v from an untrusted peer: status %d, want 429 (the peer's bucket)", h, got)
				}
			}
		})
	}
}

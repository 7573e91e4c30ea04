package explorer_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/explorer"
)

// get sends a request with the given method and headers (name, value, ...)
// to h and returns the response.
func get(t *testing.T, h http.Handler, method, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	return rr.Result()
}

// body reads the whole body of resp.
func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

// assetURL matches the asset URLs in the page.
var assetURL = regexp.MustCompile(`(?:src|href)="(` + regexp.QuoteMeta(explorer.AssetPrefix) + `[^"]+)"`)

// assetURLs returns the URLs of the assets the pages of h link to: GraphiQL
// first, then the explorer's.
func assetURLs(t *testing.T, h http.Handler) []string {
	t.Helper()
	var urls []string
	for _, tc := range []struct {
		path string
		want int
		what string
	}{
		{explorer.GraphiQLPath, 10, "favicon, 2 styles, 3 licenses, 4 scripts"},
		{"/", 11, "favicon, 1 style, 4 licenses, 4 scripts of Cytoscape.js and fCoSE, the app's module"},
	} {
		page := body(t, get(t, h, http.MethodGet, tc.path))
		m := assetURL.FindAllStringSubmatch(page, -1)
		if len(m) != tc.want {
			t.Fatalf("got %d asset URLs in %s, want %d (%s): %q", len(m), tc.path, tc.want, tc.what, m)
		}
		for _, u := range m {
			urls = append(urls, u[1])
		}
	}
	return urls
}

func TestPageHasTitleSettingsAndHeaders(t *testing.T) {
	h := explorer.Handler(explorer.Options{})
	resp := get(t, h, http.MethodGet, explorer.GraphiQLPath)
	page := body(t, resp)

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200", resp.StatusCode)
	}
	for name, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-cache",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("got %s %q, want %q", name, got, want)
		}
	}
	for _, want := range []string{
		"<title>partnergraph explorer</title>",
		`data-endpoint="/graphql"`,
		`data-default-query="# The partnergraph GraphQL explorer`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") {
		t.Errorf("page has an inline script or style, which the Content-Security-Policy blocks:\n%s", page)
	}
}

// TestExplorerPageAtTheRoot checks the explorer's page at "/": its own
// scripts, a link to GraphiQL, no inline script, and the same headers.
func TestExplorerPageAtTheRoot(t *testing.T) {
	h := explorer.Handler(explorer.Options{})
	resp := get(t, h, http.MethodGet, "/")
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("got status %d, type %q; want 200 HTML", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"<title>partnergraph explorer</title>",
		`data-endpoint="/graphql"`,
		`href="` + explorer.GraphiQLPath + `"`,
		`/cytoscape/cytoscape.min.js"`,
		`<script type="module" src="` + explorer.AssetPrefix,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") || strings.Contains(page, "graphiql.min.js") {
		t.Errorf("page has an inline script or style, or loads GraphiQL:\n%s", page)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("page has no Content-Security-Policy")
	}
}

func TestContentSecurityPolicyAllowsOnlyThePageAndItsEndpoint(t *testing.T) {
	for _, tc := range []struct {
		endpoint, wantConnect string
	}{
		{"/graphql", "connect-src 'self';"},
		{"https://api.example.com/graphql", "connect-src 'self' https://api.example.com wss://api.example.com;"},
	} {
		h := explorer.Handler(explorer.Options{Endpoint: tc.endpoint})
		csp := get(t, h, http.MethodGet, explorer.GraphiQLPath).Header.Get("Content-Security-Policy")
		if app := get(t, h, http.MethodGet, "/").Header.Get("Content-Security-Policy"); app != csp {
			t.Errorf("endpoint %s: the explorer's CSP %q differs from GraphiQL's %q", tc.endpoint, app, csp)
		}
		for _, want := range []string{"default-src 'none'", "script-src 'self';", tc.wantConnect, "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("endpoint %s: CSP %q lacks %q", tc.endpoint, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
			t.Errorf("endpoint %s: CSP %q allows eval or any host", tc.endpoint, csp)
		}
	}
}

func TestPageEscapesTheOptions(t *testing.T) {
	h := explorer.Handler(explorer.Options{
		Title:        `partnergraph </title><script>alert(1)</script>`,
		DefaultQuery: `{ a(s: "\"><script>alert(2)</script>") }`,
		Endpoint:     `/graphql?x="><script>alert(3)</script>`,
	})
	page := body(t, get(t, h, http.MethodGet, explorer.GraphiQLPath))
	if strings.Contains(page, "<script>alert") {
		t.Errorf("page contains an option unescaped:\n%s", page)
	}
	if !strings.Contains(page, "partnergraph &lt;/title&gt;") {
		t.Errorf("page lacks the escaped title:\n%s", page)
	}
}

func TestAssetsAreServedWithTypeAndLongCache(t *testing.T) {
	h := explorer.Handler(explorer.Options{})
	for _, u := range assetURLs(t, h) {
		resp := get(t, h, http.MethodGet, u)
		got := body(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: got status %d, want 200", u, resp.StatusCode)
			continue
		}
		name := u[strings.Index(u[len(explorer.AssetPrefix):], "/")+len(explorer.AssetPrefix)+1:]
		want, err := os.ReadFile(filepath.Join("assets", filepath.FromSlash(name)))
		if err != nil {
			t.Fatalf("read the asset: %v", err)
		}
		if got != string(want) {
			t.Errorf("GET %s: body differs from assets/%s", u, name)
		}
		wantType := map[string]string{
			".js":  "text/javascript; charset=utf-8",
			".css": "text/css; charset=utf-8",
			".svg": "image/svg+xml",
			"":     "text/plain; charset=utf-8", // LICENSE
		}[filepath.Ext(name)]
		if ct := resp.Header.Get("Content-Type"); ct != wantType {
			t.Errorf("GET %s: got Content-Type %q, want %q", u, ct, wantType)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: got Cache-Control %q, want a year, immutable", u, cc)
		}
		if enc := resp.Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("GET %s without Accept-Encoding: got Content-Encoding %q, want none", u, enc)
		}
	}
}

func TestAssetsAreGzippedForClientsThatAcceptIt(t *testing.T) {
	h := explorer.Handler(explorer.Options{})
	for _, u := range assetURLs(t, h) {
		plain := body(t, get(t, h, http.MethodGet, u))
		resp := get(t, h, http.MethodGet, u, "Accept-Encoding", "br, gzip;q=0.8")
		if resp.Header.Get("Content-Encoding") != "gzip" {
			if len(plain) > 1000 {
				t.Errorf("GET %s: got Content-Encoding %q, want gzip", u, resp.Header.Get("Content-Encoding"))
			}
			continue
		}
		if vary := resp.Header.Get("Vary"); vary != "Accept-Encoding" {
			t.Errorf("GET %s: got Vary %q, want Accept-Encoding", u, vary)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: open gzip: %v", u, err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("GET %s: read gzip: %v", u, err)
		}
		if !bytes.Equal(unzipped, []byte(plain)) {
			t.Errorf("GET %s: gzipped body differs from the plain one", u)
		}
	}
	u := assetURLs(t, h)[0]
	if enc := get(t, h, http.MethodGet, u, "Accept-Encoding", "gzip;q=0").Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("GET %s with gzip;q=0: got Content-Encoding %q, want none", u, enc)
	}
}

func TestOtherRequestsAreRefused(t *testing.T) {
	h := explorer.Handler(explorer.Options{})
	asset := assetURLs(t, h)[1]
	wrongHash := explorer.AssetPrefix + "000000000000" + asset[strings.Index(asset[len(explorer.AssetPrefix):], "/")+len(explorer.AssetPrefix):]
	for _, tc := range []struct {
		method, target string
		want           int
	}{
		{http.MethodGet, "/graphql", http.StatusNotFound},
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodGet, "/favicon.ico", http.StatusNotFound},
		{http.MethodGet, explorer.AssetPrefix, http.StatusNotFound},
		{http.MethodGet, wrongHash, http.StatusNotFound},
		{http.MethodGet, explorer.AssetPrefix + "x/../page.html", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodDelete, asset, http.StatusMethodNotAllowed},
	} {
		resp := get(t, h, tc.method, tc.target)
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: got status %d, want %d", tc.method, tc.target, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: got Allow %q, want %q", tc.method, tc.target, resp.Header.Get("Allow"), "GET, HEAD")
		}
	}
}

func TestHeadSendsHeadersOnly(t *testing.T) {
	h := explorer.Handler(explorer.Options{})
	for _, u := range []string{"/", assetURLs(t, h)[0]} {
		full := get(t, h, http.MethodGet, u)
		head := get(t, h, http.MethodHead, u)
		if got := body(t, head); got != "" {
			t.Errorf("HEAD %s: got a body of %d bytes, want none", u, len(got))
		}
		if got, want := head.Header.Get("Content-Length"), full.Header.Get("Content-Length"); got != want || got == "" {
			t.Errorf("HEAD %s: got Content-Length %q, want %q as for GET", u, got, want)
		}
	}
}

func TestMountsOnAMux(t *testing.T) {
	h := explorer.Handler(explorer.Options{})
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+explorer.GraphiQLPath, h)
	mux.Handle("GET "+explorer.AssetPrefix, h)
	for _, u := range append([]string{"/", explorer.GraphiQLPath}, assetURLs(t, h)...) {
		if resp := get(t, mux, http.MethodGet, u); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s through the mux: got status %d, want 200", u, resp.StatusCode)
		}
	}
}

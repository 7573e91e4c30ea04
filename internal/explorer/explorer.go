// Package explorer serves two self-contained pages for the GraphQL API: the
// explorer at "/", where researchers and staff search, read entity pages,
// draw neighbourhoods and paths, see analyses and link entries without
// writing GraphQL (docs/explorer.md), and GraphiQL at [GraphiQLPath], for
// developers.
//
// Everything the pages load (the explorer's own script and style,
// Cytoscape.js with the fCoSE layout, GraphiQL, React) is embedded in the
// binary and served by the same handler, so the pages work without internet
// access, and their Content-Security-Policy allows nothing from other
// origins: scripts, styles, fonts and images come from the page's own origin
// (fonts and images also from data: URLs), queries and the change feed's
// WebSocket go to it or to the endpoint's origin, and only styles may be
// inline. assets/README.md says which versions are embedded and how to update
// them (scripts/vendor-explorer).
//
// The handler owns three kinds of path: the explorer at "/", GraphiQL at
// [GraphiQLPath] and the assets under [AssetPrefix]. Mount it on the root of
// a mux, where it also answers 404 for any other path that no more specific
// pattern takes:
//
//	mux := http.NewServeMux()
//	mux.Handle("/graphql", api)
//	mux.Handle("/", explorer.Handler(explorer.Options{Endpoint: "/graphql"}))
//
// or mount it on exactly the paths it owns:
//
//	h := explorer.Handler(explorer.Options{Endpoint: "/graphql"})
//	mux.Handle("GET /{$}", h)
//	mux.Handle("GET "+explorer.GraphiQLPath, h)
//	mux.Handle("GET "+explorer.AssetPrefix, h)
package explorer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
)

// AssetPrefix is the path under which the handler serves the page's scripts,
// styles and their licenses. An asset's URL is AssetPrefix, a hash of its
// content, a slash and its name, so it can be cached for good.
const AssetPrefix = "/explorer/assets/"

// GraphiQLPath is the path of the GraphiQL page.
const GraphiQLPath = "/graphiql"

// DefaultEndpoint is the GraphQL endpoint the page talks to when
// Options.Endpoint is empty.
const DefaultEndpoint = "/graphql"

// DefaultTitle is the page title when Options.Title is empty.
const DefaultTitle = "partnergraph explorer"

// DefaultQuery is the query a fresh editor shows when Options.DefaultQuery is
// empty. It runs against any schema.
const DefaultQuery = `# The partnergraph GraphQL explorer
#
# Type a query, run it with Ctrl-Enter.
# The book icon on the left opens the docs.

{
  __typename
}
`

// Options configures the page.
type Options struct {
	// Endpoint is the URL of the GraphQL endpoint the page sends its queries
	// to, usually a path on the same server. An absolute URL on another origin
	// works too, if that origin allows the page's by CORS: the
	// Content-Security-Policy then allows connections to it.
	// Empty means DefaultEndpoint.
	Endpoint string

	// Title is the title of both pages and the text of GraphiQL's logo.
	// Empty means DefaultTitle.
	Title string

	// DefaultQuery is the query shown in a fresh editor. GraphiQL keeps the
	// user's own tabs in the browser's local storage, so a returning user sees
	// those instead. Empty means the package's DefaultQuery.
	DefaultQuery string
}

// assetCacheControl lets browsers and proxies keep an asset for a year:
// a new version has a new URL.
const assetCacheControl = "public, max-age=31536000, immutable"

// pageCacheControl makes browsers check for a new page each time, so they
// pick up the URLs of new assets after a deploy.
const pageCacheControl = "no-cache"

//go:embed page.html app.html assets/*.js assets/*.css assets/*.svg assets/*/*
var files embed.FS

// handler serves the pages and their assets. It is immutable after Handler
// returns, except for the lazily compressed copies of the assets.
type handler struct {
	app    []byte // the explorer, at "/"
	page   []byte // GraphiQL, at GraphiQLPath
	csp    string
	assets map[string]*asset // by name, such as "react/react.production.min.js"
}

// asset is one embedded file, served at AssetPrefix + hash + "/" + name.
type asset struct {
	hash        string
	contentType string
	body        []byte

	gzipOnce sync.Once
	gzipped  []byte // nil when compression does not make the body smaller
}

// Handler returns the explorer: it serves the explorer at "/", GraphiQL at
// GraphiQLPath and their assets under AssetPrefix, to GET and HEAD requests,
// and answers 404 for every other
// path and 405 for other methods. See the package documentation for how to
// mount it.
//
// Handler panics only if the embedded files are broken, which the package's
// tests rule out.
func Handler(opts Options) http.Handler {
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultEndpoint
	}
	if opts.Title == "" {
		opts.Title = DefaultTitle
	}
	if opts.DefaultQuery == "" {
		opts.DefaultQuery = DefaultQuery
	}
	h := &handler{csp: contentSecurityPolicy(opts.Endpoint)}
	var err error
	if h.assets, err = loadAssets(); err != nil {
		panic(fmt.Sprintf("explorer: %v", err))
	}
	if h.page, err = h.renderPage("page.html", opts); err != nil {
		panic(fmt.Sprintf("explorer: %v", err))
	}
	if h.app, err = h.renderPage("app.html", opts); err != nil {
		panic(fmt.Sprintf("explorer: %v", err))
	}
	return h
}

// contentSecurityPolicy allows the pages to load scripts, styles, fonts and
// images from their own origin only, and to connect to their own origin and
// to the endpoint's (over HTTP and, for the change feed, WebSocket: 'self'
// covers ws: and wss: on the same host).
//
// Styles need 'unsafe-inline': GraphiQL's dialogs and menus insert <style>
// elements, and Cytoscape.js sizes its canvases through style attributes. Fonts and images need data: because GraphiQL's stylesheet embeds
// its fonts and icons as data URLs. Scripts need neither 'unsafe-inline' nor
// 'unsafe-eval'; the browser test proves it.
func contentSecurityPolicy(endpoint string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
		switch u.Scheme {
		case "https":
			connect += " wss://" + u.Host
		case "http":
			connect += " ws://" + u.Host
		}
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + connect,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

// loadAssets reads the embedded assets and computes the hash in their URLs.
func loadAssets() (map[string]*asset, error) {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		return nil, fmt.Errorf("open embedded assets: %w", err)
	}
	assets := make(map[string]*asset)
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, name)
		if err != nil {
			return fmt.Errorf("read asset %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		assets[name] = &asset{
			hash:        hex.EncodeToString(sum[:6]),
			contentType: contentType(name),
			body:        body,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk embedded assets: %w", err)
	}
	return assets, nil
}

// contentType returns the media type of an asset. It does not use
// mime.TypeByExtension, whose answer depends on the machine's MIME tables.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	default: // the LICENSE files
		return "text/plain; charset=utf-8"
	}
}

// renderPage renders the HTML page of the template file name, once: it
// depends on the options only.
func (h *handler) renderPage(name string, opts Options) ([]byte, error) {
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := h.assets[name]
			if !ok {
				return "", fmt.Errorf("no asset %q", name)
			}
			return AssetPrefix + a.hash + "/" + name, nil
		},
		"graphiql": func() string { return GraphiQLPath },
	}
	tmpl, err := template.New(name).Funcs(funcs).ParseFS(files, name)
	if err != nil {
		return nil, fmt.Errorf("parse page template: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, opts); err != nil {
		return nil, fmt.Errorf("render page: %w", err)
	}
	return buf.Bytes(), nil
}

// ServeHTTP serves a page or an asset.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve func(http.ResponseWriter, *http.Request)
	switch {
	case r.URL.Path == "/":
		serve = func(w http.ResponseWriter, r *http.Request) { h.servePage(w, r, h.app) }
	case r.URL.Path == GraphiQLPath:
		serve = func(w http.ResponseWriter, r *http.Request) { h.servePage(w, r, h.page) }
	case strings.HasPrefix(r.URL.Path, AssetPrefix):
		serve = h.serveAsset
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	serve(w, r)
}

// servePage serves an HTML page.
func (h *handler) servePage(w http.ResponseWriter, r *http.Request, page []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", pageCacheControl)
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	write(w, r, page)
}

// serveAsset serves the asset that the path names, gzipped if the client
// accepts it. A path whose hash is not the asset's current one is a 404:
// serving other content under it would poison caches for a year.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	hash, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, AssetPrefix), "/")
	a := h.assets[name]
	if !ok || a == nil || a.hash != hash {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Cache-Control", assetCacheControl)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Vary", "Accept-Encoding")
	body := a.body
	if gz := a.gzip(); gz != nil && acceptsGzip(r) {
		hdr.Set("Content-Encoding", "gzip")
		body = gz
	}
	write(w, r, body)
}

// write sends body with its length, or only the length for a HEAD request.
func write(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client went away; nothing to do
	}
}

// gzip returns the asset compressed, or nil if that does not make it smaller.
// It compresses on first use, so that servers that never show the explorer do
// not pay for it.
func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		// Writes to a bytes.Buffer do not fail.
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		if buf.Len() < len(a.body) {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, field := range r.Header.Values("Accept-Encoding") {
		for coding := range strings.SplitSeq(field, ",") {
			name, params, _ := strings.Cut(coding, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q, found := strings.CutPrefix(strings.TrimSpace(params), "q=")
			if !found {
				return true
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
			return err == nil && v > 0
		}
	}
	return false
}

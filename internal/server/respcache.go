package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/singleflight"
)

// ResponseCache configures the cache of anonymous query responses.
type ResponseCache struct {
	// TTL is how long an answer is served again; 0 turns the cache off.
	// Every write made through this server empties the cache at once;
	// writes through other servers or commands are seen within TTL.
	TTL time.Duration
	// Entries bounds how many answers are kept and Bytes their total size
	// (the least recently used go first); MaxBytes bounds one answer.
	Entries, Bytes, MaxBytes int
}

// DefaultResponseCache is the cache serve uses unless configured: a front
// page of the million-entity graph is about 400 kB of JSON.
var DefaultResponseCache = ResponseCache{TTL: 2 * time.Second, Entries: 1024, Bytes: 32 << 20, MaxBytes: 2 << 20}

// responseCache serves the answers of anonymous readers' queries again
// for a short time: a public front page or list is asked the same
// question by every visitor, and the answer changes only with a write.
//
// It works at two levels. In front of GraphQL (middleware), a request
// whose bytes (method, Accept, body or query string) were answered before
// gets the stored HTTP body as it is: no parsing, no execution, no
// encoding, which for a 400 kB page is most of the work. Inside GraphQL
// (the extension), an operation marks its answer as one that may be kept:
// a query, by an anonymous reader (staff see drafts), without errors; and
// every mutation empties the cache. A request with "Cache-Control:
// no-cache" is answered afresh and its answer is not kept.
//
// Concurrent askers of a question that is not cached wait for one
// execution of it rather than each executing it: when a slow answer
// expires, the clients of a busy page would otherwise all miss at once.
type responseCache struct {
	cfg     ResponseCache
	metrics *metrics
	flight  singleflight.Group

	mu    sync.Mutex
	gen   uint64 // counts invalidations; an answer computed across one is not kept
	bytes int    // total size of the answers kept
	cache *lru.Cache[string, cachedResponse]
}

type cachedResponse struct {
	body            []byte
	contentType     string
	contentLanguage string // the language the answer was asked in, "" for none
	gen             uint64
	expires         time.Time
}

func newResponseCache(cfg ResponseCache, m *metrics) *responseCache {
	rc := &responseCache{cfg: cfg, metrics: m}
	c, err := lru.NewWithEvict(max(cfg.Entries, 1), func(_ string, v cachedResponse) { rc.bytes -= len(v.body) })
	if err != nil {
		panic(err) // only for a size < 1
	}
	rc.cache = c
	return rc
}

// add keeps an answer within the byte budget; c.mu is held.
func (c *responseCache) add(key string, r cachedResponse) {
	c.cache.Add(key, r) // an answer it replaces is evicted, and subtracted
	c.bytes += len(r.body)
	for c.cfg.Bytes > 0 && c.bytes > c.cfg.Bytes && c.cache.Len() > 1 {
		c.cache.RemoveOldest()
	}
}

// invalidate forgets every answer, and any answer being computed.
func (c *responseCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.cache.Purge() // evicts each, so bytes returns to 0
	c.mu.Unlock()
}

// maxCachedRequest bounds the requests whose bytes are a key.
const maxCachedRequest = 64 << 10

// middleware answers anonymous requests from the cache, and keeps the
// answers that the extension marked as keepable.
func (c *responseCache) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.FromRequest(r).TokenID != 0 || noCache(r.Header) || isWebSocket(r) || isEventStream(r) ||
			(r.Method != http.MethodPost && r.Method != http.MethodGet) || r.ContentLength > maxCachedRequest {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCachedRequest+1))
		if err != nil || len(body) > maxCachedRequest {
			// Let GraphQL answer what cannot be read, or is too large to
			// be a key, as it would without the cache.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			next.ServeHTTP(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// The language Accept-Language negotiates changes the answer;
		// headers that negotiate the same language share it.
		key := r.Method + "\x00" + r.Header.Get("Accept") + "\x00" + lang.Negotiate(r.Header.Get("Accept-Language")) + "\x00" +
			r.URL.RawQuery + "\x00" + string(body)
		now := time.Now()
		c.mu.Lock()
		gen := c.gen
		hit, ok := c.cache.Get(key)
		c.mu.Unlock()
		if ok && hit.gen == gen && now.Before(hit.expires) {
			c.metrics.responseCache.WithLabelValues("hit").Inc()
			write(w, hit)
			return
		}
		c.metrics.responseCache.WithLabelValues("miss").Inc()
		// The generation is in the flight's key: a request that came after
		// a write must not take an answer computed before it.
		var mine bool
		v, _, shared := c.flight.Do(strconv.FormatUint(gen, 10)+"\x00"+key, func() (any, error) {
			mine = true
			rec := &recorder{header: http.Header{}, status: http.StatusOK}
			keep := &keepable{}
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), keepKey{}, keep)))
			out := cachedResponse{body: rec.body.Bytes(), contentType: rec.header.Get("Content-Type"),
				contentLanguage: rec.header.Get("Content-Language"), gen: gen, expires: now.Add(c.cfg.TTL)}
			copyHeader(w.Header(), rec.header)
			w.WriteHeader(rec.status)
			_, _ = w.Write(out.body)
			if !keep.ok || rec.status != http.StatusOK || len(out.body) > c.cfg.MaxBytes {
				return nil, nil
			}
			c.mu.Lock()
			if c.gen == gen {
				c.add(key, out)
			}
			c.mu.Unlock()
			return out, nil
		})
		if mine {
			return
		}
		if out, ok := v.(cachedResponse); ok && shared {
			write(w, out)
			return
		}
		// The answer another request got is not one to share (an error,
		// a cancelled request): this one is executed on its own.
		next.ServeHTTP(w, r)
	})
}

// write sends a kept answer.
func write(w http.ResponseWriter, r cachedResponse) {
	if r.contentType != "" {
		w.Header().Set("Content-Type", r.contentType)
	}
	// Vary: Accept-Language as the answer that was kept had it.
	w.Header().Add("Vary", "Accept-Language")
	if r.contentLanguage != "" {
		w.Header().Set("Content-Language", r.contentLanguage)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(r.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(r.body)
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = vs
	}
}

// recorder keeps what a handler writes.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}

// keepable is set by the extension when the request's answer may be kept.
type keepable struct{ ok bool }

type keepKey struct{}

var (
	_ graphql.HandlerExtension     = (*responseCache)(nil)
	_ graphql.OperationInterceptor = (*responseCache)(nil)
)

// ExtensionName implements graphql.HandlerExtension.
func (*responseCache) ExtensionName() string { return "ResponseCache" }

// Validate implements graphql.HandlerExtension.
func (*responseCache) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation implements graphql.OperationInterceptor: a mutation
// empties the cache once it is done, and an anonymous query's answer
// without errors is marked as one the middleware may keep.
func (c *responseCache) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return next(ctx)
	}
	h := next(ctx)
	switch {
	case oc.Operation.Operation == ast.Mutation:
		// Whatever the outcome: a failed mutation may have written nothing,
		// but forgetting is always safe.
		return func(ctx context.Context) *graphql.Response {
			r := h(ctx)
			c.invalidate()
			return r
		}
	case oc.Operation.Operation == ast.Query && auth.ViewerOf(ctx).TokenID == 0:
		keep, _ := ctx.Value(keepKey{}).(*keepable)
		if keep == nil {
			return h
		}
		return func(ctx context.Context) *graphql.Response {
			r := h(ctx)
			keep.ok = r != nil && len(r.Errors) == 0
			return r
		}
	}
	return h
}

// noCache reports whether the client asked for a fresh answer.
func noCache(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d == "no-cache" || d == "no-store" {
				return true
			}
		}
	}
	return false
}

package server

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/vektah/gqlparser/v2/ast"
)

// ResponseCache configures the cache of anonymous query responses.
type ResponseCache struct {
	// TTL is how long an answer is served again; 0 turns the cache off.
	// Every write made through this server empties the cache at once;
	// writes through other servers or commands are seen within TTL.
	TTL time.Duration
	// Entries bounds how many answers are kept (least recently used go
	// first); MaxBytes bounds the size of one answer that is kept.
	Entries, MaxBytes int
}

// DefaultResponseCache is the cache serve uses unless configured.
var DefaultResponseCache = ResponseCache{TTL: 2 * time.Second, Entries: 256, MaxBytes: 128 << 10}

// responseCache serves the answers of anonymous readers' queries again
// for a short time: a public front page or list is asked the same
// question by every visitor, and the answer changes only with a write. The
// key is the document, the operation name and the variables; staff (who
// see drafts), mutations, subscriptions and answers with errors are never
// cached. A request with "Cache-Control: no-cache" is answered afresh.
type responseCache struct {
	cfg     ResponseCache
	metrics *metrics

	mu    sync.Mutex
	gen   uint64 // counts invalidations; an answer computed across one is not kept
	cache *lru.Cache[string, cachedResponse]
}

type cachedResponse struct {
	data    json.RawMessage
	gen     uint64
	expires time.Time
}

func newResponseCache(cfg ResponseCache, m *metrics) *responseCache {
	c, err := lru.New[string, cachedResponse](max(cfg.Entries, 1))
	if err != nil {
		panic(err) // only for a size < 1
	}
	return &responseCache{cfg: cfg, metrics: m, cache: c}
}

var (
	_ graphql.HandlerExtension     = (*responseCache)(nil)
	_ graphql.OperationInterceptor = (*responseCache)(nil)
)

// ExtensionName implements graphql.HandlerExtension.
func (*responseCache) ExtensionName() string { return "ResponseCache" }

// Validate implements graphql.HandlerExtension.
func (*responseCache) Validate(graphql.ExecutableSchema) error { return nil }

// invalidate forgets every answer, and any answer being computed.
func (c *responseCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.cache.Purge()
	c.mu.Unlock()
}

// InterceptOperation implements graphql.OperationInterceptor.
func (c *responseCache) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return next(ctx)
	}
	if oc.Operation.Operation == ast.Mutation {
		// Whatever the outcome: a failed mutation may have written nothing,
		// but forgetting is always safe.
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			r := h(ctx)
			c.invalidate()
			return r
		}
	}
	if oc.Operation.Operation != ast.Query || auth.ViewerOf(ctx).TokenID != 0 {
		return next(ctx)
	}
	vars, err := json.Marshal(oc.Variables) // map keys sorted: one key per question
	if err != nil {
		return next(ctx)
	}
	key := oc.OperationName + "\x00" + oc.RawQuery + "\x00" + string(vars)
	now := time.Now()
	c.mu.Lock()
	gen := c.gen
	hit, ok := c.cache.Get(key)
	c.mu.Unlock()
	fresh := ok && hit.gen == gen && now.Before(hit.expires)
	if fresh && !noCache(oc) {
		c.metrics.responseCache.WithLabelValues("hit").Inc()
		return graphql.OneShot(&graphql.Response{Data: hit.data})
	}
	c.metrics.responseCache.WithLabelValues("miss").Inc()
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		r := h(ctx)
		if r == nil || len(r.Errors) > 0 || len(r.Data) > c.cfg.MaxBytes {
			return r
		}
		c.mu.Lock()
		if c.gen == gen {
			c.cache.Add(key, cachedResponse{data: r.Data, gen: gen, expires: now.Add(c.cfg.TTL)})
		}
		c.mu.Unlock()
		return r
	}
}

// noCache reports whether the client asked for a fresh answer.
func noCache(oc *graphql.OperationContext) bool {
	for _, v := range oc.Headers.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d == "no-cache" || d == "no-store" {
				return true
			}
		}
	}
	return false
}

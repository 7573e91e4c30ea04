package server

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/partnergraph/partnergraph/internal/auth"
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
// question by every visitor, and the answer changes only with a write. The
// key is the document, the operation name and the variables; staff (who
// see drafts), mutations, subscriptions and answers with errors are never
// cached. A request with "Cache-Control: no-cache" is answered afresh.
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
	data    json.RawMessage
	gen     uint64
	expires time.Time
}

func newResponseCache(cfg ResponseCache, m *metrics) *responseCache {
	rc := &responseCache{cfg: cfg, metrics: m}
	c, err := lru.NewWithEvict(max(cfg.Entries, 1), func(_ string, v cachedResponse) { rc.bytes -= len(v.data) })
	if err != nil {
		panic(err) // only for a size < 1
	}
	rc.cache = c
	return rc
}

// add keeps an answer within the byte budget; c.mu is held.
func (c *responseCache) add(key string, r cachedResponse) {
	c.cache.Add(key, r) // an answer it replaces is evicted, and subtracted
	c.bytes += len(r.data)
	for c.cfg.Bytes > 0 && c.bytes > c.cfg.Bytes && c.cache.Len() > 1 {
		c.cache.RemoveOldest()
	}
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
	c.cache.Purge() // evicts each, so bytes returns to 0
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
	if noCache(oc) {
		return func(ctx context.Context) *graphql.Response {
			r := h(ctx)
			c.keep(key, gen, now, r)
			return r
		}
	}
	return func(ctx context.Context) *graphql.Response {
		var mine *graphql.Response
		// The generation is in the flight's key: a request that came after
		// a write must not take an answer computed before it.
		v, _, shared := c.flight.Do(strconv.FormatUint(gen, 10)+"\x00"+key, func() (any, error) {
			mine = h(ctx)
			c.keep(key, gen, now, mine)
			return mine, nil
		})
		if mine != nil {
			return mine
		}
		// Another request executed it. An answer with errors may be its
		// own (a cancelled request), so this one executes on its own.
		if r, ok := v.(*graphql.Response); ok && shared && r != nil && len(r.Errors) == 0 {
			return &graphql.Response{Data: r.Data}
		}
		return h(ctx)
	}
}

// keep stores an answer unless it has errors, is too large or was
// computed across a write.
func (c *responseCache) keep(key string, gen uint64, at time.Time, r *graphql.Response) {
	if r == nil || len(r.Errors) > 0 || len(r.Data) > c.cfg.MaxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.add(key, cachedResponse{data: r.Data, gen: gen, expires: at.Add(c.cfg.TTL)})
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

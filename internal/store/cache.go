package store

import (
	"sync"
	"time"
)

// resultCache keeps recent results of expensive read-only queries for a
// short time, per key, and lets concurrent callers of one key share one
// query. It is soft state: every instance has its own, and a result may
// lag writes by up to ttl.
type resultCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*cacheEntry
	gen uint64 // how many times forget has run
}

type cacheEntry struct {
	done    chan struct{} // closed when the query has answered
	expires time.Time
	val     any
	err     error
}

// get returns the cached value of key, or runs fetch once for all the
// callers that ask meanwhile. Errors are not kept.
func (c *resultCache) get(key string, fetch func() (any, error)) (any, error) {
	now := time.Now()
	c.mu.Lock()
	if e, ok := c.m[key]; ok && (e.expires.IsZero() || now.Before(e.expires)) {
		c.mu.Unlock()
		<-e.done
		if e.err == nil {
			return e.val, nil
		}
		return fetch() // the shared query failed: try on our own
	}
	c.bound(now)
	e := &cacheEntry{done: make(chan struct{})}
	c.m[key] = e
	c.mu.Unlock()
	e.val, e.err = fetch()
	c.mu.Lock()
	if e.err != nil {
		delete(c.m, key)
	} else {
		e.expires = time.Now().Add(c.ttl)
	}
	c.mu.Unlock()
	close(e.done)
	return e.val, e.err
}

// CacheAggregates makes Aggregate keep each result for ttl (0 turns the
// cache off, the default): an aggregate over a million entities reads
// hundreds of thousands of rows (about 0.5 s on the generated 1M graph),
// while researchers' counts can be a few seconds old. Call it before use.
func (s *Store) CacheAggregates(ttl time.Duration) { s.aggregates = newResultCache(ttl) }

// newResultCache returns a cache that keeps results for ttl; nil (no
// caching) for a ttl of 0 or less.
func newResultCache(ttl time.Duration) *resultCache {
	if ttl <= 0 {
		return nil
	}
	return &resultCache{ttl: ttl, m: map[string]*cacheEntry{}}
}

// CacheCounts makes the lists of anonymous and reader requests share what
// they read from the counters to plan their pages (counterPlan) until
// ForgetCaches, or for ttl at most (0 turns it off, the default): the
// server forgets them whenever the change feed announces a write, so
// such a list sees a change once its notification has reached the
// instance, as the response cache and the traversal index do
// (docs/scaling.md); the ttl is the backstop for a notification lost
// while the listener reconnects. Call it before use.
func (s *Store) CacheCounts(ttl time.Duration) { s.counts = newResultCache(ttl) }

// forget drops every result, and any result being computed (its callers
// still get it, but it is not kept).
func (c *resultCache) forget() {
	c.mu.Lock()
	clear(c.m)
	c.gen++
	c.mu.Unlock()
}

// generation returns how many times forget has run, for keepIf.
func (c *resultCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// lookup returns the value kept for key, if one has been computed and
// has not expired.
func (c *resultCache) lookup(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.expires.IsZero() || time.Now().After(e.expires) {
		return nil, false
	}
	return e.val, true
}

// keepIf keeps val for key for the cache's ttl, unless forget has run
// since generation gen (what was read then may predate the change forget
// was called for).
func (c *resultCache) keepIf(gen uint64, key string, val any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	now := time.Now()
	c.bound(now)
	c.m[key] = &cacheEntry{done: answered, expires: now.Add(c.ttl), val: val}
}

// answered is the done of an entry kept with its value (keepIf).
var answered = func() chan struct{} {
	done := make(chan struct{})
	close(done)
	return done
}()

// bound drops the expired entries once c holds more than 1,000: a bound,
// not an eviction policy. c.mu is held.
func (c *resultCache) bound(now time.Time) {
	if len(c.m) > 1000 {
		for k, e := range c.m {
			if !e.expires.IsZero() && now.After(e.expires) {
				delete(c.m, k)
			}
		}
	}
}

// CacheVocabulary makes the searches and suggestions of anonymous and
// reader requests share what they read of the vocabulary (the terms under
// a prefix: completions, the ranges that prune reads, which words it
// holds) until ForgetCaches, or for ttl at most (0 turns it off, the
// default), as CacheCounts does for the counters: a search of published
// entries read the vocabulary in a round trip of its own before its page
// (docs/search.md, "Round trips"). The vocabulary changes only with
// published text, which the change feed announces. Call it before use.
func (s *Store) CacheVocabulary(ttl time.Duration) { s.vocabulary = newResultCache(ttl) }

// ForgetCaches drops the results the store keeps (aggregates, counts, the vocabulary), for when
// the change feed announces a write made anywhere: an instance's caches
// then lag a write by the notification's delay, not by their TTL, which
// stays only as a backstop for lost notifications (docs/scaling.md).
func (s *Store) ForgetCaches() {
	if s.aggregates != nil {
		s.aggregates.forget()
	}
	if s.counts != nil {
		s.counts.forget()
	}
	if s.vocabulary != nil {
		s.vocabulary.forget()
	}
}

// KeepsResults reports whether the store keeps results that ForgetCaches
// drops.
func (s *Store) KeepsResults() bool {
	return s.aggregates != nil || s.counts != nil || s.vocabulary != nil
}

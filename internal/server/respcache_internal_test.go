package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeGraphQL answers body, marks its answers as keepable as the extension
// does for an anonymous query, counts its executions and runs during in
// the middle of each.
type fakeGraphQL struct {
	body       string
	executions atomic.Int32
	during     func()
}

func (f *fakeGraphQL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.executions.Add(1)
	if f.during != nil {
		f.during()
	}
	if keep, ok := r.Context().Value(keepKey{}).(*keepable); ok {
		keep.ok = true
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(f.body))
}

func ask(t *testing.T, h http.Handler, query string) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"`+query+`"}`)))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	return w.Body.String()
}

// TestResponseCacheKeepsNothingComputedAcrossAWrite: an answer whose
// execution began before a write and ended after it may hold the old
// state, so it must not be kept.
func TestResponseCacheKeepsNothingComputedAcrossAWrite(t *testing.T) {
	c := newResponseCache(ResponseCache{TTL: time.Minute, Entries: 4, MaxBytes: 1 << 10}, newMetrics(nil))
	f := &fakeGraphQL{body: `{"data":{}}`}
	h := c.middleware(f)
	f.during = c.invalidate // a write lands while the answer is computed
	ask(t, h, "{ a }")
	f.during = nil
	ask(t, h, "{ a }")
	if n := f.executions.Load(); n != 2 {
		t.Fatalf("%d executions, want 2: the answer computed across the write was kept", n)
	}
	if got := ask(t, h, "{ a }"); got != f.body || f.executions.Load() != 2 {
		t.Fatalf("%d executions and %q, want 2 and the answer kept after the write", f.executions.Load(), got)
	}
}

// TestResponseCacheExecutesConcurrentMissesOnce: askers of the same
// question that is not cached wait for one execution.
func TestResponseCacheExecutesConcurrentMissesOnce(t *testing.T) {
	c := newResponseCache(ResponseCache{TTL: time.Minute, Entries: 4, MaxBytes: 1 << 10}, newMetrics(nil))
	release := make(chan struct{})
	f := &fakeGraphQL{body: `{"data":{"n":1}}`, during: func() { <-release }}
	h := c.middleware(f)
	var wg sync.WaitGroup
	answers := make([]string, 5)
	for i := range answers {
		wg.Go(func() { answers[i] = ask(t, h, "{ n }") })
	}
	time.Sleep(100 * time.Millisecond) // all five are waiting
	close(release)
	wg.Wait()
	if n := f.executions.Load(); n != 1 {
		t.Errorf("%d executions for five concurrent askers, want 1", n)
	}
	for i, a := range answers {
		if a != f.body {
			t.Errorf("asker %d got %q", i, a)
		}
	}
}

// TestResponseCacheKeepsWithinItsByteBudget: the least recently used
// answers go when the total passes Bytes.
func TestResponseCacheKeepsWithinItsByteBudget(t *testing.T) {
	c := newResponseCache(ResponseCache{TTL: time.Minute, Entries: 100, Bytes: 100, MaxBytes: 80}, newMetrics(nil))
	f := &fakeGraphQL{body: `{"x":"` + strings.Repeat("a", 52) + `"}`} // 60 bytes
	h := c.middleware(f)
	for _, q := range []string{"{ a }", "{ b }", "{ c }"} {
		ask(t, h, q)
	}
	c.mu.Lock()
	if c.cache.Len() != 1 || c.bytes != 60 {
		t.Errorf("%d answers of %d bytes kept, want 1 of 60 (budget 100)", c.cache.Len(), c.bytes)
	}
	c.mu.Unlock()
	c.invalidate()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes != 0 {
		t.Errorf("%d bytes counted after the cache was emptied", c.bytes)
	}
}

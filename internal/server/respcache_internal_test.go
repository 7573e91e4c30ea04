package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestResponseCacheKeepsNothingComputedAcrossAWrite: an answer whose
// execution began before a write and ended after it may hold the old
// state, so it must not be kept.
func TestResponseCacheKeepsNothingComputedAcrossAWrite(t *testing.T) {
	c := newResponseCache(ResponseCache{TTL: time.Minute, Entries: 4, MaxBytes: 1 << 10}, newMetrics(nil))
	ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{
		RawQuery: "{ partners { nodes { name } } }", Headers: http.Header{},
		Operation: &ast.OperationDefinition{Operation: ast.Query},
	})
	executions := 0
	ask := func(during func()) {
		h := c.InterceptOperation(ctx, func(ctx context.Context) graphql.ResponseHandler {
			executions++
			return func(context.Context) *graphql.Response {
				during()
				return &graphql.Response{Data: json.RawMessage(`{"partners":{"nodes":[]}}`)}
			}
		})
		if r := h(ctx); string(r.Data) != `{"partners":{"nodes":[]}}` {
			t.Fatalf("answer %s", r.Data)
		}
	}
	ask(c.invalidate) // a write lands while the answer is computed
	ask(func() {})
	if executions != 2 {
		t.Fatalf("%d executions, want 2: the answer computed across the write was kept", executions)
	}
	ask(func() {})
	if executions != 2 {
		t.Fatalf("%d executions, want 2: the answer computed after the write was not kept", executions)
	}
}

// queryCtx is the context of an anonymous query with the given document.
func queryCtx(doc string) context.Context {
	return graphql.WithOperationContext(context.Background(), &graphql.OperationContext{
		RawQuery: doc, Headers: http.Header{}, Operation: &ast.OperationDefinition{Operation: ast.Query},
	})
}

// TestResponseCacheExecutesConcurrentMissesOnce: askers of the same
// question that is not cached wait for one execution.
func TestResponseCacheExecutesConcurrentMissesOnce(t *testing.T) {
	c := newResponseCache(ResponseCache{TTL: time.Minute, Entries: 4, MaxBytes: 1 << 10}, newMetrics(nil))
	ctx := queryCtx("{ partners { nodes { name } } }")
	var executions atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	answers := make([]string, 5)
	for i := range answers {
		wg.Go(func() {
			h := c.InterceptOperation(ctx, func(context.Context) graphql.ResponseHandler {
				return func(context.Context) *graphql.Response {
					executions.Add(1)
					<-release
					return &graphql.Response{Data: json.RawMessage(`{"n":1}`)}
				}
			})
			answers[i] = string(h(ctx).Data)
		})
	}
	time.Sleep(100 * time.Millisecond) // all five are waiting
	close(release)
	wg.Wait()
	if n := executions.Load(); n != 1 {
		t.Errorf("%d executions for five concurrent askers, want 1", n)
	}
	for i, a := range answers {
		if a != `{"n":1}` {
			t.Errorf("asker %d got %q", i, a)
		}
	}
}

// TestResponseCacheKeepsWithinItsByteBudget: the least recently used
// answers go when the total passes Bytes.
func TestResponseCacheKeepsWithinItsByteBudget(t *testing.T) {
	c := newResponseCache(ResponseCache{TTL: time.Minute, Entries: 100, Bytes: 100, MaxBytes: 80}, newMetrics(nil))
	data := json.RawMessage(`{"x":"` + strings.Repeat("a", 52) + `"}`) // 60 bytes
	for _, doc := range []string{"{ a }", "{ b }", "{ c }"} {
		ctx := queryCtx(doc)
		c.InterceptOperation(ctx, func(context.Context) graphql.ResponseHandler {
			return func(context.Context) *graphql.Response { return &graphql.Response{Data: data} }
		})(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache.Len() != 1 || c.bytes != 60 {
		t.Errorf("%d answers of %d bytes kept, want 1 of 60 (budget 100)", c.cache.Len(), c.bytes)
	}
	c.mu.Unlock()
	c.invalidate()
	c.mu.Lock()
	if c.bytes != 0 {
		t.Errorf("%d bytes counted after the cache was emptied", c.bytes)
	}
}

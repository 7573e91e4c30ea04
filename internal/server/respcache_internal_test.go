package server

import (
	"context"
	"encoding/json"
	"net/http"
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

package loader

import (
	"context"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vektah/gqlparser/v2/ast"
)

// rootContext returns ctx as the root field alias of the operation query.
func rootContext(query, alias string) context.Context {
	ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{RawQuery: query})
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Query",
		Field: graphql.CollectedField{Field: &ast.Field{Name: "node", Alias: alias}}})
}

// TestAheadRemembersAtMostItsOperations: an Ahead holds at most its bound
// of roots, however many operations ask ahead, and asks nothing for one
// it has not seen, nor below the root.
func TestAheadRemembersAtMostItsOperations(t *testing.T) {
	a := NewAhead(3)
	l := New(&store.Store{}, store.Visibility{}, 0).WithAhead(a)
	for i := range 10 {
		l.AskAhead(rootContext(fmt.Sprintf("{ node%d: node(id: 1) { id } }", i), "n"), kb.KindCooperative, 1)
	}
	if n := len(a.entries); n != 3 {
		t.Errorf("%d roots remembered, want 3", n)
	}
	if asked, used := a.Asked(); asked != 0 || used != 0 {
		t.Errorf("asked ahead %d, used %d, for operations never seen", asked, used)
	}
	// Below the root (a field of a list's item), nothing is remembered.
	ctx := rootContext("{ nodes }", "nodes")
	i := 0
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Cooperative",
		Field: graphql.CollectedField{Field: &ast.Field{Name: "founders", Alias: "founders"}}})
	l.AskAhead(ctx, kb.KindCooperative, 1)
	for k := range a.entries {
		if k.path != "n" {
			t.Errorf("a field below the root remembered: %q", k.path)
		}
	}
	if len(l.roots) != 1 {
		t.Errorf("%d roots of the request, want the one at the root", len(l.roots))
	}
}

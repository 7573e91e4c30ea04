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

// TestAheadForgetsWhatNoRunAsks: a question the fields under a root asked
// once is asked ahead until aheadStale runs have not asked it, then
// forgotten; one asked by every run stays. The root's own arguments'
// variables are not part of what names the root; the others are.
func TestAheadForgetsWhatNoRunAsks(t *testing.T) {
	a := NewAhead(0)
	none := func(*Loaders) string { return "" } // asks nothing of the database
	query := `query($id: ID!, $n: Int) { node(id: $id) { id } }`
	run := func(vars map[string]any, groups ...string) *Loaders {
		l := New(&store.Store{}, store.Visibility{}, 0).WithAhead(a)
		ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{RawQuery: query, Variables: vars})
		root := &graphql.FieldContext{Object: "Query", Field: graphql.CollectedField{Field: &ast.Field{Name: "node", Alias: "node",
			Arguments: ast.ArgumentList{{Name: "id", Value: &ast.Value{Kind: ast.Variable, Raw: "id"}}}}}}
		ctx = graphql.WithFieldContext(ctx, root)
		l.AskAhead(ctx, kb.KindCooperative, 7)
		child := graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Cooperative",
			Field: graphql.CollectedField{Field: &ast.Field{Name: "founders", Alias: "founders"}}})
		for _, g := range groups {
			l.record(child, g, none, 7)
		}
		l.record(child, "of another entity", none, 8)
		return l
	}
	groups := func() []string {
		var out []string
		for _, e := range a.entries {
			for _, q := range e.asks {
				out = append(out, q.group)
			}
		}
		return out
	}
	run(map[string]any{"id": "a", "n": 1}, "old", "kept")
	for i := range aheadStale {
		run(map[string]any{"id": fmt.Sprint(i), "n": 1}, "kept")
		if got := groups(); len(got) != 2 {
			t.Fatalf("after %d runs without it: %v, want the old question still there", i+1, got)
		}
	}
	run(map[string]any{"id": "b", "n": 1}, "kept")
	if got := groups(); len(got) != 1 || got[0] != "kept" {
		t.Errorf("after %d runs without it: %v, want only the kept question", aheadStale+1, got)
	}
	if len(a.entries) != 1 {
		t.Errorf("%d roots for one operation whose runs differ by the root's ID only", len(a.entries))
	}
	run(map[string]any{"id": "b", "n": 2}, "other")
	if len(a.entries) != 2 {
		t.Errorf("%d roots after a run with another page size, want 2", len(a.entries))
	}
}

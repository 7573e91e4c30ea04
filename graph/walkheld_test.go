package graph

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/graphindex"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/store"
)

// readAll is the index's walk with what it held dropped: the answer's
// links and nodes are then read from PostgreSQL, as the SQL walk's are.
type readAll struct {
	*graphindex.Index
	st *store.Store
}

func (w readAll) full(ctx context.Context, links []*kb.Link, held store.Held) ([]*kb.Link, error) {
	if !held.LinksHeld {
		return links, nil
	}
	ls, err := w.st.CompleteLinks(ctx, links)
	return slices.DeleteFunc(ls, func(l *kb.Link) bool { return l == nil }), err
}

func (w readAll) Neighborhood(ctx context.Context, vis store.Visibility, centre int64, depth int, wk store.Walk, limit int) (*store.Subgraph, error) {
	g, err := w.Index.Neighborhood(ctx, vis, centre, depth, wk, limit)
	if err != nil {
		return nil, err
	}
	if g.Links, err = w.full(ctx, g.Links, g.Held); err != nil {
		return nil, err
	}
	g.Held = store.Held{}
	return g, nil
}

func (w readAll) Paths(ctx context.Context, vis store.Visibility, from, to int64, maxDepth, k int, wk store.Walk) ([]*store.Path, error) {
	ps, err := w.Index.Paths(ctx, vis, from, to, maxDepth, k, wk)
	for _, p := range ps {
		if p.Links, err = w.full(ctx, p.Links, p.Held); err != nil {
			return nil, err
		}
		p.Held = store.Held{}
	}
	return ps, err
}

// TestWalkListsFromTheIndexWriteWhatPostgreSQLWrites runs each walk on the
// traversal index twice: answered from what the index holds (the nodes'
// names and kinds, the links' ids and roles) where the selection allows
// it, and with every node and link read from PostgreSQL; the answers must
// be the same bytes, as anonymous readers and as staff, before and right
// after a rename, an unpublish and a link's new role made through the API
// (the index catches up before each walk).
func TestWalkListsFromTheIndexWriteWhatPostgreSQLWrites(t *testing.T) {
	ctx := context.Background()
	pool, st, vars, ids := walkDB(t)
	ix := graphindex.New(st, slog.New(slog.DiscardHandler))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); ix.Status().State != graphindex.StateReady; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("index not ready: %+v", ix.Status())
		}
	}
	serve := func(w Walker, v kb.Viewer, query string, vars map[string]any) []byte {
		return answer(st, &Resolver{Store: st, Walker: w}, store.Visibility{Drafts: v.Staff()}, v, query, vars)
	}
	editor := kb.Viewer{TokenID: 1, Name: "test", Role: kb.RoleEditor}
	compare := func(when string) {
		t.Helper()
		for _, v := range []kb.Viewer{kb.Anonymous, editor} {
			for _, q := range walkQueries {
				want := serve(readAll{ix, st}, v, q.query, vars)
				if bytes.Contains(want, []byte(`"errors"`)) || bytes.Count(want, []byte(`"id"`)) < 3 {
					t.Fatalf("%s, %s: the answer read from PostgreSQL %.300s", when, q.name, want)
				}
				if got := serve(ix, v, q.query, vars); !bytes.Equal(got, want) {
					t.Errorf("%s, %s (%s):\n got %s\nwant %s", when, q.name, v.Role, got, want)
				}
			}
		}
	}
	compare("at first")

	// The walk holds what the graph view asks for.
	g, err := ix.Neighborhood(ctx, store.Public, ids["wtz-gebice"], 2, store.Walk{}, 100)
	if err != nil || g.Heads == nil || !g.LinksHeld || len(g.Links) == 0 {
		t.Fatalf("the index held heads %v, links %v (%d) (%v)", g != nil && g.Heads != nil, g != nil && g.LinksHeld, len(g.Links), err)
	}

	// A rename, a neighbour unpublished, a link's new role, through the API.
	mutate := func(query string, vars map[string]any) {
		t.Helper()
		if out := serve(ix, editor, query, vars); bytes.Contains(out, []byte(`"errors"`)) {
			t.Fatalf("%s: %s", query, out)
		}
	}
	mutate(`mutation($id: ID!) { updatePartner(id: $id, input: {name: "Gębice, WTZ (renamed)"}) { id } }`, map[string]any{"id": vars["a"]})
	var other, link int64
	for i, n := range g.Nodes {
		if n != ids["wtz-gebice"] && g.Heads[i].Status == kb.StatusPublished {
			other = n
		}
	}
	for _, l := range g.Links {
		if l.FromID != other && l.ToID != other {
			link = l.ID
		}
	}
	var kind kb.Kind
	if err := pool.QueryRow(ctx, `SELECT kind FROM entity WHERE id = $1`, other).Scan(&kind); err != nil {
		t.Fatal(err)
	}
	mutate(`mutation($id: ID!) { unpublish(id: $id) { id } }`, map[string]any{"id": relay.ID(kind.TypeName(), other)})
	mutate(`mutation($id: ID!) { updateLink(id: $id, input: {role: "koordynator"}) { id } }`, map[string]any{"id": relay.ID("Link", link)})
	compare("after the edits")
	for _, want := range []string{`"Gębice, WTZ (renamed)"`, `"koordynator"`} {
		if got := serve(ix, kb.Anonymous, walkQueries[0].query, vars); !strings.Contains(string(got), want) {
			t.Errorf("the walk after the edits does not show %s: %s", want, got)
		}
	}
	if got := serve(ix, kb.Anonymous, walkQueries[0].query, vars); strings.Contains(string(got), relay.ID(kind.TypeName(), other)+`"`) {
		t.Errorf("the anonymous walk shows %d after it was unpublished: %s", other, got)
	}

	// A language asked for: the names are read (and translated) from PostgreSQL.
	if got, want := serve(ix, kb.Anonymous, `query($a: ID!) @lang(lang: "en") { neighborhood(id: $a) { nodes { name } } }`, vars),
		serve(readAll{ix, st}, kb.Anonymous, `query($a: ID!) @lang(lang: "en") { neighborhood(id: $a) { nodes { name } } }`, vars); !bytes.Equal(got, want) {
		t.Errorf("with @lang:\n got %s\nwant %s", got, want)
	}
}

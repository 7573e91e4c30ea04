package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, storetest.Reference)
}

// walkQueries are the walks the comparison runs: the graph view's shapes
// (partnergraph-bench's), and selections with aliases, named and inline
// fragments, __typename, @skip and @include, a field asked twice under
// one alias, and fields that only gqlgen's generated code resolves (a
// link's node, a partner's sector).
var walkQueries = []struct {
	name, query string
	onePass     bool // every list of it is written in one pass
}{
	{"neighborhood", `query($a: ID!) { neighborhood(id: $a, depth: 2, limit: 100) {
		truncated nodes { id kind name } links { id type direction role } } }`, true},
	{"neighborhood of 5", `query($a: ID!) { neighborhood(id: $a, depth: 2, limit: 5) {
		truncated nodes { id kind name } links { id type direction role } } }`, true},
	{"neighborhood, every plain field", `query($a: ID!, $no: Boolean!, $yes: Boolean!) {
		n: neighborhood(id: $a, depth: 2) {
			truncated
			ns: nodes { __typename ...F ... on Partner { key summary } ... on Cooperative { publicationStatus @include(if: $yes) version }
				name @skip(if: $no) kind @skip(if: $yes) id }
			ls: links { __typename ...L label note startsOn endsOn createdAt createdBy confidence version again: id @include(if: $no) id }
			links { type }
		}
		plain: neighborhood(id: $a) { nodes { name } links { label } }
	}
	fragment F on Entity { id createdAt updatedAt key __typename }
	fragment L on Link { id type direction role }`, true},
	{"path", `query($a: ID!, $b: ID!) { path(from: $a, to: $b, maxDepth: 6) {
		length nodes { id kind name } links { type direction } } }`, true},
	{"paths", `query($a: ID!, $b: ID!, $no: Boolean!) { paths(from: $a, to: $b, maxDepth: 6, k: 3) {
		__typename length
		nodes { ... on Node { id } ... on Entity { name @skip(if: $no) } ...on Project { kind } }
		steps: links { ...L d: direction } } }
	fragment L on Link { type __typename createdAt }`, true},
	{"links with their nodes", `query($a: ID!) { neighborhood(id: $a, depth: 2) {
		nodes { id } links { id node { id name } from { id } to { __typename } } } }`, false},
	{"nodes with a partner's sector", `query($a: ID!, $b: ID!) {
		neighborhood(id: $a) { nodes { name ... on Partner { sector } } links { id } }
		path(from: $a, to: $b) { nodes { id ... on Cooperative { status } } links { id sources { locator } } } }`, false},
}

// walkDB returns a database of the reference data, its store, the
// variables the walk queries use, and the row ids of their entities by key.
func walkDB(t *testing.T) (*pgxpool.Pool, *store.Store, map[string]any, map[string]int64) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDB(t, "reference"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	rows := map[string]int64{}
	id := func(key string) string {
		var row int64
		var kind kb.Kind
		if err := pool.QueryRow(ctx, `SELECT id, kind FROM entity WHERE key = $1`, key).Scan(&row, &kind); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		rows[key] = row
		return relay.ID(kind.TypeName(), row)
	}
	vars := map[string]any{"a": id("wtz-gebice"), "b": id("coompanion"), "no": false, "yes": true}
	return pool, store.New(pool), vars, rows
}

// answer runs query with vars through the schema of r, with the loaders of
// vis, as the viewer v, and returns the answer.
func answer(st *store.Store, r *Resolver, vis store.Visibility, v kb.Viewer, query string, vars map[string]any) []byte {
	gql := handler.New(NewExecutableSchema(Config{Resolvers: r, Directives: Directives()}))
	gql.AddTransport(transport.POST{})
	h := loader.Middleware(st, func(*http.Request) store.Visibility { return vis }, time.Millisecond, nil)(gql)
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req = req.WithContext(auth.With(req.Context(), v))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.Bytes()
}

// walkServer serves the reference data with the given Resolver mode and
// visibility, and returns a function that answers a query, and the
// variables the walk queries use.
func walkServer(t *testing.T) (func(mode int, vis store.Visibility, query string) []byte, map[string]any) {
	_, st, vars, _ := walkDB(t)
	return func(mode int, vis store.Visibility, query string) []byte {
		return answer(st, &Resolver{Store: st, walkListsMode: mode}, vis, kb.Anonymous, query, vars)
	}, vars
}

// TestWalkListsWriteWhatGqlgenWrites runs each walk with the lists written
// in one pass (where the selection allows it) and with gqlgen's generated
// code alone, and compares the answers byte for byte, as anonymous
// readers and as staff.
func TestWalkListsWriteWhatGqlgenWrites(t *testing.T) {
	serve, _ := walkServer(t)
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, q := range walkQueries {
			generic := serve(walkListsGeneric, vis, q.query)
			var answer struct {
				Data   map[string]json.RawMessage
				Errors []any
			}
			if err := json.Unmarshal(generic, &answer); err != nil || len(answer.Errors) > 0 || len(answer.Data) == 0 {
				t.Fatalf("%s: gqlgen's answer %.300s (%v)", q.name, generic, err)
			}
			if n := bytes.Count(generic, []byte(`"id"`)); n < 3 {
				t.Errorf("%s: the answer has %d ids, too few to compare: %.300s", q.name, n, generic)
			}
			modes := []int{walkListsAuto}
			if q.onePass {
				modes = append(modes, walkListsOnePass)
			}
			for _, mode := range modes {
				if got := serve(mode, vis, q.query); !bytes.Equal(got, generic) {
					t.Errorf("%s (staff %v, mode %d):\n got %s\nwant %s", q.name, vis.Drafts, mode, got, generic)
				}
			}
		}
	}
}

// TestWalkListsFallBackWhereTheyMust checks that one pass refuses the
// selections it cannot write, so that gqlgen's code answers them.
func TestWalkListsFallBackWhereTheyMust(t *testing.T) {
	serve, _ := walkServer(t)
	for _, q := range walkQueries {
		if q.onePass {
			continue
		}
		if got := serve(walkListsOnePass, store.Public, q.query); !bytes.Contains(got, []byte(errNotOnePass.Error())) {
			t.Errorf("%s: one pass wrote a selection it cannot: %.300s", q.name, got)
		}
	}
}

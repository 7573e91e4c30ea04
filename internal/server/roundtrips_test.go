package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/bench"
	"github.com/partnergraph/partnergraph/internal/graphindex"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestReadShapesSendFewStatements counts the statements and round trips
// (a statement on its own, or a pipeline) the shapes of the bench's read
// mix send through the handler stack, so that one more per request
// shows: behind PgBouncer every round trip costs it, the API and
// PostgreSQL a message each way, every statement its share
// (docs/scaling.md, "Round trips"). Each shape is asked three times (no
// response cache) and the fewest count: a busy scheduler may split a
// loader's batch, never join two.
func TestReadShapesSendFewStatements(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "reference", server.Config{LoaderWait: 100 * time.Millisecond},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	mix := func(name string) string {
		op, err := bench.OpNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		return op.Query
	}
	// The bench's cooperative: the reference data's one, with its founder
	// and workshop, and a partnership with members formed around it, so
	// that every level of its page is read.
	var coop int64
	if err := a.Pool.QueryRow(context.Background(), `INSERT INTO link (from_id, to_id, type, created_by, updated_by)
		SELECT p.id, c.id, 'FORMED_AROUND', 'test', 'test' FROM entity p, entity c
		WHERE p.kind = 'PARTNERSHIP' AND c.kind = 'COOPERATIVE' RETURNING to_id`).Scan(&coop); err != nil {
		t.Fatal(err)
	}
	countShapes(t, a, counter, "", []shape{
		// A root page: its ids and their rows in one statement.
		{"a root page", `{ goodPractices(first: 20) { nodes { id name } } }`, 1, 1, `"nodes":[{`, nil},
		{"a root page in another order", `{ partners(first: 5, orderBy: [{field: CREATED_AT, direction: DESC}]) { nodes { id name } } }`, 1, 1, `"nodes":[{`, nil},
		{"a root page backwards", `{ partners(last: 5) { nodes { id name } } }`, 1, 1, `"nodes":[{`, nil},
		// The counters first (whether anything matches, and the kinds to
		// walk the name index by), then the page.
		{"a root page of a sector", `{ partners(first: 20, filter: {sector: [SOCIAL]}) { nodes { id name sector } } }`, 2, 2, `"nodes":[{`, nil},
		// A name filter is planned for its text at every execution: its
		// ids alone, the rows by the prepared statement of entities by id.
		{"a root page by name", `{ partners(first: 20, filter: {name: "stowarzyszenie"}) { nodes { id name } } }`, 2, 2, `"nodes":[{`, nil},
		// The bench's partners: the counters, then the page with one
		// level of links with the cooperatives' whole rows (LinkSpec.Rows),
		// asked ahead for the last run's page (loader.Ahead; the fewest of
		// three askings count).
		{"partners with their cooperatives", `{ partners(first: 20, filter: {sector: [SOCIAL]}) { nodes {
			id name sector partnerKind city cooperatives(first: 100) { nodes { id name status city } } } } }`, 3, 2, `"cooperatives":{"nodes":[{`, nil},
		// A root page with its count: the page and the counters in one
		// pipeline (store.Together).
		{"a root page with its count", `{ goodPractices(first: 20) { totalCount nodes { id name } } }`, 2, 1, `"totalCount":`, nil},
		// The bench's page operations (internal/bench, Mix), as it sends
		// them. The front page: the root page with its count, and the
		// cases' and partners' pages with their counts and the heads of
		// the entities they name, asked ahead for the last run's page
		// (loader.Ahead): one pipeline of 6.
		{"the bench's page", mix("page"), 6, 1, `"cases":{"totalCount":`, nil},
		// The partners: the counters; the page with the cooperatives'
		// links with their rows, asked ahead.
		{"the bench's partners", mix("partners"), 3, 2, `"cooperatives":{"nodes":[{`, map[string]any{"sector": kb.SectorSocial}},
		// A cooperative: its row, with what the fields under it asked in
		// the operation's last runs (loader.Ahead; the fewest of three
		// askings count, so the second's): its founders' and
		// partnerships' links with their heads (of a partnership the page
		// asks its name, and its members and sector mix, which its id
		// answers), the workshops' links with their whole rows (the page
		// asks their city), and its indicators (a pipeline of 4); the
		// members' links with their heads, and the sector mix (a pipeline
		// of 2). Without a partnership around it, one round trip.
		{"the bench's cooperative", mix("cooperative"), 6, 2, `"partnerships":{"nodes":[{`, map[string]any{"id": relay.ID("Cooperative", coop)}},
		// A search: the vocabulary (one statement for its three reads), its
		// page with the settings and, from the second asking on, the
		// entities of its last run's hits with their texts and the
		// practices' topic labels (a pipeline of 5: store's searchAhead;
		// they are read after the page when the page holds other hits).
		{"a search", `{ search(query: "spółdzielnia", first: 20) { totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`, 6, 2, `"edges":[{`, nil},
		// Nothing holds both words. The vocabulary, with which words it
		// holds (one statement); a word it does not hold: no page as
		// typed, but the completions of the widened words with the
		// nearest terms of the unknown one (a pipeline of 2); which words
		// match nothing with the page of those that match the most and
		// their count (a pipeline of 3, with the settings), and the
		// entities of its last hits with their texts (searchAhead).
		{"a search matched in part", `{ search(query: "spółdzielnia xqzwyv", first: 20) { totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`, 9, 3, `"edges":[{`, nil},
		// A suggestion: the completions of its last word, then the names.
		{"a suggestion", mix("suggest"), 2, 2, `"name":`, map[string]any{"p": "koop"}},
		// A misspelled word: the vocabulary; the nearest terms; the
		// corrections' ranges to prune by; the page with its count and
		// the entities of its last hits with their texts (searchAhead).
		{"a misspelled search", `{ search(query: "spoldzelnia", first: 20) { totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`, 9, 4, `"edges":[{`, nil},
		// No word matches anything: the vocabulary; the nearest terms;
		// which words match nothing, with the page that then reads no
		// candidate. The count is none, and no statement of its own.
		{"a search that finds nothing", `{ search(query: "xqzwyv qqzzxx", first: 20) { totalCount totalCountIsExact unmatchedWords edges { node { id } } } }`, 7, 3, `"unmatchedWords":["xqzwyv","qqzzxx"]`, nil},
	})

	// With the counters that plan anonymous lists and the vocabulary that
	// anonymous searches read kept until a change is heard
	// (store.CacheCounts and CacheVocabulary, as partnergraph serve runs
	// with the response cache on), a root page of a sector is its page
	// alone, once another list has read them, and a search its page with
	// its last hits' entities, one round trip.
	kept := &queryCounter{}
	c := newAPIStore(t, "reference", server.Config{LoaderWait: 100 * time.Millisecond},
		func(st *store.Store) { st.CacheCounts(time.Minute); st.CacheVocabulary(time.Minute) },
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = kept })
	countShapes(t, c, kept, "", []shape{
		{"a root page of a sector, its counters kept", `{ partners(first: 20, filter: {sector: [SOCIAL]}) { nodes { id name sector } } }`, 1, 1, `"nodes":[{`, nil},
		{"the bench's partners, their counters kept", mix("partners"), 2, 1, `"cooperatives":{"nodes":[{`, map[string]any{"sector": kb.SectorSocial}},
		{"a search, its vocabulary kept", `{ search(query: "spółdzielnia", first: 20) { totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`, 5, 1, `"edges":[{`, nil},
		{"a search matched in part, its vocabulary kept", `{ search(query: "spółdzielnia xqzwyv", first: 20) { totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`, 7, 2, `"edges":[{`, nil},
		{"a suggestion, its vocabulary kept", mix("suggest"), 1, 1, `"name":`, map[string]any{"p": "koop"}},
	})

	// The bench's walks, on the traversal index: it holds what they
	// answer, and an anonymous walk reads nothing while the index has
	// applied every change the feed announced; a staff walk reads the
	// graph's version first (docs/traversal.md).
	walks := &queryCounter{}
	b := newAPI(t, "reference", server.Config{LoaderWait: 100 * time.Millisecond, TraversalIndex: true},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = walks })
	for deadline := time.Now().Add(10 * time.Second); status(t, b).State != graphindex.StateReady; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("index not ready: %+v", status(t, b))
		}
	}
	from, to := idOf(b, "coompanion"), idOf(b, "wtz-gebice")
	neighborhood := fmt.Sprintf(`{ neighborhood(id: %q, depth: 2, limit: 500) { truncated nodes { id kind name } links { id type direction role } } }`, to)
	path := fmt.Sprintf(`{ path(from: %q, to: %q, maxDepth: 6) { length nodes { id kind name } links { type direction } } }`, from, to)
	countShapes(t, b, walks, "", []shape{
		{"an anonymous neighborhood on the index", neighborhood, 0, 0, `"links":[{`, nil},
		{"an anonymous path on the index", path, 0, 0, `"length":`, nil},
	})
	// The token's check, then the version.
	editor := b.newToken("editor", kb.RoleEditor)
	countShapes(t, b, walks, editor, []shape{
		{"a staff neighborhood on the index", neighborhood, 2, 2, `"links":[{`, nil},
		{"a staff path on the index", path, 2, 2, `"length":`, nil},
	})
}

// shape is a query whose statements and round trips are counted.
type shape struct {
	name, query       string
	statements, trips int64
	has               string         // in the answer
	vars              map[string]any // the query's variables, if any
}

// countShapes asks each shape three times as token ("" anonymous) and
// checks the fewest statements and round trips it sent.
func countShapes(t *testing.T, a *api, counter *queryCounter, token string, shapes []shape) {
	t.Helper()
	for _, c := range shapes {
		best, bestTrips := int64(-1), int64(-1)
		var first string
		for i := range 3 {
			trips := counter.Trips.Load()
			raw, n := a.postCountingVars(counter, token, c.query, c.vars, map[string]string{"Cache-Control": "no-cache"})
			trips = counter.Trips.Load() - trips
			if strings.Contains(raw, `"errors"`) || !strings.Contains(raw, c.has) {
				t.Fatalf("%s: %s", c.name, raw)
			}
			if i == 0 {
				first = raw
			} else if raw != first {
				t.Errorf("%s: the answer changed between askings:\n%s\n%s", c.name, first, raw)
			}
			if best < 0 || n < best {
				best = n
			}
			if bestTrips < 0 || trips < bestTrips {
				bestTrips = trips
			}
		}
		if best != c.statements || bestTrips != c.trips {
			t.Errorf("%s: %d statements in %d round trips, want %d in %d", c.name, best, bestTrips, c.statements, c.trips)
		}
	}
}

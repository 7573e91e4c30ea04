package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestSearchPagePlanIsGeneric checks that a search page's statement is
// prepared once per connection and runs its generic plan (never a plan
// for its arguments), and that the pages it answers are those of the
// statement planned for its arguments every time, as a pool without
// prepared statements sends it: the same hits, scores, snippets, next
// pages and counts, read from the text index and from the probe's
// windows, for pages of full matches (which keep their plans) and of
// partial ones (which do not). A connection keeps a bounded number of
// them: past it, the least recently used is deallocated.
func TestSearchPagePlanIsGeneric(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDB(t, "migrated")
	d := small()
	d.Entities = append(d.Entities, cooperatives("plan", "Planowa", 400)...)
	pool := func(mode pgx.QueryExecMode) *pgxpool.Pool {
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxConns = 1 // one connection, whose prepared statements the test reads
		cfg.ConnConfig.DefaultQueryExecMode = mode
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	prepared, unnamed := pool(pgx.QueryExecModeCacheStatement), pool(pgx.QueryExecModeCacheDescribe)
	st := store.New(prepared)
	load(t, st, d)
	if _, err := prepared.Exec(ctx, `ANALYZE search_doc`); err != nil {
		t.Fatal(err)
	}
	requests := []store.SearchRequest{
		{Query: "spoldzielnia planowa", Limit: 20},
		{Query: "spoldzielnia planowa", Limit: 20, Count: true},
		{Query: "planowa", Offset: 20, Limit: 20, Count: true},
		{Query: "planowa", Offset: 380, Limit: 30},
		{Query: "spółdzielnia socjalna", Limit: 10, Kinds: []kb.Kind{kb.KindCooperative}, Count: true},
		{Query: "torby poznan", Limit: 20, Country: "PL", Count: true},
		{Query: "torby", Limit: 5, Count: true},
		{Query: "spoldzielnia rowne szanse", Limit: 5, Count: true},
		{Query: "planowa nieistniejace", Limit: 5, Count: true}, // partial
		{Query: "torb", Limit: 5},                               // a prefix
		{Query: "plnaowa", Limit: 5, Count: true},               // a typo
	}
	for _, probe := range []bool{false, true} {
		withPlans, everyTime := store.New(prepared), store.New(unnamed)
		if probe {
			withPlans.ProbeEverySearch()
			everyTime.ProbeEverySearch()
		}
		for round := range 2 { // the second round runs the plans kept
			for _, r := range requests {
				for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
					want, err := everyTime.Search(ctx, vis, r)
					if err != nil {
						t.Fatalf("Search(%+v): %v", r, err)
					}
					got, err := withPlans.Search(ctx, vis, r)
					if err != nil {
						t.Fatalf("Search(%+v) with plans kept: %v", r, err)
					}
					if !reflect.DeepEqual(pageKeys(got), pageKeys(want)) {
						t.Errorf("probe %v, round %d, %+v, staff %v: with plans kept\n%v\nplanned every time\n%v",
							probe, round, r, vis.Drafts, pageKeys(got), pageKeys(want))
					}
				}
			}
		}
	}
	// The connection of the pool that keeps prepared statements holds the
	// pages' statements, each run by its generic plan only.
	rows, err := prepared.Query(ctx, `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
		WHERE name LIKE 'search_page_%'`)
	if err != nil {
		t.Fatal(err)
	}
	type stmt struct {
		Name            string
		Generic, Custom int64
	}
	stmts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[stmt])
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) < 4 {
		t.Errorf("%d page statements prepared, want the shapes of the requests' pages", len(stmts))
	}
	for _, s := range stmts {
		if s.Generic == 0 || s.Custom != 0 {
			t.Errorf("statement %s: %d generic plans, %d custom ones; want generic only", s.Name, s.Generic, s.Custom)
		}
	}
	var unnamedPrepared int
	if err := unnamed.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'search_page_%'`).Scan(&unnamedPrepared); err != nil {
		t.Fatal(err)
	}
	if unnamedPrepared != 0 {
		t.Errorf("a pool without prepared statements holds %d page statements", unnamedPrepared)
	}
	// Past the bound, the least recently used statement goes, and the
	// pages are still the same.
	own := pool(pgx.QueryExecModeCacheStatement)
	bounded := store.New(own)
	bounded.LimitPagePlans(2)
	for _, r := range requests {
		want, err := store.New(unnamed).Search(ctx, store.Public, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := bounded.Search(ctx, store.Public, r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pageKeys(got), pageKeys(want)) {
			t.Errorf("%+v, two plans kept at most: %v, want %v", r, pageKeys(got), pageKeys(want))
		}
	}
	var n int
	if err := own.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'search_page_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d page statements prepared with a bound of 2", n)
	}
}

// pageKeys is what a search page answers: its hits (key, score, snippet,
// missing words), whether more follow, whether it is partial, its
// unmatched words and its count.
func pageKeys(p *store.SearchPage) []string {
	out := []string{fmt.Sprintf("next %v partial %v unmatched %v counted %v %d %v", p.HasNext, p.Partial, p.Unmatched, p.Counted, p.Total, p.TotalExact)}
	for _, h := range p.Hits {
		out = append(out, fmt.Sprintf("%s %v %s %q %v", h.Entity.Key, h.Score, h.Snippet.Field, h.Snippet.Text, h.Missing))
	}
	return out
}

// pageTracer keeps the search pages' statements a pool sends (their
// pipeline's second statement), with their arguments.
type pageTracer struct {
	mu    sync.Mutex
	pages []tracedPage
	batch []string // every statement of the batches, in order
}

type tracedPage struct {
	sql  string
	args []any
}

func (t *pageTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (t *pageTracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.batch = append(t.batch, d.SQL)
	if strings.HasPrefix(d.SQL, "WITH m_index") {
		t.pages = append(t.pages, tracedPage{d.SQL, d.Args})
	}
}

func (t *pageTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (t *pageTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (t *pageTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestSearchPageScoresEachCandidateOnce runs the statements of pages of
// one and of several words, read from the text index and from the
// probe's windows, under EXPLAIN ANALYZE: no part of the plan runs once a
// candidate (a subplan: how many words a candidate holds was a subquery,
// run twice a candidate), the probe's count reads its matches where
// they are, without storing them in a CTE of its own, and the probe's
// windows are read by one TID range scan, not one a window, which tests
// the filters on its matches only (docs/search.md, "Less work a candidate").
func TestSearchPageScoresEachCandidateOnce(t *testing.T) {
	ctx := context.Background()
	tracer := &pageTracer{}
	st, pool := open(t, func(pc *pgxpool.Config) { pc.ConnConfig.Tracer = tracer })
	d := small()
	d.Entities = append(d.Entities, cooperatives("once", "Jednorazowa", 400)...)
	load(t, st, d)
	if _, err := pool.Exec(ctx, `ANALYZE search_doc`); err != nil {
		t.Fatal(err)
	}
	probed := store.New(pool)
	probed.ProbeEverySearch()
	for _, s := range []*store.Store{st, probed} {
		for _, q := range []string{"spoldzielnia jednorazowa", "jednorazowa", "spoldzielnia jednorazowa nieistniejace"} {
			if _, err := s.Search(ctx, store.Public, store.SearchRequest{Query: q, Limit: 20, Count: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(tracer.pages) < 4 {
		t.Fatalf("%d page statements seen, want those of four searches", len(tracer.pages))
	}
	probes := 0
	for _, p := range tracer.pages {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var plan []map[string]any
		err = tx.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+p.sql, p.args...).Scan(&plan)
		tx.Rollback(ctx) //nolint:errcheck // read-only
		if err != nil {
			t.Fatalf("EXPLAIN: %v\n%s", err, p.sql)
		}
		if strings.Contains(p.sql, "m_probe") {
			probes++
		}
		tidRanges := 0
		var walk func(n map[string]any)
		walk = func(n map[string]any) {
			if n["Node Type"] == "Tid Range Scan" {
				tidRanges++
				if f, _ := n["Filter"].(string); strings.Contains(f, "status") {
					t.Errorf("the windows' scan tests the status of every row: %s", f)
				}
			}
			if rel, _ := n["Parent Relationship"].(string); rel == "SubPlan" {
				if loops, _ := n["Actual Loops"].(float64); loops > 1 {
					t.Errorf("a subplan runs %v times in the page statement\n%s", loops, p.sql)
				}
			}
			if name, _ := n["CTE Name"].(string); strings.HasPrefix(name, "total") {
				t.Errorf("the count's rows are stored in CTE %s\n%s", name, p.sql)
			}
			kids, _ := n["Plans"].([]any)
			for _, k := range kids {
				walk(k.(map[string]any))
			}
		}
		walk(plan[0]["Plan"].(map[string]any))
		if strings.Contains(p.sql, "m_probe") && tidRanges != 1 {
			t.Errorf("%d TID range scans in a probed page statement, want one, run once a window\n%s", tidRanges, p.sql)
		}
	}
	if probes == 0 {
		t.Error("no probed page statement seen")
	}
}

// TestSearchReadsTheEntitiesOfTheHitsKinds: a search page reads its
// entities by the statement of their kinds only, and the topics' labels
// only when it holds practices; its answers are those of the statement
// of every kind (TestSearchPagePlanIsGeneric and the relevance set compare
// the pages themselves).
func TestSearchReadsTheEntitiesOfTheHitsKinds(t *testing.T) {
	ctx := context.Background()
	tracer := &pageTracer{}
	st, _ := open(t, func(pc *pgxpool.Config) { pc.ConnConfig.Tracer = tracer })
	d := small()
	d.Entities = append(d.Entities, cooperatives("kinds", "Rodzajowa", 30)...)
	load(t, st, d)
	for _, c := range []struct {
		query     string
		kinds     []string // the kinds' tables the entities' statement joins
		practices bool     // whether the labels are read
	}{
		{"rodzajowa", []string{"cooperative"}, false},
		{"partnera", nil, true},     // the practice, and others
		{"spoldzielni", nil, false}, // a partner and cooperatives
	} {
		tracer.mu.Lock()
		tracer.batch = nil
		tracer.mu.Unlock()
		page, err := st.Search(ctx, store.Public, store.SearchRequest{Query: c.query, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, h := range page.Hits {
			kinds[strings.ToLower(string(h.Entity.Kind))] = true
		}
		var entities string
		labels := false
		for _, sql := range tracer.batch {
			if strings.HasPrefix(sql, "WITH b AS MATERIALIZED") {
				entities = sql
			}
			if strings.Contains(sql, "FROM practice_topic") {
				labels = true
			}
		}
		if entities == "" {
			t.Fatalf("%q: no entities' statement in the batches", c.query)
		}
		for _, k := range kb.Kinds {
			reads := strings.Contains(entities, "e.kind = '"+string(k)+"'") && !strings.Contains(entities, "e.kind = '"+string(k)+"' AND false")
			if table := strings.ToLower(string(k)); reads != kinds[table] {
				t.Errorf("%q (hits of kinds %v): the entities' statement reads %s: %v", c.query, kinds, table, reads)
			}
		}
		if c.kinds != nil && !reflect.DeepEqual(kinds, map[string]bool{c.kinds[0]: true}) {
			t.Errorf("%q: hits of kinds %v, want %v", c.query, kinds, c.kinds)
		}
		if labels != kinds["good_practice"] {
			t.Errorf("%q (hits of kinds %v): topics' labels read: %v", c.query, kinds, labels)
		}
		if c.practices && !kinds["good_practice"] {
			t.Errorf("%q: no practice among the hits %v; the test wants one", c.query, kinds)
		}
	}
}

// TestEntitiesOfKindsAreEntitiesByID: the statement of every set of kinds
// reads the entities of those kinds as the statement of every kind does,
// with the same columns of the same types (a union types a column from
// its first branches, and a set whose first two left it untyped failed).
func TestEntitiesOfKindsAreEntitiesByID(t *testing.T) {
	ctx := context.Background()
	st, pool := open(t)
	load(t, st, small())
	rows, err := pool.Query(ctx, `SELECT id FROM entity ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	statuses := []string{"PUBLISHED", "DRAFT", "ARCHIVED"}
	read := func(sql string) ([]uint32, map[string]string) {
		rows, err := pool.Query(ctx, sql, ids, statuses)
		if err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
		defer rows.Close()
		var types []uint32
		for _, f := range rows.FieldDescriptions() {
			types = append(types, f.DataTypeOID)
		}
		out := map[string]string{}
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprint(v[0])] = fmt.Sprint(v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return types, out
	}
	wantTypes, all := read(store.EntitiesByIDSQL)
	kindOf := map[string]kb.Kind{}
	if err := func() error {
		rows, err := pool.Query(ctx, `SELECT id::text, kind FROM entity`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, k string
			if err := rows.Scan(&id, &k); err != nil {
				return err
			}
			kindOf[id] = kb.Kind(k)
		}
		return rows.Err()
	}(); err != nil {
		t.Fatal(err)
	}
	for set := 1; set < 1<<len(kb.Kinds); set++ {
		kinds := map[kb.Kind]bool{}
		for i, k := range kb.Kinds {
			if set&(1<<i) != 0 {
				kinds[k] = true
			}
		}
		types, got := read(store.EntitiesOfKinds(kinds))
		if !reflect.DeepEqual(types, wantTypes) {
			t.Fatalf("kinds %v: column types %v, want %v", kinds, types, wantTypes)
		}
		want := map[string]string{}
		for id, row := range all {
			if kinds[kindOf[id]] {
				want[id] = row
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("kinds %v: rows\n%v\nwant\n%v", kinds, got, want)
		}
	}
}

package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// tallyDrift returns the rows of link_tally that differ from a count of
// the links, as text; empty when the tally is exact.
func tallyDrift(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		WITH truth AS (
			SELECT node, type, outgoing, kind, status, count(*) AS n FROM (
				SELECT l.from_id AS node, l.type, true AS outgoing, o.kind, o.status FROM link l JOIN entity o ON o.id = l.to_id
				UNION ALL
				SELECT l.to_id, l.type, false, o.kind, o.status FROM link l JOIN entity o ON o.id = l.from_id) x
			GROUP BY 1, 2, 3, 4, 5),
		kept AS (SELECT entity_id AS node, type, outgoing, other_kind AS kind, other_status AS status, n FROM link_tally WHERE n <> 0)
		SELECT format('%s %s %s %s %s: tally %s, links %s', coalesce(k.node, t.node), coalesce(k.type, t.type),
			coalesce(k.outgoing, t.outgoing), coalesce(k.kind, t.kind), coalesce(k.status, t.status), k.n, t.n)
		FROM kept k FULL JOIN truth t USING (node, type, outgoing, kind, status)
		WHERE k.n IS DISTINCT FROM t.n LIMIT 10`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLinkTallyFollowsEveryWrite checks link_tally (migration 00008)
// against a count of the links after a bulk load (triggers off), and after
// each kind of write the triggers follow: links made and removed, entities
// published and drafted, entities deleted with their links.
func TestLinkTallyFollowsEveryWrite(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(5, 2000, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	check := func(after string) {
		t.Helper()
		if d := tallyDrift(t, pool); len(d) > 0 {
			t.Fatalf("after %s, link_tally differs from the links:\n%v", after, d)
		}
	}
	check("a bulk load")
	var hub int64
	if err := pool.QueryRow(ctx, `SELECT to_id FROM link GROUP BY to_id ORDER BY count(*) DESC LIMIT 1`).Scan(&hub); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ name, sql string }{
		{"a hub drafted", `UPDATE entity SET status = 'DRAFT' WHERE id = $1`},
		{"a hub archived", `UPDATE entity SET status = 'ARCHIVED' WHERE id = $1`},
		{"a hub published", `UPDATE entity SET status = 'PUBLISHED' WHERE id = $1`},
		{"a neighbour drafted", `UPDATE entity SET status = 'DRAFT' WHERE id = (SELECT min(from_id) FROM link WHERE to_id = $1)`},
		{"links removed", `DELETE FROM link WHERE id IN (SELECT id FROM link WHERE to_id = $1 ORDER BY id LIMIT 5)`},
		{"a link made", `INSERT INTO link (from_id, to_id, type, created_by, updated_by)
			SELECT e.id, $1, 'SUPPORTS', 'test', 'test' FROM entity e WHERE e.kind = 'PARTNER' AND e.id <> $1
			AND NOT EXISTS (SELECT 1 FROM link WHERE from_id = e.id AND to_id = $1 AND type = 'SUPPORTS') LIMIT 1`},
		{"a neighbour deleted", `DELETE FROM entity WHERE id = (SELECT max(from_id) FROM link WHERE to_id = $1)`},
		{"the hub deleted", `DELETE FROM entity WHERE id = $1`},
	} {
		if _, err := pool.Exec(ctx, step.sql, hub); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		check(step.name)
	}
	// The store's writes go through the same triggers.
	pub := kb.StatusPublished
	if _, err := st.ApplyDataset(ctx, "test", kb.Dataset{
		Entities: []kb.Entity{
			{Key: "t-p", Kind: kb.KindPartner, Name: "Gmina T", Status: pub, Partner: &kb.Partner{Sector: kb.SectorPublic, PartnerKind: kb.PartnerMunicipality}},
			{Key: "t-c", Kind: kb.KindCooperative, Name: "Spółdzielnia T", Status: kb.StatusDraft, Cooperative: &kb.Cooperative{CoopStatus: kb.CoopOperating}},
		},
		Links: []kb.Link{{FromKey: "t-p", ToKey: "t-c", Type: kb.RelFounded}},
	}); err != nil {
		t.Fatal(err)
	}
	check("a data set applied")
}

// TestWriteTriggerFunctionsKeepTheirPlans pins migration 00024: the
// functions that every link write's triggers call are PL/pgSQL, whose
// statements are planned once per connection, not SQL functions planned
// at every call (most of a link write's time on a small graph), and the
// facets' refresh probes the practices it is given instead of filtering
// all of them.
func TestWriteTriggerFunctionsKeepTheirPlans(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.NewDB(t, "migrated"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(context.Background(), `SELECT p.proname, l.lanname, p.prosrc FROM pg_proc p
		JOIN pg_language l ON l.oid = p.prolang
		WHERE p.proname IN ('practice_facet_of', 'practice_facet_refresh', 'link_tally_add') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var name, lang, src string
		if err := rows.Scan(&name, &lang, &src); err != nil {
			t.Fatal(err)
		}
		seen++
		if lang != "plpgsql" {
			t.Errorf("%s is in %s, want plpgsql", name, lang)
		}
		if name == "practice_facet_refresh" && strings.Contains(src, "ids IS NULL OR") {
			t.Errorf("practice_facet_refresh still filters with ids IS NULL OR, which a generic plan answers by reading every practice")
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != 3 {
		t.Errorf("found %d of the 3 functions", seen)
	}
}

// TestFacetRefreshLeavesUnchangedPracticesUnlocked pins migration 00025:
// a refresh that changes nothing of a practice's facets must not take its
// row lock (an upsert's ON CONFLICT DO UPDATE locks the row even when its
// WHERE is false), or every writer linking around one practice waits for
// the others' commits; a refresh that changes them still writes them.
func TestFacetRefreshLeavesUnchangedPracticesUnlocked(t *testing.T) {
	s, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(3, 1000, 3000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	var id int64
	var countries []string
	if err := pool.QueryRow(ctx, `SELECT id, countries FROM practice_facet WHERE cardinality(countries) > 0 ORDER BY id LIMIT 1`).Scan(&id, &countries); err != nil {
		t.Fatal(err)
	}

	// One writer refreshes the practice and keeps its transaction open.
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Rollback(ctx) }()
	if _, err := first.Exec(ctx, `SELECT practice_facet_refresh($1)`, []int64{id}); err != nil {
		t.Fatal(err)
	}
	// Another must not wait for it.
	second, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Rollback(ctx) }()
	if _, err := second.Exec(ctx, `SET LOCAL lock_timeout = '2s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Exec(ctx, `SELECT practice_facet_refresh($1)`, []int64{id}); err != nil {
		t.Fatalf("a refresh that changes nothing waited for another's row lock: %v", err)
	}
	if err := second.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// Facets that differ from what the links say are still rewritten.
	if _, err := pool.Exec(ctx, `UPDATE practice_facet SET countries = '{XX}' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `SELECT practice_facet_refresh($1)`, []int64{id}); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := pool.QueryRow(ctx, `SELECT countries FROM practice_facet WHERE id = $1`, id).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(countries, ",") {
		t.Errorf("after a refresh the practice's countries are %v, want %v", got, countries)
	}
}

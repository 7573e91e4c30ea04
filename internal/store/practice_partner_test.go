package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// practicePartnerDrift compares, for every good practice, the partners
// that anonymous readers get from practice_partner (migration 00019) with
// the rule computed from the links: every page entry in order, and the
// count. It returns the differences as text, and how many practices had
// partners at all (so that a test can tell it compared something).
func practicePartnerDrift(t *testing.T, st *store.Store, pool *pgxpool.Pool) ([]string, int) {
	t.Helper()
	ctx := context.Background()
	rows, _ := pool.Query(ctx, `SELECT id FROM entity WHERE kind = 'GOOD_PRACTICE' ORDER BY id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	var diff []string
	nonEmpty := 0
	for _, desc := range []bool{false, true} {
		p := store.PartnerPage{Desc: desc, Limit: 1 << 20}
		kept, err := st.PracticePartnerPages(ctx, store.Public, ids, p)
		if err != nil {
			t.Fatal(err)
		}
		rule, err := st.PracticePartnerPagesByRule(ctx, store.Public, ids, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if !reflect.DeepEqual(kept[id], rule[id]) {
				diff = append(diff, fmt.Sprintf("practice %d (desc %t): kept %v, rule %v", id, desc, kept[id], rule[id]))
			}
			if !desc && len(rule[id]) > 0 {
				nonEmpty++
			}
		}
	}
	kept, err := st.CountPracticePartners(ctx, store.Public, ids)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := st.CountPracticePartnersByRule(ctx, store.Public, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if kept[id] != rule[id] {
			diff = append(diff, fmt.Sprintf("practice %d: count kept %d, rule %d", id, kept[id], rule[id]))
		}
	}
	// A page after a position, as the second page of a connection asks.
	for _, id := range ids {
		full := rule[id]
		if full < 3 {
			continue
		}
		first, err := st.PracticePartnerPages(ctx, store.Public, []int64{id}, store.PartnerPage{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		a := first[id][0]
		p := store.PartnerPage{AfterName: a.SortName, AfterID: a.ID, Limit: 2}
		k, err := st.PracticePartnerPages(ctx, store.Public, []int64{id}, p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.PracticePartnerPagesByRule(ctx, store.Public, []int64{id}, p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(k[id], r[id]) {
			diff = append(diff, fmt.Sprintf("practice %d after %v: kept %v, rule %v", id, a, k[id], r[id]))
		}
	}
	return diff, nonEmpty
}

// TestPracticePartnersKeptAgreeWithTheRule checks that practice_partner
// gives anonymous readers what the rule gives, on the reference data, and
// on a generated graph after a bulk load (triggers off) and after every
// kind of write its triggers follow, random ones included.
func TestPracticePartnersKeptAgreeWithTheRule(t *testing.T) {
	ctx := context.Background()
	t.Run("reference data", func(t *testing.T) {
		st, pool := open(t)
		loadReference(t, st)
		diff, n := practicePartnerDrift(t, st, pool)
		if len(diff) > 0 {
			t.Fatalf("practice_partner differs from the rule:\n%v", diff)
		}
		if n == 0 {
			t.Fatal("no practice of the reference data has partners behind it: nothing was compared")
		}
	})
	t.Run("generated graph and writes", func(t *testing.T) {
		st, pool := open(t)
		g, err := synth.New(7, 3000, 12000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.BulkLoad(ctx, "generate", g, nil); err != nil {
			t.Fatal(err)
		}
		check := func(after string) {
			t.Helper()
			diff, n := practicePartnerDrift(t, st, pool)
			if len(diff) > 0 {
				if len(diff) > 10 {
					diff = diff[:10]
				}
				t.Fatalf("after %s, practice_partner differs from the rule:\n%v", after, diff)
			}
			if n == 0 {
				t.Fatalf("after %s, no practice has partners behind it: nothing was compared", after)
			}
		}
		check("a bulk load")
		var practice int64
		if err := pool.QueryRow(ctx, `SELECT to_id FROM link WHERE type = 'DEMONSTRATES' GROUP BY to_id ORDER BY count(*) DESC, to_id LIMIT 1`).Scan(&practice); err != nil {
			t.Fatal(err)
		}
		steps := []struct{ name, sql string }{
			// More than 100 cases, so that the cap decides which count.
			{"150 cases added to one practice", `INSERT INTO link (from_id, to_id, type, created_by, updated_by)
				SELECT e.id, $1, 'DEMONSTRATES', 'test', 'test' FROM entity e
				WHERE e.kind IN ('COOPERATIVE', 'PROJECT') AND NOT EXISTS (
					SELECT 1 FROM link WHERE from_id = e.id AND to_id = $1 AND type = 'DEMONSTRATES')
				ORDER BY e.id LIMIT 150`},
			{"one of its first cases drafted", `UPDATE entity SET status = 'DRAFT' WHERE id = (
				SELECT from_id FROM link WHERE to_id = $1 AND type = 'DEMONSTRATES' ORDER BY id LIMIT 1 OFFSET 3)`},
			{"a partner behind it drafted", `UPDATE entity SET status = 'DRAFT' WHERE id = (
				SELECT partner_id FROM practice_partner WHERE practice_id = $1 AND published ORDER BY partner_id LIMIT 1)`},
			{"a partner behind it renamed", `UPDATE entity SET name = 'Aaa', sort_name = 'aaa' WHERE id = (
				SELECT partner_id FROM practice_partner WHERE practice_id = $1 AND published ORDER BY partner_id DESC LIMIT 1)`},
			{"a drafted case published again", `UPDATE entity SET status = 'PUBLISHED' WHERE id = (
				SELECT from_id FROM link WHERE to_id = $1 AND type = 'DEMONSTRATES' ORDER BY id LIMIT 1 OFFSET 3)`},
			{"a backer's link to a case removed", `DELETE FROM link WHERE id = (
				SELECT l.id FROM link d JOIN link l ON l.to_id = d.from_id AND l.type = 'SUPPORTS'
				WHERE d.to_id = $1 AND d.type = 'DEMONSTRATES' ORDER BY l.id LIMIT 1)`},
			{"a backer linked to a case", `INSERT INTO link (from_id, to_id, type, created_by, updated_by)
				SELECT p.id, d.from_id, 'FUNDS', 'test', 'test' FROM link d, entity p
				WHERE d.to_id = $1 AND d.type = 'DEMONSTRATES' AND p.kind = 'PARTNER'
				AND NOT EXISTS (SELECT 1 FROM link WHERE from_id = p.id AND to_id = d.from_id AND type = 'FUNDS')
				ORDER BY d.id, p.id DESC LIMIT 1`},
			{"a link's type changed to a backer's", `UPDATE link SET type = 'LEADS' WHERE id = (
				SELECT l.id FROM link d JOIN link l ON l.to_id = d.from_id AND l.type = 'SUPPORTS'
				WHERE d.to_id = $1 AND d.type = 'DEMONSTRATES' ORDER BY l.id DESC LIMIT 1)`},
			{"a case's demonstration removed", `DELETE FROM link WHERE id = (
				SELECT id FROM link WHERE to_id = $1 AND type = 'DEMONSTRATES' ORDER BY id LIMIT 1)`},
			{"a partner behind it deleted", `DELETE FROM entity WHERE id = (
				SELECT partner_id FROM practice_partner WHERE practice_id = $1 ORDER BY partner_id LIMIT 1)`},
			{"a case deleted", `DELETE FROM entity WHERE id = (
				SELECT from_id FROM link WHERE to_id = $1 AND type = 'DEMONSTRATES' ORDER BY id LIMIT 1)`},
		}
		for _, s := range steps {
			tag, err := pool.Exec(ctx, s.sql, practice)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if tag.RowsAffected() == 0 {
				t.Fatalf("%s: no row changed, so the step tests nothing", s.name)
			}
			check(s.name)
		}
		// Random writes anywhere in the graph, several in one transaction.
		r := rand.New(rand.NewPCG(19, 11))
		random := []string{
			`UPDATE entity SET status = (ARRAY['DRAFT','PUBLISHED','ARCHIVED'])[1 + $2::int % 3] WHERE id = (SELECT id FROM entity ORDER BY id OFFSET $1::int % (SELECT count(*) FROM entity) LIMIT 1)`,
			`DELETE FROM link WHERE id = (SELECT id FROM link ORDER BY id OFFSET ($1::int + 0 * $2::int) % (SELECT count(*) FROM link) LIMIT 1)`,
			`INSERT INTO link (from_id, to_id, type, created_by, updated_by)
				SELECT a.id, b.id, 'SUPPORTS', 'test', 'test' FROM
				(SELECT id FROM entity WHERE kind = 'PARTNER' ORDER BY id OFFSET $1::int % 100 LIMIT 1) a,
				(SELECT from_id AS id FROM link WHERE type = 'DEMONSTRATES' ORDER BY id OFFSET $2::int % 200 LIMIT 1) b
				WHERE a.id <> b.id ON CONFLICT DO NOTHING`,
			`DELETE FROM entity WHERE id = (SELECT id FROM entity ORDER BY id OFFSET ($1::int + 0 * $2::int) % (SELECT count(*) FROM entity) LIMIT 1)`,
		}
		for i := range 12 {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for range 4 {
				if _, err := tx.Exec(ctx, random[r.IntN(len(random))], r.IntN(1<<20), r.IntN(1<<20)); err != nil {
					_ = tx.Rollback(ctx)
					t.Fatal(err)
				}
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("random transaction %d", i))
		}
	})
}

// TestPracticePartnersHideDrafts checks what an anonymous reader and a
// staff member get when a partner behind a practice, or the case it is
// behind, is a draft: the partner is hidden from the one and shown to the
// other, in the page and in the count.
func TestPracticePartnersHideDrafts(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	loadReference(t, st)
	var practice, partner, kase int64
	// A partner behind exactly one case of a practice, and not a case
	// itself: drafting that case takes it out of the anonymous set.
	err := pool.QueryRow(ctx, `SELECT k.practice_id, k.partner_id, min(d.from_id) FROM practice_partner k
		JOIN link d ON d.to_id = k.practice_id AND d.type = 'DEMONSTRATES'
		JOIN link l ON (l.to_id = d.from_id AND l.from_id = k.partner_id) OR (l.from_id = d.from_id AND l.to_id = k.partner_id)
		WHERE k.published AND NOT EXISTS (
			SELECT 1 FROM link x WHERE x.from_id = k.partner_id AND x.to_id = k.practice_id AND x.type = 'DEMONSTRATES')
		GROUP BY 1, 2 HAVING count(DISTINCT d.from_id) = 1
		ORDER BY 1, 2 LIMIT 1`).Scan(&practice, &partner, &kase)
	if err != nil {
		t.Fatalf("a partner behind a case of a practice in the reference data: %v", err)
	}
	shows := func(vis store.Visibility) (bool, int) {
		t.Helper()
		pages, err := st.PracticePartnerPages(ctx, vis, []int64{practice}, store.PartnerPage{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		counts, err := st.CountPracticePartners(ctx, vis, []int64{practice})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range pages[practice] {
			if n.ID == partner {
				return true, counts[practice]
			}
		}
		return false, counts[practice]
	}
	staff := store.Visibility{Drafts: true}
	_, before := shows(store.Public)
	for _, step := range []struct{ what, sql string }{
		{"the partner drafted", `UPDATE entity SET status = 'DRAFT' WHERE id = $1`},
		{"the case drafted", `UPDATE entity SET status = 'DRAFT' WHERE id = $1`},
	} {
		id := partner
		if step.what == "the case drafted" {
			id = kase
		}
		if _, err := pool.Exec(ctx, step.sql, id); err != nil {
			t.Fatal(err)
		}
		if ok, n := shows(store.Public); ok || n >= before {
			t.Errorf("%s: an anonymous reader sees the partner %t, count %d (was %d)", step.what, ok, n, before)
		}
		if ok, _ := shows(staff); !ok {
			t.Errorf("%s: staff do not see the partner", step.what)
		}
		if _, err := pool.Exec(ctx, `UPDATE entity SET status = 'PUBLISHED' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if ok, n := shows(store.Public); !ok || n != before {
			t.Errorf("%s, then published: an anonymous reader sees the partner %t, count %d (was %d)", step.what, ok, n, before)
		}
	}
}

// TestMigrateFollowsTheBackerRelations checks that migrating again puts
// back the relations of kb.PracticeCaseBackersIn and Out into
// practice_backer, and recomputes the practices' partners by them.
func TestMigrateFollowsTheBackerRelations(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	loadReference(t, st)
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM practice_partner`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	// Without backers, only partners that are cases themselves are kept.
	if _, err := pool.Exec(ctx, `DELETE FROM practice_backer;
		SELECT practice_partner_refresh(ARRAY(SELECT to_id FROM link WHERE type = 'DEMONSTRATES'))`); err != nil {
		t.Fatal(err)
	}
	var fewer int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM practice_partner`).Scan(&fewer); err != nil {
		t.Fatal(err)
	}
	if fewer >= rows {
		t.Fatalf("without backer relations %d rows, with them %d: the test changes nothing", fewer, rows)
	}
	if _, err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if diff, _ := practicePartnerDrift(t, st, pool); len(diff) > 0 {
		t.Fatalf("after migrating again, practice_partner differs from the rule:\n%v", diff)
	}
}

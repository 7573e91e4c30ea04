package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
)

// counterRead reports whether sql reads the counters to plan a list
// (store's counterPlan).
func counterRead(sql string) bool {
	return strings.Contains(sql, "FROM (TABLE entity_count UNION ALL TABLE entity_count_delta) c WHERE kind = ") &&
		strings.Contains(sql, "FILTER (WHERE country = upper(")
}

// cachingInstance opens a store with the reference data, whose pool counts
// the statements read reports, and keep sets its caches. It returns the
// store, its pool, another instance on the same database without the
// caches, the context of an anonymous reader (whose reads need to see
// only the changes their instance has heard of) and the count.
func cachingInstance(t *testing.T, read func(sql string) bool, keep func(*store.Store)) (*store.Store, *pgxpool.Pool, *store.Store, context.Context, *atomic.Int64) {
	t.Helper()
	reads := &atomic.Int64{}
	st, pool := open(t, func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = pgtest.SQLTracer{See: func(sql string) {
			if read(sql) {
				reads.Add(1)
			}
		}}
	})
	loadReference(t, st)
	keep(st)
	return st, pool, store.New(pool), store.WithRoute(context.Background(), store.Route{Replica: true}), reads
}

// TestListsShareTheCountersUntilAChangeIsHeard: with CacheCounts, the lists
// of anonymous readers (whose reads need to see the changes their instance
// has heard of) read the counters that plan them once and share the
// answer until ForgetCaches, which the server calls at every change the
// feed announces; staff lists read them every time. A partner created
// through another instance is missing from the list until then (what the
// contract allows), and there at once after.
func TestListsShareTheCountersUntilAChangeIsHeard(t *testing.T) {
	st, pool, other, anonymous, reads := cachingInstance(t, counterRead, func(st *store.Store) { st.CacheCounts(time.Minute) })
	ctx := context.Background()
	f := store.Filter{Kind: kb.KindPartner, Country: "FI"}
	list := func(ctx context.Context) int {
		t.Helper()
		p, err := st.ListEntities(ctx, store.Public, f, store.Order{Field: store.OrderName}, store.Page{First: 20})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Entities)
	}
	for range 3 {
		if n := list(anonymous); n != 0 {
			t.Fatalf("%d partners in FI in the reference data, want none", n)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("three anonymous lists read the counters %d times, want once", n)
	}
	list(ctx)
	list(ctx)
	if n := reads.Load(); n != 3 {
		t.Errorf("two staff lists read the counters %d times after the anonymous ones, want twice", n-1)
	}

	e := kb.Entity{Kind: kb.KindPartner, Name: "Osuuskunta Testi", Status: kb.StatusPublished,
		Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerMunicipality, Place: kb.Place{Country: "FI"}}}
	made, err := other.CreateEntity(ctx, "test", &e)
	if err != nil {
		t.Fatal(err)
	}
	// Created as a draft; published as another instance would.
	if _, err := pool.Exec(ctx, `UPDATE entity SET status = 'PUBLISHED' WHERE id = $1`, made.ID); err != nil {
		t.Fatal(err)
	}
	if n := list(anonymous); n != 0 {
		t.Errorf("before the change is heard an anonymous list shows %d partners in FI: the counters were read again", n)
	}
	if n := list(ctx); n != 1 {
		t.Errorf("a staff list shows %d partners in FI after the write, want 1", n)
	}
	st.ForgetCaches() // the change heard
	if n := list(anonymous); n != 1 {
		t.Errorf("after the change is heard an anonymous list shows %d partners in FI, want 1", n)
	}
}

// vocabularyRead reports whether sql reads ranges of the vocabulary
// (store's vocabularyRangesSQL).
func vocabularyRead(sql string) bool {
	return strings.Contains(sql, "FROM search_term") && strings.Contains(sql, "WITH ORDINALITY")
}

// TestSearchesShareTheVocabularyUntilAChangeIsHeard: with CacheVocabulary,
// the searches and suggestions of anonymous readers read the vocabulary's
// ranges they need once and share them until ForgetCaches, as the lists
// share the counters; staff searches read them every time. Each answer is
// the one the store without the cache gives. A word published through
// another instance completes a prefix only once the change is heard, and
// at once after.
func TestSearchesShareTheVocabularyUntilAChangeIsHeard(t *testing.T) {
	st, pool, other, anonymous, reads := cachingInstance(t, vocabularyRead, func(st *store.Store) { st.CacheVocabulary(time.Minute) })
	ctx := context.Background()
	search := func(s *store.Store, ctx context.Context, q string) string {
		t.Helper()
		p, err := s.Search(ctx, store.Public, store.SearchRequest{Query: q, Limit: 10, Count: true})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(pageKeys(p))
	}
	queries := []string{"spółdzielnia socjalna", "warsztat terap", "stowarzyszenei", "gmina gniezno", "koop"}
	for _, q := range queries {
		want := search(other, ctx, q)
		var before int64
		for i := range 3 {
			if i == 1 {
				before = reads.Load()
			}
			if got := search(st, anonymous, q); got != want {
				t.Errorf("%q with the vocabulary kept: %s, without: %s", q, got, want)
			}
		}
		if n := reads.Load() - before; n != 0 {
			// Every range a search reads is kept: the first reads them
			// (a typo's, its corrections' too), the next ones none.
			t.Errorf("%q: the second and third anonymous searches read the vocabulary %d times, want none", q, n)
		}
	}
	before := reads.Load()
	for _, q := range queries {
		search(st, anonymous, q)
	}
	if n := reads.Load() - before; n != 0 {
		t.Errorf("the same searches again read the vocabulary %d times, want none", n)
	}
	if _, err := st.Suggest(anonymous, store.Public, "koop", nil, 5); err != nil {
		t.Fatal(err)
	}
	before = reads.Load()
	if _, err := st.Suggest(anonymous, store.Public, "koop", nil, 5); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load() - before; n != 0 {
		t.Errorf("a suggestion asked again read the vocabulary %d times, want none", n)
	}
	before = reads.Load()
	search(st, ctx, "warsztat terap")
	search(st, ctx, "warsztat terap")
	if n := reads.Load() - before; n != 2 {
		t.Errorf("two staff searches read the vocabulary %d times, want twice", n)
	}

	// "Zxqvbnowa" is a word no entry holds; "zxqvb" is its prefix.
	e := kb.Entity{Kind: kb.KindPartner, Name: "Stowarzyszenie Zxqvbnowa", Status: kb.StatusPublished,
		Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerFoundation, Place: kb.Place{Country: "PL"}}}
	if got := search(st, anonymous, "stowarzyszenie zxqvb"); !strings.Contains(got, "partial true") {
		t.Fatalf("before the write: %s", got)
	}
	made, err := other.CreateEntity(ctx, "test", &e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE entity SET status = 'PUBLISHED' WHERE id = $1`, made.ID); err != nil {
		t.Fatal(err)
	}
	if got := search(st, anonymous, "stowarzyszenie zxqvb"); !strings.Contains(got, "partial true") {
		t.Errorf("before the change is heard an anonymous search completed the new word: %s", got)
	}
	if got := search(st, ctx, "stowarzyszenie zxqvb"); !strings.Contains(got, made.Key) {
		t.Errorf("a staff search does not find the new entry: %s", got)
	}
	st.ForgetCaches() // the change heard
	got, want := search(st, anonymous, "stowarzyszenie zxqvb"), search(other, ctx, "stowarzyszenie zxqvb")
	if !strings.Contains(got, made.Key) || got != want {
		t.Errorf("after the change is heard an anonymous search gives %s, want %s", got, want)
	}
}

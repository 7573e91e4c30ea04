package store_test

import (
	"context"
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

// TestListsShareTheCountersUntilAChangeIsHeard: with CacheCounts, the lists
// of anonymous readers (whose reads need to see the changes their instance
// has heard of) read the counters that plan them once and share the
// answer until ForgetCaches, which the server calls at every change the
// feed announces; staff lists read them every time. A partner created
// through another instance is missing from the list until then (what the
// contract allows), and there at once after.
func TestListsShareTheCountersUntilAChangeIsHeard(t *testing.T) {
	var reads atomic.Int64
	st, pool := open(t, func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = pgtest.SQLTracer{See: func(sql string) {
			if counterRead(sql) {
				reads.Add(1)
			}
		}}
	})
	ctx := context.Background()
	loadReference(t, st)
	st.CacheCounts(time.Minute)
	other := store.New(pool) // another instance, without the cache
	anonymous := store.WithRoute(ctx, store.Route{Replica: true})
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

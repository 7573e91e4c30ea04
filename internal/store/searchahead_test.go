package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/store"
)

// roundTrips counts the statements sent alone and the batches (each one
// round trip) of a pool.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// A search page asked again reads the entities of its last run's hits
// with the page, in its pipeline: one round trip less, the same answer.
// When the page then holds other hits, what was read ahead is dropped and
// the hits are read after the page, as a store that never ran it reads
// them.
func TestSearchReadsItsLastHitsWithItsPage(t *testing.T) {
	trips := &roundTrips{}
	st, pool := open(t, func(c *pgxpool.Config) { c.ConnConfig.Tracer = trips })
	load(t, st, small())
	ctx := context.Background()
	r := store.SearchRequest{Query: "spoldzielni", Limit: 20, Count: true}
	search := func(st *store.Store) (string, []string, int64) {
		t.Helper()
		before := trips.n.Load()
		page, err := st.Search(ctx, store.Public, r)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		s := ""
		for _, h := range page.Hits {
			keys = append(keys, h.Entity.Key)
			s += fmt.Sprintf("%s %v %q %q %v; ", h.Entity.Key, h.Score, h.Snippet.Text, h.Entity.Name, len(h.Entity.Translations))
		}
		return fmt.Sprintf("%s total %d", s, page.Total), keys, trips.n.Load() - before
	}
	// Another search first: what every search reads once a store (the
	// search_doc's statistics) is read.
	if _, err := st.Search(ctx, store.Public, store.SearchRequest{Query: "warsztat", Limit: 5}); err != nil {
		t.Fatal(err)
	}
	first, keys, firstTrips := search(st)
	if len(keys) < 2 {
		t.Fatalf("%q finds %v; the test needs two hits or more", r.Query, keys)
	}
	if fresh, _, _ := search(store.New(pool)); fresh != first {
		t.Errorf("the first time:\n%s\na store that never ran it:\n%s", first, fresh)
	}
	again, _, againTrips := search(st)
	if again != first {
		t.Errorf("asked again:\n%s\nthe first time:\n%s", again, first)
	}
	if againTrips != firstTrips-1 {
		t.Errorf("asked again: %d round trips, the first time %d; want one fewer", againTrips, firstTrips)
	}
	if asked, used := st.SearchAhead(); asked != 1 || used != 1 {
		t.Errorf("SearchAhead() = %d, %d; want 1, 1", asked, used)
	}

	// What was remembered is not the page (as after a write that changed
	// it): read and dropped, the hits read after the page.
	st.ReverseRememberedSearches()
	changed, _, changedTrips := search(st)
	if changed != first {
		t.Errorf("with other hits remembered:\n%s\nthe first time:\n%s", changed, first)
	}
	if changedTrips != firstTrips {
		t.Errorf("with other hits remembered: %d round trips, want %d (the hits read after the page)", changedTrips, firstTrips)
	}
	if asked, used := st.SearchAhead(); asked != 2 || used != 1 {
		t.Errorf("with other hits remembered: SearchAhead() = %d, %d; want 2, 1", asked, used)
	}
	if _, _, n := search(st); n != againTrips {
		t.Errorf("the page asked again: %d round trips, want %d", n, againTrips)
	}
	if asked, used := st.SearchAhead(); asked != 3 || used != 2 {
		t.Errorf("the page asked again: SearchAhead() = %d, %d; want 3, 2", asked, used)
	}

	// A write: the page is read as a store that never ran it reads it.
	if _, err := pool.Exec(ctx, `UPDATE entity SET status = 'ARCHIVED' WHERE key = $1`, keys[0]); err != nil {
		t.Fatal(err)
	}
	after, afterKeys, _ := search(st)
	if fresh, _, _ := search(store.New(pool)); after != fresh {
		t.Errorf("after archiving %s:\n%s\na store that never ran it:\n%s", keys[0], after, fresh)
	}
	if len(afterKeys) != len(keys)-1 {
		t.Errorf("after archiving %s: %v; before %v", keys[0], afterKeys, keys)
	}
}

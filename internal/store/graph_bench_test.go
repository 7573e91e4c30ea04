package store_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// benchGraph loads a synthetic graph of 20,000 entities and 100,000 links
// (the 1M/5M shape at a fiftieth) and returns the store and its id range.
// The figures at scale come from partnergraph-bench (docs/benchmarks.md); these track
// the store's share of them between changes.
func benchGraph(b *testing.B) (*store.Store, int64) {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewDB(b, "migrated"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	st := store.New(pool)
	g, err := synth.New(1, 20_000, 100_000)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.BulkLoad(context.Background(), "generate", g, nil); err != nil {
		b.Fatal(err)
	}
	var base int64
	if err := pool.QueryRow(context.Background(), `SELECT min(id) - 1 FROM entity`).Scan(&base); err != nil {
		b.Fatal(err)
	}
	return st, base
}

func BenchmarkNeighborhoodDepth2Limit500(b *testing.B) {
	st, base := benchGraph(b)
	r := rand.New(rand.NewPCG(1, 1))
	ctx := context.Background()
	for b.Loop() {
		if _, err := st.Neighborhood(ctx, store.Public, base+1+int64(r.IntN(20_000)), 2, store.Walk{}, 500); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkShortestPathMaxDepth6(b *testing.B) {
	st, base := benchGraph(b)
	r := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	for b.Loop() {
		from, to := base+1+int64(r.IntN(20_000)), base+1+int64(r.IntN(20_000))
		if _, err := st.ShortestPath(ctx, store.Public, from, to, 6, store.Walk{}); err != nil {
			b.Fatal(err)
		}
	}
}

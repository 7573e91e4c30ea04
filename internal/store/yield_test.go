package store_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestReadsPauseAndYieldToTheHeavyPool: a read calls its request's pause
// point (budget.Yield) before it takes a connection, and a context marked
// Yielding reads through the pool of heavy reads exactly while its func
// says so (the server's fair turns: docs/api.md, "Fair turns").
func TestReadsPauseAndYieldToTheHeavyPool(t *testing.T) {
	st, pool := open(t)
	heavy, err := pgxpool.New(context.Background(), pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(heavy.Close)
	st.SetHeavyPool(heavy)

	ctx, stop := budget.Start(context.Background(), budget.Limits{})
	defer stop()
	var pauses atomic.Int32
	budget.OnYield(ctx, func(context.Context) { pauses.Add(1) })
	read := func(ctx context.Context) {
		t.Helper()
		if _, err := st.EntitiesByID(ctx, store.Public, []int64{1, 2}); err != nil {
			t.Fatal(err)
		}
	}
	read(ctx)
	if pauses.Load() == 0 {
		t.Error("a read did not reach its request's pause point")
	}

	var yields atomic.Bool
	yctx := store.Yielding(ctx, yields.Load)
	acquired := heavy.Stat().AcquireCount()
	read(yctx)
	if got := heavy.Stat().AcquireCount(); got != acquired {
		t.Errorf("a read that does not yield took %d connections of the pool of heavy reads", got-acquired)
	}
	yields.Store(true)
	read(yctx)
	if got := heavy.Stat().AcquireCount(); got == acquired {
		t.Error("a read that yields did not go to the pool of heavy reads")
	}
}

package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestTogetherSendsFirstStatementsInOnePipeline: the first statements of
// the reads Together runs go in one round trip, whether read by Query or
// QueryRow, and answer as the reads alone do; a read that sends nothing
// (an argument refused before any statement) neither holds up the others
// nor takes their answers; a read's second statement goes on its own.
func TestTogetherSendsFirstStatementsInOnePipeline(t *testing.T) {
	counter := &pgtest.TripCounter{}
	st, pool := open(t, func(pc *pgxpool.Config) { pc.ConnConfig.Tracer = counter })
	ctx := context.Background()
	loadReference(t, st)
	rows, _ := pool.Query(ctx, `SELECT id FROM entity ORDER BY id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	practices := store.Filter{Kind: kb.KindGoodPractice}
	// Alone, one after the other.
	wantN, err := st.CountEntities(ctx, store.Public, practices)
	if err != nil {
		t.Fatal(err)
	}
	wantEs, err := st.EntitiesByID(ctx, store.Public, ids)
	if err != nil {
		t.Fatal(err)
	}
	wantPage, err := st.ListEntities(ctx, store.Public, practices, store.Order{Field: store.OrderName}, store.Page{First: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, pipelined := range []int{3, 4} {
		var n, again int
		var es []*kb.Entity
		var page *store.EntityPage
		fns := []func(context.Context) error{
			func(ctx context.Context) (err error) {
				n, err = st.CountEntities(ctx, store.Public, practices)
				return err
			},
			func(ctx context.Context) (err error) {
				es, err = st.EntitiesByID(ctx, store.Public, ids)
				return err
			},
			func(ctx context.Context) error {
				// Refused before it sends anything.
				_, err := st.ListEntities(ctx, store.Public, practices, store.Order{Field: "NOPE"}, store.Page{First: 3})
				return err
			},
			func(ctx context.Context) (err error) {
				if page, err = st.ListEntities(ctx, store.Public, practices, store.Order{Field: store.OrderName}, store.Page{First: 3}); err != nil {
					return err
				}
				// A second statement: on its own.
				again, err = st.CountEntities(ctx, store.Public, practices)
				return err
			},
		}
		if pipelined == 3 {
			fns = fns[:3] // without the read of two statements
		}
		trips, statements := counter.Trips.Load(), counter.Statements.Load()
		errs := st.Together(ctx, fns...)
		trips, statements = counter.Trips.Load()-trips, counter.Statements.Load()-statements
		if errs[0] != nil || errs[1] != nil || len(errs) == 4 && errs[3] != nil {
			t.Fatal(errs)
		}
		var invalid *kb.ValidationError
		if !errors.As(errs[2], &invalid) {
			t.Errorf("an invalid order: %v", errs[2])
		}
		if n != wantN || !reflect.DeepEqual(es, wantEs) {
			t.Errorf("%d reads: count %d, want %d; entities equal: %t", pipelined, n, wantN, reflect.DeepEqual(es, wantEs))
		}
		wantTrips, wantStatements := int64(1), int64(2)
		if pipelined == 4 {
			if !reflect.DeepEqual(page, wantPage) || again != wantN {
				t.Errorf("the page with the pipeline differs, or its second count: %d", again)
			}
			wantTrips, wantStatements = 2, 4
		}
		if trips != wantTrips || statements != wantStatements {
			t.Errorf("%d reads: %d statements in %d round trips, want %d in %d", len(fns), statements, trips, wantStatements, wantTrips)
		}
	}
}

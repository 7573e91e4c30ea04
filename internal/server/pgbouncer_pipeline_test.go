package server_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestPgBouncerTakesAPipelineOfLargeNewStatements sends, through PgBouncer
// in transaction mode with prepared statements kept, the pipeline of a
// cooperative's row and its first level (loader.Ahead) on connections that
// have prepared none of its statements: pgx prepares the five (some 45 kB
// of SQL, the entities by id 19 kB) in one pipeline first. With
// PgBouncer's default 4 kB packet buffer the answer came back corrupted
// (pgx: "invalid message length: -65536") in every round after the first
// few, and a stopped replica's reads failed over to the primary with it
// (deploy/topology); pgtest.PreparedPktBuf, as deploy/pgbouncer.ini sets
// it, passes.
func TestPgBouncerTakesAPipelineOfLargeNewStatements(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDB(t, "reference")
	direct, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	bouncer := pgtest.NewPgBouncer(t)
	var coop int64
	p0, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	err = p0.QueryRow(ctx, `SELECT id FROM entity WHERE key = 'spoldzielnia-socjalna-rowne-szanse'`).Scan(&coop)
	p0.Close()
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{coop}
	founders := store.LinkSpec{Direction: store.Incoming, Types: []kb.RelationType{kb.RelFounded}, Limit: 11, DistinctOther: true, Heads: true}
	workshops := store.LinkSpec{Direction: store.Outgoing, Types: []kb.RelationType{kb.RelEmploysParticipantsOf},
		OtherKinds: []kb.Kind{kb.KindPartner}, Limit: 11, DistinctOther: true, Rows: true}
	for round := range 6 {
		// New client connections each round: every statement is new to
		// them, and some are prepared on the server connections already.
		pc, err := pgxpool.ParseConfig(bouncer.ConnString(direct.ConnConfig.Database))
		if err != nil {
			t.Fatal(err)
		}
		pc.MaxConns = 4
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			t.Fatal(err)
		}
		st := store.New(pool)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				var rows int
				errs := st.Together(ctx,
					func(ctx context.Context) error {
						es, err := st.EntitiesByID(ctx, store.Public, ids)
						if len(es) == 1 && es[0] != nil {
							rows++
						}
						return err
					},
					func(ctx context.Context) error {
						_, err := st.LinkPages(ctx, store.Public, []store.SpecIDs{{Spec: founders, IDs: ids}})
						return err
					},
					func(ctx context.Context) error {
						_, err := st.LinkPages(ctx, store.Public, []store.SpecIDs{{Spec: workshops, IDs: ids}})
						return err
					},
					func(ctx context.Context) error { _, err := st.Indicators(ctx, store.Public, ids); return err },
					func(ctx context.Context) error {
						_, err := st.CountLinksOf(ctx, store.Public, ids, founders.Unpaged())
						return err
					},
				)
				for i, err := range errs {
					if err != nil {
						t.Errorf("round %d, statement %d: %v", round, i, err)
					}
				}
				if rows != 1 {
					t.Errorf("round %d: the cooperative's row not read", round)
				}
			})
		}
		wg.Wait()
		pool.Close()
	}
}

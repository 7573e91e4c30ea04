package bench_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/bench"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, storetest.Reference)
}

// recorder is a pgx tracer that records the SQL sent to PostgreSQL.
type recorder struct {
	mu  sync.Mutex
	sql []string
}

var space = regexp.MustCompile(`\s+`)

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	r.sql = append(r.sql, space.ReplaceAllString(strings.TrimSpace(d.SQL), " "))
	r.mu.Unlock()
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// The statements of a batch (pgx.BatchTracer): the store sends some of a
// search's statements together, in one round trip.
func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (r *recorder) TraceBatchQuery(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.TraceQueryStart(ctx, c, pgx.TraceQueryStartData{SQL: d.SQL, Args: d.Args})
}

func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// take returns the statements recorded since the last take, sorted.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sql
	r.sql = nil
	slices.Sort(out)
	return out
}

// authSQL is the one statement the server sends that the ceiling does not:
// looking up the bearer token of a staff request, which is HTTP's part.
const authSQL = "SELECT id, name, role FROM api_token WHERE hash = $1"

// statsSQL reads search_doc's statistics for the search probes, kept by
// the store for minutes: whichever of the server and the ceiling searches
// first after they expire sends it (two concurrent first searches may
// both), so it is left out of both sides.
const statsSQL = "SELECT c.relpages::bigint, c.reltuples::float8"

// cacheFill reports whether s only fills a store's cache.
func cacheFill(s string) bool { return strings.HasPrefix(s, statsSQL) }

// TestCeilingSendsTheServersSQL pins the honesty of the ceiling: for each
// operation of the mix and several draws of its arguments on the reference
// data, the ceiling sends PostgreSQL exactly the statements the server
// sends for the same request, as many times each. A change to a resolver
// that the ceiling does not follow fails here.
func TestCeilingSendsTheServersSQL(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	pc, err := pgxpool.ParseConfig(pgtest.NewDB(t, "reference"))
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool)
	secret, hash := auth.NewToken()
	if _, err := st.CreateToken(ctx, "bench", kb.RoleEditor, hash); err != nil {
		t.Fatal(err)
	}
	sample, err := bench.LoadSample(ctx, pool, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(sample.Pairs) == 0 || len(sample.Cooperatives) == 0 {
		t.Fatalf("sample of the reference data: %d pairs, %d cooperatives", len(sample.Pairs), len(sample.Cooperatives))
	}
	// A long loader wait keeps each batch whole on a busy machine, as the
	// ceiling's are; the wait changes when a batch goes, not what it asks.
	// The front page's entities come from two loaders of one level (the
	// cases' pages, the partners' pages) that finish apart: at 50 ms, with
	// a load average of 20 on two cores, one run in eight split them.
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler), LoaderWait: 200 * time.Millisecond}, st).Handler())
	defer srv.Close()
	target := &bench.Server{URL: srv.URL + "/graphql", Token: secret, HTTP: srv.Client()}
	ceiling := &bench.Ceiling{Store: st}
	r := rand.New(rand.NewPCG(1, 1))
	for _, op := range append(append(bench.Mix[:len(bench.Mix):len(bench.Mix)], bench.Extra...), bench.Walks...) {
		t.Run(op.Name, func(t *testing.T) {
			sc, cc := &bench.Client{Of: 1, Actor: "bench"}, &bench.Client{Of: 1, Actor: "bench"}
			// Four draws; for the link operation each is a link and its
			// unlink, made by the server and then by the ceiling.
			for range 4 {
				a := op.Draw(r, sample, sc)
				steps := 1
				if op.Staff {
					steps = 2
				}
				var server, ceil [][]string
				rec.take()
				for range steps {
					if err := target.Do(ctx, op, sc, a); err != nil {
						t.Fatalf("server, %+v: %v", a, err)
					}
					server = append(server, slices.DeleteFunc(rec.take(), func(s string) bool { return strings.HasPrefix(s, authSQL) || cacheFill(s) }))
				}
				for range steps {
					if err := ceiling.Do(ctx, op, cc, a); err != nil {
						t.Fatalf("ceiling, %+v: %v", a, err)
					}
					ceil = append(ceil, slices.DeleteFunc(rec.take(), cacheFill))
				}
				for i := range steps {
					if len(server[i]) == 0 {
						t.Fatalf("%+v: the server sent no SQL", a)
					}
					if !slices.Equal(server[i], ceil[i]) {
						t.Errorf("%+v, step %d: the ceiling's SQL differs from the server's\nserver:\n  %s\nceiling:\n  %s",
							a, i, strings.Join(server[i], "\n  "), strings.Join(ceil[i], "\n  "))
					}
				}
			}
		})
	}
}

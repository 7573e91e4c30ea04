package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
)

// TestUnreadCommitPositionPinsOnlyTheWriter: when the WAL position of a
// commit cannot be read, the writing session's reads stay on the primary
// (it must see its write), and every other read still goes to a replica
// that has replayed the floor. It once raised the instance's floor to the
// largest position, which no replica ever reaches: replicas went unused
// until the server restarted.
func TestUnreadCommitPositionPinsOnlyTheWriter(t *testing.T) {
	s := &Store{}
	s.UseReplicas([]*pgxpool.Pool{nil}, ReplicaOptions{})
	rs := s.replicas
	r := rs.replicas[0]
	r.replay.Store(100)
	rs.setState(r, "up", nil)
	rs.raiseFloor(50)

	where := func(session string) string {
		ctx := WithRoute(context.Background(), Route{Replica: true, Session: session})
		switch s.read(ctx).(type) {
		case onReplica:
			return "replica"
		case onPrimary:
			return "primary"
		}
		return "?"
	}
	check := func(step, session, want string) {
		t.Helper()
		if got := where(session); got != want {
			t.Errorf("%s: a read of %q went to the %s, want the %s", step, session, got, want)
		}
	}

	check("before", "writer", "replica")
	rs.recordCommit("writer", 0, errors.New("primary did not answer"))
	check("after the failed read of the position", "writer", "primary")
	check("after the failed read of the position", "", "replica")
	check("after the failed read of the position", "someone else", "replica")
	if f := LSN(rs.floor.Load()); f != 50 {
		t.Errorf("floor = %v, want it unchanged at %v", f, LSN(50))
	}

	// A later commit whose position is read still raises the floor for all.
	rs.recordCommit("someone else", 120, nil)
	check("after a commit the replica has not replayed", "", "primary")
	r.replay.Store(120)
	check("once the replica has replayed it", "", "replica")
	check("once the replica has replayed it", "someone else", "replica")
	check("once the replica has replayed it", "writer", "primary")

	// The writer's pin ends with its TTL (checkReplicas drops it).
	rs.dropOldPins(time.Now().Add(pinTTL + time.Second))
	check("after the pin's TTL", "writer", "replica")
}

// TestHeardSufficesForAnonymousAndReadersOnly: only anonymous and reader
// reads may trust the change feed to have told their instance of every
// change they must see; staff, reads without a route and a session's
// reads within pinTTL of its own write through this instance (with no
// replicas: the pins only exist with them) may not.
func TestHeardSufficesForAnonymousAndReadersOnly(t *testing.T) {
	s := &Store{}
	reader := WithRoute(context.Background(), Route{Replica: true, Session: "token:7"})
	for _, c := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"anonymous", WithRoute(context.Background(), Route{Replica: true}), true},
		{"a reader", reader, true},
		{"staff", WithRoute(context.Background(), Route{Session: "token:8"}), false},
		{"no route", context.Background(), false},
	} {
		if got := s.HeardSuffices(c.ctx); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	s.committed(reader)
	if s.HeardSuffices(reader) {
		t.Error("a reader right after its own write may trust the feed")
	}
	if !s.HeardSuffices(WithRoute(context.Background(), Route{Replica: true, Session: "token:9"})) {
		t.Error("another reader's write holds this one's reads")
	}
	if s.writers.wrote("token:7", time.Now().Add(pinTTL+time.Second)) {
		t.Error("the reader's write still holds its reads after pinTTL")
	}
}

// TestReplicaBatchHandsOutWhatPgxDoes: a batch sent to a replica
// (onReplica.SendBatch), read whole before it is handed out, gives each
// statement its rows or its error as pgx's batch results do: the rows of
// those before a failed statement, the failure to it and to those after
// it (PostgreSQL skips them), the callbacks of the statements not read by
// Close up to the first error, and a query's own error is not retried
// elsewhere. The "replica" is a pool of the test database: what is
// tested is the reading of the results.
func TestReplicaBatchHandsOutWhatPgxDoes(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, "migrated")
	o := onReplica{s: &Store{pool: pool}, r: &replica{pool: pool}}

	send := func(withFns bool) (pgx.BatchResults, *[]string) {
		var seen []string
		b := &pgx.Batch{}
		for _, sql := range []string{
			`SELECT n, n::text || 'x' FROM generate_series(1, 3) n`,
			`SELECT 1/0`,
			`SELECT 42`,
		} {
			qq := b.Queue(sql)
			if withFns {
				qq.Query(func(rows pgx.Rows) error {
					n := 0
					for rows.Next() {
						n++
					}
					seen = append(seen, fmt.Sprintf("%d rows, %v", n, rows.Err() != nil))
					return rows.Err()
				})
			}
		}
		return o.SendBatch(ctx, b), &seen
	}

	// Read statement by statement.
	br, _ := send(false)
	rows, err := br.Query()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var n int32
		var s string
		if err := rows.Scan(&n, &s); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", n, s))
	}
	if fmt.Sprint(got) != "[1:1x 2:2x 3:3x]" || rows.Err() != nil {
		t.Errorf("the first statement's rows: %v, %v", got, rows.Err())
	}
	var pgErr *pgconn.PgError
	if _, err := br.Query(); !errors.As(err, &pgErr) || pgErr.Code != "22012" {
		t.Errorf("the failed statement: %v, want division_by_zero", err)
	}
	if err := br.QueryRow().Scan(new(int32)); err == nil {
		t.Errorf("the statement after the failed one answered")
	}
	if _, err := br.Exec(); err == nil {
		t.Errorf("a fourth result of a batch of three")
	}
	if err := br.Close(); !errors.As(err, &pgErr) || pgErr.Code != "22012" {
		t.Errorf("Close after every result was read: %v, want division_by_zero", err)
	}

	// By the callbacks, which Close runs up to the first error.
	br, seen := send(true)
	if err := br.Close(); !errors.As(err, &pgErr) || pgErr.Code != "22012" {
		t.Errorf("Close: %v, want division_by_zero", err)
	}
	if fmt.Sprint(*seen) != "[3 rows, false 0 rows, true]" {
		t.Errorf("the callbacks saw %v", *seen)
	}
	if err := br.Close(); !errors.As(err, &pgErr) {
		t.Errorf("Close again: %v, want the same error", err)
	}
	if n := o.r.fallbacks.Load(); n != 0 {
		t.Errorf("%d reads went to the primary for a query's own error", n)
	}
}

// TestAReplicaReadHeldOnThePrimaryKeepsItsPipeline: a replica-routed read
// that no replica can take yet (onPrimary: after a write, or with every
// replica out of rotation) sends Together's statements to the primary in
// one round trip, as a read routed there does, and each gets its own
// answer.
func TestAReplicaReadHeldOnThePrimaryKeepsItsPipeline(t *testing.T) {
	counter := &pgtest.TripCounter{}
	cfg, err := pgxpool.ParseConfig(pgtest.NewDB(t, "migrated"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := New(pool)
	s.UseReplicas([]*pgxpool.Pool{nil}, ReplicaOptions{}) // never up
	ctx := WithRoute(context.Background(), Route{Replica: true})
	if _, ok := s.read(ctx).(onPrimary); !ok {
		t.Fatalf("the read goes to %T, want onPrimary", s.read(ctx))
	}
	got := make([]int, 3)
	var fns []func(context.Context) error
	for i := range got {
		fns = append(fns, func(ctx context.Context) error {
			return s.read(ctx).QueryRow(ctx, `SELECT $1::int * 10`, i).Scan(&got[i])
		})
	}
	trips := counter.Trips.Load()
	for i, err := range s.Together(ctx, fns...) {
		if err != nil {
			t.Errorf("statement %d: %v", i, err)
		}
	}
	if fmt.Sprint(got) != "[0 10 20]" {
		t.Errorf("answers %v, want [0 10 20]", got)
	}
	if n := counter.Trips.Load() - trips; n != 1 {
		t.Errorf("%d round trips, want 1", n)
	}
}

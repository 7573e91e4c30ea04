package graphindex_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/feed"
	"github.com/partnergraph/partnergraph/internal/graphindex"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
)

// walkKey marks the context of the walks whose statements walkCounter
// counts: the index's own catch-ups between walks do not count.
type walkKey struct{}

// walkCounter counts the statements sent with a walk's context.
type walkCounter struct{ n atomic.Int64 }

func (c *walkCounter) count(ctx context.Context) {
	if ctx.Value(walkKey{}) != nil {
		c.n.Add(1)
	}
}

func (c *walkCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.count(ctx)
	return ctx
}
func (c *walkCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *walkCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.count(ctx)
	return ctx
}
func (c *walkCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *walkCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// instance is an index that follows a real change feed, as serve runs it,
// and another instance's store on the same database, which writes.
type instance struct {
	t     *testing.T
	ix    *graphindex.Index
	st    *store.Store  // the index's
	other *store.Store  // another instance's, or the CLI's
	pool  *pgxpool.Pool // the other instance's
	walks walkCounter
	hub   int64   // an entity every link of the tests starts from
	ids   []int64 // published partners to link it to
	// heard gets the link of each change after the index heard it;
	// lost and listening the feed's Lost and Listening after the index's.
	heard           chan int64
	lost, listening chan struct{}
	listens         atomic.Int64 // Listening calls, counted before the index's
}

func newInstance(t *testing.T, partners int) *instance {
	t.Helper()
	url := pgtest.NewDB(t, "migrated")
	in := &instance{t: t, heard: make(chan int64, 4096), lost: make(chan struct{}, 16), listening: make(chan struct{}, 16)}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.Tracer = &in.walks
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	otherPool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(otherPool.Close)
	in.st, in.other, in.pool = store.New(pool), store.New(otherPool), otherPool

	for i := range partners + 1 {
		var id int64
		if err := otherPool.QueryRow(context.Background(), `INSERT INTO entity (kind, name, sort_name, status, created_by, updated_by)
			VALUES ('PARTNER', $1, $1, 'PUBLISHED', 'test', 'test') RETURNING id`, fmt.Sprintf("p%d", i)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		in.ids = append(in.ids, id)
	}
	in.hub, in.ids = in.ids[0], in.ids[1:]

	// No polling: what the index applies between walks, it applies
	// because the feed announced it.
	in.ix = run(t, in.st, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := in.ix.Follower()
	signal := func(ch chan struct{}) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	feed.New(in.st, slog.New(slog.DiscardHandler)).Follow(ctx, feed.Follower{
		Change: func(c store.Change) {
			f.Change(c)
			select {
			case in.heard <- c.LinkID:
			default:
				t.Error("the test's channel of changes heard is full")
			}
		},
		Listening: func() { in.listens.Add(1); f.Listening(); signal(in.listening) },
		Lost:      func() { f.Lost(); signal(in.lost) },
	})
	in.wait(in.listening, "the listener to listen")
	return in
}

func (in *instance) wait(ch chan struct{}, what string) {
	in.t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		in.t.Fatalf("waited 10 s for %s", what)
	}
}

// anonymous is the context of an anonymous walk (a reader's with session).
func anonymous(session string) context.Context {
	return context.WithValue(store.WithRoute(context.Background(), store.Route{Replica: true, Session: session}), walkKey{}, true)
}

// staff is the context of a staff walk: no replica route.
func staff() context.Context {
	return context.WithValue(store.WithRoute(context.Background(), store.Route{}), walkKey{}, true)
}

// link links the hub to its i-th partner through st and returns the link.
func (in *instance) link(ctx context.Context, st *store.Store, i int) *kb.Link {
	in.t.Helper()
	l, err := st.CreateLink(ctx, "test", &kb.Link{FromID: in.hub, ToID: in.ids[i], Type: kb.RelSupports})
	if err != nil {
		in.t.Fatal(err)
	}
	return l
}

// awaitHeard waits until the index has heard of the change of link id.
func (in *instance) awaitHeard(id int64) {
	in.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-in.heard:
			if got == id {
				return
			}
		case <-deadline:
			in.t.Fatalf("the notification of link %d never arrived", id)
		}
	}
}

// walk walks the hub's neighbourhood with ctx and returns whether it holds
// link id, and the statements it sent.
func (in *instance) walk(ctx context.Context, id int64) (bool, int64) {
	in.t.Helper()
	before := in.walks.n.Load()
	sub, err := in.ix.Neighborhood(ctx, store.Public, in.hub, 1, store.Walk{}, 1000)
	if err != nil {
		in.t.Fatal(err)
	}
	return slices.ContainsFunc(sub.Links, func(l *kb.Link) bool { return l.ID == id }), in.walks.n.Load() - before
}

// TestAnonymousWalkSeesEveryChangeHeard: another instance links 200 times;
// as soon as the index has heard each link's notification, an anonymous
// walk holds the link (it reads the version, since a change heard is not
// applied yet), and the anonymous walk after it sends no statement at all.
func TestAnonymousWalkSeesEveryChangeHeard(t *testing.T) {
	const n = 200
	in := newInstance(t, n)
	if _, sent := in.walk(anonymous(""), 0); sent > 1 {
		t.Fatalf("the first anonymous walk sent %d statements", sent)
	}
	stale, sentAfter := 0, int64(0)
	for i := range n {
		l := in.link(context.Background(), in.other, i)
		in.awaitHeard(l.ID)
		if ok, _ := in.walk(anonymous(""), l.ID); !ok {
			stale++
		}
		ok, sent := in.walk(anonymous(""), l.ID)
		if !ok {
			stale++
		}
		sentAfter += sent
	}
	if stale != 0 {
		t.Errorf("%d of %d anonymous walks after the notification missed the link", stale, 2*n)
	}
	if sentAfter != 0 {
		t.Errorf("the anonymous walks with nothing pending sent %d statements in all, want 0", sentAfter)
	}
	// Paths and the most connected take the same way.
	before := in.walks.n.Load()
	ps, err := in.ix.Paths(anonymous(""), store.Public, in.ids[0], in.ids[n-1], 2, 1, store.Walk{})
	if err != nil || len(ps) != 1 || len(ps[0].Nodes) != 3 {
		t.Errorf("anonymous path: %v %v, want one through the hub", ps, err)
	}
	ds, err := in.ix.MostConnected(anonymous(""), store.Public, nil, nil, 1)
	if err != nil || len(ds) != 1 || ds[0].ID != in.hub || ds[0].Degree != n {
		t.Errorf("anonymous most connected: %v %v, want the hub with %d links", ds, err, n)
	}
	if sent := in.walks.n.Load() - before; sent != 0 {
		t.Errorf("the anonymous path and most connected sent %d statements, want 0", sent)
	}
}

// TestStaffAndWritersWalksSeeWritesAtOnce: a staff walk right after a
// link made through another instance holds it without waiting for the
// notification, as does a reader's walk right after its own write
// through this instance; an anonymous walk before each shows that nothing
// was pending, so that the index would have answered it without asking.
func TestStaffAndWritersWalksSeeWritesAtOnce(t *testing.T) {
	const n = 50
	in := newInstance(t, 2*n)
	in.walk(anonymous(""), 0)
	stale := 0
	for i := range n {
		if _, sent := in.walk(anonymous(""), 0); sent != 0 {
			t.Fatalf("round %d: an anonymous walk with nothing pending sent %d statements", i, sent)
		}
		l := in.link(context.Background(), in.other, i)
		if ok, _ := in.walk(staff(), l.ID); !ok {
			stale++
		}
		in.awaitHeard(l.ID)
		in.walk(anonymous(""), 0) // catch up

		if _, sent := in.walk(anonymous(""), 0); sent != 0 {
			t.Fatalf("round %d: an anonymous walk with nothing pending sent %d statements", i, sent)
		}
		reader := anonymous("token:7")
		l = in.link(reader, in.st, n+i)
		if ok, _ := in.walk(reader, l.ID); !ok {
			stale++
		}
		in.awaitHeard(l.ID)
		in.walk(anonymous(""), 0)
	}
	if stale != 0 {
		t.Errorf("%d of %d walks right after a write missed it", stale, 2*n)
	}
}

// TestWalksReadTheVersionWhileTheListenerIsDown: with the listener's
// connection cut, changes go unannounced: an anonymous walk reads the
// version and holds them, and after the listener is back (the changes
// made in between never announced) the first walk holds them too; then
// walks send nothing again.
func TestWalksReadTheVersionWhileTheListenerIsDown(t *testing.T) {
	in := newInstance(t, 10)
	in.walk(anonymous(""), 0)
	if _, sent := in.walk(anonymous(""), 0); sent != 0 {
		t.Fatalf("an anonymous walk with nothing pending sent %d statements", sent)
	}
	var cut int
	if err := in.pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&cut); err != nil || cut != 1 {
		t.Fatalf("cutting the listener: %d connections, %v", cut, err)
	}
	in.wait(in.lost, "the feed to say the listener is lost")
	// The feed retries a second later: meanwhile every walk reads (on a
	// slow machine the listener may be back before the last of these).
	listens := in.listens.Load()
	for i := range 3 {
		l := in.link(context.Background(), in.other, i)
		ok, sent := in.walk(anonymous(""), l.ID)
		if !ok || (sent == 0 && in.listens.Load() == listens) {
			t.Errorf("with the listener down: walk holds link %d: %v, after %d statements", i, ok, sent)
		}
	}
	unseen := in.link(context.Background(), in.other, 3)
	if in.listens.Load() != listens {
		// Back already: the link was announced.
		t.Log("the listener came back before the last link; it was announced")
		in.awaitHeard(unseen.ID)
	}
	in.wait(in.listening, "the listener to listen again")
	if ok, _ := in.walk(anonymous(""), unseen.ID); !ok {
		t.Error("the first walk after the listener came back misses the link made while it was down")
	}
	if ok, sent := in.walk(anonymous(""), unseen.ID); !ok || sent != 0 {
		t.Errorf("the next walk: holds the link %v, sent %d statements, want 0", ok, sent)
	}
	l := in.link(context.Background(), in.other, 4)
	in.awaitHeard(l.ID)
	if ok, _ := in.walk(anonymous(""), l.ID); !ok {
		t.Error("after the listener came back, a walk misses a link whose notification arrived")
	}
}

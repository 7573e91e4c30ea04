package graphindex_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/graphindex"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated)
}

func open(t *testing.T) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewDB(t, "migrated"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return store.New(pool), pool
}

// run starts an index on st and waits until it is ready; poll, if given,
// is how often it polls the database.
func run(t *testing.T, st *store.Store, poll ...time.Duration) *graphindex.Index {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ix := graphindex.New(st, slog.New(slog.DiscardHandler))
	for _, d := range poll {
		ix.SetPoll(d)
	}
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for ix.Status().State != graphindex.StateReady {
		if time.Now().After(deadline) {
			t.Fatalf("index not ready: %+v", ix.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ix
}

var (
	kinds     = []kb.Kind{kb.KindPartner, kb.KindCooperative, kb.KindProject, kb.KindEvent}
	relations = []kb.RelationType{kb.RelMemberOf, kb.RelFunds, kb.RelSupports, kb.RelVisited}
	statuses  = []kb.PublicationStatus{kb.StatusPublished, kb.StatusPublished, kb.StatusDraft, kb.StatusArchived}
)

// graph is a random graph written to the database with plain SQL, so that
// every write path the triggers see is covered, whatever the store does.
type graph struct {
	t    *testing.T
	pool *pgxpool.Pool
	r    *rand.Rand
	ids  []int64
}

func (g *graph) exec(sql string, args ...any) {
	g.t.Helper()
	if _, err := g.pool.Exec(context.Background(), sql, args...); err != nil {
		g.t.Fatalf("%s: %v", sql, err)
	}
}

func (g *graph) addEntity() {
	var id int64
	err := g.pool.QueryRow(context.Background(), `INSERT INTO entity (kind, name, sort_name, status, created_by, updated_by)
		VALUES ($1, $2, $2, $3, 'test', 'test') RETURNING id`,
		kinds[g.r.IntN(len(kinds))], fmt.Sprintf("e%d", len(g.ids)), statuses[g.r.IntN(len(statuses))]).Scan(&id)
	if err != nil {
		g.t.Fatal(err)
	}
	g.ids = append(g.ids, id)
}

func (g *graph) pick() int64 { return g.ids[g.r.IntN(len(g.ids))] }

func (g *graph) addLink() {
	a, b := g.pick(), g.pick()
	if a == b {
		return
	}
	g.exec(`INSERT INTO link (from_id, to_id, type, role, created_by, updated_by) VALUES ($1, $2, $3, $4, 'test', 'test')
		ON CONFLICT DO NOTHING`, a, b, relations[g.r.IntN(len(relations))], roles[g.r.IntN(len(roles))])
}

// roles are the links' roles the edits give ("" is none).
var roles = []string{"", "", "LEADER", "PARTNER", "funder of the second phase"}

// edit makes one random change: a link added or deleted, an entity
// published, unpublished, archived, erased (deleted with its links),
// created or renamed, a link moved to another end or given another role,
// or a link deleted and created anew with another role in one transaction.
func (g *graph) edit() {
	switch g.r.IntN(10) {
	case 7:
		g.exec(`UPDATE entity SET name = name || ' ' || $2 WHERE id = $1`, g.pick(), fmt.Sprint("ż", g.r.IntN(100)))
	case 8:
		g.exec(`UPDATE link SET role = $1 WHERE id = (SELECT id FROM link ORDER BY random() LIMIT 1)`, roles[g.r.IntN(len(roles))])
	case 9:
		g.exec(`WITH gone AS (DELETE FROM link WHERE id = (SELECT id FROM link ORDER BY random() LIMIT 1) RETURNING *)
			INSERT INTO link (from_id, to_id, type, role, created_by, updated_by)
			SELECT from_id, to_id, type, 'x', 'test', 'test' FROM gone`)
		g.exec(`BEGIN; UPDATE link SET role = 'y' WHERE id = (SELECT max(id) FROM link); COMMIT`)
	case 0, 1:
		g.addLink()
	case 2:
		g.exec(`DELETE FROM link WHERE id = (SELECT id FROM link ORDER BY random() LIMIT 1)`)
	case 3:
		g.exec(`UPDATE entity SET status = $2 WHERE id = $1`, g.pick(), statuses[g.r.IntN(len(statuses))])
	case 4:
		id := g.pick()
		g.exec(`DELETE FROM entity WHERE id = $1`, id)
		g.ids = slices.DeleteFunc(g.ids, func(x int64) bool { return x == id })
		g.addEntity()
	case 5:
		g.addEntity()
	case 6:
		g.exec(`UPDATE link SET to_id = $1 WHERE id = (SELECT id FROM link WHERE from_id <> $1 ORDER BY random() LIMIT 1)
			AND NOT EXISTS (SELECT 1 FROM link o WHERE o.from_id = link.from_id AND o.type = link.type AND o.to_id = $1)`, g.pick())
	}
}

type linkKey struct {
	from int64
	typ  kb.RelationType
	to   int64
}

func linkSet(ls []*kb.Link) []linkKey {
	out := make([]linkKey, len(ls))
	for i, l := range ls {
		out[i] = linkKey{l.FromID, l.Type, l.ToID}
	}
	slices.SortFunc(out, func(a, b linkKey) int {
		if a.from != b.from {
			return int(a.from - b.from)
		}
		if a.to != b.to {
			return int(a.to - b.to)
		}
		return slices.Index(relations, a.typ) - slices.Index(relations, b.typ)
	})
	return out
}

func (g *graph) walk() store.Walk {
	var w store.Walk
	if g.r.IntN(3) == 0 {
		w.Relations = []kb.RelationType{relations[g.r.IntN(len(relations))], relations[g.r.IntN(len(relations))]}
	}
	if g.r.IntN(4) == 0 {
		w.Kinds = []kb.Kind{kinds[g.r.IntN(len(kinds))], kinds[g.r.IntN(len(kinds))]}
	}
	return w
}

func TestCodesAreTheStores(t *testing.T) {
	if got := store.StatusCode(kb.StatusPublished); got != graphindex.PublishedCode {
		t.Fatalf("published is %d in the store, %d in the index", got, graphindex.PublishedCode)
	}
	// Five bits of relation type, four of kind.
	if n := len(kb.RelationTypes()); n >= 1<<5 {
		t.Fatalf("%d relation types do not fit the index's 5 bits", n)
	}
	if n := len(kb.Kinds); n >= 1<<4 {
		t.Fatalf("%d kinds do not fit the index's 4 bits", n)
	}
}

// TestIndexAgreesWithTheSQLWalk compares the index with the SQL walk, the
// reference, on random graphs under random edits: neighbourhoods (nodes,
// depths, links), the lengths of the k shortest paths (equal paths may
// differ where several are as short) and the most connected entities, for
// anonymous readers and staff. Every walk follows the edits before it at
// once: the index catches up before each walk.
func TestIndexAgreesWithTheSQLWalk(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			st, pool := open(t)
			g := &graph{t: t, pool: pool, r: rand.New(rand.NewPCG(seed, 99))}
			n := 15 + g.r.IntN(25)
			for range n {
				g.addEntity()
			}
			for range n * (1 + g.r.IntN(3)) {
				g.addLink()
			}
			ix := run(t, st)
			for round := 0; round < 25; round++ {
				for range 1 + g.r.IntN(4) {
					g.edit()
				}
				for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
					compare(t, ctx, g, st, ix, vis)
				}
			}
			if s := ix.Status(); s.State != graphindex.StateReady {
				t.Errorf("index %+v after the edits, want ready", s)
			}
		})
	}
}

// TestWalksPauseBetweenLevels: a walk on the index calls its request's
// pause point (budget.Yield) before each level, so that a request that
// yields to other clients' gives way inside a long walk (docs/api.md,
// "Fair turns").
func TestWalksPauseBetweenLevels(t *testing.T) {
	st, pool := open(t)
	g := &graph{t: t, pool: pool, r: rand.New(rand.NewPCG(7, 99))}
	for range 30 {
		g.addEntity()
	}
	for range 90 {
		g.addLink()
	}
	ix := run(t, st)
	ctx, stop := budget.Start(context.Background(), budget.Limits{})
	defer stop()
	var pauses int
	budget.OnYield(ctx, func(context.Context) { pauses++ })
	sub, err := ix.Neighborhood(ctx, store.Visibility{Drafts: true}, g.ids[0], 3, store.Walk{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if depth := slices.Max(slices.Collect(maps.Values(sub.Depth))); pauses < depth {
		t.Errorf("a walk %d levels deep paused %d times", depth, pauses)
	}
	pauses = 0
	if _, err := ix.Paths(ctx, store.Visibility{Drafts: true}, g.ids[0], g.ids[1], 6, 3, store.Walk{}); err != nil {
		t.Fatal(err)
	}
	if pauses == 0 {
		t.Error("a search for paths never paused")
	}
}

func compare(t *testing.T, ctx context.Context, g *graph, st *store.Store, ix *graphindex.Index, vis store.Visibility) {
	t.Helper()
	centre, depth, w := g.pick(), 1+g.r.IntN(3), g.walk()
	want, werr := st.Neighborhood(ctx, vis, centre, depth, w, 1000)
	got, gerr := ix.Neighborhood(ctx, vis, centre, depth, w, 1000)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("neighbourhood of %d: index error %v, SQL %v", centre, gerr, werr)
	}
	if werr == nil {
		if len(got.Nodes) != len(want.Nodes) || got.Nodes[0] != centre {
			t.Fatalf("neighbourhood of %d depth %d %+v: index nodes %v, SQL %v", centre, depth, w, got.Nodes, want.Nodes)
		}
		for id, d := range want.Depth {
			if gd, ok := got.Depth[id]; !ok || gd != d {
				t.Fatalf("neighbourhood of %d: node %d at %d in SQL, %d (%v) in the index", centre, id, d, gd, ok)
			}
		}
		if a, b := linkSet(got.Links), linkSet(want.Links); !slices.Equal(a, b) {
			t.Fatalf("neighbourhood of %d: index links %v, SQL %v", centre, a, b)
		}
		checkHeld(t, ctx, g, st, vis, got.Nodes, got.Held, got.Links)
	}

	from, to, k := g.pick(), g.pick(), 1+g.r.IntN(4)
	pw := store.Walk{Relations: w.Relations}
	wantP, werr := st.Paths(ctx, vis, from, to, 6, k, pw)
	gotP, gerr := ix.Paths(ctx, vis, from, to, 6, k, pw)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("paths %d-%d: index error %v, SQL %v", from, to, gerr, werr)
	}
	if len(gotP) != len(wantP) {
		t.Fatalf("paths %d-%d k %d: index %d, SQL %d", from, to, k, len(gotP), len(wantP))
	}
	for i := range gotP {
		if len(gotP[i].Links) != len(wantP[i].Links) {
			t.Fatalf("paths %d-%d: path %d has %d links in the index, %d in SQL", from, to, i, len(gotP[i].Links), len(wantP[i].Links))
		}
		// Every node on the index's path is one the reader may see.
		var seen int
		err := g.pool.QueryRow(ctx, `SELECT count(*) FROM entity WHERE id = ANY($1) AND (status = 'PUBLISHED' OR $2)`,
			gotP[i].Nodes, vis.Drafts).Scan(&seen)
		if err != nil {
			t.Fatal(err)
		}
		if seen != len(gotP[i].Nodes) {
			t.Fatalf("paths %d-%d: the index's path %v passes through a hidden entity", from, to, gotP[i].Nodes)
		}
		checkHeld(t, ctx, g, st, vis, gotP[i].Nodes, gotP[i].Held, gotP[i].Links)
	}

	kindsOf := []kb.Kind(nil)
	if g.r.IntN(2) == 0 {
		kindsOf = []kb.Kind{kinds[g.r.IntN(len(kinds))]}
	}
	wantD, err := st.MostConnected(ctx, vis, pw.Relations, kindsOf, 5)
	if err != nil {
		t.Fatal(err)
	}
	gotD, err := ix.MostConnected(ctx, vis, pw.Relations, kindsOf, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotD, wantD) {
		t.Fatalf("most connected %v %v: index %v, SQL %v", pw.Relations, kindsOf, gotD, wantD)
	}
}

// checkHeld checks what the index held of a walk's answer against the
// database: the nodes' kinds, statuses and names (as store.EntityHeads
// reads them), the links' ids and roles.
func checkHeld(t *testing.T, ctx context.Context, g *graph, st *store.Store, vis store.Visibility, nodes []int64, held store.Held, links []*kb.Link) {
	t.Helper()
	if held.Heads == nil || !held.LinksHeld {
		t.Fatalf("the index held no heads (%v) or no links (%v)", held.Heads != nil, held.LinksHeld)
	}
	want, err := st.EntityHeads(ctx, vis, nodes)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range held.Heads {
		w := want[i]
		if w == nil || e.ID != w.ID || e.Kind != w.Kind || e.Status != w.Status || e.Name != w.Name {
			t.Fatalf("node %d: the index holds %+v, the database %+v", nodes[i], *e, w)
		}
	}
	full, err := st.CompleteLinks(ctx, links)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range links {
		f := full[i]
		if f == nil || l.ID != f.ID || l.Role != f.Role || l.FromID != f.FromID || l.ToID != f.ToID || l.Type != f.Type {
			t.Fatalf("link %d-%s-%d: the index holds id %d role %q, the database %+v", l.FromID, l.Type, l.ToID, l.ID, l.Role, f)
		}
	}
}

// TestBuildInPlace builds the index from snapshots that try the loader's
// edges (an empty graph; gaps in the ids; entities without links; a name
// longer than 255 bytes; links to drafts and to deleted entities; several
// links between the same two entities, both ways; a row whose outgoing
// links arrive out of order) and checks every walk from every entity
// against the SQL walk.
func TestBuildInPlace(t *testing.T) {
	ctx := context.Background()
	st, pool := open(t)
	g := &graph{t: t, pool: pool, r: rand.New(rand.NewPCG(7, 7))}

	ix := run(t, st)
	if s := ix.Status(); s.Nodes != 0 || s.Links != 0 {
		t.Fatalf("empty graph: index %+v", s)
	}
	if _, err := ix.Neighborhood(ctx, store.Public, 1, 2, store.Walk{}, 100); err == nil {
		t.Fatal("empty graph: a neighbourhood of entity 1")
	}

	for range 12 {
		g.addEntity()
	}
	link := func(a, b int, typ kb.RelationType, role string) {
		g.exec(`INSERT INTO link (from_id, to_id, type, role, created_by, updated_by) VALUES ($1, $2, $3, $4, 'test', 'test')`,
			g.ids[a], g.ids[b], typ, role)
	}
	g.exec(`UPDATE entity SET status = 'PUBLISHED'`)
	g.exec(`UPDATE entity SET status = 'DRAFT' WHERE id = $1`, g.ids[4])
	// A name longer than the arena's 255 bytes a name, another of 255.
	g.exec(`UPDATE entity SET name = repeat('ł', 150) WHERE id = $1`, g.ids[5])
	g.exec(`UPDATE entity SET name = repeat('n', 255) WHERE id = $1`, g.ids[6])
	for b := 11; b >= 5; b-- { // a hub whose outgoing links arrive in descending order
		link(0, b, kb.RelSupports, fmt.Sprint("r", b))
	}
	link(0, 4, kb.RelMemberOf, "LEADER") // three links between 0 and 4, both ways
	link(0, 4, kb.RelFunds, "")
	link(4, 0, kb.RelFunds, "PARTNER")
	link(4, 1, kb.RelVisited, "")
	link(1, 2, kb.RelSupports, "")
	link(2, 1, kb.RelSupports, "")
	link(2, 3, kb.RelMemberOf, "") // 3 is deleted below, with this link
	g.exec(`DELETE FROM entity WHERE id = $1`, g.ids[3])
	g.exec(`DELETE FROM entity WHERE id = $1`, g.ids[7]) // a gap among the hub's links
	g.ids = slices.Delete(g.ids, 7, 8)
	g.ids = slices.Delete(g.ids, 3, 4)
	// 9 and 10 (old numbering) keep only the hub's link; one more without any.
	g.addEntity()

	ix = run(t, st)
	var links int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM link`).Scan(&links); err != nil {
		t.Fatal(err)
	}
	if s := ix.Status(); s.Nodes != len(g.ids) || s.Links != links {
		t.Fatalf("index %+v, want %d nodes and %d links", s, len(g.ids), links)
	}
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, centre := range append(g.ids, g.ids[len(g.ids)-1]+1) {
			for depth := 1; depth <= 3; depth++ {
				want, werr := st.Neighborhood(ctx, vis, centre, depth, store.Walk{}, 1000)
				got, gerr := ix.Neighborhood(ctx, vis, centre, depth, store.Walk{}, 1000)
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("neighbourhood of %d: index error %v, SQL %v", centre, gerr, werr)
				}
				if werr != nil {
					continue
				}
				if !slices.Equal(slices.Sorted(slices.Values(got.Nodes)), slices.Sorted(slices.Values(want.Nodes))) {
					t.Fatalf("neighbourhood of %d depth %d: index nodes %v, SQL %v", centre, depth, got.Nodes, want.Nodes)
				}
				if a, b := linkSet(got.Links), linkSet(want.Links); !slices.Equal(a, b) {
					t.Fatalf("neighbourhood of %d: index links %v, SQL %v", centre, a, b)
				}
				checkHeld(t, ctx, g, st, vis, got.Nodes, got.Held, got.Links)
			}
		}
		wantD, err := st.MostConnected(ctx, vis, nil, nil, 20)
		if err != nil {
			t.Fatal(err)
		}
		gotD, err := ix.MostConnected(ctx, vis, nil, nil, 20)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotD, wantD) {
			t.Fatalf("most connected: index %v, SQL %v", gotD, wantD)
		}
	}
	// An entity created after the build is named from the change log.
	g.addEntity()
	link(0, len(g.ids)-1, kb.RelSupports, "late")
	got, err := ix.Neighborhood(ctx, store.Visibility{Drafts: true}, g.ids[len(g.ids)-1], 1, store.Walk{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkHeld(t, ctx, g, st, store.Visibility{Drafts: true}, got.Nodes, got.Held, got.Links)
}

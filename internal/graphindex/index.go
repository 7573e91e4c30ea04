// Package graphindex is partnergraph's traversal engine: an in-memory
// adjacency index of the whole graph (compressed sparse rows, entities
// numbered densely, relation types, kinds and publication statuses as
// small codes) that the walks of package graphalg run on without a query
// per level. It is built at start from one streaming read and kept current
// from the change log of the graph's shape (migrations/00011), woken by
// the change feed.
//
// Visibility stays exact for staff: before their walks the index reads
// the database's graph version (one primary-key read) and applies the log
// up to it, so a walk never passes through an entity or link that changed
// before it began, on whichever server the change was made. Anonymous and
// reader walks get the consistency of their other reads (docs/scaling.md):
// they never miss a change whose notification reached the server before
// they began, so while the index has applied every notification it heard,
// with the listener up, they send no statement at all. Until the index is
// loaded, or when it cannot catch up, walks run in SQL (package store),
// the reference the index is tested against. See docs/traversal.md.
package graphindex

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partnergraph/partnergraph/internal/feed"
	"github.com/partnergraph/partnergraph/internal/graphalg"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// The states of the index, as /readyz reports them.
const (
	StateLoading = "loading" // being built; walks run in SQL
	StateReady   = "ready"   // walks run on the index
	StateBehind  = "behind"  // being rebuilt after a change too large to apply; walks run in SQL
	StateOff     = "off"     // not running
)

// Status is what /readyz reports of the index.
type Status struct {
	State   string `json:"state"`
	Version int64  `json:"version"`
	Nodes   int    `json:"nodes"`
	Links   int    `json:"links"`
	Bytes   int64  `json:"bytes"`
	// LoadSeconds is how long the last build took.
	LoadSeconds float64 `json:"loadSeconds"`
}

// Index is the traversal engine of one server. Its walk methods have the
// signatures of the store's and fall back to them. The zero value is not
// usable: use New.
type Index struct {
	st  *store.Store
	log *slog.Logger
	// Poll is how often the index catches up without a signal from the
	// feed (bulk loads write no revisions); walks catch up themselves.
	poll time.Duration

	// What the index has heard of the change feed (Follower): listening
	// while the listener's LISTEN is in place; heard counts the
	// notifications, and the (re)connections, since it began; applied is
	// the largest count h such that the index holds a version read after
	// the h-th. While listening and applied == heard, every change
	// announced so far is in the index. wake tells follow to catch up.
	listening atomic.Bool
	heard     atomic.Int64
	applied   atomic.Int64
	wake      chan struct{}

	applyMu sync.Mutex // one catch-up or swap at a time

	mu       sync.RWMutex // guards the fields below; walks hold it for reading
	g        *csr
	version  int64
	shape    int64 // the version of the last change of the graph's shape (not a name or role)
	state    string
	loadTime time.Duration

	degMu   sync.Mutex
	degrees map[degreeKey]*degreeTable

	rebuild chan struct{}

	// Sized, if set before Run, is told the bytes the index will hold at
	// most while it is built (the new rows and the builder's arrays, an
	// estimate from PostgreSQL's row counts), then the bytes it holds once
	// built: serve sets its soft memory limit by them.
	Sized func(bytes int64)
}

// New returns an index on st that logs to log. It holds nothing until
// Run. Until the change feed tells it of changes (Follower), it polls the
// database, and every walk reads the graph's version first.
func New(st *store.Store, log *slog.Logger) *Index {
	return &Index{st: st, log: log, poll: time.Second, state: StateOff,
		degrees: map[degreeKey]*degreeTable{}, rebuild: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
}

// Follower is how the change feed tells the index of changes (feed.Hub's
// Follow): each notification wakes it to catch up, and until it has,
// anonymous and reader walks read the graph's version as staff walks do.
// Its functions do not block. Call Change before anything else a
// notification makes visible (/readyz's changeFeed), so that a walk that
// starts after that never misses the change.
func (x *Index) Follower() feed.Follower {
	return feed.Follower{
		Change: func(store.Change) { x.hear() },
		// Listening comes at every (re)connection: changes made while the
		// listener was down went unannounced, so it counts as a change
		// heard, which the next walk or catch-up reads the version for.
		Listening: func() {
			x.hear()
			x.listening.Store(true)
		},
		Lost: func() { x.listening.Store(false) },
	}
}

// hear counts a notification and wakes follow.
func (x *Index) hear() {
	x.heard.Add(1)
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// markApplied records that the index holds a version read after the
// h-th notification. Call it once x.version has reached that version.
func (x *Index) markApplied(h int64) {
	for {
		old := x.applied.Load()
		if h <= old || x.applied.CompareAndSwap(old, h) {
			return
		}
	}
}

// heardAll reports whether the index has applied every change the feed
// announced, with the listener up. Listening is read first: a
// reconnection counts as heard before it sets it.
func (x *Index) heardAll() bool {
	return x.listening.Load() && x.heard.Load() == x.applied.Load()
}

// Status returns the state of the index.
func (x *Index) Status() Status {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := Status{State: x.state, Version: x.version, LoadSeconds: x.loadTime.Seconds()}
	if x.g != nil {
		s.Nodes, s.Links, s.Bytes = len(x.g.ids), x.g.links, x.g.bytes()
	}
	return s
}

// Run builds the index and keeps it current until ctx ends. It retries a
// failed build (the database not reachable or not migrated yet) after a
// growing pause; walks run in SQL meanwhile.
func (x *Index) Run(ctx context.Context) {
	x.setState(StateLoading)
	defer x.setState(StateOff)
	go x.follow(ctx)
	wait := time.Second
	for {
		if err := x.build(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			x.log.Warn("traversal index not built; walks run in SQL", "retry", wait, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Minute)
			continue
		}
		wait = time.Second
		select {
		case <-ctx.Done():
			return
		case <-x.rebuild:
			// Walks run in SQL until the rebuild: drop the stale rows
			// rather than hold two copies.
			x.mu.Lock()
			x.g, x.state = nil, StateBehind
			x.mu.Unlock()
		}
	}
}

func (x *Index) setState(s string) {
	x.mu.Lock()
	x.state = s
	x.mu.Unlock()
}

// build reads a snapshot, catches it up to the database and swaps it in.
func (x *Index) build(ctx context.Context) error {
	start := time.Now()
	if x.Sized != nil {
		if n, l, err := x.st.GraphSize(ctx); err == nil {
			x.Sized(buildBytes(n, l))
		}
	}
	heapBefore := heapInUse()
	b := newBuilder()
	v, err := x.st.StreamGraph(ctx, b)
	if err != nil {
		return err
	}
	g, err := b.build()
	if err != nil {
		return err
	}
	x.applyMu.Lock()
	defer x.applyMu.Unlock()
	heard := x.heard.Load() // before the version read: those are in it
	now, err := x.st.GraphVersion(ctx)
	if err != nil {
		return err
	}
	if err := x.applyLog(ctx, g, v, now); err != nil {
		return err
	}
	x.mu.Lock()
	x.g, x.version, x.shape, x.state, x.loadTime = g, now, now, StateReady, time.Since(start)
	x.mu.Unlock()
	x.markApplied(heard)
	x.clearDegrees()
	st := x.Status()
	if x.Sized != nil {
		x.Sized(st.Bytes)
	}
	x.log.Info("traversal index ready", "nodes", st.Nodes, "links", st.Links, "bytes", st.Bytes,
		"heap_growth", heapInUse()-heapBefore, "version", st.Version, "took", x.loadTime.Round(time.Millisecond))
	return nil
}

// buildBytes estimates the bytes the index holds at most while it is
// built for n entities and l links: per entity its ids, rows, a name of
// ~45 bytes and the builder's two cursors, per link its two halves, its id
// and role. Every array is allocated once at its final size.
func buildBytes(n, l int64) int64 {
	return n*(4+4+1+4+4+4+45+8) + l*(2*5+4+1)
}

// heapInUse is the live heap after a collection: what the index adds to
// it is the memory figure of docs/traversal.md. A build happens at start
// and after a bulk load, so the forced collection costs little.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// applyLog applies the log from after to upto to g, which no walk reads
// yet.
func (x *Index) applyLog(ctx context.Context, g *csr, after, upto int64) error {
	if upto <= after {
		return nil
	}
	cs, complete, err := x.st.GraphChanges(ctx, after, upto)
	if err != nil {
		return err
	}
	if !complete {
		return errReload
	}
	for _, c := range cs {
		if _, err := g.apply(c); err != nil {
			return err
		}
	}
	return nil
}

// follow catches up on every change the feed announces, and every poll
// interval, until ctx ends.
func (x *Index) follow(ctx context.Context) {
	tick := time.NewTicker(x.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-x.wake:
		case <-tick.C:
		}
		heard := x.heard.Load() // before the version read: those are in it
		if v, err := x.st.GraphVersion(ctx); err == nil {
			// A failure leaves the walks to SQL and asks for a rebuild.
			if x.catchUp(ctx, v) == nil {
				x.markApplied(heard)
			}
		}
	}
}

var errNotReady = errors.New("the traversal index is not ready")

// catchUp applies the log up to version v to the live index. When the log
// cannot be applied it asks Run for a rebuild and returns the reason.
func (x *Index) catchUp(ctx context.Context, v int64) error {
	x.applyMu.Lock()
	defer x.applyMu.Unlock()
	x.mu.RLock()
	g, have, state := x.g, x.version, x.state
	x.mu.RUnlock()
	if g == nil || state != StateReady {
		return errNotReady
	}
	if have >= v {
		return nil
	}
	cs, complete, err := x.st.GraphChanges(ctx, have, v)
	if err != nil {
		return err
	}
	if !complete || slices.ContainsFunc(cs, func(c store.GraphChange) bool { return c.Reload }) {
		return x.askRebuild()
	}
	x.mu.Lock()
	shape := false
	for _, c := range cs {
		s, err := g.apply(c)
		if err != nil {
			x.mu.Unlock()
			return x.askRebuild()
		}
		shape = shape || s
	}
	x.version = v
	if shape {
		x.shape = v
	}
	x.mu.Unlock()
	if shape {
		x.clearDegrees()
	}
	return nil
}

func (x *Index) askRebuild() error {
	x.mu.Lock()
	x.state = StateBehind
	x.mu.Unlock()
	select {
	case x.rebuild <- struct{}{}:
	default:
	}
	return errReload
}

// acquire returns the index, current as the reader of ctx needs it and
// read-locked (release it with x.mu.RUnlock), and the version of its
// shape (what the degree tables are kept by), or nil when walks must run
// in SQL. Current is as of now for staff (store.HeardSuffices false): it
// reads the database's version first. For anonymous callers and readers
// it is as of the last change the feed announced: with every
// notification heard applied and the listener up, it sends nothing. It
// returns an error only when the database cannot be asked for its
// version.
func (x *Index) acquire(ctx context.Context) (*csr, int64, error) {
	fresh := x.heardAll() && x.st.HeardSuffices(ctx)
	x.mu.RLock()
	ready, have := x.state == StateReady, x.version
	if ready && fresh {
		return x.g, x.shape, nil
	}
	x.mu.RUnlock()
	if !ready {
		return nil, 0, nil
	}
	heard := x.heard.Load() // before the version read: those are in it
	v, err := x.st.GraphVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	if v > have {
		if err := x.catchUp(ctx, v); err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			x.log.Warn("traversal index behind; walking in SQL", "err", err)
			return nil, 0, nil
		}
	}
	x.mu.RLock()
	if x.state != StateReady || x.version < v {
		x.mu.RUnlock()
		return nil, 0, nil
	}
	x.markApplied(heard)
	return x.g, x.shape, nil
}

// newWalk returns the walk of vis and w on g.
func newWalk(g *csr, vis store.Visibility, w store.Walk) *walk {
	wk := &walk{g: g, drafts: vis.Drafts, rel: ^uint32(0), kinds: ^uint16(0), ends: [2]int32{-1, -1}}
	if len(w.Relations) > 0 {
		wk.rel = 0
		for _, t := range w.Relations {
			if c := store.RelationCode(t); c != 0 {
				wk.rel |= 1 << c
			}
		}
	}
	if len(w.Kinds) > 0 {
		wk.kinds = 0
		for _, k := range w.Kinds {
			if c := store.KindCode(k); c != 0 {
				wk.kinds |= 1 << c
			}
		}
	}
	return wk
}

// visibleNode returns the dense number of entity id when vis may see it.
func visibleNode(g *csr, vis store.Visibility, id int64) (int32, error) {
	i, ok := g.lookup(id)
	if !ok || !g.visible(i, vis.Drafts) {
		return 0, fmt.Errorf("entity %d: %w", id, kb.ErrNotFound)
	}
	return i, nil
}

// Neighborhood is store.Neighborhood on the index.
func (x *Index) Neighborhood(ctx context.Context, vis store.Visibility, centre int64, depth int, w store.Walk, limit int) (*store.Subgraph, error) {
	g, _, err := x.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return x.st.Neighborhood(ctx, vis, centre, depth, w, limit)
	}
	var held store.Held
	var links []*kb.Link
	sub, err := func() (*graphalg.Subgraph, error) {
		defer x.mu.RUnlock()
		c, err := visibleNode(g, vis, centre)
		if err != nil {
			return nil, err
		}
		wk := newWalk(g, vis, w)
		wk.ends[0] = c
		sub, err := graphalg.Neighborhood(ctx, wk, int64(c), depth, limit)
		if err != nil {
			return nil, err
		}
		held.Heads = heads(g, sub.Nodes)
		links, held.LinksHeld = linkHeads(g, sub.Links)
		// Back from dense numbers to entity ids.
		depths := make(map[int64]int, len(sub.Nodes))
		for i, n := range sub.Nodes {
			id := int64(g.ids[n])
			depths[id] = sub.Depth[n]
			sub.Nodes[i] = id
		}
		sub.Depth = depths
		for i, k := range sub.Links {
			sub.Links[i] = graphalg.Key{From: int64(g.ids[k.From]), Type: k.Type, To: int64(g.ids[k.To])}
		}
		return sub, nil
	}()
	if err != nil {
		return nil, err
	}
	if held.LinksHeld {
		return &store.Subgraph{Nodes: sub.Nodes, Depth: sub.Depth, Links: links, Truncated: sub.Truncated, Held: held}, nil
	}
	out, err := x.st.SubgraphOf(ctx, sub)
	if err != nil {
		return nil, err
	}
	out.Heads = held.Heads
	return out, nil
}

// heads returns the entities of the dense nodes ns with what the index
// holds of them (store.Held), or nil when it does not hold a name.
func heads(g *csr, ns []int64) []*kb.Entity {
	es := make([]kb.Entity, len(ns)) // one allocation
	out := make([]*kb.Entity, len(ns))
	for i, n := range ns {
		name, ok := g.name(int32(n))
		if !ok {
			return nil
		}
		b := g.node[n]
		es[i] = kb.Entity{ID: int64(g.ids[n]), Kind: kindOfCode(b & kindMask), Status: store.Statuses[b>>statusShift-1], Name: name}
		out[i] = &es[i]
	}
	return out
}

// linkHeads returns the links of the dense keys ks with what the index
// holds of them (store.Held), and false when it does not hold them all.
func linkHeads(g *csr, ks []graphalg.Key) ([]*kb.Link, bool) {
	ls := make([]kb.Link, len(ks))
	out := make([]*kb.Link, len(ks))
	for i, k := range ks {
		id, role, ok := g.linkHead(int32(k.From), int32(k.To), uint8(k.Type))
		if !ok {
			return nil, false
		}
		ls[i] = kb.Link{ID: int64(id), FromID: int64(g.ids[k.From]), ToID: int64(g.ids[k.To]), Type: store.RelationOfCode(uint8(k.Type)), Role: role}
		out[i] = &ls[i]
	}
	return out, true
}

// ShortestPath is store.ShortestPath on the index.
func (x *Index) ShortestPath(ctx context.Context, vis store.Visibility, from, to int64, maxDepth int, w store.Walk) (*store.Path, error) {
	ps, err := x.Paths(ctx, vis, from, to, maxDepth, 1, w)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return ps[0], nil
}

// Paths is store.Paths on the index.
func (x *Index) Paths(ctx context.Context, vis store.Visibility, from, to int64, maxDepth, k int, w store.Walk) ([]*store.Path, error) {
	g, _, err := x.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return x.st.Paths(ctx, vis, from, to, maxDepth, k, w)
	}
	var held []*store.Path
	found, err := func() ([][]graphalg.Hop, error) {
		defer x.mu.RUnlock()
		f, err := visibleNode(g, vis, from)
		if err != nil {
			return nil, err
		}
		t, err := visibleNode(g, vis, to)
		if err != nil {
			return nil, err
		}
		wk := newWalk(g, vis, w)
		wk.ends = [2]int32{f, t}
		found, err := graphalg.KShortestPaths(ctx, wk, int64(f), int64(t), maxDepth, k)
		if err != nil {
			return nil, err
		}
		held = heldPaths(g, int64(f), found)
		for _, p := range found {
			for i := range p {
				p[i].Other = int64(g.ids[p[i].Other])
			}
		}
		return found, nil
	}()
	if err != nil {
		return nil, err
	}
	if held != nil {
		return held, nil
	}
	return x.st.PathsOf(ctx, from, found)
}

// heldPaths returns the paths found from the dense node f with what the
// index holds of them (store.Held), or nil when it does not hold all their
// links; their nodes' heads are nil where it does not hold a name.
func heldPaths(g *csr, f int64, found [][]graphalg.Hop) []*store.Path {
	out := make([]*store.Path, len(found))
	for i, p := range found {
		nodes := graphalg.PathNodes(f, p)
		links, ok := linkHeads(g, graphalg.PathKeys(f, p))
		if !ok {
			return nil
		}
		path := &store.Path{Nodes: make([]int64, len(nodes)), Links: links,
			Held: store.Held{Heads: heads(g, nodes), LinksHeld: true}}
		for j, n := range nodes {
			path.Nodes[j] = int64(g.ids[n])
		}
		out[i] = path
	}
	return out
}

// degreeKey names a degree table: the version of the graph's shape, who
// reads, which relations count.
type degreeKey struct {
	version int64
	drafts  bool
	rel     uint32
}

// degreeTable holds, for each kind, the maxDegreeRank entities of the
// kind with the most links, most first, ties by id.
type degreeTable struct {
	byKind [16][]store.Degree
}

// maxDegreeRank is how many entities of each kind a degree table keeps:
// the most mostConnected may ask for (graph.MaxPageSize).
const maxDegreeRank = 100

// MostConnected is store.MostConnected on the index: degrees are counted
// over the index's rows once per version of the graph and kind of reader,
// and kept until the graph changes.
func (x *Index) MostConnected(ctx context.Context, vis store.Visibility, relations []kb.RelationType, kinds []kb.Kind, n int) ([]store.Degree, error) {
	if n > maxDegreeRank {
		return x.st.MostConnected(ctx, vis, relations, kinds, n)
	}
	g, version, err := x.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return x.st.MostConnected(ctx, vis, relations, kinds, n)
	}
	wk := newWalk(g, vis, store.Walk{Relations: relations})
	key := degreeKey{version, vis.Drafts, wk.rel}
	x.degMu.Lock()
	t := x.degrees[key]
	x.degMu.Unlock()
	if t == nil {
		t = countDegrees(wk)
		x.degMu.Lock()
		x.degrees[key] = t
		x.degMu.Unlock()
	}
	x.mu.RUnlock()
	var out []store.Degree
	for c, ds := range t.byKind {
		if len(kinds) > 0 && !slices.Contains(kinds, kindOfCode(uint8(c))) {
			continue
		}
		out = append(out, ds...)
	}
	slices.SortFunc(out, byDegree)
	return out[:min(n, len(out))], nil
}

func kindOfCode(c uint8) kb.Kind {
	if c == 0 || int(c) > len(kb.Kinds) {
		return ""
	}
	return kb.Kinds[c-1]
}

func byDegree(a, b store.Degree) int {
	if c := cmp.Compare(b.Degree, a.Degree); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// countDegrees counts the degree of every visible node under wk. It
// keeps at most 2 × maxDegreeRank candidates per kind, cut back to the
// best maxDegreeRank whenever full, rather than a row per node (16 MB and
// more at 1M, for a table of 100 per kind).
func countDegrees(wk *walk) *degreeTable {
	g := wk.g
	var all [16][]store.Degree
	cut := func(ds []store.Degree) []store.Degree {
		slices.SortFunc(ds, byDegree)
		return ds[:min(maxDegreeRank, len(ds))]
	}
	for i := range g.ids {
		n := int32(i)
		if !g.visible(n, wk.drafts) {
			continue
		}
		if d := wk.degree(n); d > 0 {
			c := g.node[n] & kindMask
			if all[c] == nil {
				all[c] = make([]store.Degree, 0, 2*maxDegreeRank)
			}
			if len(all[c]) == 2*maxDegreeRank {
				all[c] = cut(all[c])
			}
			all[c] = append(all[c], store.Degree{ID: int64(g.ids[n]), Degree: d})
		}
	}
	t := &degreeTable{}
	for c, ds := range all {
		t.byKind[c] = slices.Clone(cut(ds)) // not the candidates' array
	}
	return t
}

// clearDegrees drops the degree tables of older versions.
func (x *Index) clearDegrees() {
	x.degMu.Lock()
	clear(x.degrees)
	x.degMu.Unlock()
}

package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/graphalg"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// The SQL walk: the algorithms of package graphalg over a Graph that
// fetches one level per query (`= ANY($1)` over the frontier), never a
// recursive query: each level is a plain index scan on link from either
// end, and the search can stop, cap or switch sides between levels. It is
// the reference the in-memory index of package graphindex must agree
// with, and what walks use while that index loads or when it is off
// (docs/traversal.md).

// Walk selects the links a traversal follows: of these relation types (all
// when empty), to visible entities of these kinds (all when empty).
type Walk struct {
	Relations []kb.RelationType
	Kinds     []kb.Kind
}

// hops returns, for each of the nodes ids, its links in both directions of
// the relation types (all when empty), as hops; at most limit hops in all
// (0: no limit), and whether the limit cut the result. One query whatever
// the number of ids; both halves read only the columns of their index
// (link_unique from the source end, link_to_idx from the target end), so
// they are index-only scans. It does not check the other ends: joining
// each link to its entity made a level three to five times slower on the
// 1M/5M graph, so the searches check visibility and kinds only for the
// nodes they keep (Neighborhood) or the path they found (Paths).
func (s *Store) hops(ctx context.Context, ids []int64, relations []kb.RelationType, limit int) (map[int64][]graphalg.Hop, bool, error) {
	b := &builder{}
	nodes := b.arg(ids)
	typeCond := ""
	if len(relations) > 0 {
		typeCond = " AND l.type = ANY(" + b.arg(strs(relations)) + ")"
	}
	lim := ""
	if limit > 0 {
		lim = " LIMIT " + b.arg(limit+1)
	}
	sql := `SELECT l.from_id, l.to_id, l.type, true FROM link l WHERE l.from_id = ANY(` + nodes + `)` + typeCond + `
		UNION ALL
		SELECT l.to_id, l.from_id, l.type, false FROM link l WHERE l.to_id = ANY(` + nodes + `)` + typeCond + lim
	rows, err := s.read(ctx).Query(ctx, sql, b.args...)
	if err != nil {
		return nil, false, fmt.Errorf("hops: %w", translate(err))
	}
	out := make(map[int64][]graphalg.Hop, len(ids))
	n := 0
	var node int64
	var h graphalg.Hop
	var typ kb.RelationType
	_, err = pgx.ForEachRow(rows, []any{&node, &h.Other, &typ, &h.Outgoing}, func() error {
		if err := budget.Rows(ctx, 1); err != nil {
			return err
		}
		n++
		if limit > 0 && n > limit {
			return nil
		}
		h.Type = int32(RelationCode(typ))
		out[node] = append(out[node], h)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("hops: %w", translate(err))
	}
	return out, limit > 0 && n > limit, nil
}

// linksByKey returns the links with the given (from, type code, to) keys,
// in the order of keys; nil where there is none.
func (s *Store) linksByKey(ctx context.Context, keys []graphalg.Key) ([]*kb.Link, error) {
	froms := make([]int64, len(keys))
	types := make([]string, len(keys))
	tos := make([]int64, len(keys))
	for i, k := range keys {
		froms[i], types[i], tos[i] = k.From, string(RelationOfCode(uint8(k.Type))), k.To
	}
	sql := `SELECT ` + linkColumns + ` FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS k(f, t, o)
		JOIN link l ON l.from_id = k.f AND l.type = k.t AND l.to_id = k.o`
	if s.serverPlans {
		// The same statement, planned once per server session (migration 00037).
		sql = `SELECT * FROM links_by_key($1, $2, $3)`
	}
	rows, err := s.read(ctx).Query(ctx, sql, froms, types, tos)
	if err != nil {
		return nil, fmt.Errorf("links by key: %w", translate(err))
	}
	defer rows.Close()
	byKey := map[graphalg.Key]*kb.Link{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("links by key: %w", err)
		}
		byKey[graphalg.Key{From: l.FromID, Type: int32(RelationCode(l.Type)), To: l.ToID}] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("links by key: %w", translate(err))
	}
	out := make([]*kb.Link, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out, nil
}

// visible returns the ids among ids that exist and are visible under vis.
func (s *Store) visible(ctx context.Context, vis Visibility, ids []int64) (map[int64]kb.Kind, error) {
	rows, err := s.read(ctx).Query(ctx, `SELECT id, kind FROM entity WHERE id = ANY($1) AND status = ANY($2)`, ids, vis.statuses())
	if err != nil {
		return nil, fmt.Errorf("visible: %w", translate(err))
	}
	out := map[int64]kb.Kind{}
	var id int64
	var k kb.Kind
	_, err = pgx.ForEachRow(rows, []any{&id, &k}, func() error { out[id] = k; return nil })
	if err != nil {
		return nil, fmt.Errorf("visible: %w", translate(err))
	}
	return out, nil
}

// Subgraph is the neighbourhood of a node: its nodes in the order they were
// reached (the centre first), with the distance of each, and the links
// among them.
type Subgraph struct {
	Nodes     []int64
	Depth     map[int64]int
	Links     []*kb.Link
	Truncated bool // the node limit cut the neighbourhood
	Held
}

// Held is what the traversal index (package graphindex) held of a walk's
// answer, read with the walk, so that an answer asking for no more is
// written without reading PostgreSQL (docs/traversal.md, "Answering from
// the index"). The SQL walk leaves it zero.
type Held struct {
	// Heads are the nodes' entities, in the order of Nodes, with only ID,
	// Kind, Status and Name set (nil: not held).
	Heads []*kb.Entity
	// LinksHeld says that Links hold only ID, FromID, ToID, Type and
	// Role; CompleteLinks reads the rest.
	LinksHeld bool
}

// CompleteLinks reads the links whose ends and types links give, in their
// order; nil where a link is gone.
func (s *Store) CompleteLinks(ctx context.Context, links []*kb.Link) ([]*kb.Link, error) {
	if len(links) == 0 {
		return nil, nil
	}
	keys := make([]graphalg.Key, len(links))
	for i, l := range links {
		keys[i] = graphalg.Key{From: l.FromID, Type: int32(RelationCode(l.Type)), To: l.ToID}
	}
	return s.linksByKey(ctx, keys)
}

// maxHopsPerLevel caps the links one level of a walk may fetch, so that a
// search through hubs cannot read the whole graph.
const maxHopsPerLevel = 200_000

// sqlGraph is the graphalg.Graph of the SQL walk: each call reads the hops
// of the nodes in one query. Eager (neighbourhoods), it then checks the
// new ends' visibility and kind in one more, once per node for the whole
// walk. Lazy (paths), it caches the hops of each node for the whole walk
// (Yen's spur searches read the same nodes again) and leaves out only the
// nodes known to be hidden: Paths checks the nodes of the paths found and
// searches again without those it may not follow, which reads far fewer
// entities than checking every level.
type sqlGraph struct {
	s       *Store
	vis     Visibility
	w       Walk
	ends    []int64        // reached whatever their kind (the ends of a path, the centre)
	allowed map[int64]bool // eager: ends checked so far
	lazy    bool
	cache   map[int64][]graphalg.Hop // lazy: the hops read so far
	hidden  map[int64]bool           // lazy: nodes found hidden or of a kind not walked
}

func newSQLGraph(s *Store, vis Visibility, w Walk, ends ...int64) *sqlGraph {
	return &sqlGraph{s: s, vis: vis, w: w, ends: ends, allowed: map[int64]bool{},
		cache: map[int64][]graphalg.Hop{}, hidden: map[int64]bool{}}
}

// Hops implements graphalg.Graph.
func (g *sqlGraph) Hops(ctx context.Context, nodes []int64, max int, fn func(int64, graphalg.Hop) bool) error {
	if g.lazy {
		return g.lazyHops(ctx, nodes, fn)
	}
	limit := maxHopsPerLevel
	if max > 0 && max < limit {
		limit = max // the walk stops there: read one more to tell it there are more
	}
	hops, cut, err := g.s.hops(ctx, nodes, g.w.Relations, limit+1)
	if err != nil {
		return err
	}
	if cut && limit == maxHopsPerLevel {
		return fmt.Errorf("%w: a walk's level reached more than %d links; narrow it with relations", kb.ErrLimitExceeded, maxHopsPerLevel)
	}
	var check []int64
	for _, n := range nodes {
		for _, h := range hops[n] {
			if _, ok := g.allowed[h.Other]; !ok {
				g.allowed[h.Other] = false
				check = append(check, h.Other)
			}
		}
	}
	if len(check) > 0 {
		kinds, err := g.s.visible(ctx, g.vis, check)
		if err != nil {
			return err
		}
		for id, k := range kinds {
			g.allowed[id] = len(g.w.Kinds) == 0 || slices.Contains(g.w.Kinds, k) || slices.Contains(g.ends, id)
		}
	}
	for _, n := range nodes {
		for _, h := range hops[n] {
			if g.allowed[h.Other] && !fn(n, h) {
				return nil
			}
		}
	}
	return nil
}

func (g *sqlGraph) lazyHops(ctx context.Context, nodes []int64, fn func(int64, graphalg.Hop) bool) error {
	var missing []int64
	for _, n := range nodes {
		if _, ok := g.cache[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		hops, cut, err := g.s.hops(ctx, missing, g.w.Relations, maxHopsPerLevel)
		if err != nil {
			return err
		}
		if cut {
			return fmt.Errorf("%w: a walk's level reached more than %d links; narrow it with relations", kb.ErrLimitExceeded, maxHopsPerLevel)
		}
		for _, n := range missing {
			g.cache[n] = hops[n] // nil for none: cached as none
		}
	}
	for _, n := range nodes {
		for _, h := range g.cache[n] {
			if !g.hidden[h.Other] && !fn(n, h) {
				return nil
			}
		}
	}
	return nil
}

// Neighborhood returns the nodes within depth links of centre (either
// direction) that w follows, at most limit nodes (the centre included), and
// the links among them that w follows and that the search walked. The
// centre's kind need not be in w.Kinds. It costs two queries per level,
// plus one for the links' properties. It returns kb.ErrNotFound if centre
// does not exist or is not visible, kb.ErrLimitExceeded when a level would
// read more than 200,000 links.
func (s *Store) Neighborhood(ctx context.Context, vis Visibility, centre int64, depth int, w Walk, limit int) (*Subgraph, error) {
	ok, err := s.visible(ctx, vis, []int64{centre})
	if err != nil {
		return nil, err
	}
	if _, found := ok[centre]; !found {
		return nil, fmt.Errorf("entity %d: %w", centre, kb.ErrNotFound)
	}
	sub, err := graphalg.Neighborhood(ctx, newSQLGraph(s, vis, w, centre), centre, depth, limit)
	if err != nil {
		return nil, err
	}
	return s.SubgraphOf(ctx, sub)
}

// SubgraphOf reads the links of a neighbourhood found by graphalg, whose
// nodes are entity ids; a link deleted meanwhile is left out.
func (s *Store) SubgraphOf(ctx context.Context, sub *graphalg.Subgraph) (*Subgraph, error) {
	g := &Subgraph{Nodes: sub.Nodes, Depth: sub.Depth, Truncated: sub.Truncated}
	if len(sub.Links) == 0 {
		return g, nil
	}
	ls, err := s.linksByKey(ctx, sub.Links)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if l != nil {
			g.Links = append(g.Links, l)
		}
	}
	return g, nil
}

// LinkViewedFrom returns the end of l nearer the centre of g: the end the
// search walked it from.
func (g *Subgraph) LinkViewedFrom(l *kb.Link) int64 {
	if g.Depth[l.FromID] <= g.Depth[l.ToID] {
		return l.FromID
	}
	return l.ToID
}

// Path is a walk from one node to another: Nodes[i] and Nodes[i+1] are
// joined by Links[i].
type Path struct {
	Nodes []int64
	Links []*kb.Link
	Held
}

// ShortestPath returns a shortest path from one node to another of at most
// maxDepth links that w follows (in either direction), or nil when there is
// none. It searches from both ends, one level per query, always expanding
// the smaller frontier. It returns kb.ErrNotFound if an end does not exist
// or is not visible, kb.ErrLimitExceeded when a level would read more than
// 200,000 links.
func (s *Store) ShortestPath(ctx context.Context, vis Visibility, from, to int64, maxDepth int, w Walk) (*Path, error) {
	ps, err := s.Paths(ctx, vis, from, to, maxDepth, 1, w)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return ps[0], nil
}

// Paths returns up to k shortest loopless paths from one node to another,
// shortest first, each of at most maxDepth links that w follows (Yen's
// algorithm over bidirectional breadth-first searches, graphalg; the hops
// of each node are read once, one query per search level). It
// returns kb.ErrNotFound if an end does not exist or is not visible,
// kb.ErrLimitExceeded when a level would read more than 200,000 links.
func (s *Store) Paths(ctx context.Context, vis Visibility, from, to int64, maxDepth, k int, w Walk) ([]*Path, error) {
	ok, err := s.visible(ctx, vis, []int64{from, to})
	if err != nil {
		return nil, err
	}
	for _, id := range []int64{from, to} {
		if _, found := ok[id]; !found {
			return nil, fmt.Errorf("entity %d: %w", id, kb.ErrNotFound)
		}
	}
	// The ends themselves need not be of the kinds walked.
	g := newSQLGraph(s, vis, w, from, to)
	g.lazy = true
	checked := map[int64]bool{from: true, to: true}
	for {
		found, err := graphalg.KShortestPaths(ctx, g, from, to, maxDepth, k)
		if err != nil {
			return nil, err
		}
		// The k shortest paths of a graph that still holds some hidden
		// nodes are the k shortest of the visible graph once none of them
		// passes through one: check the nodes not checked yet, leave out
		// those the walk may not follow, and search again until so.
		var inner []int64
		for _, p := range found {
			for _, n := range graphalg.PathNodes(from, p) {
				if !checked[n] {
					checked[n] = true
					inner = append(inner, n)
				}
			}
		}
		if len(inner) == 0 {
			return s.PathsOf(ctx, from, found)
		}
		kinds, err := s.visible(ctx, vis, inner)
		if err != nil {
			return nil, err
		}
		again := false
		for _, n := range inner {
			if kind, ok := kinds[n]; !ok || (len(w.Kinds) > 0 && !slices.Contains(w.Kinds, kind)) {
				g.hidden[n], again = true, true
			}
		}
		if !again {
			return s.PathsOf(ctx, from, found)
		}
	}
}

// PathsOf reads the links of paths found by graphalg from the entity from;
// a path with a link deleted meanwhile is left out.
func (s *Store) PathsOf(ctx context.Context, from int64, found [][]graphalg.Hop) ([]*Path, error) {
	var keys []graphalg.Key
	for _, p := range found {
		keys = append(keys, graphalg.PathKeys(from, p)...)
	}
	var ls []*kb.Link
	if len(keys) > 0 {
		var err error
		if ls, err = s.linksByKey(ctx, keys); err != nil {
			return nil, err
		}
	}
	out := make([]*Path, 0, len(found))
	i := 0
	for _, p := range found {
		path := &Path{Nodes: graphalg.PathNodes(from, p)}
		for range p {
			path.Links = append(path.Links, ls[i])
			i++
		}
		if !slices.Contains(path.Links, nil) { // a link deleted meanwhile
			out = append(out, path)
		}
	}
	return out, nil
}

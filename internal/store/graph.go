package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// Graph traversal runs as a breadth-first search in Go that fetches one
// level per query (`= ANY($1)` over the frontier), never as a recursive
// query: each level is a plain index scan on link from either end, which
// Citus can route to the shards of the frontier's nodes (DESIGN.md §6), and
// the search can stop, cap or switch sides between levels.

// Hop is one link seen from the node it is walked from: the node at the
// other end, and the link's type and direction. A link is identified by
// (from, type, to), which is unique.
type Hop struct {
	Other    int64
	Type     kb.RelationType
	Outgoing bool // the link points from the walked node to Other
}

// link returns the (from, type, to) of the link of h walked from node.
func (h Hop) link(node int64) tripleKey {
	if h.Outgoing {
		return tripleKey{node, h.Type, h.Other}
	}
	return tripleKey{h.Other, h.Type, node}
}

type tripleKey struct {
	from int64
	typ  kb.RelationType
	to   int64
}

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
func (s *Store) hops(ctx context.Context, ids []int64, relations []kb.RelationType, limit int) (map[int64][]Hop, bool, error) {
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
	rows, err := s.pool.Query(ctx, sql, b.args...)
	if err != nil {
		return nil, false, fmt.Errorf("hops: %w", translate(err))
	}
	out := make(map[int64][]Hop, len(ids))
	n := 0
	var node int64
	var h Hop
	_, err = pgx.ForEachRow(rows, []any{&node, &h.Other, &h.Type, &h.Outgoing}, func() error {
		if err := budget.Rows(ctx, 1); err != nil {
			return err
		}
		n++
		if limit > 0 && n > limit {
			return nil
		}
		out[node] = append(out[node], h)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("hops: %w", translate(err))
	}
	return out, limit > 0 && n > limit, nil
}

// linksByKey returns the links with the given (from, type, to) keys, in
// the order of keys; nil where there is none.
func (s *Store) linksByKey(ctx context.Context, keys []tripleKey) ([]*kb.Link, error) {
	froms := make([]int64, len(keys))
	types := make([]string, len(keys))
	tos := make([]int64, len(keys))
	for i, k := range keys {
		froms[i], types[i], tos[i] = k.from, string(k.typ), k.to
	}
	rows, err := s.pool.Query(ctx, `SELECT `+linkColumns+` FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS k(f, t, o)
		JOIN link l ON l.from_id = k.f AND l.type = k.t AND l.to_id = k.o`, froms, types, tos)
	if err != nil {
		return nil, fmt.Errorf("links by key: %w", translate(err))
	}
	defer rows.Close()
	byKey := map[tripleKey]*kb.Link{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("links by key: %w", err)
		}
		byKey[tripleKey{l.FromID, l.Type, l.ToID}] = l
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
	rows, err := s.pool.Query(ctx, `SELECT id, kind FROM entity WHERE id = ANY($1) AND status = ANY($2)`, ids, vis.statuses())
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
}

// Neighborhood returns the nodes within depth links of centre (either
// direction) that w follows, at most limit nodes (the centre included), and
// the links among them that w follows and that the search walked. The
// centre's kind need not be in w.Kinds. It costs one query per level, plus
// one for the links' properties. It returns kb.ErrNotFound if centre does
// not exist or is not visible.
func (s *Store) Neighborhood(ctx context.Context, vis Visibility, centre int64, depth int, w Walk, limit int) (*Subgraph, error) {
	ok, err := s.visible(ctx, vis, []int64{centre})
	if err != nil {
		return nil, err
	}
	if _, found := ok[centre]; !found {
		return nil, fmt.Errorf("entity %d: %w", centre, kb.ErrNotFound)
	}
	g := &Subgraph{Nodes: []int64{centre}, Depth: map[int64]int{centre: 0}}
	seenLink := map[tripleKey]bool{}
	var keys []tripleKey
	frontier := []int64{centre}
	checked, allowed := map[int64]bool{}, map[int64]bool{}
	for d := 1; d <= depth && len(frontier) > 0; d++ {
		// Links to nodes already inside count too, so fetch twice the
		// room left; a level beyond that is cut and the result truncated.
		room := limit - len(g.Nodes)
		hops, cut, err := s.hops(ctx, frontier, w.Relations, 2*max(room, 0)+len(frontier)+16)
		if err != nil {
			return nil, err
		}
		if cut {
			g.Truncated = true
		}
		// Check the new ends, once each, for visibility and kind.
		var candidates []int64
		for _, from := range frontier {
			for _, h := range hops[from] {
				if _, in := g.Depth[h.Other]; !in && !checked[h.Other] {
					checked[h.Other] = true
					candidates = append(candidates, h.Other)
				}
			}
		}
		kinds, err := s.visible(ctx, vis, candidates)
		if err != nil {
			return nil, err
		}
		for _, id := range candidates {
			if k, ok := kinds[id]; ok && (len(w.Kinds) == 0 || slices.Contains(w.Kinds, k)) {
				allowed[id] = true
			}
		}
		var next []int64
		for _, from := range frontier {
			for _, h := range hops[from] {
				if _, in := g.Depth[h.Other]; !in && !allowed[h.Other] {
					continue // hidden, or not of a kind walked
				}
				if _, in := g.Depth[h.Other]; !in {
					if len(g.Nodes) >= limit {
						g.Truncated = true
						continue
					}
					g.Depth[h.Other] = d
					g.Nodes = append(g.Nodes, h.Other)
					next = append(next, h.Other)
				}
				if _, in := g.Depth[h.Other]; !in {
					continue // left out by the limit
				}
				k := h.link(from)
				if !seenLink[k] {
					seenLink[k] = true
					keys = append(keys, k)
				}
			}
		}
		frontier = next
	}
	if len(keys) == 0 {
		return g, nil
	}
	ls, err := s.linksByKey(ctx, keys)
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
}

// maxHopsPerLevel caps the links one level of a path search may fetch, so
// that a search through hubs cannot read the whole graph.
const maxHopsPerLevel = 200_000

// ShortestPath returns a shortest path from one node to another of at most
// maxDepth links that w follows (in either direction), or nil when there is
// none. It searches from both ends, one level per query, always expanding
// the smaller frontier. It returns kb.ErrNotFound if an end does not exist
// or is not visible.
func (s *Store) ShortestPath(ctx context.Context, vis Visibility, from, to int64, maxDepth int, w Walk) (*Path, error) {
	ps, err := s.Paths(ctx, vis, from, to, maxDepth, 1, w)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return ps[0], nil
}

// Paths returns up to k shortest loopless paths from one node to another,
// shortest first, each of at most maxDepth links that w follows (Yen's
// algorithm over bidirectional breadth-first searches; the adjacency of
// each node is fetched once, one query per search level). It returns
// kb.ErrNotFound if an end does not exist or is not visible.
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
	adj := &adjacency{s: s, vis: vis, w: w, hops: map[int64][]Hop{}, hidden: map[int64]bool{}}
	var found [][]step
	if from == to {
		found = [][]step{{}}
	} else {
		found, err = yen(ctx, adj, from, to, maxDepth, k)
		if err != nil {
			return nil, err
		}
	}
	var keys []tripleKey
	for _, p := range found {
		node := from
		for _, st := range p {
			keys = append(keys, st.hop.link(node))
			node = st.hop.Other
		}
	}
	ls, err := s.linksByKey(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*Path, 0, len(found))
	i := 0
	for _, p := range found {
		path := &Path{Nodes: []int64{from}}
		for _, st := range p {
			path.Nodes = append(path.Nodes, st.hop.Other)
			path.Links = append(path.Links, ls[i])
			i++
		}
		if !slices.Contains(path.Links, nil) { // a link deleted meanwhile
			out = append(out, path)
		}
	}
	return out, nil
}

// step is one hop of a path in the search, walked from the previous node.
type step struct{ hop Hop }

// adjacency fetches and caches the hops of nodes, a level at a time.
type adjacency struct {
	s      *Store
	vis    Visibility
	w      Walk
	hops   map[int64][]Hop
	hidden map[int64]bool // nodes found on a path that the reader may not see
}

// visibleBFS is bfs over the visible nodes only: the hops are read without
// checking their ends, so each path found is checked, its hidden nodes are
// left out from then on, and the search runs again until the path is
// visible throughout or there is none. The ends are known to be visible.
func (a *adjacency) visibleBFS(ctx context.Context, from, to int64, maxDepth int, ban banned) ([]step, error) {
	for {
		p, err := a.bfs(ctx, from, to, maxDepth, ban)
		if err != nil || p == nil {
			return nil, err
		}
		var inner []int64
		for _, st := range p[:len(p)-1] {
			inner = append(inner, st.hop.Other)
		}
		if len(inner) == 0 {
			return p, nil
		}
		seen, err := a.s.visible(ctx, a.vis, inner)
		if err != nil {
			return nil, err
		}
		if len(seen) == len(inner) {
			return p, nil
		}
		for _, id := range inner {
			if _, ok := seen[id]; !ok {
				a.hidden[id] = true
			}
		}
	}
}

// load fetches the hops of the nodes of ids not yet cached, in one query.
func (a *adjacency) load(ctx context.Context, ids []int64) error {
	var missing []int64
	for _, id := range ids {
		if _, ok := a.hops[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	hops, cut, err := a.s.hops(ctx, missing, a.w.Relations, maxHopsPerLevel)
	if err != nil {
		return err
	}
	if cut {
		return fmt.Errorf("%w: a path search level reached more than %d links; narrow it with relations", kb.ErrLimitExceeded, maxHopsPerLevel)
	}
	for _, id := range missing {
		a.hops[id] = hops[id] // nil for none: cached as none
		if a.hops[id] == nil {
			a.hops[id] = []Hop{}
		}
	}
	return nil
}

// banned are the nodes and links a spur search of Yen's algorithm must not
// use.
type banned struct {
	nodes map[int64]bool
	links map[tripleKey]bool
}

// bfs returns a shortest path of at most maxDepth hops from one node to
// another that avoids ban, or nil. It expands the smaller frontier a level
// at a time.
func (a *adjacency) bfs(ctx context.Context, from, to int64, maxDepth int, ban banned) ([]step, error) {
	if maxDepth <= 0 {
		return nil, nil
	}
	type parent struct {
		node int64
		hop  Hop // walked from node to the child
	}
	fwd := map[int64]parent{from: {}}
	bwd := map[int64]parent{to: {}}
	fDist, bDist := map[int64]int{from: 0}, map[int64]int{to: 0}
	fFront, bFront := []int64{from}, []int64{to}
	fDepth, bDepth := 0, 0
	for fDepth+bDepth < maxDepth && len(fFront) > 0 && len(bFront) > 0 {
		forward := len(fFront) <= len(bFront)
		front, seen, dist, otherDist := fFront, fwd, fDist, bDist
		if !forward {
			front, seen, dist, otherDist = bFront, bwd, bDist, fDist
		}
		if err := a.load(ctx, front); err != nil {
			return nil, err
		}
		hops := a.hops
		var next []int64
		best, bestLen := int64(0), -1
		for _, n := range front {
			for _, h := range hops[n] {
				if ban.nodes[h.Other] || ban.links[h.link(n)] || a.hidden[h.Other] {
					continue
				}
				if _, ok := seen[h.Other]; ok {
					continue
				}
				seen[h.Other] = parent{n, h}
				dist[h.Other] = dist[n] + 1
				next = append(next, h.Other)
				if od, ok := otherDist[h.Other]; ok {
					if l := dist[h.Other] + od; bestLen < 0 || l < bestLen {
						best, bestLen = h.Other, l
					}
				}
			}
		}
		if forward {
			fFront, fDepth = next, fDepth+1
		} else {
			bFront, bDepth = next, bDepth+1
		}
		if bestLen >= 0 {
			// Walk back to from, then forward to to.
			var path []step
			for n := best; n != from; {
				p := fwd[n]
				path = append(path, step{p.hop})
				n = p.node
			}
			slices.Reverse(path)
			for n := best; n != to; {
				p := bwd[n]
				// p.hop walks from p.node towards n; reversed it walks n to p.node.
				path = append(path, step{Hop{Other: p.node, Type: p.hop.Type, Outgoing: !p.hop.Outgoing}})
				n = p.node
			}
			return path, nil
		}
	}
	return nil, nil
}

// yen returns up to k shortest loopless paths of at most maxDepth hops.
func yen(ctx context.Context, a *adjacency, from, to int64, maxDepth, k int) ([][]step, error) {
	first, err := a.visibleBFS(ctx, from, to, maxDepth, banned{})
	if err != nil || first == nil {
		return nil, err
	}
	found := [][]step{first}
	var candidates [][]step
	for len(found) < k {
		last := found[len(found)-1]
		nodes := pathNodes(from, last)
		for i := 0; i < len(last); i++ {
			spur := nodes[i]
			root := last[:i]
			ban := banned{nodes: map[int64]bool{}, links: map[tripleKey]bool{}}
			for _, p := range found {
				if len(p) > i && sameSteps(p[:i], root) {
					ban.links[p[i].hop.link(spur)] = true
				}
			}
			for _, n := range nodes[:i] {
				ban.nodes[n] = true
			}
			tail, err := a.visibleBFS(ctx, spur, to, maxDepth-i, ban)
			if err != nil {
				return nil, err
			}
			if tail == nil {
				continue
			}
			cand := append(slices.Clone(root), tail...)
			dup := false
			for _, c := range append(slices.Clone(candidates), found...) {
				if sameSteps(c, cand) {
					dup = true
					break
				}
			}
			if !dup {
				candidates = append(candidates, cand)
			}
		}
		if len(candidates) == 0 {
			break
		}
		// The shortest candidate next; ties keep the order found.
		bi := 0
		for i, c := range candidates {
			if len(c) < len(candidates[bi]) {
				bi = i
			}
		}
		found = append(found, candidates[bi])
		candidates = slices.Delete(candidates, bi, bi+1)
	}
	return found, nil
}

func pathNodes(from int64, p []step) []int64 {
	out := []int64{from}
	for _, st := range p {
		out = append(out, st.hop.Other)
	}
	return out
}

func sameSteps(a, b []step) bool {
	return slices.Equal(a, b)
}

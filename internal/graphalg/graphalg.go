// Package graphalg holds the traversal algorithms of partnergraph without
// any I/O: a bounded breadth-first neighbourhood, a bidirectional
// breadth-first shortest path and Yen's k shortest loopless paths. They
// walk any Graph, which says which hops a walk may follow from a set of
// nodes: the SQL walk of package store and the in-memory adjacency index
// of package graphindex are the two implementations (docs/traversal.md).
//
// Nodes are int64 and relation types are opaque small integers: the
// algorithms only compare them. The links walked are undirected for the
// search (a walk follows a link from either end) but keep their direction
// in Hop.Outgoing, so a result can name each link as (from, type, to).
package graphalg

import (
	"context"
	"errors"
	"slices"
)

// Hop is one link seen from the node it is walked from: the node at the
// other end, the link's type and its direction. A link is identified by
// (from, type, to), which is unique.
type Hop struct {
	Other    int64
	Type     int32
	Outgoing bool // the link points from the walked node to Other
}

// Key identifies a link by its ends and type.
type Key struct {
	From int64
	Type int32
	To   int64
}

// Key returns the (from, type, to) of the link of h walked from node.
func (h Hop) Key(node int64) Key {
	if h.Outgoing {
		return Key{node, h.Type, h.Other}
	}
	return Key{h.Other, h.Type, node}
}

// Graph gives the hops a walk may follow. Implementations decide what a
// walk may follow (relation types, the visibility and kind of the other
// end) and keep that decision fixed for the duration of one walk.
type Graph interface {
	// Hops calls fn for every hop that may be followed from each of nodes,
	// node by node in the order of nodes, until fn returns false. When max
	// is above 0 the walk stops after max hops, and the graph may read
	// only as many (plus one, to tell whether there are more). It returns
	// an error when the hops cannot be read; the walk then stops with it.
	Hops(ctx context.Context, nodes []int64, max int, fn func(node int64, h Hop) bool) error
}

// Subgraph is a neighbourhood: its nodes in the order they were reached
// (the centre first), the distance of each, and the links walked among
// them, in the order walked.
type Subgraph struct {
	Nodes     []int64
	Depth     map[int64]int
	Links     []Key
	Truncated bool // the node limit cut the neighbourhood
}

// Neighborhood returns the nodes within depth hops of centre, at most limit
// of them (the centre included), and the links walked from a node at
// distance d < depth to a node inside. Each level walks at most twice the
// room left for nodes plus one hop per node of the frontier and 16 (links
// to nodes already inside count too): a graph view wants the nodes and
// the links that tie them, not every link among 500 nodes of a hub's
// neighbourhood. Truncated says a node or hop was left out by the limits.
// It returns the error of g.
func Neighborhood(ctx context.Context, g Graph, centre int64, depth, limit int) (*Subgraph, error) {
	s := &Subgraph{Nodes: []int64{centre}, Depth: map[int64]int{centre: 0}}
	seenLink := map[Key]bool{}
	frontier := []int64{centre}
	for d := 1; d <= depth && len(frontier) > 0; d++ {
		var next []int64
		budget := 2*max(limit-len(s.Nodes), 0) + len(frontier) + 16
		walked := 0
		err := g.Hops(ctx, frontier, budget, func(from int64, h Hop) bool {
			if walked++; walked > budget {
				s.Truncated = true
				return false
			}
			if _, in := s.Depth[h.Other]; !in {
				if len(s.Nodes) >= limit {
					s.Truncated = true
					return true
				}
				s.Depth[h.Other] = d
				s.Nodes = append(s.Nodes, h.Other)
				next = append(next, h.Other)
			}
			if k := h.Key(from); !seenLink[k] {
				seenLink[k] = true
				s.Links = append(s.Links, k)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		frontier = next
	}
	return s, nil
}

// Banned are the nodes and links a search must not use.
type Banned struct {
	Nodes map[int64]bool
	Links map[Key]bool
}

// ShortestPath returns a shortest path of at most maxDepth hops from one
// node to another that avoids ban, as the hops walked from from, or nil
// when there is none. It searches from both ends a level at a time,
// always expanding the smaller frontier, and stops at the first node the
// two searches share. from == to is the empty path. It returns the error
// of g.
func ShortestPath(ctx context.Context, g Graph, from, to int64, maxDepth int, ban Banned) ([]Hop, error) {
	return newSearch().shortest(ctx, g, from, to, maxDepth, ban)
}

// visit is how a search reached a node: from node parent by hop.
type visit struct {
	parent int64
	hop    Hop
}

// search holds the state of bidirectional searches, reused from one to
// the next (Yen's algorithm runs one per spur node): its maps keep their
// room.
type search struct {
	fwd, bwd map[int64]visit
}

func newSearch() *search {
	return &search{fwd: map[int64]visit{}, bwd: map[int64]visit{}}
}

func (s *search) shortest(ctx context.Context, g Graph, from, to int64, maxDepth int, ban Banned) ([]Hop, error) {
	if from == to {
		return []Hop{}, nil
	}
	if maxDepth <= 0 {
		return nil, nil
	}
	clear(s.fwd)
	clear(s.bwd)
	// The bans of Yen's spur searches are a few nodes and links: a scan
	// of a short slice is cheaper per hop than hashing into a map.
	banNodes := make([]int64, 0, len(ban.Nodes))
	for n, ok := range ban.Nodes {
		if ok {
			banNodes = append(banNodes, n)
		}
	}
	banLinks := make([]Key, 0, len(ban.Links))
	for k, ok := range ban.Links {
		if ok {
			banLinks = append(banLinks, k)
		}
	}
	s.fwd[from] = visit{}
	s.bwd[to] = visit{}
	fFront, bFront := []int64{from}, []int64{to}
	fDepth, bDepth := 0, 0
	for fDepth+bDepth < maxDepth && len(fFront) > 0 && len(bFront) > 0 {
		forward := len(fFront) <= len(bFront)
		front, seen, other := fFront, s.fwd, s.bwd
		if !forward {
			front, seen, other = bFront, s.bwd, s.fwd
		}
		var next []int64
		// With whole levels behind it, every node both searches reach in
		// this level closes a path of the same length (fDepth + bDepth +
		// 1; a shorter one would have met in an earlier level), so the
		// first one ends the search.
		meet, met := int64(0), false
		err := g.Hops(ctx, front, 0, func(n int64, h Hop) bool {
			if (len(banNodes) > 0 && slices.Contains(banNodes, h.Other)) ||
				(len(banLinks) > 0 && slices.Contains(banLinks, h.Key(n))) {
				return true
			}
			if _, ok := seen[h.Other]; ok {
				return true
			}
			seen[h.Other] = visit{parent: n, hop: h}
			next = append(next, h.Other)
			if _, ok := other[h.Other]; ok {
				meet, met = h.Other, true
				return false
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if met {
			// Walk back to from, then forward to to.
			var path []Hop
			for n := meet; n != from; {
				v := s.fwd[n]
				path = append(path, v.hop)
				n = v.parent
			}
			slices.Reverse(path)
			for n := meet; n != to; {
				v := s.bwd[n]
				// v.hop walks from v.parent towards n; reversed it walks n to v.parent.
				path = append(path, Hop{Other: v.parent, Type: v.hop.Type, Outgoing: !v.hop.Outgoing})
				n = v.parent
			}
			return path, nil
		}
		if forward {
			fFront, fDepth = next, fDepth+1
		} else {
			bFront, bDepth = next, bDepth+1
		}
	}
	return nil, nil
}

// ErrBadArgument is returned for arguments no search can answer (k < 1).
var ErrBadArgument = errors.New("graphalg: bad argument")

// KShortestPaths returns up to k shortest loopless paths of at most
// maxDepth hops from one node to another, shortest first (Yen's algorithm
// over ShortestPath), each as the hops walked from from. Among paths of
// equal length the order is the order found. from == to gives the one
// empty path. It returns the error of g.
func KShortestPaths(ctx context.Context, g Graph, from, to int64, maxDepth, k int) ([][]Hop, error) {
	if k < 1 {
		return nil, ErrBadArgument
	}
	sr := newSearch()
	first, err := sr.shortest(ctx, g, from, to, maxDepth, Banned{})
	if err != nil || first == nil {
		return nil, err
	}
	found := [][]Hop{first}
	if from == to {
		return found, nil
	}
	var candidates [][]Hop
	for len(found) < k {
		last := found[len(found)-1]
		nodes := PathNodes(from, last)
		for i := 0; i < len(last); i++ {
			spur := nodes[i]
			root := last[:i]
			ban := Banned{Nodes: map[int64]bool{}, Links: map[Key]bool{}}
			for _, p := range found {
				if len(p) > i && slices.Equal(p[:i], root) {
					ban.Links[p[i].Key(spur)] = true
				}
			}
			for _, n := range nodes[:i] {
				ban.Nodes[n] = true
			}
			tail, err := sr.shortest(ctx, g, spur, to, maxDepth-i, ban)
			if err != nil {
				return nil, err
			}
			if tail == nil {
				continue
			}
			cand := append(slices.Clone(root), tail...)
			dup := slices.ContainsFunc(candidates, func(c []Hop) bool { return slices.Equal(c, cand) }) ||
				slices.ContainsFunc(found, func(c []Hop) bool { return slices.Equal(c, cand) })
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

// PathNodes returns the nodes of the path p walked from from: from first.
func PathNodes(from int64, p []Hop) []int64 {
	out := make([]int64, 0, len(p)+1)
	out = append(out, from)
	for _, h := range p {
		out = append(out, h.Other)
	}
	return out
}

// PathKeys returns the links of the path p walked from from, in order.
func PathKeys(from int64, p []Hop) []Key {
	out := make([]Key, 0, len(p))
	node := from
	for _, h := range p {
		out = append(out, h.Key(node))
		node = h.Other
	}
	return out
}

package graphalg_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/partnergraph/partnergraph/internal/graphalg"
	"gonum.org/v1/gonum/graph/path"
	"gonum.org/v1/gonum/graph/simple"
)

// links is a small graph in memory: directed typed links, walked in
// either direction.
type links []graphalg.Key

func (ls links) Hops(_ context.Context, nodes []int64, _ int, fn func(int64, graphalg.Hop) bool) error {
	for _, n := range nodes {
		for _, l := range ls {
			more := true
			switch n {
			case l.From:
				more = fn(n, graphalg.Hop{Other: l.To, Type: l.Type, Outgoing: true})
			case l.To:
				more = fn(n, graphalg.Hop{Other: l.From, Type: l.Type, Outgoing: false})
			}
			if !more {
				return nil
			}
		}
	}
	return nil
}

// failing fails every read.
type failing struct{}

var errRead = errors.New("read failed")

func (failing) Hops(context.Context, []int64, int, func(int64, graphalg.Hop) bool) error {
	return errRead
}

func key(from int64, typ int32, to int64) graphalg.Key {
	return graphalg.Key{From: from, Type: typ, To: to}
}

// A chain 1-2-3-4-5 with a shortcut 1->4 and a branch 2-6.
var chain = links{key(1, 0, 2), key(3, 0, 2), key(3, 1, 4), key(4, 0, 5), key(1, 2, 4), key(2, 0, 6)}

func TestNeighborhoodDepthsAndLinks(t *testing.T) {
	ctx := context.Background()
	s, err := graphalg.Neighborhood(ctx, chain, 1, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Nodes, []int64{1, 2, 4}) || s.Truncated {
		t.Fatalf("depth 1: nodes %v truncated %v, want [1 2 4] false", s.Nodes, s.Truncated)
	}
	if !slices.Equal(s.Links, []graphalg.Key{key(1, 0, 2), key(1, 2, 4)}) {
		t.Fatalf("depth 1: links %v", s.Links)
	}
	s, err = graphalg.Neighborhood(ctx, chain, 1, 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]int{1: 0, 2: 1, 4: 1, 3: 2, 6: 2, 5: 2}
	if len(s.Nodes) != len(want) {
		t.Fatalf("depth 2: nodes %v, want %v", s.Nodes, want)
	}
	for n, d := range want {
		if s.Depth[n] != d {
			t.Errorf("depth 2: node %d at %d, want %d", n, s.Depth[n], d)
		}
	}
	// 2-3 and 3-4 both walked at level 2 (3 is reached from 2 and again
	// from 4), every link of the graph once.
	if len(s.Links) != len(chain) {
		t.Fatalf("depth 2: links %v, want all %d", s.Links, len(chain))
	}
}

func TestNeighborhoodLimitTruncates(t *testing.T) {
	s, err := graphalg.Neighborhood(context.Background(), chain, 1, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Nodes) != 3 || !s.Truncated {
		t.Fatalf("nodes %v truncated %v, want 3 nodes and truncated", s.Nodes, s.Truncated)
	}
	for _, l := range s.Links {
		if _, ok := s.Depth[l.From]; !ok {
			t.Errorf("link %v leaves the neighbourhood", l)
		}
		if _, ok := s.Depth[l.To]; !ok {
			t.Errorf("link %v leaves the neighbourhood", l)
		}
	}
}

func TestShortestPathKnownAnswers(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		from, to int64
		max      int
		want     []int64 // nil: no path
	}{
		{1, 5, 6, []int64{1, 4, 5}},
		{5, 1, 6, []int64{5, 4, 1}},
		{6, 5, 6, []int64{6, 2, 1, 4, 5}}, // 6-2-3-4-5 is as long; either is shortest
		{1, 5, 1, nil},
		{1, 1, 6, []int64{1}},
		{1, 99, 6, nil},
	} {
		p, err := graphalg.ShortestPath(ctx, chain, c.from, c.to, c.max, graphalg.Banned{})
		if err != nil {
			t.Fatal(err)
		}
		if c.want == nil {
			if p != nil {
				t.Errorf("%d->%d max %d: got %v, want none", c.from, c.to, c.max, p)
			}
			continue
		}
		got := graphalg.PathNodes(c.from, p)
		if len(got) != len(c.want) || got[0] != c.from || got[len(got)-1] != c.to {
			t.Errorf("%d->%d: got %v, want as long as %v", c.from, c.to, got, c.want)
		}
		checkPath(t, chain, c.from, p)
	}
}

func TestShortestPathAvoidsBanned(t *testing.T) {
	ban := graphalg.Banned{Links: map[graphalg.Key]bool{key(1, 2, 4): true}}
	p, err := graphalg.ShortestPath(context.Background(), chain, 1, 5, 6, ban)
	if err != nil {
		t.Fatal(err)
	}
	if got := graphalg.PathNodes(1, p); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("got %v, want 1-2-3-4-5 around the banned shortcut", got)
	}
	ban = graphalg.Banned{Nodes: map[int64]bool{4: true}}
	if p, _ := graphalg.ShortestPath(context.Background(), chain, 1, 5, 6, ban); p != nil {
		t.Fatalf("got %v through a banned node", p)
	}
}

// Parallel links of different types are different paths.
func TestKShortestPathsCountsParallelLinks(t *testing.T) {
	g := links{key(1, 0, 2), key(1, 1, 2), key(2, 0, 3)}
	ps, err := graphalg.KShortestPaths(context.Background(), g, 1, 3, 6, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || len(ps[0]) != 2 || len(ps[1]) != 2 || slices.Equal(ps[0], ps[1]) {
		t.Fatalf("got %v, want the two paths over either 1-2 link", ps)
	}
}

func TestErrorsStopTheWalk(t *testing.T) {
	ctx := context.Background()
	if _, err := graphalg.Neighborhood(ctx, failing{}, 1, 2, 10); !errors.Is(err, errRead) {
		t.Errorf("neighborhood: %v", err)
	}
	if _, err := graphalg.ShortestPath(ctx, failing{}, 1, 2, 2, graphalg.Banned{}); !errors.Is(err, errRead) {
		t.Errorf("shortest path: %v", err)
	}
	if _, err := graphalg.KShortestPaths(ctx, failing{}, 1, 2, 2, 3); !errors.Is(err, errRead) {
		t.Errorf("k shortest paths: %v", err)
	}
	if _, err := graphalg.KShortestPaths(ctx, chain, 1, 2, 2, 0); !errors.Is(err, graphalg.ErrBadArgument) {
		t.Errorf("k 0: %v", err)
	}
}

// checkPath fails unless p is a loopless walk of g from from.
func checkPath(t *testing.T, g links, from int64, p []graphalg.Hop) {
	t.Helper()
	seen := map[int64]bool{from: true}
	for _, k := range graphalg.PathKeys(from, p) {
		if !slices.Contains(g, k) {
			t.Fatalf("path %v walks %v, not a link", p, k)
		}
	}
	for _, h := range p {
		if seen[h.Other] {
			t.Fatalf("path %v visits %d twice", p, h.Other)
		}
		seen[h.Other] = true
	}
}

// TestKShortestPathsAgreeWithGonum compares the lengths of the k shortest
// loopless paths with gonum's implementation of Yen's algorithm on random
// simple graphs (at most one link between two nodes, so that paths are
// sequences of nodes as gonum counts them).
func TestKShortestPathsAgreeWithGonum(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 13))
	for round := 0; round < 60; round++ {
		n := 5 + r.IntN(20)
		m := n + r.IntN(3*n)
		u := simple.NewUndirectedGraph()
		for i := 0; i < n; i++ {
			u.AddNode(simple.Node(i))
		}
		var g links
		for i := 0; i < m; i++ {
			a, b := int64(r.IntN(n)), int64(r.IntN(n))
			if a == b || u.HasEdgeBetween(a, b) {
				continue
			}
			u.SetEdge(simple.Edge{F: simple.Node(a), T: simple.Node(b)})
			g = append(g, key(a, int32(r.IntN(3)), b))
		}
		from, to := int64(r.IntN(n)), int64(r.IntN(n))
		if from == to {
			continue
		}
		k := 1 + r.IntN(8)
		got, err := graphalg.KShortestPaths(ctx, g, from, to, math.MaxInt32, k)
		if err != nil {
			t.Fatal(err)
		}
		want := path.YenKShortestPaths(u, k, math.Inf(1), simple.Node(from), simple.Node(to))
		if len(got) != len(want) {
			t.Fatalf("round %d: %d paths, gonum %d", round, len(got), len(want))
		}
		for i := range got {
			if len(got[i]) != len(want[i])-1 {
				t.Fatalf("round %d: path %d has %d links, gonum's %d", round, i, len(got[i]), len(want[i])-1)
			}
			checkPath(t, g, from, got[i])
			if graphalg.PathNodes(from, got[i])[len(got[i])] != to {
				t.Fatalf("round %d: path %d does not end at %d", round, i, to)
			}
		}
		for i := 1; i < len(got); i++ {
			if slices.Equal(got[i-1], got[i]) {
				t.Fatalf("round %d: path %d twice", round, i)
			}
		}
	}
}

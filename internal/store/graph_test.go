package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// TestPathsAreShortestOnASyntheticGraph checks the bidirectional search
// (with its meeting test on large frontiers) against a plain breadth-first
// search in memory over the same links.
func TestPathsAreShortestOnASyntheticGraph(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(3, 4000, 14000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	var base int64
	if err := pool.QueryRow(ctx, `SELECT min(id) - 1 FROM entity`).Scan(&base); err != nil {
		t.Fatal(err)
	}
	adj := map[int64][]int64{}
	g.Links(func(l *kb.Link) bool {
		f, to := base+1+l.FromID, base+1+l.ToID
		adj[f] = append(adj[f], to)
		adj[to] = append(adj[to], f)
		return true
	})
	dist := func(from, to int64) int {
		d := map[int64]int{from: 0}
		q := []int64{from}
		for len(q) > 0 {
			n := q[0]
			q = q[1:]
			if n == to {
				return d[n]
			}
			for _, m := range adj[n] {
				if _, ok := d[m]; !ok {
					d[m] = d[n] + 1
					q = append(q, m)
				}
			}
		}
		return -1
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 40; i++ {
		from, to := base+1+int64(r.IntN(4000)), base+1+int64(r.IntN(4000))
		want := dist(from, to)
		p, err := st.ShortestPath(ctx, store.Public, from, to, 6, store.Walk{})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case want < 0 || want > 6:
			if p != nil {
				t.Errorf("%d to %d: got a path of %d, want none within 6", from, to, len(p.Links))
			}
			continue
		case p == nil:
			t.Errorf("%d to %d: no path, want one of %d", from, to, want)
			continue
		case len(p.Links) != want:
			t.Errorf("%d to %d: path of %d, want %d", from, to, len(p.Links), want)
		}
		for j, l := range p.Links {
			a, b := p.Nodes[j], p.Nodes[j+1]
			if !(l.FromID == a && l.ToID == b || l.FromID == b && l.ToID == a) {
				t.Errorf("%d to %d: link %d joins %d and %d, not %d and %d", from, to, j, l.FromID, l.ToID, a, b)
			}
		}
		if i%8 == 0 {
			ps, err := st.Paths(ctx, store.Public, from, to, 6, 3, store.Walk{})
			if err != nil {
				t.Fatal(err)
			}
			for j := 1; j < len(ps); j++ {
				if len(ps[j].Links) < len(ps[j-1].Links) {
					t.Errorf("%d to %d: path %d shorter than path %d", from, to, j, j-1)
				}
			}
			if len(ps) == 0 || len(ps[0].Links) != want {
				t.Errorf("%d to %d: k paths start with %d links, want %d", from, to, len(ps[0].Links), want)
			}
		}
	}
}

func TestAggregateCacheKeepsResultsForItsTTL(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	g, _ := synth.New(4, 1000, 2000)
	if _, err := st.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		_, n, err := st.Aggregate(ctx, store.Public, store.Filter{Kind: kb.KindPartner}, []store.GroupField{store.GroupSector})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	st.CacheAggregates(time.Hour)
	before := count()
	if _, err := pool.Exec(ctx, `UPDATE entity SET status = 'DRAFT' WHERE id IN (SELECT id FROM entity WHERE kind = 'PARTNER' LIMIT 10)`); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != before {
		t.Errorf("cached: %d partners, want the cached %d", got, before)
	}
	st.CacheAggregates(0)
	if got := count(); got != before-10 {
		t.Errorf("uncached: %d partners, want %d", got, before-10)
	}
}

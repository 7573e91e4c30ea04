package bench

import (
	"context"
	"math/rand/v2"

	"github.com/partnergraph/partnergraph/internal/store"
)

// Walks are the graph walks of issue 13 beyond the mix's neighborhood and
// path: the targets of docs/traversal.md are measured with them; --ops
// names them.
var Walks = []Op{
	{
		Name: "neighborhood100",
		Draw: func(r *rand.Rand, s *Sample, _ *Client) Args { return Args{A: pick(r, s.All)} },
		Query: `query Neighborhood($id: ID!) { neighborhood(id: $id, depth: 2, limit: 100) {
			truncated nodes { id kind name } links { id type direction role } } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"id": a.A.GlobalID()} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			g, err := st.Neighborhood(ctx, store.Public, a.A.ID, 2, store.Walk{}, 100)
			if err != nil {
				return err
			}
			_, err = entityHeads(ctx, st, g.Nodes)
			return err
		},
	},
	{
		Name: "paths",
		Draw: func(r *rand.Rand, s *Sample, _ *Client) Args { return Args{A: pick(r, s.All), B: pick(r, s.All)} },
		Query: `query Paths($from: ID!, $to: ID!) { paths(from: $from, to: $to, maxDepth: 6, k: 3) {
			length nodes { id kind name } links { type direction } } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"from": a.A.GlobalID(), "to": a.B.GlobalID()} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			ps, err := st.Paths(ctx, store.Public, a.A.ID, a.B.ID, 6, 3, store.Walk{})
			if err != nil {
				return err
			}
			var ids []int64
			for _, p := range ps {
				ids = append(ids, p.Nodes...)
			}
			_, err = entityHeads(ctx, st, distinct(ids))
			return err
		},
	},
	{
		Name:  "mostConnected",
		Draw:  func(*rand.Rand, *Sample, *Client) Args { return Args{} },
		Query: `query MostConnected { mostConnected(first: 20) { degree node { id kind name } } }`,
		Vars:  func(Args) map[string]any { return nil },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, _ Args) error {
			ds, err := st.MostConnected(ctx, store.Public, nil, nil, 20)
			if err != nil {
				return err
			}
			ids := make([]int64, len(ds))
			for i, d := range ds {
				ids[i] = d.ID
			}
			_, err = entities(ctx, st, ids)
			return err
		},
	},
}

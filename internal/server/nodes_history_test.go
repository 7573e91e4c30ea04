package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// nodes(ids:) loads all its entries in one batch and all its links in
// another, and the history of a list of entries costs one statement for
// the pages and one for the totals, whatever the number of IDs or entries
// (issue 19, point 3: before, nodes ran one batch per ID and history two
// queries per entry).
func TestNodesAndHistoriesCostAFixedNumberOfQueries(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "migrated", server.Config{LoaderWait: 100 * time.Millisecond}, func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	if _, err := store.New(a.Pool).ApplyDataset(context.Background(), "test", practices(100)); err != nil {
		t.Fatal(err)
	}
	editor := a.newToken("ed", kb.RoleEditor)
	var ids []string
	var page struct {
		GoodPractices struct {
			Nodes []struct {
				ID    string `json:"id"`
				Links struct {
					Nodes []struct {
						ID string `json:"id"`
					} `json:"nodes"`
				} `json:"links"`
			} `json:"nodes"`
		} `json:"goodPractices"`
	}
	a.mustAs(editor, `{ goodPractices(first: 50) { nodes { id links(first: 1) { nodes { id } } } } }`, nil, &page)
	for _, p := range page.GoodPractices.Nodes {
		ids = append(ids, p.ID, p.Links.Nodes[0].ID)
	}
	// The fewest queries of three tries count: a busy scheduler may split
	// a batch (one query more), never by the number of IDs.
	fewest := func(query string, vars map[string]any, check func(data []byte)) int64 {
		best := int64(-1)
		for range 3 {
			before := counter.Statements.Load()
			status, r := a.postAs(editor, query, vars)
			if status != 200 || len(r.Errors) > 0 {
				t.Fatalf("%d %+v", status, r.Errors)
			}
			check(r.Data)
			if c := counter.Statements.Load() - before; best < 0 || c < best {
				best = c
			}
		}
		return best
	}
	const nodesQ = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
	nodeCounts := map[int]int64{}
	for _, n := range []int{2, 20, 100} {
		nodeCounts[n] = fewest(nodesQ, map[string]any{"ids": ids[:n]}, func(data []byte) {
			var got struct {
				Nodes []*struct{ ID string } `json:"nodes"`
			}
			decode(t, data, &got)
			if len(got.Nodes) != n {
				t.Fatalf("nodes: %d, want %d", len(got.Nodes), n)
			}
			for i, x := range got.Nodes {
				if x == nil || x.ID != ids[i] {
					t.Fatalf("nodes[%d] = %v, want %s", i, x, ids[i])
				}
			}
		})
	}
	t.Logf("queries for nodes of 2, 20, 100 IDs: %v", nodeCounts)
	// The bearer token's lookup, one batch of entries, one of links.
	if nodeCounts[100] != nodeCounts[2] || nodeCounts[100] > 3 {
		t.Errorf("queries for nodes of 2, 20, 100 IDs: %v; want the same, at most 3", nodeCounts)
	}

	const historyQ = `query($n: Int) { goodPractices(first: $n) { nodes { id
		history(first: 2) { totalCount pageInfo { hasNextPage } nodes { operation } }
		links(first: 2) { nodes { history { totalCount nodes { operation } } } } } } }`
	histCounts := map[int]int64{}
	for _, n := range []int{5, 50} {
		histCounts[n] = fewest(historyQ, map[string]any{"n": n}, func(data []byte) {
			var got struct {
				GoodPractices struct {
					Nodes []struct {
						History struct {
							TotalCount int
							PageInfo   struct{ HasNextPage bool }
							Nodes      []struct{ Operation string }
						}
						Links struct {
							Nodes []struct {
								History struct {
									TotalCount int
									Nodes      []struct{ Operation string }
								}
							}
						}
					} `json:"nodes"`
				} `json:"goodPractices"`
			}
			decode(t, data, &got)
			if len(got.GoodPractices.Nodes) != n {
				t.Fatalf("%d practices, want %d", len(got.GoodPractices.Nodes), n)
			}
			for _, p := range got.GoodPractices.Nodes {
				h := p.History
				if h.TotalCount != 1 || len(h.Nodes) != 1 || h.Nodes[0].Operation != "CREATE" || h.PageInfo.HasNextPage {
					t.Fatalf("a practice's history: %+v, want its creation", h)
				}
				for _, l := range p.Links.Nodes {
					if l.History.TotalCount != 1 || len(l.History.Nodes) != 1 {
						t.Fatalf("a link's history: %+v", l.History)
					}
				}
			}
		})
	}
	t.Logf("queries for the histories of 5 and 50 practices and their links: %v", histCounts)
	if histCounts[50] > histCounts[5]+1 {
		t.Errorf("queries for the histories of 5 and 50 practices: %v; want the same, give or take one", histCounts)
	}
}

func decode(t *testing.T, data []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

package server_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
)

// headReads counts the statements that read entity rows alone
// (store.EntityHeads), the read of a walk's nodes.
type headReads struct{ n atomic.Int64 }

func (c *headReads) count(sql string) {
	if strings.Contains(sql, "FROM entity WHERE id = ANY($1) AND status = ANY($2)") && strings.Contains(sql, "created_by, updated_by, coalesce(sector, '')\n") {
		c.n.Add(1)
	}
}

// TestWalkNodesSkipTheLoaderWait pins where the loaders' wait applies to a
// walk's nodes: a neighbourhood's and a path's nodes are all known at once
// and read at once, with no wait (it was a fifth of a 100-node
// neighbourhood's time at one client), while the paths of paths, elements
// of a list, still wait so that all their nodes are read in one statement.
// The wait is set to 3 s so that a request that waits cannot pass for one
// that does not, however busy the machine.
func TestWalkNodesSkipTheLoaderWait(t *testing.T) {
	const wait = 3 * time.Second
	reads := &headReads{}
	a := newAPI(t, "reference", server.Config{LoaderWait: wait}, func(c *pgxpool.Config) { c.ConnConfig.Tracer = pgtest.SQLTracer{See: reads.count} })
	from, to := idOf(a, "coompanion"), idOf(a, "wtz-gebice")
	vars := map[string]any{"f": from, "t": to}

	for _, c := range []struct{ name, query string }{
		{"neighborhood", `query($t: ID!) { neighborhood(id: $t, depth: 2, limit: 100) { nodes { id kind name } links { id } } }`},
		{"path", `query($f: ID!, $t: ID!) { path(from: $f, to: $t) { nodes { id name } } }`},
		{"full nodes", `query($t: ID!) { neighborhood(id: $t, depth: 1) { nodes { name ... on Partner { sector } } } }`},
	} {
		start := time.Now()
		var got map[string]struct {
			Nodes []named `json:"nodes"`
		}
		a.query(c.query, vars, &got)
		if took := time.Since(start); took >= wait {
			t.Errorf("%s took %v: its nodes waited for the loader (%v)", c.name, took, wait)
		}
		for field, v := range got {
			if len(v.Nodes) < 2 {
				t.Errorf("%s: %s has %d nodes, want the walk's", c.name, field, len(v.Nodes))
			}
		}
	}

	before := reads.n.Load()
	var got struct {
		Paths []struct {
			Nodes []named `json:"nodes"`
		} `json:"paths"`
	}
	a.query(`query($f: ID!, $t: ID!) { paths(from: $f, to: $t, k: 3) { nodes { id name } } }`, vars, &got)
	if len(got.Paths) < 2 {
		t.Fatalf("%d paths between coompanion and wtz-gebice, want at least 2 to batch", len(got.Paths))
	}
	if n := reads.n.Load() - before; n != 1 {
		t.Errorf("the nodes of %d paths took %d statements, want 1 (batched by the loader)", len(got.Paths), n)
	}
}

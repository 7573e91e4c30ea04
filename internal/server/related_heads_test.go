package server_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
)

// entityReads counts how the nodes of related pages are read: their heads
// with the page's own statement (LinkSpec.Heads, PartnerPage.Heads), their
// whole rows with it (LinkSpec.Rows), their heads alone
// (store.EntityHeads), or whole by id (EntitiesByID).
type entityReads struct{ withPage, rowsWithPage, heads, full atomic.Int64 }

func (c *entityReads) count(sql string) {
	switch {
	case strings.Contains(sql, " AS y_rn"):
		c.rowsWithPage.Add(1)
	case strings.Contains(sql, " AS h_kind") || strings.Contains(sql, "JOIN entity o ON o.id = k.partner_id"):
		c.withPage.Add(1)
	case strings.Contains(sql, "FROM entity WHERE id = ANY($1) AND status = ANY($2)") && strings.Contains(sql, "created_by, updated_by, coalesce(sector, '')\n"):
		c.heads.Add(1)
	case strings.Contains(sql, "WITH b AS MATERIALIZED (SELECT * FROM entity WHERE id = ANY($1)"):
		c.full.Add(1)
	}
}

// TestRelatedNodesNarrowOrFull: the nodes of a related connection are read
// from the entity row alone when the connection asks of them, through
// nodes or edges, directly or in fragments, only for what that row holds,
// as the front page does: with the page's own statement, which joins
// that row already, so that they cost no statement of their own; else in
// full, the cases with their page's statement too, the partners behind
// the practices by id. Both answers agree on what both show, and a field
// of a kind's own table still has its value.
func TestRelatedNodesNarrowOrFull(t *testing.T) {
	reads := &entityReads{}
	// A long loader wait, as the round-trip tests have: on a busy machine
	// the 1 ms default lets a level's batch split in two (a statement
	// more, CI saw it), which is not what this test is about.
	a := newAPI(t, "reference", server.Config{LoaderWait: 100 * time.Millisecond},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = pgtest.SQLTracer{See: reads.count} })
	const page = `query { goodPractices(first: 20) { totalCount nodes { name
		cases(first: 3) { totalCount %[1]s }
		partners(first: 5) { totalCount %[2]s } } } }`
	narrowCases, narrowPartners := `nodes { __typename id name }`, `nodes { name sector }`
	for _, c := range []struct {
		name, cases, partners string
		heads                 bool
		nested                bool // the nodes' own connections add pages with heads of their own
	}{
		{"nodes", narrowCases, narrowPartners, true, false},
		{"edges", `nodes { __typename id name } edges { cursor node { id name } } pageInfo { hasNextPage }`,
			`nodes { name sector } edges { node { ... on Partner { sector } } }`, true, false},
		{"fragments", `...C`, `...P`, true, false},
		{"a field of the kind's table", narrowCases + ` edges { node { ... on Cooperative { city } } }`,
			`nodes { name sector partnerKind }`, false, false},
		// A connection of the nodes and a sector mix are answered by
		// their ids (graph's byRowID): the heads still suffice.
		{"connections of the nodes", narrowCases + ` edges { node { ... on Cooperative { workshops(first: 2) { totalCount } sectorMix { isFull } } } }`,
			`nodes { name sector cooperatives(first: 1) { nodes { id } } }`, true, true},
		// A list that is not a connection needs the row.
		{"a list of the nodes", narrowCases + ` edges { node { ... on Cooperative { indicators { name } } } }`,
			`nodes { name sector partnerKind }`, false, false},
	} {
		q := strings.ReplaceAll(page, "%[1]s", c.cases)
		q = strings.ReplaceAll(q, "%[2]s", c.partners)
		if c.name == "fragments" {
			q += ` fragment C on EntityConnection { nodes { __typename id name } }
				fragment P on PartnerConnection { nodes { name sector } }`
		}
		withPage, rows, heads, full := reads.withPage.Load(), reads.rowsWithPage.Load(), reads.heads.Load(), reads.full.Load()
		var got struct {
			GoodPractices struct {
				Nodes []struct {
					Name     string
					Cases    json.RawMessage
					Partners json.RawMessage
				}
			}
		}
		a.query(q, nil, &got)
		withPage, rows, heads, full = reads.withPage.Load()-withPage, reads.rowsWithPage.Load()-rows, reads.heads.Load()-heads, reads.full.Load()-full
		// The cases' links and the partners behind the practices: two
		// pages, each with the heads of its entities or without.
		// The nodes' own pages come in as many batches as the loader's
		// waits cut them into (more on a busy machine), each with heads.
		pagesOK := withPage == 2
		if c.nested {
			pagesOK = withPage >= 3
		}
		if c.heads && (!pagesOK || rows != 0 || heads != 0 || full != 0) {
			t.Errorf("%s: %d pages with heads, %d with whole rows, %d reads of heads alone, %d of whole entities; want the heads with their pages (2, more with nested pages: %v)",
				c.name, withPage, rows, heads, full, c.nested)
		}
		if !c.heads && (withPage != 0 || rows < 1 || full < 1) {
			t.Errorf("%s: %d pages with heads, %d with whole rows, %d reads of whole entities; want the nodes read in full: the cases with their page, the partners by id",
				c.name, withPage, rows, full)
		}
		if len(got.GoodPractices.Nodes) < 5 {
			t.Fatalf("%s: %d practices", c.name, len(got.GoodPractices.Nodes))
		}
		// What the narrow and the full reads both show agrees.
		type node struct {
			Typename string `json:"__typename"`
			ID       string
			Name     string
			Sector   string
			Kind     string `json:"partnerKind"`
		}
		type conn struct {
			TotalCount int
			Nodes      []node
		}
		sawPartner := false
		for _, p := range got.GoodPractices.Nodes {
			var cs, ps conn
			if err := json.Unmarshal(p.Cases, &cs); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(p.Partners, &ps); err != nil {
				t.Fatal(err)
			}
			for _, n := range ps.Nodes {
				sawPartner = true
				if n.Sector == "" || n.Name == "" || (!c.heads && n.Kind == "") {
					t.Errorf("%s: partner %+v of %s lacks a field asked for", c.name, n, p.Name)
				}
			}
			for _, n := range cs.Nodes {
				if n.Typename == "" || n.ID == "" || n.Name == "" {
					t.Errorf("%s: case %+v of %s lacks a field asked for", c.name, n, p.Name)
				}
			}
		}
		if !sawPartner {
			t.Errorf("%s: no practice shows a partner: nothing compared", c.name)
		}
	}

	// The answers to the narrow and the full selections agree on what both
	// ask for.
	var narrow, full any
	a.query(strings.ReplaceAll(strings.ReplaceAll(page, "%[1]s", narrowCases), "%[2]s", narrowPartners), nil, &narrow)
	a.query(strings.ReplaceAll(strings.ReplaceAll(page, "%[1]s", `nodes { __typename id name ... on Cooperative { city } }`),
		"%[2]s", `nodes { name sector partnerKind }`), nil, &full)
	strip(full, "city", "partnerKind")
	if !reflect.DeepEqual(narrow, full) {
		t.Errorf("the narrow read answers\n%v\nthe full read\n%v", narrow, full)
	}
}

// strip removes the keys from every object in v.
func strip(v any, keys ...string) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range keys {
			delete(v, k)
		}
		for _, x := range v {
			strip(x, keys...)
		}
	case []any:
		for _, x := range v {
			strip(x, keys...)
		}
	}
}

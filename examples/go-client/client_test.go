package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, storetest.Reference)
}

// TestTheGeneratedClientRunsTheREADMEQueries serves the reference data
// through the full HTTP stack and runs the README's five queries and a
// refetch through `nodes` with the genqlient client.
func TestTheGeneratedClientRunsTheREADMEQueries(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.NewDB(t, "reference"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store.New(pool)).Handler())
	t.Cleanup(srv.Close)

	a, err := run(t.Context(), graphql.NewClient(srv.URL+"/graphql", http.DefaultClient))
	if err != nil {
		t.Fatal(err)
	}

	// 1. The project's partners by sector, and its full partnership.
	if len(a.project.Projects.Nodes) != 1 {
		t.Fatalf("projects: %+v, want the one", a.project.Projects.Nodes)
	}
	p := a.project.Projects.Nodes[0]
	sectors := map[string]Sector{}
	for _, l := range p.Leaders.Nodes {
		sectors[l.Name] = l.Sector
	}
	for _, l := range p.Partners.Nodes {
		sectors[l.Name] = l.Sector
	}
	if sectors["Konimpex Sp. z o.o."] != SectorPrivate || !slices.Contains(mapValues(sectors), SectorPublic) {
		t.Errorf("partners by sector: %v, want Konimpex PRIVATE and a PUBLIC one", sectors)
	}
	full, leader := false, false
	for _, ps := range p.Partnerships.Nodes {
		full = full || ps.SectorMix.IsFull
		for _, m := range ps.Members.Nodes {
			leader = leader || m.Role == MemberRoleLeader && m.Sector == SectorSocial
		}
	}
	if !full || !leader {
		t.Errorf("partnerships: %+v, want a full one led by a SOCIAL member", p.Partnerships.Nodes)
	}

	// 2. Every practice, page by page from after "".
	if a.total != 6 || len(a.practices) != a.total || a.pages != 2 {
		t.Errorf("practices: %d in %d pages, totalCount %d; want 6 in 2", len(a.practices), a.pages, a.total)
	}
	recognized := false
	for _, gp := range a.practices {
		for _, s := range gp.RecognizedIn.Nodes {
			recognized = recognized || strings.HasPrefix(s.Name, "Krajowy Program")
		}
	}
	if !recognized {
		t.Error("no practice is recognised in the Krajowy Program")
	}

	// 3. The search, best hit first, with its snippet.
	edges := a.search.Search.Edges
	if len(edges) == 0 || edges[0].Node.GetName() != "Spółdzielnia Socjalna „Równe Szanse”" ||
		edges[0].Snippet.Field != "summary" || !strings.Contains(edges[0].Snippet.Html, "<mark>ceramikę</mark>") {
		t.Errorf("search: %+v", edges)
	}

	// 4. The path from Coompanion to the workshop in Gębice.
	path := a.path.Path
	if path.Length != 3 || len(path.Nodes) != 4 || path.Nodes[0].GetName() != "Coompanion" ||
		path.Nodes[1].GetName() != "Warsztaty Wymiany Doświadczeń w Szwecji" {
		t.Errorf("path: %d links through %v", path.Length, path.Nodes)
	}
	if len(path.Links) == 0 || path.Links[0].Type != RelationTypeVisited || path.Links[0].Direction != LinkDirectionIncoming ||
		path.Links[0].Label != "visited on" {
		t.Errorf("path links: %+v", path.Links)
	}

	// 5. Sector mixes, counts and the most connected.
	s := a.sectors
	if s.Partnerships.TotalCount != 0 {
		t.Errorf("partnerships missing a private partner: %d, want 0", s.Partnerships.TotalCount)
	}
	if g := s.Aggregate.Groups; len(g) == 0 || !slices.Equal(g[0].Key, []string{"SOCIAL"}) || g[0].Count != 4 {
		t.Errorf("partners by sector: %+v, want SOCIAL 4 first", g)
	}
	if m := s.MostConnected; len(m) == 0 || !strings.HasPrefix(m[0].Node.GetName(), "Innowacyjny model") {
		t.Errorf("most connected: %+v", m)
	}
	mixed := false
	for _, c := range s.Cooperatives.Nodes {
		counts := map[Sector]int{}
		for _, n := range c.SectorMix.Counts {
			counts[n.Sector] = n.Count
		}
		mixed = mixed || counts[SectorPublic] == 1 && counts[SectorSocial] == 2 && counts[SectorPrivate] == 1
	}
	if !mixed {
		t.Errorf("cooperatives on a full partnership: %+v", s.Cooperatives.Nodes)
	}

	// The two ends of the path, refetched through nodes (Relay's Node).
	if len(a.refetched) != 2 {
		t.Fatalf("refetched %d nodes, want 2", len(a.refetched))
	}
	fe, ok := a.refetched[0].(*RefetchNodesForeignExample)
	if !ok || fe.Name != "Coompanion" || fe.Country != "SE" || fe.Kind != EntityKindForeignExample {
		t.Errorf("nodes[0]: %#v, want the foreign example Coompanion in SE", a.refetched[0])
	}
	if n := a.refetched[1]; n == nil || n.GetTypename() != "Partner" {
		t.Errorf("nodes[1]: %#v, want the workshop, a Partner", n)
	}
}

func mapValues[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// queryCounter counts the statements and round trips of the pool it
// traces (pgtest.TripCounter).
type queryCounter = pgtest.TripCounter

// practices builds n published practices, each demonstrated by a
// cooperative and a project; each cooperative is founded by one partner and
// employs participants of a workshop, each project is led by a partner.
func practices(n int) kb.Dataset {
	pub := kb.StatusPublished
	var d kb.Dataset
	d.Entities = append(d.Entities, kb.Entity{Key: "src", Kind: kb.KindSource, Name: "Źródło", Status: pub,
		Source: &kb.Source{SourceKind: kb.SourceReport}})
	sectors := kb.Sectors
	for i := range n {
		k := func(s string) string { return fmt.Sprintf("%s-%03d", s, i) }
		cite := []kb.Citation{{SourceKey: "src", Locator: fmt.Sprintf("s. %d", i)}}
		d.Entities = append(d.Entities,
			kb.Entity{Key: k("gp"), Kind: kb.KindGoodPractice, Name: fmt.Sprintf("Praktyka %03d", i), Status: pub, Citations: cite,
				GoodPractice: &kb.GoodPractice{Topics: []string{"partnerstwo"}}},
			kb.Entity{Key: k("coop"), Kind: kb.KindCooperative, Name: fmt.Sprintf("Spółdzielnia %03d", i), Status: pub,
				Cooperative: &kb.Cooperative{CoopStatus: kb.CoopOperating}},
			kb.Entity{Key: k("proj"), Kind: kb.KindProject, Name: fmt.Sprintf("Projekt %03d", i), Status: pub, Project: &kb.Project{}},
			kb.Entity{Key: k("founder"), Kind: kb.KindPartner, Name: fmt.Sprintf("Gmina %03d", i), Status: pub,
				Partner: &kb.Partner{Sector: sectors[i%3], PartnerKind: kb.PartnerOther}},
			kb.Entity{Key: k("wtz"), Kind: kb.KindPartner, Name: fmt.Sprintf("WTZ %03d", i), Status: pub,
				Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerWorkshop}},
		)
		d.Links = append(d.Links,
			kb.Link{FromKey: k("coop"), ToKey: k("gp"), Type: kb.RelDemonstrates, Citations: cite},
			kb.Link{FromKey: k("proj"), ToKey: k("gp"), Type: kb.RelDemonstrates},
			kb.Link{FromKey: k("founder"), ToKey: k("coop"), Type: kb.RelFounded},
			kb.Link{FromKey: k("coop"), ToKey: k("wtz"), Type: kb.RelEmploysParticipantsOf},
			kb.Link{FromKey: k("founder"), ToKey: k("proj"), Type: kb.RelLeads},
		)
	}
	return d
}

// TestListingPracticesCostsAFixedNumberOfQueries pins the absence of N+1:
// a page of practices with their cases, the founders and workshops of the
// cases, the partners behind them and their sources costs the same number
// of SQL queries for 5, 20 and 100 practices (within timing noise).
func TestListingPracticesCostsAFixedNumberOfQueries(t *testing.T) {
	counter := &queryCounter{}
	// A long loader wait makes the batches deterministic on a busy machine:
	// with the default wait, a slow scheduler may split one batch in two,
	// which changes the count by one or two but never with the page size.
	a := newAPI(t, "migrated", server.Config{LoaderWait: 100 * time.Millisecond,
		// 100 practices with 3 cases each and their relations cost more
		// than the default ceiling; this test counts queries, not cost.
		Limits: server.Limits{MaxCost: 100_000}}, func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	if _, err := store.New(a.Pool).ApplyDataset(context.Background(), "test", practices(100)); err != nil {
		t.Fatal(err)
	}
	const q = `query($n: Int) { goodPractices(first: $n) { totalCount nodes {
		id name topics sources { locator source { name } }
		cases(first: 3) { totalCount nodes { __typename name
			... on Cooperative { founders { nodes { name } } workshops { totalCount nodes { name sector } } }
			... on Project { leaders { nodes { name sector } } } } }
		partners(first: 5) { totalCount nodes { name sector } }
		links(first: 5) { totalCount nodes { label node { name } } } } } }`
	// Timing moves the count by a query or two, never with the page size:
	// a slow scheduler may split a batch, and whether a later level finds
	// its entities in the request's cache depends on which batch finished
	// first. So each size is measured five times, the fewest queries
	// count, and sizes may differ by at most four (a busy machine has split
	// one page into three more batches than another); N+1 would add ~95.
	counts := map[int]int64{}
	for _, n := range []int{5, 20, 100} {
		for range 5 {
			var got struct {
				GoodPractices struct {
					TotalCount int `json:"totalCount"`
					Nodes      []struct {
						Cases struct {
							TotalCount int                     `json:"totalCount"`
							Nodes      []struct{ Name string } `json:"nodes"`
						} `json:"cases"`
						Partners struct {
							TotalCount int     `json:"totalCount"`
							Nodes      []named `json:"nodes"`
						} `json:"partners"`
					} `json:"nodes"`
				} `json:"goodPractices"`
			}
			before := counter.Statements.Load()
			a.query(q, map[string]any{"n": n}, &got)
			if c := counter.Statements.Load() - before; counts[n] == 0 || c < counts[n] {
				counts[n] = c
			}
			if len(got.GoodPractices.Nodes) != n || got.GoodPractices.TotalCount != 100 {
				t.Fatalf("first %d: %d practices of %d", n, len(got.GoodPractices.Nodes), got.GoodPractices.TotalCount)
			}
			for _, p := range got.GoodPractices.Nodes {
				if len(p.Cases.Nodes) != 2 || len(p.Partners.Nodes) != 2 || p.Cases.TotalCount != 2 || p.Partners.TotalCount != 2 {
					t.Fatalf("a practice has %d cases (of %d) and %d partners (of %d), want 2 and 2 (founder and workshop)",
						len(p.Cases.Nodes), p.Cases.TotalCount, len(p.Partners.Nodes), p.Partners.TotalCount)
				}
			}
		}
	}
	t.Logf("SQL queries per page: %v", counts)
	if counts[100] > counts[5]+4 || counts[20] > counts[5]+4 {
		t.Errorf("queries for 5, 20, 100 practices: %d, %d, %d; want the same number, give or take four", counts[5], counts[20], counts[100])
	}
	if counts[100] > 15 {
		t.Errorf("%d queries for one page, want at most 15", counts[100])
	}
}

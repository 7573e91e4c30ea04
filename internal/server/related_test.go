package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// hub is a practice demonstrated by seven cooperatives (one a draft) and
// two projects, linked in the order of hubCases, whose names do not sort
// in that order; a partner both supports and funds the first cooperative.
var hubCases = []struct {
	key, name string
	kind      kb.Kind
	draft     bool
}{
	{"c-e", "Spółdzielnia Echo", kb.KindCooperative, false},
	{"c-a", "Spółdzielnia Ąbel", kb.KindCooperative, false}, // sorts as "abel"
	{"p-x", "Projekt Xenia", kb.KindProject, false},
	{"c-d", "Spółdzielnia Delta", kb.KindCooperative, true},
	{"c-c", "Spółdzielnia Cebula", kb.KindCooperative, false},
	{"c-g", "Spółdzielnia Gamma", kb.KindCooperative, false},
	{"p-b", "Projekt Bis", kb.KindProject, false},
	{"c-b", "Spółdzielnia Bór", kb.KindCooperative, false},
	{"c-f", "Spółdzielnia Fala", kb.KindCooperative, false},
}

func newHubAPI(t *testing.T) *api {
	t.Helper()
	a := newAPI(t, "migrated", server.Config{})
	pub := kb.StatusPublished
	d := kb.Dataset{Entities: []kb.Entity{
		{Key: "hub", Kind: kb.KindGoodPractice, Name: "Praktyka węzłowa", Status: pub, GoodPractice: &kb.GoodPractice{}},
		{Key: "sponsor", Kind: kb.KindPartner, Name: "Firma Sponsor", Status: pub,
			Partner: &kb.Partner{Sector: kb.SectorPrivate, PartnerKind: kb.PartnerCompany}},
	}}
	for _, c := range hubCases {
		e := kb.Entity{Key: c.key, Kind: c.kind, Name: c.name, Status: pub}
		if c.draft {
			e.Status = kb.StatusDraft
		}
		if c.kind == kb.KindCooperative {
			e.Cooperative = &kb.Cooperative{CoopStatus: kb.CoopOperating}
		} else {
			e.Project = &kb.Project{}
		}
		d.Entities = append(d.Entities, e)
		d.Links = append(d.Links, kb.Link{FromKey: c.key, ToKey: "hub", Type: kb.RelDemonstrates})
	}
	// Partners behind the cases: a founder of each cooperative.
	for i, c := range hubCases {
		if c.kind != kb.KindCooperative {
			continue
		}
		key := fmt.Sprintf("founder-%d", i)
		d.Entities = append(d.Entities, kb.Entity{Key: key, Kind: kb.KindPartner, Name: fmt.Sprintf("Gmina %c", 'Z'-i), Status: pub,
			Partner: &kb.Partner{Sector: kb.SectorPublic, PartnerKind: kb.PartnerMunicipality}})
		d.Links = append(d.Links, kb.Link{FromKey: key, ToKey: c.key, Type: kb.RelFounded})
	}
	d.Links = append(d.Links,
		kb.Link{FromKey: "sponsor", ToKey: "c-e", Type: kb.RelSupports},
		kb.Link{FromKey: "sponsor", ToKey: "c-e", Type: kb.RelFunds})
	if _, err := store.New(a.Pool).ApplyDataset(context.Background(), "test", d); err != nil {
		t.Fatal(err)
	}
	return a
}

type relPage struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
	Edges []struct {
		Cursor string `json:"cursor"`
		Node   struct {
			Typename string `json:"__typename"`
			Name     string `json:"name"`
		} `json:"node"`
	} `json:"edges"`
}

func (p relPage) names() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.Name
	}
	return out
}

// cases asks for one page of the hub's cases with args (GraphQL argument
// text) as token sees them.
func (a *api) cases(token, args string) relPage {
	a.t.Helper()
	if args != "" {
		args = "(" + args + ")"
	}
	var got struct {
		EntityByKey struct {
			Cases relPage `json:"cases"`
		} `json:"entityByKey"`
	}
	a.mustAs(token, `{ entityByKey(key: "hub") { ... on GoodPractice { cases`+args+` {
		totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		edges { cursor node { __typename name } } } } } }`, nil, &got)
	return got.EntityByKey.Cases
}

// published are the names of the hub's visible cases in link order.
func published() []string {
	var out []string
	for _, c := range hubCases {
		if !c.draft {
			out = append(out, c.name)
		}
	}
	return out
}

func TestRelatedListPagesForwardAndBackInLinkOrder(t *testing.T) {
	a := newHubAPI(t)
	want := published()

	all := a.cases("", "first: 100")
	if !slices.Equal(all.names(), want) || all.TotalCount != len(want) || all.PageInfo.HasNextPage || all.PageInfo.HasPreviousPage {
		t.Fatalf("all cases: %v (total %d, %+v), want %v in link order, no draft", all.names(), all.TotalCount, all.PageInfo, want)
	}
	if def := a.cases("", ""); len(def.Edges) != len(want) {
		t.Errorf("default page: %d cases, want all %d (the default page is 10)", len(def.Edges), len(want))
	}

	// Forwards, three at a time.
	var got []string
	args := "first: 3"
	for range 10 {
		p := a.cases("", args)
		got = append(got, p.names()...)
		if p.TotalCount != len(want) {
			t.Errorf("totalCount %d on a page, want %d", p.TotalCount, len(want))
		}
		if !p.PageInfo.HasNextPage {
			break
		}
		args = fmt.Sprintf("first: 3, after: %q", *p.PageInfo.EndCursor)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged forwards: %v, want %v", got, want)
	}

	// Backwards, two at a time, from the end.
	got = nil
	args = "last: 2"
	for range 10 {
		p := a.cases("", args)
		got = append(p.names(), got...)
		// The last page has nothing after it; the pages before it do.
		if before := strings.Contains(args, "before"); p.PageInfo.HasNextPage != before {
			t.Errorf("%s: hasNextPage %v, want %v", args, p.PageInfo.HasNextPage, before)
		}
		if !p.PageInfo.HasPreviousPage {
			break
		}
		args = fmt.Sprintf("last: 2, before: %q", *p.PageInfo.StartCursor)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged backwards: %v, want %v", got, want)
	}

	// first: 0 reads nothing but still counts.
	if p := a.cases("", "first: 0"); len(p.Edges) != 0 || p.TotalCount != len(want) {
		t.Errorf("first: 0: %d cases, total %d; want none of %d", len(p.Edges), p.TotalCount, len(want))
	}
}

func TestRelatedListOrdersByNameAndFilters(t *testing.T) {
	a := newHubAPI(t)
	asc := a.cases("", "orderBy: {field: NAME}")
	want := []string{"Projekt Bis", "Projekt Xenia", "Spółdzielnia Ąbel", "Spółdzielnia Bór", "Spółdzielnia Cebula",
		"Spółdzielnia Echo", "Spółdzielnia Fala", "Spółdzielnia Gamma"}
	if !slices.Equal(asc.names(), want) {
		t.Errorf("by name: %v, want %v (ignoring diacritics)", asc.names(), want)
	}
	desc := a.cases("", "orderBy: {field: NAME, direction: DESC}")
	rev := slices.Clone(want)
	slices.Reverse(rev)
	if !slices.Equal(desc.names(), rev) {
		t.Errorf("by name, descending: %v, want %v", desc.names(), rev)
	}
	// Paging by name: the cursor carries the name.
	p1 := a.cases("", "first: 3, orderBy: {field: NAME}")
	p2 := a.cases("", fmt.Sprintf("first: 3, after: %q, orderBy: {field: NAME}", *p1.PageInfo.EndCursor))
	if got := append(p1.names(), p2.names()...); !slices.Equal(got, want[:6]) {
		t.Errorf("two pages by name: %v, want %v", got, want[:6])
	}
	// Newest first.
	linked := published()
	slices.Reverse(linked)
	if d := a.cases("", "first: 2, orderBy: {field: LINKED_AT, direction: DESC}"); !slices.Equal(d.names(), linked[:2]) {
		t.Errorf("newest first: %v, want %v", d.names(), linked[:2])
	}

	// Kind of the other end.
	projects := a.cases("", "filter: {kind: [PROJECT]}")
	if !slices.Equal(projects.names(), []string{"Projekt Xenia", "Projekt Bis"}) || projects.TotalCount != 2 {
		t.Errorf("projects among the cases: %v (total %d)", projects.names(), projects.TotalCount)
	}
	for _, e := range projects.Edges {
		if e.Node.Typename != "Project" {
			t.Errorf("a %s among the projects", e.Node.Typename)
		}
	}

	// Status: readers see published cases whatever they ask; staff see
	// the draft and may ask for drafts only.
	if p := a.cases("", "filter: {status: [DRAFT]}"); len(p.Edges) != 0 || p.TotalCount != 0 {
		t.Errorf("an anonymous reader asking for drafts got %v (total %d)", p.names(), p.TotalCount)
	}
	editor := a.newToken("editor", kb.RoleEditor)
	if p := a.cases(editor, "first: 100"); p.TotalCount != len(hubCases) || len(p.Edges) != len(hubCases) {
		t.Errorf("staff see %d cases (total %d), want %d with the draft", len(p.Edges), p.TotalCount, len(hubCases))
	}
	if p := a.cases(editor, "filter: {status: [DRAFT]}"); !slices.Equal(p.names(), []string{"Spółdzielnia Delta"}) || p.TotalCount != 1 {
		t.Errorf("staff asking for drafts: %v (total %d)", p.names(), p.TotalCount)
	}
}

func TestRelatedListRefusesBadPagingArguments(t *testing.T) {
	a := newHubAPI(t)
	byLink := a.cases("", "first: 1")
	var root struct {
		GoodPractices struct {
			PageInfo struct {
				EndCursor string `json:"endCursor"`
			} `json:"pageInfo"`
		} `json:"goodPractices"`
	}
	a.query(`{ goodPractices(first: 1) { pageInfo { endCursor } } }`, nil, &root)
	q := func(args string) string {
		return `{ entityByKey(key: "hub") { ... on GoodPractice { cases(` + args + `) { totalCount } } } }`
	}
	for _, tc := range []struct{ name, args, code, msg string }{
		{"over the cap", "first: 101", server.CodeBadUserInput, "at most 100"},
		{"negative", "last: -1", server.CodeBadUserInput, "must not be negative"},
		{"before of another order", fmt.Sprintf("first: 1, before: %q, orderBy: {field: NAME}", *byLink.PageInfo.EndCursor), server.CodeBadUserInput, "another ordering"},
		{"forged cursor", `after: "bm90IGEgY3Vyc29y"`, server.CodeBadUserInput, "not a valid cursor"},
		{"root list's cursor", fmt.Sprintf("after: %q", root.GoodPractices.PageInfo.EndCursor), server.CodeBadUserInput, "another ordering"},
		{"cursor of another order", fmt.Sprintf("after: %q, orderBy: {field: NAME}", *byLink.PageInfo.EndCursor), server.CodeBadUserInput, "another ordering"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := a.fail(q(tc.args), nil)
			if e.Extensions["code"] != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got %q (%v), want %s with %q", e.Message, e.Extensions["code"], tc.code, tc.msg)
			}
		})
	}
}

func TestRelatedListsOfOneRequestPageApart(t *testing.T) {
	a := newHubAPI(t)
	var got struct {
		EntityByKey struct {
			Two    page[named] `json:"two"`
			Five   page[named] `json:"five"`
			US     page[named] `json:"recognizedIn"`
			UK     page[named] `json:"recognisedIn"`
			Behind struct {
				TotalCount int     `json:"totalCount"`
				Nodes      []named `json:"nodes"`
			} `json:"partners"`
		} `json:"entityByKey"`
	}
	a.query(`{ entityByKey(key: "hub") { ... on GoodPractice {
		two: cases(first: 2) { nodes { name } } five: cases(first: 5) { nodes { name } }
		recognizedIn { nodes { name } } recognisedIn { nodes { name } }
		partners(first: 100) { totalCount nodes { name sector } } } } }`, nil, &got)
	want := published()
	if !slices.Equal(names(got.EntityByKey.Two), want[:2]) || !slices.Equal(names(got.EntityByKey.Five), want[:5]) {
		t.Errorf("aliases with different pages: %v and %v, want %v and %v",
			names(got.EntityByKey.Two), names(got.EntityByKey.Five), want[:2], want[:5])
	}
	// The partners behind: the founders of the published cooperatives and
	// the sponsor (supports and funds a case: once), by name.
	behind := names(got.EntityByKey.Behind.Nodes)
	if len(behind) != 7 || got.EntityByKey.Behind.TotalCount != 7 || !slices.IsSorted(behind) || !contains(behind, "Firma Sponsor") {
		t.Errorf("partners behind the hub: %v (total %d), want the sponsor and 6 founders, by name", behind, got.EntityByKey.Behind.TotalCount)
	}
	// Paged one at a time, they are the same.
	var paged []string
	after := ""
	for range 10 {
		var p struct {
			EntityByKey struct {
				Partners struct {
					PageInfo struct {
						HasNextPage bool   `json:"hasNextPage"`
						EndCursor   string `json:"endCursor"`
					} `json:"pageInfo"`
					Nodes []named `json:"nodes"`
				} `json:"partners"`
			} `json:"entityByKey"`
		}
		a.query(`query($after: String) { entityByKey(key: "hub") { ... on GoodPractice {
			partners(first: 2, after: $after) { pageInfo { hasNextPage endCursor } nodes { name } } } } }`,
			map[string]any{"after": map[bool]any{true: nil, false: after}[after == ""]}, &p)
		paged = append(paged, names(p.EntityByKey.Partners.Nodes)...)
		if !p.EntityByKey.Partners.PageInfo.HasNextPage {
			break
		}
		after = p.EntityByKey.Partners.PageInfo.EndCursor
	}
	if !slices.Equal(paged, behind) {
		t.Errorf("partners behind, paged by 2: %v, want %v", paged, behind)
	}

	// A partner that supports and funds a cooperative is one supporter.
	var coop struct {
		EntityByKey struct {
			Supporters struct {
				TotalCount int     `json:"totalCount"`
				Nodes      []named `json:"nodes"`
			} `json:"supporters"`
		} `json:"entityByKey"`
	}
	a.query(`{ entityByKey(key: "c-e") { ... on Cooperative { supporters { totalCount nodes { name } } } } }`, nil, &coop)
	if s := coop.EntityByKey.Supporters; s.TotalCount != 1 || !slices.Equal(names(s.Nodes), []string{"Firma Sponsor"}) {
		t.Errorf("supporters: %v (total %d), want the sponsor once", names(s.Nodes), s.TotalCount)
	}
}

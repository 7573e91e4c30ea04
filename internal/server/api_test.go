package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

// The reference data answers the questions of the source articles.

func TestReferenceDataProjectPartnersBySector(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var got struct {
		Projects struct {
			Nodes []struct {
				Name         string      `json:"name"`
				Leaders      page[named] `json:"leaders"`
				Partners     page[named] `json:"partners"`
				Partnerships page[struct {
					SectorMix struct {
						Sectors []string `json:"sectors"`
						IsFull  bool     `json:"isFull"`
					} `json:"sectorMix"`
					Members page[struct {
						Role   string `json:"role"`
						Sector string `json:"sector"`
						Member named  `json:"member"`
					}] `json:"members"`
				}] `json:"partnerships"`
			} `json:"nodes"`
		} `json:"projects"`
	}
	a.query(`{ projects(filter: {name: "innowacyjny model aktywizacji"}) { nodes {
		name leaders { nodes { name sector } } partners { nodes { name sector } }
		partnerships { nodes { sectorMix { sectors isFull } members { nodes { role sector member { name } } } } } } } }`, nil, &got)
	if len(got.Projects.Nodes) != 1 {
		t.Fatalf("projects named like the project: %d, want 1", len(got.Projects.Nodes))
	}
	p := got.Projects.Nodes[0]
	if p.Name != "Innowacyjny model aktywizacji zawodowej uczestników WTZ" {
		t.Errorf("project name %q", p.Name)
	}
	if len(p.Leaders) != 1 || p.Leaders[0] != (named{"Stowarzyszenie Na Rzecz Spółdzielni Socjalnych", "SOCIAL"}) {
		t.Errorf("leaders: got %v, want the association (SOCIAL)", p.Leaders)
	}
	wantPartners := []named{{"Konimpex Sp. z o.o.", "PRIVATE"}, {"Regionalny Ośrodek Polityki Społecznej w Poznaniu", "PUBLIC"}}
	slices.SortFunc(p.Partners, func(x, y named) int { return strings.Compare(x.Name, y.Name) })
	if !slices.Equal(p.Partners, wantPartners) {
		t.Errorf("partners: got %v, want %v", p.Partners, wantPartners)
	}
	if len(p.Partnerships) != 1 {
		t.Fatalf("partnerships around the project: %d, want 1", len(p.Partnerships))
	}
	ps := p.Partnerships[0]
	if !ps.SectorMix.IsFull || !slices.Equal(ps.SectorMix.Sectors, []string{"PUBLIC", "SOCIAL", "PRIVATE"}) {
		t.Errorf("sector mix: %+v, want a full three-sector partnership", ps.SectorMix)
	}
	leaders := 0
	for _, m := range ps.Members {
		if m.Role == "LEADER" {
			leaders++
			if m.Sector != "SOCIAL" {
				t.Errorf("the leader %q is %s, want SOCIAL", m.Member.Name, m.Sector)
			}
		}
	}
	if len(ps.Members) != 3 || leaders != 1 {
		t.Errorf("members: %+v, want three with one SOCIAL leader", ps.Members)
	}
}

func TestReferenceDataSwedishStudyVisit(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var got struct {
		Events struct {
			Nodes []struct {
				Name    string `json:"name"`
				Status  string `json:"eventStatus"`
				Visited page[struct {
					Name    string `json:"name"`
					City    string `json:"city"`
					Country string `json:"country"`
				}] `json:"visited"`
			} `json:"nodes"`
		} `json:"events"`
	}
	a.query(`{ events(filter: {kind: [STUDY_VISIT], country: "SE"}) { nodes {
		name eventStatus visited { nodes { name ... on ForeignExample { city country } } } } } }`, nil, &got)
	if len(got.Events.Nodes) != 1 {
		t.Fatalf("study visits in Sweden: %d, want 1", len(got.Events.Nodes))
	}
	visit := got.Events.Nodes[0]
	want := map[string]string{
		"Coompanion": "Stockholm", "Franstorps Verkstäder": "Sundbyberg", "Ateljé Inuti": "Stockholm",
		"Kooperativet Industrihuset": "Rimbo", "Roslagens Ekonomiska Förening": "Rimbo",
		"Kooperativet KOS": "Stockholm", "Kooperativet Glöden": "Stockholm",
	}
	if visit.Status != "HELD" || len(visit.Visited) != len(want) {
		t.Fatalf("visit %q (%s) saw %d organisations, want HELD and %d", visit.Name, visit.Status, len(visit.Visited), len(want))
	}
	for _, v := range visit.Visited {
		if want[v.Name] != v.City || v.Country != "SE" {
			t.Errorf("visited %q in %q, %q; want city %q, SE", v.Name, v.City, v.Country, want[v.Name])
		}
	}
}

func TestReferenceDataWTZGebiceFoundsRowneSzanse(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var got struct {
		Partners struct {
			Nodes []struct {
				Name         string `json:"name"`
				Cooperatives page[struct {
					Name       string      `json:"name"`
					Status     string      `json:"status"`
					Activities []string    `json:"activities"`
					Founders   page[named] `json:"founders"`
					Workshops  page[named] `json:"workshops"`
					Indicators []struct {
						Name   string  `json:"name"`
						Value  float64 `json:"value"`
						Source struct {
							Locator string `json:"locator"`
							Source  named  `json:"source"`
						} `json:"source"`
					} `json:"indicators"`
				}] `json:"cooperatives"`
			} `json:"nodes"`
		} `json:"partners"`
	}
	// Typed without diacritics, as people do.
	a.query(`{ partners(filter: {name: "gebicach", kind: [OCCUPATIONAL_THERAPY_WORKSHOP]}) { nodes { name cooperatives { nodes {
		name status activities founders { nodes { name } } workshops { nodes { name } }
		indicators { name value source { locator source { name } } } } } } } }`, nil, &got)
	if len(got.Partners.Nodes) != 1 || len(got.Partners.Nodes[0].Cooperatives) != 1 {
		t.Fatalf("WTZ Gębice and its cooperatives: %+v", got.Partners.Nodes)
	}
	c := got.Partners.Nodes[0].Cooperatives[0]
	if c.Name != "Spółdzielnia Socjalna „Równe Szanse”" || c.Status != "INITIATIVE_GROUP" || !slices.Equal(c.Activities, []string{"CERAMICS"}) {
		t.Errorf("cooperative: %q %s %v, want Równe Szanse, INITIATIVE_GROUP, CERAMICS", c.Name, c.Status, c.Activities)
	}
	wtz := "Warsztat Terapii Zajęciowej w Gębicach"
	if len(c.Founders) != 1 || c.Founders[0].Name != wtz || len(c.Workshops) != 1 || c.Workshops[0].Name != wtz {
		t.Errorf("founders %v, workshops %v; want WTZ Gębice in both", c.Founders, c.Workshops)
	}
	values := map[string]float64{}
	for _, in := range c.Indicators {
		values[in.Name] = in.Value
		if in.Source.Source.Name == "" || in.Source.Locator == "" {
			t.Errorf("indicator %s has no source: %+v", in.Name, in.Source)
		}
	}
	if values["JOBS_PLANNED"] != 8 || values["WTZ_JOBS_PLANNED"] != 5 {
		t.Errorf("indicators %v, want 8 jobs planned of which 5 for WTZ participants", values)
	}
}

func TestPracticeShowsItsCasesPartnersAndRecognition(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var got struct {
		GoodPractices struct {
			Nodes []struct {
				Name         string      `json:"name"`
				Cases        page[named] `json:"cases"`
				Partners     page[named] `json:"partners"`
				RecognisedIn page[named] `json:"recognizedIn"`
			} `json:"nodes"`
		} `json:"goodPractices"`
	}
	a.query(`{ goodPractices(filter: {name: "praktyki, staze"}) { nodes { name cases { nodes { name } } partners { nodes { name sector } } recognizedIn { nodes { name } } } } }`, nil, &got)
	if len(got.GoodPractices.Nodes) != 1 {
		t.Fatalf("practices: %+v", got.GoodPractices.Nodes)
	}
	p := got.GoodPractices.Nodes[0]
	caseNames := names(p.Cases)
	for _, want := range []string{"Innowacyjny model aktywizacji zawodowej uczestników WTZ", "Spółdzielnia Socjalna „Równe Szanse”"} {
		if !contains(caseNames, want) {
			t.Errorf("cases %v lack %q", caseNames, want)
		}
	}
	partnerNames := names(p.Partners)
	for _, want := range []string{"Konimpex Sp. z o.o.", "Regionalny Ośrodek Polityki Społecznej w Poznaniu", "Warsztat Terapii Zajęciowej w Gębicach"} {
		if !contains(partnerNames, want) {
			t.Errorf("partners behind the practice %v lack %q", partnerNames, want)
		}
	}
	if len(p.RecognisedIn) != 1 || !strings.HasPrefix(p.RecognisedIn[0].Name, "Krajowy Program Przeciwdziałania Ubóstwu") {
		t.Errorf("recognised in %v, want the national programme", p.RecognisedIn)
	}
}

func TestLinksReadBothWaysWithInverseLabels(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	type link struct {
		Type      string `json:"type"`
		Label     string `json:"label"`
		Direction string `json:"direction"`
		Node      named  `json:"node"`
		Sources   []struct {
			Locator string `json:"locator"`
		} `json:"sources"`
	}
	var got struct {
		Entity struct {
			Out struct {
				TotalCount int    `json:"totalCount"`
				Nodes      []link `json:"nodes"`
			} `json:"out"`
			In struct {
				Nodes []link `json:"nodes"`
			} `json:"in"`
		} `json:"entityByKey"`
	}
	a.query(`{ entityByKey(key: "spoldzielnia-socjalna-rowne-szanse") {
		out: links(direction: OUTGOING, types: [EMPLOYS_PARTICIPANTS_OF]) { totalCount nodes { type label direction node { name } sources { locator } } }
		in: links(direction: INCOMING, types: [FOUNDED]) { nodes { type label direction node { name } } } } }`, nil, &got)
	out, in := got.Entity.Out.Nodes, got.Entity.In.Nodes
	if got.Entity.Out.TotalCount != 1 || len(out) != 1 || out[0].Label != "employs participants of" || out[0].Direction != "OUTGOING" ||
		out[0].Node.Name != "Warsztat Terapii Zajęciowej w Gębicach" || len(out[0].Sources) == 0 {
		t.Errorf("outgoing: %+v (total %d)", out, got.Entity.Out.TotalCount)
	}
	if len(in) != 1 || in[0].Label != "founded by" || in[0].Direction != "INCOMING" || in[0].Node.Name != "Warsztat Terapii Zajęciowej w Gębicach" {
		t.Errorf("incoming: %+v", in)
	}
}

type pageInfo struct {
	HasNextPage     bool   `json:"hasNextPage"`
	HasPreviousPage bool   `json:"hasPreviousPage"`
	StartCursor     string `json:"startCursor"`
	EndCursor       string `json:"endCursor"`
}

type partnerPage struct {
	Partners struct {
		TotalCount int `json:"totalCount"`
		Edges      []struct {
			Cursor string `json:"cursor"`
			Node   named  `json:"node"`
		} `json:"edges"`
		PageInfo pageInfo `json:"pageInfo"`
	} `json:"partners"`
}

func TestPartnersPageForwardAndBackward(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	const q = `query($first: Int, $after: String, $last: Int, $before: String) {
		partners(first: $first, after: $after, last: $last, before: $before) {
			totalCount edges { cursor node { name sector } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	var all partnerPage
	a.query(q, map[string]any{"first": 100}, &all)
	total := all.Partners.TotalCount
	if total != 7 || len(all.Partners.Edges) != 7 || all.Partners.PageInfo.HasNextPage {
		t.Fatalf("all partners: total %d, %d edges, next %v; want 7, 7, false", total, len(all.Partners.Edges), all.Partners.PageInfo.HasNextPage)
	}
	var walked []string
	vars := map[string]any{"first": 3}
	for pages := 0; ; pages++ {
		var p partnerPage
		a.query(q, vars, &p)
		for _, e := range p.Partners.Edges {
			walked = append(walked, e.Node.Name)
		}
		if !p.Partners.PageInfo.HasNextPage {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		vars = map[string]any{"first": 3, "after": p.Partners.PageInfo.EndCursor}
	}
	want := names(nodes(all))
	if !slices.Equal(walked, want) {
		t.Fatalf("pages of 3: %v, want %v", walked, want)
	}
	// Backwards from the end: the last 2 before the last one.
	var back partnerPage
	a.query(q, map[string]any{"last": 2, "before": all.Partners.Edges[6].Cursor}, &back)
	if got := names(nodes(back)); !slices.Equal(got, want[4:6]) || !back.Partners.PageInfo.HasPreviousPage || !back.Partners.PageInfo.HasNextPage {
		t.Fatalf("last 2 before the 7th: %v %+v, want %v with pages both sides", got, back.Partners.PageInfo, want[4:6])
	}
}

func nodes(p partnerPage) []named {
	out := make([]named, len(p.Partners.Edges))
	for i, e := range p.Partners.Edges {
		out[i] = e.Node
	}
	return out
}

func TestNodeFetchesEveryKindByGlobalID(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var list struct {
		Partners        struct{ Nodes []struct{ ID string } } `json:"partners"`
		Cooperatives    struct{ Nodes []struct{ ID string } } `json:"cooperatives"`
		ForeignExamples struct{ Nodes []struct{ ID string } } `json:"foreignExamples"`
		Sources         struct{ Nodes []struct{ ID string } } `json:"sources"`
		People          struct{ Nodes []struct{ ID string } } `json:"people"`
	}
	a.query(`{ partners(first: 1) { nodes { id } } cooperatives(first: 1) { nodes { id } }
		foreignExamples(first: 1) { nodes { id } } sources(first: 1) { nodes { id } } people(first: 1) { nodes { id } } }`, nil, &list)
	ids := []string{list.Partners.Nodes[0].ID, list.Cooperatives.Nodes[0].ID, list.ForeignExamples.Nodes[0].ID,
		list.Sources.Nodes[0].ID, list.People.Nodes[0].ID}
	var got struct {
		Nodes []struct {
			ID       string `json:"id"`
			Typename string `json:"__typename"`
		} `json:"nodes"`
	}
	a.query(`query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }`, map[string]any{"ids": append(ids, "UGFydG5lcjo5OTk5OTk")}, &got)
	wantTypes := []string{"Partner", "Cooperative", "ForeignExample", "Source", "Person"}
	if len(got.Nodes) != 6 {
		t.Fatalf("nodes: %+v", got.Nodes)
	}
	for i, want := range wantTypes {
		if got.Nodes[i].ID != ids[i] || got.Nodes[i].Typename != want {
			t.Errorf("nodes[%d] = %+v, want %s %s", i, got.Nodes[i], ids[i], want)
		}
	}
	if got.Nodes[5].ID != "" {
		t.Errorf("a valid ID of a missing partner: %+v, want null", got.Nodes[5])
	}
}

func TestErrorsCarryCodesAndNoInternals(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	for _, tc := range []struct {
		name, query, code, inMessage string
	}{
		{"malformed ID", `{ node(id: "not-an-id") { id } }`, server.CodeBadUserInput, "not a valid ID"},
		{"page size over the cap", `{ partners(first: 1000) { totalCount } }`, server.CodeBadUserInput, "at most 100"},
		{"negative page size", `{ partners(first: -1) { totalCount } }`, server.CodeBadUserInput, "must not be negative"},
		{"negative last", `{ partners(first: 1, last: -1) { totalCount } }`, server.CodeBadUserInput, "must not be negative"},
		{"foreign cursor", `{ partners(after: "eyJvIjoiQ1JFQVRFRF9BVF9BU0MiLCJpIjoxfQ") { totalCount } }`, server.CodeBadUserInput, "another ordering"},
		{"syntax error", `{ partners(first: 1) { totalCount }`, server.CodeBadUserInput, "Expected"},
		{"unknown field", `{ partners { nope } }`, server.CodeBadUserInput, "Cannot query field"},
		{"unknown enum value", `{ partners(filter: {sector: [CHURCH]}) { totalCount } }`, server.CodeBadUserInput, "CHURCH"},
		{"too many nodes", `{ nodes(ids: [` + strings.Repeat(`"UGFydG5lcjox",`, 101) + `]) { id } }`, server.CodeBadUserInput, "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := a.fail(tc.query, nil)
			if e.Extensions["code"] != tc.code || !strings.Contains(e.Message, tc.inMessage) {
				t.Errorf("error %q %v, want code %s and a message with %q", e.Message, e.Extensions, tc.code, tc.inMessage)
			}
		})
	}
	t.Run("database error", func(t *testing.T) {
		if _, err := a.Pool.Exec(context.Background(), `DROP VIEW entity_full`); err != nil {
			t.Fatal(err)
		}
		e := a.fail(`{ partners { totalCount } }`, nil)
		if e.Extensions["code"] != server.CodeInternal {
			t.Errorf("code %v, want INTERNAL", e.Extensions["code"])
		}
		for _, leak := range []string{"entity_full", "SQL", "relation", "SELECT", "goroutine"} {
			if strings.Contains(e.Message, leak) {
				t.Errorf("message %q leaks %q", e.Message, leak)
			}
		}
		if e.Extensions["requestId"] == "" || !strings.Contains(e.Message, e.Extensions["requestId"].(string)) {
			t.Errorf("message %q does not name the request ID %v", e.Message, e.Extensions["requestId"])
		}
	})
}

func TestGETQueriesAndBodyLimit(t *testing.T) {
	a := newAPI(t, "reference", server.Config{MaxBodyBytes: 1024})
	res, err := http.Get(a.URL + "/graphql?query=" + url.QueryEscape(`{ cooperatives { totalCount } }`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET query: status %d, want 200", res.StatusCode)
	}
	res, err = http.Post(a.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{ partners { totalCount } }","x":"`+strings.Repeat("a", 2000)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 KB body over a 1 KB limit: status %d, want 413", res.StatusCode)
	}
}

func TestCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	a := newAPI(t, "reference", server.Config{CORSOrigins: []string{"https://portal.example.org", "https://*.ngo.example"}})
	for _, tc := range []struct {
		origin  string
		allowed bool
	}{
		{"https://portal.example.org", true},
		{"https://wtz.ngo.example", true},
		{"https://evil.example.com", false},
	} {
		req, _ := http.NewRequest(http.MethodOptions, a.URL+"/graphql", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := res.Header.Get("Access-Control-Allow-Origin")
		if tc.allowed && (got != tc.origin || res.Header.Get("Access-Control-Max-Age") == "") {
			t.Errorf("preflight from %s: allow-origin %q, max-age %q; want the origin and a max-age", tc.origin, got, res.Header.Get("Access-Control-Max-Age"))
		}
		if !tc.allowed && got != "" {
			t.Errorf("preflight from %s: allow-origin %q, want none", tc.origin, got)
		}
		if creds := res.Header.Get("Access-Control-Allow-Credentials"); creds != "" {
			t.Errorf("preflight from %s: allow-credentials %q, want none unless configured", tc.origin, creds)
		}
	}
}

func TestCORSCredentialsOnlyWhereConfigured(t *testing.T) {
	a := newAPI(t, "reference", server.Config{CORSOrigins: []string{"https://portal.example.org"}, CORSCredentials: true})
	for _, tc := range []struct {
		origin string
		creds  string
	}{
		{"https://portal.example.org", "true"},
		{"https://evil.example.com", ""},
	} {
		req, _ := http.NewRequest(http.MethodOptions, a.URL+"/graphql", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Credentials"); got != tc.creds {
			t.Errorf("preflight from %s: allow-credentials %q, want %q", tc.origin, got, tc.creds)
		}
	}
}

func TestHealthReadinessAndExplorer(t *testing.T) {
	ready := error(nil)
	a := newAPI(t, "reference", server.Config{Ready: func(context.Context) error { return ready }})
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, `"alive"`},
		{"/readyz", 200, `"ready"`},
		{"/", 200, "<title>partnergraph"},
		{"/nope", 404, ""},
	} {
		res, err := http.Get(a.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("GET %s: %d %.80q, want %d with %q", tc.path, res.StatusCode, body, tc.status, tc.body)
		}
	}
	ready = context.DeadlineExceeded
	res, err := http.Get(a.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz while not ready: %d, want 503", res.StatusCode)
	}
}

package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

// idOf returns the global ID of the entity with the stable key.
func idOf(a *api, key string) string {
	a.t.Helper()
	var got struct {
		E struct {
			ID string `json:"id"`
		} `json:"entityByKey"`
	}
	a.query(`query($k: String!) { entityByKey(key: $k) { id } }`, map[string]any{"k": key}, &got)
	if got.E.ID == "" {
		a.t.Fatalf("no entity with key %q", key)
	}
	return got.E.ID
}

type pathLink struct {
	Type      string `json:"type"`
	Direction string `json:"direction"`
	Label     string `json:"label"`
	Node      struct {
		Name string `json:"name"`
	} `json:"node"`
	Sources []struct {
		Source struct {
			Name string `json:"name"`
		} `json:"source"`
	} `json:"sources"`
}

type pathResult struct {
	Length int     `json:"length"`
	Nodes  []named `json:"nodes"`
	Links  []pathLink
}

const pathFields = `length nodes { name } links { type direction label node { name } sources { source { name } } }`

func TestPathFromCoompanionToWTZGebice(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var got struct {
		Path *pathResult `json:"path"`
	}
	a.query(`query($f: ID!, $t: ID!) { path(from: $f, to: $t) { `+pathFields+` } }`,
		map[string]any{"f": idOf(a, "coompanion"), "t": idOf(a, "wtz-gebice")}, &got)
	p := got.Path
	if p == nil {
		t.Fatal("no path from Coompanion to WTZ Gębice, want one through the study visit and the project")
	}
	wantNodes := []string{"Coompanion", "Warsztaty Wymiany Doświadczeń w Szwecji",
		"Innowacyjny model aktywizacji zawodowej uczestników WTZ", "Warsztat Terapii Zajęciowej w Gębicach"}
	if !slices.Equal(names(p.Nodes), wantNodes) || p.Length != 3 {
		t.Fatalf("path %v (length %d), want %v (length 3)", names(p.Nodes), p.Length, wantNodes)
	}
	wantLinks := []struct{ typ, dir, label string }{
		{"VISITED", "INCOMING", "visited on"},
		{"PART_OF", "OUTGOING", "part of"},
		{"PARTICIPATED_IN", "INCOMING", "had participant"},
	}
	for i, w := range wantLinks {
		l := p.Links[i]
		if l.Type != w.typ || l.Direction != w.dir || l.Label != w.label || l.Node.Name != wantNodes[i+1] {
			t.Errorf("link %d: %s %s %q to %q, want %s %s %q to %q", i, l.Type, l.Direction, l.Label, l.Node.Name, w.typ, w.dir, w.label, wantNodes[i+1])
		}
		if len(l.Sources) == 0 {
			t.Errorf("link %d (%s) cites no source", i, l.Type)
		}
	}
}

func TestPathIsNullBeyondMaxDepthOrRelations(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	vars := map[string]any{"f": idOf(a, "coompanion"), "t": idOf(a, "wtz-gebice")}
	for _, q := range []string{
		`query($f: ID!, $t: ID!) { path(from: $f, to: $t, maxDepth: 2) { length } }`,
		`query($f: ID!, $t: ID!) { path(from: $f, to: $t, relations: [VISITED, PART_OF]) { length } }`,
	} {
		var got struct {
			Path *pathResult `json:"path"`
		}
		a.query(q, vars, &got)
		if got.Path != nil {
			t.Errorf("%s: got a path of %d, want null", q, got.Path.Length)
		}
	}
}

func TestPathsGivesDistinctRoutesShortestFirst(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var got struct {
		Paths []pathResult `json:"paths"`
	}
	a.query(`query($f: ID!, $t: ID!) { paths(from: $f, to: $t, k: 4) { `+pathFields+` } }`,
		map[string]any{"f": idOf(a, "coompanion"), "t": idOf(a, "wtz-gebice")}, &got)
	if len(got.Paths) != 4 {
		t.Fatalf("got %d paths, want 4", len(got.Paths))
	}
	seen := map[string]bool{}
	for i, p := range got.Paths {
		if i > 0 && p.Length < got.Paths[i-1].Length {
			t.Errorf("path %d is shorter (%d) than the one before (%d)", i, p.Length, got.Paths[i-1].Length)
		}
		ns := names(p.Nodes)
		if ns[0] != "Coompanion" || ns[len(ns)-1] != "Warsztat Terapii Zajęciowej w Gębicach" || len(p.Links) != p.Length || len(ns) != p.Length+1 {
			t.Errorf("path %d: %v with %d links, want Coompanion to WTZ Gębice", i, ns, len(p.Links))
		}
		key := strings.Join(ns, " > ")
		for _, l := range p.Links {
			key += "|" + l.Type
		}
		if seen[key] {
			t.Errorf("path %d repeats %s", i, key)
		}
		seen[key] = true
		inPath := map[string]bool{}
		for _, n := range ns {
			if inPath[n] {
				t.Errorf("path %d visits %s twice", i, n)
			}
			inPath[n] = true
		}
	}
	if got.Paths[0].Length != 3 {
		t.Errorf("shortest path length %d, want 3", got.Paths[0].Length)
	}
}

func TestNeighborhoodOfRowneSzanse(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	id := idOf(a, "spoldzielnia-socjalna-rowne-szanse")
	type hood struct {
		Center    named   `json:"center"`
		Nodes     []named `json:"nodes"`
		Links     []pathLink
		Truncated bool `json:"truncated"`
	}
	var got struct {
		N *hood `json:"neighborhood"`
	}
	q := `query($id: ID!, $d: Int, $l: Int, $r: [RelationType!], $t: [EntityKind!]) {
		neighborhood(id: $id, depth: $d, limit: $l, relations: $r, types: $t) {
			center { name } nodes { name } truncated
			links { type direction label node { name } sources { source { name } } } } }`
	a.query(q, map[string]any{"id": id}, &got)
	n := got.N
	if n == nil || n.Center.Name != "Spółdzielnia Socjalna „Równe Szanse”" {
		t.Fatalf("neighbourhood %+v, want the one of Równe Szanse", n)
	}
	wantNodes := []string{"Spółdzielnia Socjalna „Równe Szanse”", "Innowacyjny model aktywizacji zawodowej uczestników WTZ",
		"Model aktywizacji zawodowej uczestników WTZ poprzez tworzenie spółdzielni socjalnych",
		"Warsztat Terapii Zajęciowej w Gębicach"}
	gotNodes := names(n.Nodes)
	if gotNodes[0] != wantNodes[0] {
		t.Errorf("first node %q, want the centre", gotNodes[0])
	}
	slices.Sort(gotNodes[1:])
	if len(gotNodes) != 4 || !strings.HasPrefix(gotNodes[2], "Model aktywizacji") || gotNodes[1] != wantNodes[1] || gotNodes[3] != wantNodes[3] {
		t.Errorf("nodes %v, want %v", gotNodes, wantNodes)
	}
	var types []string
	for _, l := range n.Links {
		types = append(types, l.Type+" "+l.Direction)
		if len(l.Sources) == 0 {
			t.Errorf("link %s cites no source", l.Type)
		}
	}
	slices.Sort(types)
	wantTypes := []string{"DEMONSTRATES OUTGOING", "EMPLOYS_PARTICIPANTS_OF OUTGOING", "FOUNDED INCOMING", "SUPPORTS INCOMING"}
	if !slices.Equal(types, wantTypes) || n.Truncated {
		t.Errorf("links %v truncated %v, want %v, not truncated", types, n.Truncated, wantTypes)
	}

	// Depth 2 reaches the project's partners; types keep to partners.
	a.query(q, map[string]any{"id": id, "d": 2, "t": []string{"PARTNER"}}, &got)
	if ns := names(got.N.Nodes); len(ns) != 2 || ns[1] != "Warsztat Terapii Zajęciowej w Gębicach" {
		t.Errorf("depth 2, partners only: %v, want the centre and WTZ Gębice (partners reached only through partners)", ns)
	}
	a.query(q, map[string]any{"id": id, "d": 2}, &got)
	all := names(got.N.Nodes)
	for _, want := range []string{"Konimpex Sp. z o.o.", "Regionalny Ośrodek Polityki Społecznej w Poznaniu", "Jolanta Grzech"} {
		if !slices.Contains(all, want) {
			t.Errorf("depth 2: %v lacks %s", all, want)
		}
	}
	a.query(q, map[string]any{"id": id, "d": 2, "l": 3}, &got)
	if len(got.N.Nodes) != 3 || !got.N.Truncated {
		t.Errorf("limit 3: %d nodes, truncated %v; want 3, truncated", len(got.N.Nodes), got.N.Truncated)
	}
	for _, l := range got.N.Links {
		if !slices.Contains(names(got.N.Nodes), l.Node.Name) {
			t.Errorf("limit 3: link %s to %s, which is not among the nodes", l.Type, l.Node.Name)
		}
	}
	a.query(q, map[string]any{"id": id, "r": []string{"FOUNDED"}}, &got)
	if ns := names(got.N.Nodes); len(ns) != 2 || len(got.N.Links) != 1 {
		t.Errorf("FOUNDED only: %v with %d links, want the centre and its founder with 1", ns, len(got.N.Links))
	}
}

func TestSectorMixOfPartnershipsAndCooperatives(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	count := func(q string) int {
		t.Helper()
		var got map[string]struct {
			TotalCount int `json:"totalCount"`
		}
		a.query(q, nil, &got)
		for _, v := range got {
			return v.TotalCount
		}
		return -1
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{`{ partnerships(filter: {sectorMix: {full: true}}) { totalCount } }`, 1},
		{`{ partnerships(filter: {sectorMix: {full: false}}) { totalCount } }`, 0},
		{`{ partnerships(filter: {sectorMix: {missing: [PRIVATE]}}) { totalCount } }`, 0},
		{`{ partnerships(filter: {sectorMix: {includes: [PUBLIC, PRIVATE]}}) { totalCount } }`, 1},
		{`{ cooperatives(filter: {sectorMix: {full: true}}) { totalCount } }`, 1},
		{`{ cooperatives(filter: {sectorMix: {missing: [SOCIAL]}}) { totalCount } }`, 0},
		{`{ cooperatives(filter: {sectorMix: {full: true}, name: "nie ma takiej"}) { totalCount } }`, 0},
	} {
		if got := count(tc.query); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.query, got, tc.want)
		}
	}
	var got struct {
		Cooperatives struct {
			Nodes []struct {
				Name      string `json:"name"`
				SectorMix struct {
					Counts []struct {
						Sector string `json:"sector"`
						Count  int    `json:"count"`
					} `json:"counts"`
					IsFull bool `json:"isFull"`
				} `json:"sectorMix"`
			} `json:"nodes"`
		} `json:"cooperatives"`
	}
	a.query(`{ cooperatives(filter: {sectorMix: {full: true}}) { nodes { name sectorMix { counts { sector count } isFull } } } }`, nil, &got)
	c := got.Cooperatives.Nodes[0]
	// WTZ Gębice founded it and the association leads the partnership of
	// the project that supports it: two SOCIAL; ROPS PUBLIC; Konimpex PRIVATE.
	counts := map[string]int{}
	for _, sc := range c.SectorMix.Counts {
		counts[sc.Sector] = sc.Count
	}
	if !c.SectorMix.IsFull || counts["PUBLIC"] != 1 || counts["SOCIAL"] != 2 || counts["PRIVATE"] != 1 {
		t.Errorf("%s: sector mix %+v, want full with PUBLIC 1, SOCIAL 2, PRIVATE 1", c.Name, c.SectorMix)
	}
}

func TestAggregateGroupsWithTheListFilters(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	type agg struct {
		TotalCount int `json:"totalCount"`
		Groups     []struct {
			Key   []*string `json:"key"`
			Count int       `json:"count"`
		} `json:"groups"`
	}
	run := func(q string) map[string]int {
		t.Helper()
		var got struct {
			A agg `json:"aggregate"`
		}
		a.query(q, nil, &got)
		out := map[string]int{"total": got.A.TotalCount}
		for _, g := range got.A.Groups {
			var parts []string
			for _, k := range g.Key {
				if k == nil {
					parts = append(parts, "-")
				} else {
					parts = append(parts, *k)
				}
			}
			out[strings.Join(parts, "/")] = g.Count
		}
		return out
	}
	if got := run(`{ aggregate(kind: PARTNER, groupBy: [SECTOR]) { totalCount groups { key count } } }`); got["SOCIAL"] != 4 || got["PUBLIC"] != 2 || got["PRIVATE"] != 1 || got["total"] != 7 {
		t.Errorf("partners by sector: %v, want SOCIAL 4, PUBLIC 2, PRIVATE 1 of 7", got)
	}
	if got := run(`{ aggregate(groupBy: [KIND]) { totalCount groups { key count } } }`); got["FOREIGN_EXAMPLE"] != 7 || got["total"] != 43 {
		t.Errorf("entities by kind: %v, want 7 foreign examples of 43", got)
	}
	if got := run(`{ aggregate(kind: FOREIGN_EXAMPLE, groupBy: [COUNTRY, CITY], filter: {name: "kooperativet"}) { totalCount groups { key count } } }`); got["total"] != 3 {
		t.Errorf("Kooperativet by country and city: %v, want 3 in all", got)
	}
	if got := run(`{ aggregate(kind: COOPERATIVE, groupBy: [ACTIVITY, STATUS], filter: {sectorMix: {full: true}}) { totalCount groups { key count } } }`); got["total"] != 1 || got["CERAMICS/INITIATIVE_GROUP"] != 1 {
		t.Errorf("cooperatives on a full partnership by activity and status: %v, want Równe Szanse (ceramics, initiative group)", got)
	}
	if got := run(`{ aggregate(kind: PARTNER, groupBy: []) { totalCount groups { key count } } }`); got["total"] != 7 || got[""] != 7 {
		t.Errorf("partners, no grouping: %v, want one group of 7", got)
	}
}

func TestMostConnected(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var got struct {
		M []struct {
			Node   named `json:"node"`
			Degree int   `json:"degree"`
		} `json:"mostConnected"`
	}
	a.query(`{ mostConnected(first: 2) { node { name } degree } }`, nil, &got)
	if len(got.M) != 2 || got.M[0].Node.Name != "Innowacyjny model aktywizacji zawodowej uczestników WTZ" || got.M[0].Degree < got.M[1].Degree {
		t.Errorf("most connected: %+v, want the project first", got.M)
	}
	a.query(`{ mostConnected(relations: [VISITED], types: [EVENT], first: 5) { node { name } degree } }`, nil, &got)
	if len(got.M) != 1 || got.M[0].Degree != 7 {
		t.Errorf("events by visits: %+v, want the Swedish study visit with 7", got.M)
	}
}

func TestExplorationLimitsAndErrors(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	id := idOf(a, "coompanion")
	for _, tc := range []struct {
		name, query, code, inMessage string
	}{
		{"depth over the cap", `query($id: ID!) { neighborhood(id: $id, depth: 4) { truncated } }`, server.CodeBadUserInput, "depth: is 4, at most 3"},
		{"depth zero", `query($id: ID!) { neighborhood(id: $id, depth: 0) { truncated } }`, server.CodeBadUserInput, "at least 1"},
		{"limit over the cap", `query($id: ID!) { neighborhood(id: $id, limit: 5000) { truncated } }`, server.CodeBadUserInput, "limit: is 5000, at most 1000"},
		{"path too deep", `query($id: ID!) { path(from: $id, to: $id, maxDepth: 7) { length } }`, server.CodeBadUserInput, "maxDepth: is 7, at most 6"},
		{"too many paths", `query($id: ID!) { paths(from: $id, to: $id, k: 11) { length } }`, server.CodeBadUserInput, "k: is 11, at most 10"},
		{"link ID as an end", `query($id: ID!) { path(from: $id, to: "TGluazox") { length } }`, server.CodeBadUserInput, "is the ID of a Link, not of an entity"},
		{"too many group fields", `{ aggregate(groupBy: [KIND, SECTOR, COUNTRY, REGION]) { totalCount } }`, server.CodeBadUserInput, "at most 3"},
		{"group field twice", `{ aggregate(groupBy: [KIND, KIND]) { totalCount } }`, server.CodeBadUserInput, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := a.fail(tc.query, map[string]any{"id": id})
			if e.Extensions["code"] != tc.code || !strings.Contains(e.Message, tc.inMessage) {
				t.Errorf("error %q %v, want code %s and a message with %q", e.Message, e.Extensions, tc.code, tc.inMessage)
			}
		})
	}
	var got struct {
		N *struct{ Truncated bool } `json:"neighborhood"`
		P *pathResult               `json:"path"`
	}
	a.query(`{ neighborhood(id: "UGFydG5lcjo5OTk5OQ") { truncated } path(from: "UGFydG5lcjo5OTk5OQ", to: "UGFydG5lcjo5OTk5OQ") { length } }`, nil, &got)
	if got.N != nil || got.P != nil {
		t.Errorf("unknown entity: neighbourhood %+v path %+v, want null", got.N, got.P)
	}
}

func TestDraftsStayOutOfPathsAndNeighbourhoods(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	if _, err := a.Pool.Exec(context.Background(),
		`UPDATE entity SET status = 'DRAFT' WHERE key = 'projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz'`); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Path *pathResult `json:"path"`
		N    struct {
			Nodes []named `json:"nodes"`
		} `json:"neighborhood"`
	}
	a.query(`query($f: ID!, $t: ID!) { path(from: $f, to: $t) { `+pathFields+` }
		neighborhood(id: $t, depth: 2) { nodes { name } } }`,
		map[string]any{"f": idOf(a, "coompanion"), "t": idOf(a, "wtz-gebice")}, &got)
	project := "Innowacyjny model aktywizacji zawodowej uczestników WTZ"
	if got.Path == nil || got.Path.Length != 4 || slices.Contains(names(got.Path.Nodes), project) {
		t.Errorf("path with the project in draft: %+v, want one of 4 links around it", got.Path)
	}
	if slices.Contains(names(got.N.Nodes), project) {
		t.Errorf("neighbourhood of WTZ Gębice shows the draft project: %v", names(got.N.Nodes))
	}
}

// TestPathReportsErrors: a path whose walk fails answers with the error,
// not with a silent null as if there were no path.
func TestPathReportsErrors(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	from, to := idOf(a, "coompanion"), idOf(a, "wtz-gebice")
	a.Pool.Close() // every query fails from now on
	status, r := a.post(`query($f: ID!, $t: ID!) { path(from: $f, to: $t) { length } }`, map[string]any{"f": from, "t": to})
	if len(r.Errors) == 0 {
		t.Fatalf("path with the database gone: %d %s and no error, want an error", status, r.Data)
	}
	if code := r.Errors[0].Extensions["code"]; code == nil || code == "" {
		t.Errorf("path error %+v has no code", r.Errors[0])
	}
}

// TestNeighborhoodNodesNarrowOrFull: a neighbourhood's nodes are read from
// the entity row alone when the query asks for no more (store.EntityHeads),
// and in full otherwise; both answers agree on what both show, fragments
// included, and a field of a kind's own table still has its value.
func TestNeighborhoodNodesNarrowOrFull(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	id := idOf(a, "spoldzielnia-socjalna-rowne-szanse")
	type node struct {
		Typename    string `json:"__typename"`
		ID          string `json:"id"`
		Key         string `json:"key"`
		Kind        string `json:"kind"`
		Name        string `json:"name"`
		Status      string `json:"publicationStatus"`
		Version     int    `json:"version"`
		UpdatedAt   string `json:"updatedAt"`
		Sector      string `json:"sector"`
		PartnerKind string `json:"partnerKind"`
	}
	var narrow, full, spread struct {
		N struct {
			Nodes []node `json:"nodes"`
		} `json:"neighborhood"`
		P struct {
			Nodes []node `json:"nodes"`
		} `json:"path"`
	}
	const q = `query($id: ID!, $to: ID!) { neighborhood(id: $id, depth: 2) { nodes { %s } } path(from: $id, to: $to) { nodes { %s } } }`
	vars := map[string]any{"id": id, "to": idOf(a, "coompanion")}
	// A partner's sector is kept on its entity row too, its partner kind
	// only in the partner table.
	heads := `__typename id key kind name publicationStatus version updatedAt ... on Partner { sector }`
	a.query(strings.ReplaceAll(q, "%s", heads), vars, &narrow)
	a.query(strings.ReplaceAll(q, "%s", heads+` ... on Partner { partnerKind }`), vars, &full)
	a.query(`fragment F on Entity { __typename id key kind name publicationStatus version updatedAt ... on Partner { sector } }
		`+strings.ReplaceAll(q, "%s", `...F`), vars, &spread)
	if len(narrow.N.Nodes) < 10 || len(narrow.P.Nodes) < 2 {
		t.Fatalf("%d nodes around Równe Szanse, %d on the path: too few to compare", len(narrow.N.Nodes), len(narrow.P.Nodes))
	}
	partners := 0
	for i, f := range full.N.Nodes {
		if f.Kind == "PARTNER" {
			partners++
			if f.Sector == "" || f.PartnerKind == "" {
				t.Errorf("partner %s asked with its sector and kind: %q, %q", f.Name, f.Sector, f.PartnerKind)
			}
		}
		f.PartnerKind = ""
		if i >= len(narrow.N.Nodes) || narrow.N.Nodes[i] != f || spread.N.Nodes[i] != f {
			t.Fatalf("node %d: full read %+v, narrow %+v, fragment %+v", i, f, narrow.N.Nodes[i], spread.N.Nodes[i])
		}
		if f.Typename == "" || f.UpdatedAt == "" || f.Version == 0 || f.Status != "PUBLISHED" {
			t.Errorf("node %+v lacks a field of the entity row", f)
		}
	}
	if partners == 0 {
		t.Error("no partner around Równe Szanse: the fallback to a full read is not tested")
	}
	for i, f := range full.P.Nodes {
		f.PartnerKind = ""
		if narrow.P.Nodes[i] != f || spread.P.Nodes[i] != f {
			t.Errorf("path node %d: full read %+v, narrow %+v, fragment %+v", i, f, narrow.P.Nodes[i], spread.P.Nodes[i])
		}
	}
}

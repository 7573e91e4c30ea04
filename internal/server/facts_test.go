package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// TestFuzzyDatesThroughTheAPI: an event's date goes in as EDTF and comes
// back as a FuzzyDate; the plain dates follow when the year is known; a
// malformed date, or a date given twice, is BAD_USER_INPUT naming the
// field; date filters skip unknown years.
func TestFuzzyDatesThroughTheAPI(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	in := minimalInputs["createEvent"]("Forum bez roku")
	in["when"] = "XXXX-12-24"
	unknown, _ := a.create(tok, "createEvent", in)
	in = minimalInputs["createEvent"]("Forum 2019")
	in["when"] = "2019-09-17/2019-09-19"
	known, _ := a.create(tok, "createEvent", in)

	read := `query($id: ID!) { node(id: $id) { ... on Event { startsOn endsOn
		when { edtf precision yearKnown year month day earliest latest end { edtf day } } } } }`
	var got struct {
		Node struct {
			StartsOn, EndsOn *string
			When             struct {
				Edtf, Precision  string
				YearKnown        bool
				Year, Month, Day *int
				Earliest, Latest *string
				End              *struct {
					Edtf string
					Day  int
				}
			}
		}
	}
	a.mustAs(tok, read, map[string]any{"id": known}, &got)
	w := got.Node.When
	if w.Edtf != "2019-09-17/2019-09-19" || w.Precision != "DAY" || !w.YearKnown || *w.Year != 2019 || *w.Day != 17 ||
		*w.Earliest != "2019-09-17" || *w.Latest != "2019-09-19" || w.End == nil || w.End.Day != 19 ||
		*got.Node.StartsOn != "2019-09-17" || *got.Node.EndsOn != "2019-09-19" {
		t.Errorf("a known interval: %+v", got.Node)
	}
	a.mustAs(tok, read, map[string]any{"id": unknown}, &got)
	w = got.Node.When
	if w.Edtf != "XXXX-12-24" || w.YearKnown || w.Year != nil || *w.Month != 12 || w.Earliest != nil || got.Node.StartsOn != nil {
		t.Errorf("an unknown year: %+v", got.Node)
	}

	// Changing the plain dates replaces the fuzzy one.
	var upd struct {
		U struct{ When struct{ Edtf string } } `json:"updateEvent"`
	}
	a.mustAs(tok, `mutation($id: ID!) { updateEvent(id: $id, input: {startsOn: "2020-01-02"}) { when { edtf } } }`,
		map[string]any{"id": unknown}, &upd)
	if upd.U.When.Edtf != "2020-01-02" {
		t.Errorf("after startsOn: when %q, want 2020-01-02", upd.U.When.Edtf)
	}

	for _, tc := range []struct{ query, field string }{
		{`mutation($id: ID!) { updateEvent(id: $id, input: {when: "2019-13"}) { id } }`, "when"},
		{`mutation($id: ID!) { updateEvent(id: $id, input: {when: "2019-09-19/2019-09-17"}) { id } }`, "when"},
		{`mutation($id: ID!) { updateEvent(id: $id, input: {when: "2019", startsOn: "2019-01-01"}) { id } }`, "when"},
		{`mutation($id: ID!) { updateEvent(id: $id, input: {point: {latitude: 91, longitude: 0}}) { id } }`, "event.latitude"},
	} {
		e := a.failAs(tok, tc.query, map[string]any{"id": known})
		if e.Extensions["code"] != server.CodeBadUserInput || e.Extensions["field"] != tc.field {
			t.Errorf("%s: %s %v, want BAD_USER_INPUT on %s", tc.query, e.Message, e.Extensions, tc.field)
		}
	}

	// startsAfter keeps the known 2019 event; no year-unknown event of
	// the reference data matches.
	var list struct {
		Events struct{ Nodes []struct{ Name string } }
	}
	a.mustAs(tok, `{ events(filter: {startsAfter: "2019-09-01", startsBefore: "2019-12-31"}) { nodes { name } } }`, nil, &list)
	if len(list.Events.Nodes) != 1 || list.Events.Nodes[0].Name != "Forum 2019" {
		t.Errorf("startsAfter/startsBefore: %+v, want Forum 2019 alone", list.Events.Nodes)
	}
}

// TestEventsOrderByWhenPagesThroughEveryEvent: orderBy WHEN puts known
// years first, then unknown ones by month and day, then events without a
// date, and its cursors page through them one at a time in that order.
func TestEventsOrderByWhenPagesThroughEveryEvent(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	in := minimalInputs["createEvent"]("Forum 2019")
	in["when"] = "2019-05"
	a.create(tok, "createEvent", in)
	var names []string
	var after any
	for range 10 {
		var got struct {
			Events struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Nodes []struct{ Name string }
			}
		}
		a.mustAs(tok, `query($after: String) { events(first: 1, after: $after, orderBy: {field: WHEN}) {
			pageInfo { hasNextPage endCursor } nodes { name } } }`, map[string]any{"after": after}, &got)
		for _, n := range got.Events.Nodes {
			names = append(names, n.Name)
		}
		if !got.Events.PageInfo.HasNextPage {
			break
		}
		after = got.Events.PageInfo.EndCursor
	}
	want := []string{"Forum 2019", "Szkolenia integracyjne w Łężeczkach", "Warsztaty Wymiany Doświadczeń w Szkocji"}
	if len(names) != 5 || strings.Join(names[:3], "|") != strings.Join(want, "|") {
		t.Errorf("events by WHEN: %q, want %q then the two undated ones", names, want)
	}
}

// TestMapFilters: near and within find the places of the reference data,
// an event by any of its places, and refuse impossible circles and boxes.
func TestMapFilters(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	count := func(q string) int {
		t.Helper()
		var got map[string]struct{ TotalCount int }
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
		// ROPS and WTZ „Krzemień” in Poznań.
		{`{ partners(filter: {near: {lat: 52.4, lon: 16.9, radiusKm: 10}}) { totalCount } }`, 2},
		// Stockholm, Sundbyberg and Rimbo (about 48 km from Stockholm).
		{`{ foreignExamples(filter: {near: {lat: 59.33, lon: 18.07, radiusKm: 60}}) { totalCount } }`, 7},
		{`{ foreignExamples(filter: {near: {lat: 59.33, lon: 18.07, radiusKm: 20}}) { totalCount } }`, 5},
		// The Swedish visit by its second place, Rimbo, alone.
		{`{ events(filter: {within: {south: 59.6, west: 18.2, north: 59.9, east: 18.5}}) { totalCount } }`, 1},
		// A box across the antimeridian holds nothing here.
		{`{ events(filter: {within: {south: -10, west: 170, north: 10, east: -170}}) { totalCount } }`, 0},
	} {
		if got := count(tc.query); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.query, got, tc.want)
		}
	}
	for _, tc := range []struct{ query, field string }{
		{`{ events(filter: {near: {lat: 52, lon: 16, radiusKm: 0}}) { totalCount } }`, "filter.near.radiusKm"},
		{`{ partners(filter: {near: {lat: 95, lon: 16, radiusKm: 5}}) { totalCount } }`, "filter.near.lat"},
		{`{ cooperatives(filter: {within: {south: 10, west: 0, north: 5, east: 1}}) { totalCount } }`, "filter.within.south"},
	} {
		e := a.fail(tc.query, nil)
		if e.Extensions["code"] != server.CodeBadUserInput || e.Extensions["field"] != tc.field {
			t.Errorf("%s: %s %v, want BAD_USER_INPUT on %s", tc.query, e.Message, e.Extensions, tc.field)
		}
	}
}

// TestPlacesAndLogosThroughTheAPI: a partner's point, address and logo go
// in and come back; a logo that is not an absolute http(s) URL is refused.
func TestPlacesAndLogosThroughTheAPI(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	in := minimalInputs["createPartner"]("Fundacja Mapa")
	in["city"], in["address"], in["logoUrl"] = "Poznań", "ul. Przykładowa 1, 60-001 Poznań", "https://example.org/logo.svg"
	in["point"] = map[string]any{"latitude": 52.41, "longitude": 16.93}
	id, _ := a.create(tok, "createPartner", in)
	var got struct {
		Node json.RawMessage
	}
	a.mustAs(tok, `query($id: ID!) { node(id: $id) { ... on Partner { logoUrl address point { latitude longitude } place { name address } } } }`,
		map[string]any{"id": id}, &got)
	want := `{"logoUrl":"https://example.org/logo.svg","address":"ul. Przykładowa 1, 60-001 Poznań","point":{"latitude":52.41,"longitude":16.93},"place":{"name":"Poznań","address":"ul. Przykładowa 1, 60-001 Poznań"}}`
	if string(got.Node) != want {
		t.Errorf("partner: %s, want %s", got.Node, want)
	}
	e := a.failAs(tok, `mutation($id: ID!) { updatePartner(id: $id, input: {logoUrl: "logo.png"}) { id } }`, map[string]any{"id": id})
	if e.Extensions["code"] != server.CodeBadUserInput || e.Extensions["field"] != "partner.logoUrl" {
		t.Errorf("a relative logo URL: %s %v, want BAD_USER_INPUT on partner.logoUrl", e.Message, e.Extensions)
	}
	// Clearing the point removes it from the map.
	a.mustAs(tok, `mutation($id: ID!) { updatePartner(id: $id, input: {point: null}) { id } }`, map[string]any{"id": id}, &struct{}{})
	var n struct {
		Partners struct{ TotalCount int }
	}
	a.mustAs(tok, `{ partners(filter: {near: {lat: 52.41, lon: 16.93, radiusKm: 1}}) { totalCount } }`, nil, &n)
	if n.Partners.TotalCount != 0 {
		t.Errorf("after clearing the point: %d partners near it, want 0", n.Partners.TotalCount)
	}
}

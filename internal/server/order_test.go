package server_test

import (
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// TestOrderByCountryThenNamePagesTheReferenceData: the partners of the
// reference data by country and name, one per page, come out as one list
// ordered by both keys, those without a country last; the single-object
// form of orderBy is still accepted; a field given twice or too many keys
// is BAD_USER_INPUT on orderBy.
func TestOrderByCountryThenNamePagesTheReferenceData(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	type page struct {
		Partners struct {
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
			Nodes []struct{ Name, Country string }
		}
	}
	var all page
	a.query(`{ partners(first: 100, orderBy: [{field: COUNTRY}, {field: NAME, direction: DESC}]) { nodes { name country } } }`, nil, &all)
	if len(all.Partners.Nodes) < 5 {
		t.Fatalf("got %d partners", len(all.Partners.Nodes))
	}
	for i := 1; i < len(all.Partners.Nodes); i++ {
		p, q := all.Partners.Nodes[i-1], all.Partners.Nodes[i]
		pc, qc := p.Country, q.Country
		if pc == "" {
			pc = "~"
		}
		if qc == "" {
			qc = "~"
		}
		if pc > qc || (pc == qc && kb.Fold(p.Name) < kb.Fold(q.Name)) {
			t.Errorf("%q (%s) before %q (%s): not by country, then name descending", p.Name, p.Country, q.Name, q.Country)
		}
	}
	var walked []string
	var after any
	for range 50 {
		var got page
		a.query(`query($after: String) { partners(first: 1, after: $after, orderBy: [{field: COUNTRY}, {field: NAME, direction: DESC}]) {
			pageInfo { hasNextPage endCursor } nodes { name country } } }`, map[string]any{"after": after}, &got)
		for _, n := range got.Partners.Nodes {
			walked = append(walked, n.Name)
		}
		if !got.Partners.PageInfo.HasNextPage {
			break
		}
		after = got.Partners.PageInfo.EndCursor
	}
	var want []string
	for _, n := range all.Partners.Nodes {
		want = append(want, n.Name)
	}
	if strings.Join(walked, "|") != strings.Join(want, "|") {
		t.Errorf("paged one by one:\n%q\nwant the list of one page:\n%q", walked, want)
	}
	// The single-object form is a list of one (GraphQL's input coercion).
	var one, list page
	a.query(`{ partners(first: 3, orderBy: {field: NAME, direction: DESC}) { nodes { name } } }`, nil, &one)
	a.query(`{ partners(first: 3, orderBy: [{field: NAME, direction: DESC}]) { nodes { name } } }`, nil, &list)
	if len(one.Partners.Nodes) != 3 || one.Partners.Nodes[0] != list.Partners.Nodes[0] || one.Partners.Nodes[2] != list.Partners.Nodes[2] {
		t.Errorf("single object %v, list of one %v: want the same page", one.Partners.Nodes, list.Partners.Nodes)
	}
	// A cursor of one ordering is refused by another.
	e := a.fail(`query($a: String) { partners(first: 1, after: $a, orderBy: [{field: COUNTRY}]) { totalCount } }`, map[string]any{"a": after})
	if e.Extensions["code"] != server.CodeBadUserInput || e.Extensions["field"] != "after" {
		t.Errorf("a cursor of [COUNTRY, NAME DESC] under [COUNTRY]: %s %v, want BAD_USER_INPUT on after", e.Message, e.Extensions)
	}
	for _, tc := range []struct{ query, field string }{
		{`{ partners(orderBy: [{field: NAME}, {field: NAME, direction: DESC}]) { totalCount } }`, "orderBy[1].field"},
		{`{ partners(orderBy: [{field: COUNTRY}, {field: NAME}, {field: WHEN}, {field: CREATED_AT}]) { totalCount } }`, "orderBy"},
	} {
		e := a.fail(tc.query, nil)
		if e.Extensions["code"] != server.CodeBadUserInput || e.Extensions["field"] != tc.field {
			t.Errorf("%s: %s %v, want BAD_USER_INPUT on %s", tc.query, e.Message, e.Extensions, tc.field)
		}
	}
}

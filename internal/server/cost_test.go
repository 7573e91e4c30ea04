package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

// hostile is the request of issue 11 in the connection shape: four related
// lists deep under 100 partners.
const hostile = `{ partners(first: 100, filter: {kind: [REGIONAL_CENTRE]}) { nodes { cooperatives { nodes {
	supporters { nodes { ... on Partner { cooperatives { nodes { supporters { nodes { id } } } } } } } } } } } }`

// TestQueryCostCountsWhatEachLevelMayReturn pins the cost model of
// docs/api.md: with MaxCost 1 every request is refused, and the refusal
// says what it cost.
func TestQueryCostCountsWhatEachLevelMayReturn(t *testing.T) {
	a := newAPI(t, "reference", server.Config{Limits: server.Limits{MaxCost: 1}})
	paths := func(k int) string {
		return fmt.Sprintf(`paths(from: "UGFydG5lcjox", to: "UGFydG5lcjoy", k: %d) { length nodes { name } }`, k)
	}
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		cost        float64
	}{
		// 1 + 100 × (1 + 1 + 10 × (1 + 1 + 10 × (1 + 1))): docs/api.md.
		{"nested defaults", `{ partners(first: 100) { nodes { cooperatives { nodes { supporters { nodes { id } } } } } } }`, nil, 22201},
		{"nested first through a variable", `query($n: Int) { partners(first: 2) { nodes { cooperatives(first: $n) { nodes { id } } } } }`,
			map[string]any{"n": 50}, 1 + 2*(1+1+50*(1+1))},
		{"last counts as first", `{ goodPractices(last: 4) { nodes { cases(last: 3) { totalCount } } } }`, nil, 1 + 4*(1+1+3*1)},
		{"the front page", `{ goodPractices(first: 20) { totalCount nodes { id name cases(first: 3) { totalCount nodes { __typename name } }
			partners(first: 5) { totalCount nodes { name sector } } } } }`, nil, 701},
		{"the hostile request", hostile, nil, 2222201},
		// Each path search costs 1,000, and each of k paths holds up to
		// maxDepth + 1 = 7 entities.
		{"paths", `{ ` + paths(10) + ` }`, nil, 1 + 10000 + 70*(1+1+1)},
		{"mostConnected", `{ mostConnected(first: 5) { degree } }`, nil, 1 + 12000 + 5},
		{"nodes by ids", `{ nodes(ids: ["a", "b", "c"]) { id } }`, nil, 1 + 3},
		// Each filter inside and/or/not costs 50: 1 + 50 × 3 + 20 × (1 + 1).
		{"composed filter", `query($s: [Sector!]) { goodPractices(filter: {or: [{country: "SE"}, {not: {partnerSector: $s}}]}) { nodes { id } } }`,
			map[string]any{"s": []string{"PRIVATE"}}, 1 + 50*3 + 20*2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := a.fail(tc.query, tc.vars)
			if e.Extensions["code"] != server.CodeLimitExceeded || e.Extensions["cost"] != tc.cost || e.Extensions["maxCost"] != float64(1) {
				t.Errorf("got %q %v, want LIMIT_EXCEEDED with cost %v", e.Message, e.Extensions, tc.cost)
			}
			if want := fmt.Sprintf("the query cost is %d, over the limit of 1 (PARTNERGRAPH_MAX_COST)", int(tc.cost)); e.Message != want {
				t.Errorf("message %q, want %q", e.Message, want)
			}
		})
	}
}

// TestDefaultCostCeilingRefusesFanOutAndLetsPagesThrough checks the default
// ceiling against both sides: the hostile request and twenty traversals are
// refused before they run, a page with nested pages runs.
func TestDefaultCostCeilingRefusesFanOutAndLetsPagesThrough(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var b strings.Builder
	b.WriteString("{")
	for i := range 20 {
		fmt.Fprintf(&b, " m%d: mostConnected(first: 10) { degree node { name } }", i)
	}
	b.WriteString(" }")
	for name, q := range map[string]string{"hostile": hostile, "twenty mostConnected": b.String()} {
		e := a.fail(q, nil)
		if e.Extensions["code"] != server.CodeLimitExceeded || !strings.Contains(e.Message, "the query cost is") {
			t.Errorf("%s: got %q %v, want LIMIT_EXCEEDED naming the cost", name, e.Message, e.Extensions)
		}
	}
	var out map[string]any
	a.query(`{ goodPractices(first: 20) { totalCount nodes { id name cases(first: 3) { totalCount nodes { __typename name } }
		partners(first: 5) { totalCount nodes { name sector } } } } }`, nil, &out)
}

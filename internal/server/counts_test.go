package server_test

import (
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

type countPage struct {
	TotalCount        int     `json:"totalCount"`
	TotalCountIsExact bool    `json:"totalCountIsExact"`
	Nodes             []named `json:"nodes"`
}

// TestTotalCountSaysWhenItIsExact: counts the counters cover are exact
// whatever the bound; a name filter is counted up to the bound and then
// flagged as a lower bound.
func TestTotalCountSaysWhenItIsExact(t *testing.T) {
	a := newAPI(t, "reference", server.Config{CountBound: 2})
	for i, tc := range []struct {
		query string
		exact bool
	}{
		{`{ l: partners(first: 100) { totalCount totalCountIsExact nodes { name } } }`, true},
		{`{ l: partners(first: 100, filter: {sector: [SOCIAL], country: "pl"}) { totalCount totalCountIsExact nodes { name } } }`, true},
		{`{ l: cooperatives(first: 100, filter: {status: [INITIATIVE_GROUP, REGISTERED]}) { totalCount totalCountIsExact nodes { name } } }`, true},
		{`{ l: events(first: 100, filter: {kind: [STUDY_VISIT], country: "SE"}) { totalCount totalCountIsExact nodes { name } } }`, true},
		{`{ l: sources(first: 100, filter: {language: "PL"}) { totalCount totalCountIsExact nodes { name } } }`, true},
		{`{ l: partners(first: 100, filter: {name: "w"}) { totalCount totalCountIsExact nodes { name } } }`, false},
	} {
		// The first two and the last have more matches than the bound.
		var out struct{ L countPage }
		a.query(tc.query, nil, &out)
		if (i < 2 || !tc.exact) && len(out.L.Nodes) <= 2 {
			t.Fatalf("%s: %d nodes; the test needs more than the bound of 2", tc.query, len(out.L.Nodes))
		}
		want := countPage{TotalCount: len(out.L.Nodes), TotalCountIsExact: true}
		if !tc.exact {
			want = countPage{TotalCount: 2, TotalCountIsExact: false}
		}
		if out.L.TotalCount != want.TotalCount || out.L.TotalCountIsExact != want.TotalCountIsExact {
			t.Errorf("%s: totalCount %d exact %v; want %d exact %v", tc.query, out.L.TotalCount, out.L.TotalCountIsExact,
				want.TotalCount, want.TotalCountIsExact)
		}
	}
	// Without a bound, the name filter's count is exact.
	b := newAPI(t, "reference", server.Config{CountBound: -1})
	var out struct{ L countPage }
	b.query(`{ l: partners(first: 100, filter: {name: "w"}) { totalCount totalCountIsExact nodes { name } } }`, nil, &out)
	if out.L.TotalCount != len(out.L.Nodes) || !out.L.TotalCountIsExact {
		t.Errorf("no bound: totalCount %d exact %v; want %d exact", out.L.TotalCount, out.L.TotalCountIsExact, len(out.L.Nodes))
	}
}

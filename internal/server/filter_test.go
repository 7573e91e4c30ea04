package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/server"
)

// The filters of issue 17 on the reference data: practices by country and
// by the sectors of the partners behind them, topics by a stemmed word,
// and/or/not, and the time a client syncs from.
func TestReferencePracticesFilters(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	names := func(filter string, vars map[string]any) []string {
		t.Helper()
		var got struct {
			GoodPractices struct {
				TotalCount int `json:"totalCount"`
				Nodes      []struct {
					Name string `json:"name"`
				} `json:"nodes"`
			} `json:"goodPractices"`
		}
		decl := ""
		if strings.Contains(filter, "$t") {
			decl = "($t: Time)"
		}
		a.query(`query`+decl+` { goodPractices(filter: `+filter+`) { totalCount nodes { name } } }`, vars, &got)
		var out []string
		for _, n := range got.GoodPractices.Nodes {
			out = append(out, n.Name)
		}
		if got.GoodPractices.TotalCount != len(out) {
			t.Errorf("%s: totalCount %d, %d listed", filter, got.GoodPractices.TotalCount, len(out))
		}
		return out
	}
	const (
		swedish  = "Aktywizacja zawodowa i praca chroniona dla osób z chorobami psychicznymi (doświadczenia szwedzkie)"
		combined = "Łączenie działalności społecznej z działalnością gospodarczą (doświadczenia szwedzkie)"
		model    = "Model aktywizacji zawodowej uczestników WTZ poprzez praktyki, staże i pracę w spółdzielniach socjalnych"
		gminy    = "Model obustronnych korzyści z zaangażowania samorządów w tworzenie spółdzielni socjalnych"
		training = "Szkolenia integracyjne dla kadry przyszłych spółdzielni socjalnych przy WTZ"
		business = "Zasady budowania partnerstw z sektorem biznesu"
	)
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		// The Swedish practices' cases are Swedish examples (the combined
		// one's: the four workshops of the study visit).
		{`{country: "se"}`, []string{swedish, combined}},
		// The private partner behind them: Konimpex.
		{`{partnerSector: PRIVATE}`, []string{model, training, business}},
		{`{country: ["PL"], partnerSector: [PUBLIC]}`, []string{model, gminy, training, business}},
		// A public partner but no private one.
		{`{and: [{partnerSector: PUBLIC}, {not: {partnerSector: PRIVATE}}]}`, []string{gminy}},
		{`{or: [{country: "SE"}, {name: "samorządów"}]}`, []string{swedish, combined, gminy}},
		// "spółdzielnie" found nothing when topics matched exactly; "spółdzielnia" is stemmed.
		{`{topic: "spółdzielnie"}`, []string{model, gminy, training, business}},
		{`{topic: "Spoldzielnia"}`, []string{model, gminy, training, business}},
		{`{country: "SE", not: {name: "łączenie"}}`, []string{swedish}},
		{`{updatedSince: $t}`, nil},
	} {
		got := names(tc.filter, map[string]any{"t": time.Now().Add(time.Hour).Format(time.RFC3339)})
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s:\n got %q\nwant %q", tc.filter, got, tc.want)
		}
	}
	if got := names(`{createdSince: "2000-01-01T00:00:00Z"}`, nil); len(got) != 6 {
		t.Errorf("created since 2000: %d practices, want all 6", len(got))
	}
}

func TestFilterInputsAreChecked(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	deep := `{name: "a"}`
	for range 5 {
		deep = `{not: ` + deep + `}`
	}
	wide := `{or: [` + strings.Repeat(`{name: "a"}, `, 33) + `]}`
	for _, tc := range []struct {
		name, query, field string
	}{
		{"country code", `{ goodPractices(filter: {country: "Sweden"}) { totalCount } }`, "filter.country[0]"},
		{"nested country code", `{ goodPractices(filter: {or: [{name: "x"}, {country: "S"}]}) { totalCount } }`, "filter.or[1].country[0]"},
		{"too deep", `{ partners(filter: ` + deep + `) { totalCount } }`, "filter.not.not.not.not.not"},
		{"too many", `{ projects(filter: ` + wide + `) { totalCount } }`, "filter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := a.fail(tc.query, nil)
			if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != tc.field {
				t.Errorf("got %q %v, want BAD_USER_INPUT naming %s", e.Message, e.Extensions, tc.field)
			}
		})
	}
}

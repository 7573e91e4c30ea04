package server_test

import (
	"slices"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

// relevance is one query of the relevance set: what a user types and the
// entries (by key) that must all be among the first three hits.
type relevance struct {
	query string
	want  []string
}

// relevanceSet holds queries as people type them: without diacritics,
// inflected, misspelled, partial, several words, Swedish names.
var relevanceSet = []relevance{
	{"spoldzielnia rowne szanse", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"spółdzielni socjalnej równe szanse", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"rowne szanse", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{`"równe szanse"`, []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"spoldzielnie ceramika", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"ceramiki", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"ceramics", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"spoldzelnia ceramika", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"gloden", []string{"kooperativet-gloden"}},
	{"Glöden", []string{"kooperativet-gloden"}},
	{"kooperativet gloden", []string{"kooperativet-gloden"}},
	{"Coompanoin", []string{"coompanion"}},
	{"coompanion sztokholm", []string{"coompanion"}},
	{"atelje inuti", []string{"atelje-inuti"}},
	{"franstorps verkstader", []string{"franstorps-verkstader"}},
	{"franstorp", []string{"franstorps-verkstader"}},
	{"verkstad sundbyberg", []string{"franstorps-verkstader"}},
	{"industrihuset rimbo", []string{"kooperativet-industrihuset"}},
	{"roslagens forening", []string{"roslagens-ekonomiska-forening"}},
	{"ekonomisk forening", []string{"roslagens-ekonomiska-forening"}},
	{"kooperativet kos", []string{"kooperativet-kos"}},
	{"koop", []string{"kooperativet-kos", "kooperativet-gloden", "kooperativet-industrihuset"}},
	{"kooperativet sweden", []string{"kooperativet-kos", "kooperativet-gloden", "kooperativet-industrihuset"}},
	{"rimbo", []string{"kooperativet-industrihuset", "roslagens-ekonomiska-forening"}},
	{"wtz gebice", []string{"wtz-gebice"}},
	{"warsztat terapii zajeciowej gebice", []string{"wtz-gebice"}},
	{"warsztatów terapii w Gębicach", []string{"wtz-gebice"}},
	{"krzemien poznan", []string{"wtz-krzemien-poznan"}},
	{"rops poznan", []string{"rops-poznan"}},
	{"regionalny osrodek polityki spolecznej", []string{"rops-poznan"}},
	{"ośrodka polityki społecznej w poznaniu", []string{"rops-poznan"}},
	{"konimpex", []string{"konimpex"}},
	{"konimpeks", []string{"konimpex"}},
	{"ministerstwo pracy", []string{"ministerstwo-pracy-i-polityki-spolecznej"}},
	{"ministerstwa pracy i polityki spolecznej", []string{"ministerstwo-pracy-i-polityki-spolecznej"}},
	{"stowarzyszenie na rzecz spoldzielni socjalnych", []string{"stowarzyszenie-na-rzecz-spoldzielni-socjalnych"}},
	{"innowacyjny model aktywizacji zawodowej", []string{"projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz"}},
	{"partnerstwo publiczno spoleczno prywatne", []string{"partnerstwo-projektu-innowacyjny-model-aktywizacji"}},
	{"zasady partnerstw z biznesem", []string{"zasady-budowania-partnerstw-z-biznesem"}},
	{"samorzady spoldzielnie socjalne", []string{"model-obustronnych-korzysci-zaangazowania-samorzadow"}},
	{"szkolenia integracyjne lezeczki", []string{"szkolenia-integracyjne-lezeczki"}},
	{"szkoleniach w Łężeczkach", []string{"szkolenia-integracyjne-lezeczki"}},
	{"praca chroniona choroby psychiczne", []string{"praca-chroniona-dla-osob-z-chorobami-psychicznymi"}},
	{"zdrowie psychiczne", []string{"praca-chroniona-dla-osob-z-chorobami-psychicznymi"}},
	{"dzialalnosc gospodarcza spoleczna", []string{"laczenie-dzialalnosci-spolecznej-i-gospodarczej"}},
	{"konflikty w zespole", []string{"szkolenia-integracyjne-kadry-spoldzielni"}},
	{"wielkopolskie forum wtz", []string{"iii-wielkopolskie-forum-wtz"}},
	{"wizyta studyjna szwecja", []string{"warsztaty-wymiany-doswiadczen-szwecja"}},
	{"warsztaty w Szwecji", []string{"warsztaty-wymiany-doswiadczen-szwecja"}},
	{"szkocja", []string{"warsztaty-wymiany-doswiadczen-szkocja"}},
	{"malwina pokrywka", []string{"malwina-pokrywka"}},
	{"jolanta grzech", []string{"jolanta-grzech"}},
	{"kierownik wtz", []string{"jolanta-grzech"}},
	{"forslund", []string{"jan-forslund"}},
	{"szczepanska", []string{"magda-szczepanska"}},
	{"wasilewska", []string{"natalia-wasielewska"}},
	{"krajowy program przeciwdzialania ubostwu", []string{"krajowy-program-przeciwdzialania-ubostwu-i-wykluczeniu-spolecznemu-2020"}},
	{"wykluczenie spoleczne", []string{"krajowy-program-przeciwdzialania-ubostwu-i-wykluczeniu-spolecznemu-2020"}},
	{"innowacje dla wtz sukces", []string{"artykul-innowacje-dla-wtz-sukces-naszego-modelu"}},
}

const searchKeys = `query($q: String!, $first: Int, $after: String, $types: [EntityKind!], $filter: SearchFilter) {
  search(query: $q, first: $first, after: $after, types: $types, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor score snippet { field text html } node { key name kind } }
  }
}`

type searchResult struct {
	Search struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage, HasPreviousPage bool
			EndCursor                    string
		}
		Edges []struct {
			Cursor  string
			Score   float64
			Snippet struct{ Field, Text, HTML string }
			Node    struct{ Key, Name, Kind string }
		}
	}
}

func (r searchResult) keys() []string {
	out := make([]string, len(r.Search.Edges))
	for i, e := range r.Search.Edges {
		out[i] = e.Node.Key
	}
	return out
}

func TestSearchRelevanceOnTheReferenceData(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	if len(relevanceSet) < 40 {
		t.Fatalf("the relevance set has %d queries, want at least 40", len(relevanceSet))
	}
	hit1, hit3 := 0, 0
	for _, rq := range relevanceSet {
		var r searchResult
		a.query(searchKeys, map[string]any{"q": rq.query, "first": 3}, &r)
		got := r.keys()
		if len(got) > 0 && slices.Contains(rq.want, got[0]) {
			hit1++
		} else {
			t.Logf("not first: %q: top 3 %v, want %v", rq.query, got, rq.want)
		}
		all := true
		for _, k := range rq.want {
			all = all && slices.Contains(got, k)
		}
		if all {
			hit3++
		} else {
			t.Logf("miss: %q: top 3 %v, want %v", rq.query, got, rq.want)
		}
	}
	n := float64(len(relevanceSet))
	t.Logf("relevance: %d queries, hit@1 %.1f%%, hit@3 %.1f%%", len(relevanceSet), 100*float64(hit1)/n, 100*float64(hit3)/n)
	if float64(hit3)/n < 0.95 {
		t.Errorf("hit@3 is %.1f%%, want at least 95%%", 100*float64(hit3)/n)
	}
}

package server_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
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
	// Issue 12: countries by any name, own attributes over mentions,
	// partial matches, place names, English, more typos and inflections.
	{"spółdzielnie w szwecji", []string{"kooperativet-kos", "kooperativet-gloden", "kooperativet-industrihuset"}},
	{"szwedzkie spółdzielnie", []string{"kooperativet-kos", "kooperativet-gloden", "kooperativet-industrihuset"}},
	{"swedish cooperatives", []string{"kooperativet-kos", "kooperativet-gloden", "kooperativet-industrihuset"}},
	{"kooperativ SE", []string{"kooperativet-kos", "kooperativet-gloden", "kooperativet-industrihuset"}},
	{"spoldzielnia sverige rimbo", []string{"kooperativet-industrihuset"}},
	{"model szwedzki", []string{"coompanion"}},
	{"zatrudnienie osób niepełnosprawnych", []string{"laczenie-dzialalnosci-spolecznej-i-gospodarczej"}},
	{"rehabilitacja osob niepelnosprawnych szwecja", []string{"laczenie-dzialalnosci-spolecznej-i-gospodarczej"}},
	{"sztokholm", []string{"coompanion"}},
	{"stockholm coompanion", []string{"coompanion"}},
	{"sundbyberg", []string{"franstorps-verkstader"}},
	{"industrihust", []string{"kooperativet-industrihuset"}},
	{"roslagen", []string{"roslagens-ekonomiska-forening"}},
	{"gębice", []string{"wtz-gebice"}},
	{"łężeczki", []string{"szkolenia-integracyjne-lezeczki"}},
	{"wielkopolska rada koordynacyjna", []string{"wielkopolska-rada-koordynacyjna"}},
	{"zwiazek organizacji pozarzadowych", []string{"wielkopolska-rada-koordynacyjna"}},
	{"mpips", []string{"ministerstwo-pracy-i-polityki-spolecznej"}},
	{"ministerstow pracy", []string{"ministerstwo-pracy-i-polityki-spolecznej"}},
	{"konimpex spolka z o.o.", []string{"konimpex"}},
	{"firma konimpex", []string{"konimpex"}},
	{"praktyki staże spółdzielnie", []string{"model-aktywizacji-zawodowej-uczestnikow-wtz"}},
	{"obustronne korzysci samorzadu", []string{"model-obustronnych-korzysci-zaangazowania-samorzadow"}},
	{"sektor biznesu", []string{"zasady-budowania-partnerstw-z-biznesem"}},
	{"dyrektor coompanion", []string{"jan-forslund"}},
	{"wasielewskiej", []string{"natalia-wasielewska"}},
	{"pokrywki", []string{"malwina-pokrywka"}},
	{"magda szczepańska krzemień", []string{"magda-szczepanska"}},
	{"wizyta studyjna sztokholm", []string{"warsztaty-wymiany-doswiadczen-szwecja"}},
	{"study visit sweden", []string{"warsztaty-wymiany-doswiadczen-szwecja"}},
	{"social cooperative ceramics", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"spoldzielnia socjalna gebice ceramika", []string{"spoldzielnia-socjalna-rowne-szanse"}},
	{"ubóstwo", []string{"krajowy-program-przeciwdzialania-ubostwu-i-wykluczeniu-spolecznemu-2020"}},
	{"artykuł o szwecji", []string{"artykul-warsztaty-wymiany-doswiadczen-w-szwecji"}},
	{"kadra spółdzielni", []string{"szkolenia-integracyjne-kadry-spoldzielni"}},
	{"wielkopolskei forum", []string{"iii-wielkopolskie-forum-wtz"}},
	{"choroby psychiczne kooperativet", []string{"kooperativet-kos", "kooperativet-gloden"}},
	{"szkocji", []string{"warsztaty-wymiany-doswiadczen-szkocja"}},
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
	if len(relevanceSet) < 80 {
		t.Fatalf("the relevance set has %d queries, want at least 80", len(relevanceSet))
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

func TestSearchHitsCarryScoresAndMarkedSnippets(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	var r searchResult
	a.query(searchKeys, map[string]any{"q": "spoldzielnie ceramika"}, &r)
	if len(r.Search.Edges) == 0 || r.Search.Edges[0].Node.Key != "spoldzielnia-socjalna-rowne-szanse" {
		t.Fatalf("got %v, want Równe Szanse first", r.keys())
	}
	e := r.Search.Edges[0]
	if e.Score <= 0 || e.Node.Kind != "COOPERATIVE" {
		t.Errorf("hit: score %v kind %s", e.Score, e.Node.Kind)
	}
	if !strings.Contains(e.Snippet.HTML, "<mark>") || strings.Contains(e.Snippet.Text, "<mark>") || e.Snippet.Field == "" {
		t.Errorf("snippet %+v: want marks in html only and a field", e.Snippet)
	}
	for i := 1; i < len(r.Search.Edges); i++ {
		if r.Search.Edges[i].Score > r.Search.Edges[i-1].Score {
			t.Errorf("hit %d scores %v, above hit %d's %v", i, r.Search.Edges[i].Score, i-1, r.Search.Edges[i-1].Score)
		}
	}

	// The name outweighs the summary: the name match is its snippet.
	a.query(searchKeys, map[string]any{"q": "Glöden", "first": 1}, &r)
	if s := r.Search.Edges[0].Snippet; s.Field != "name" || s.HTML != "Kooperativet <mark>Glöden</mark>" {
		t.Errorf("snippet of Glöden: %+v, want the name with Glöden marked", s)
	}
}

func TestSearchPhraseKeepsWordOrder(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	var r searchResult
	a.query(searchKeys, map[string]any{"q": `"rowne szanse"`}, &r)
	if !slices.Contains(r.keys(), "spoldzielnia-socjalna-rowne-szanse") {
		t.Errorf("phrase in order: got %v, want Równe Szanse", r.keys())
	}
	a.query(searchKeys, map[string]any{"q": `"szanse rowne"`}, &r)
	if len(r.keys()) != 0 {
		t.Errorf("phrase reversed: got %v, want nothing", r.keys())
	}
}

func TestSearchPagesThroughAllHitsOnce(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	var all searchResult
	a.query(searchKeys, map[string]any{"q": "wtz", "first": 100}, &all)
	if all.Search.TotalCount != len(all.Search.Edges) || all.Search.TotalCount < 5 {
		t.Fatalf("totalCount %d, %d hits on one page", all.Search.TotalCount, len(all.Search.Edges))
	}
	var got []string
	var after any
	for pages := 0; ; pages++ {
		var r searchResult
		a.query(searchKeys, map[string]any{"q": "wtz", "first": 2, "after": after}, &r)
		if r.Search.PageInfo.HasPreviousPage != (after != nil) {
			t.Errorf("page %d: hasPreviousPage %v", pages, r.Search.PageInfo.HasPreviousPage)
		}
		got = append(got, r.keys()...)
		if !r.Search.PageInfo.HasNextPage {
			break
		}
		after = r.Search.PageInfo.EndCursor
	}
	if !slices.Equal(got, all.keys()) {
		t.Errorf("page by page %v, at once %v", got, all.keys())
	}
}

func TestSearchFiltersByTypeAndCountry(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	var r searchResult
	a.query(searchKeys, map[string]any{"q": "warsztaty", "types": []string{"FOREIGN_EXAMPLE"}, "first": 100}, &r)
	if len(r.Search.Edges) < 4 {
		t.Errorf("foreign examples about warsztaty: got %v, want the Swedish workshops", r.keys())
	}
	for _, e := range r.Search.Edges {
		if e.Node.Kind != "FOREIGN_EXAMPLE" {
			t.Errorf("types [FOREIGN_EXAMPLE] returned %s %s", e.Node.Kind, e.Node.Key)
		}
	}
	a.query(searchKeys, map[string]any{"q": "warsztaty", "filter": map[string]any{"country": "GB"}}, &r)
	if !slices.Equal(r.keys(), []string{"warsztaty-wymiany-doswiadczen-szkocja"}) {
		t.Errorf("in GB: got %v, want the Scottish workshops", r.keys())
	}
}

func TestSearchRejectsBadArguments(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	var first searchResult
	a.query(searchKeys, map[string]any{"q": "wtz", "first": 1}, &first)
	for _, tc := range []struct {
		vars  map[string]any
		code  string
		field string
	}{
		{map[string]any{"q": ""}, "BAD_USER_INPUT", "query"},
		{map[string]any{"q": "„” ..."}, "BAD_USER_INPUT", "query"},
		{map[string]any{"q": strings.Repeat("spółdzielnia ", 20)}, "BAD_USER_INPUT", "query"},
		{map[string]any{"q": "wtz", "first": -1}, "BAD_USER_INPUT", "first"},
		{map[string]any{"q": "wtz", "first": 101}, "BAD_USER_INPUT", "first"},
		{map[string]any{"q": "wtz", "after": "nonsense"}, "BAD_USER_INPUT", "after"},
		{map[string]any{"q": "ceramika", "after": first.Search.PageInfo.EndCursor}, "BAD_USER_INPUT", "after"},
	} {
		e := a.fail(searchKeys, tc.vars)
		if e.Extensions["code"] != tc.code || (tc.field != "" && e.Extensions["field"] != tc.field) {
			t.Errorf("%v: got %v %v (%s), want %s on %s", tc.vars, e.Extensions["code"], e.Extensions["field"], e.Message, tc.code, tc.field)
		}
	}
}

func TestSuggestCompletesNamesIgnoringDiacritics(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	const q = `query($p: String!, $types: [EntityKind!], $limit: Int) {
  suggest(prefix: $p, types: $types, limit: $limit) { entityId entity { name } kind name }
}`
	type suggestion struct {
		ID     string `json:"entityId"`
		Kind   string
		Name   string
		Entity struct{ Name string }
	}
	var r struct{ Suggest []suggestion }
	a.query(q, map[string]any{"p": "koop"}, &r)
	if len(r.Suggest) != 3 || r.Suggest[0].Name != "Kooperativet Glöden" || r.Suggest[2].Name != "Kooperativet KOS" ||
		r.Suggest[0].Kind != "FOREIGN_EXAMPLE" || r.Suggest[0].ID == "" || r.Suggest[0].Entity.Name != r.Suggest[0].Name {
		t.Errorf("koop: got %+v, want the three Kooperativet in alphabetical order", r.Suggest)
	}
	a.query(q, map[string]any{"p": "koop gl"}, &r)
	if len(r.Suggest) != 1 || r.Suggest[0].Name != "Kooperativet Glöden" {
		t.Errorf("koop gl: got %+v, want Kooperativet Glöden", r.Suggest)
	}
	a.query(q, map[string]any{"p": "spol", "types": []string{"COOPERATIVE"}}, &r)
	if len(r.Suggest) != 1 || r.Suggest[0].Name != "Spółdzielnia Socjalna „Równe Szanse”" {
		t.Errorf("spol among cooperatives: got %+v", r.Suggest)
	}
	a.query(q, map[string]any{"p": "w", "limit": 2}, &r)
	if len(r.Suggest) != 2 {
		t.Errorf("limit 2: got %d suggestions", len(r.Suggest))
	}
	for _, bad := range []map[string]any{{"p": "koop", "limit": 0}, {"p": "koop", "limit": 51}, {"p": " - "}} {
		e := a.fail(q, bad)
		if e.Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("%v: got %v (%s), want BAD_USER_INPUT", bad, e.Extensions["code"], e.Message)
		}
	}
}

func TestSearchWidensUnfinishedWordsWhenNothingMatches(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	var r searchResult
	a.query(searchKeys, map[string]any{"q": "spoldz rown szans"}, &r)
	if !slices.Contains(r.keys(), "spoldzielnia-socjalna-rowne-szanse") || r.Search.TotalCount != len(r.keys()) {
		t.Errorf("spoldz rown szans: got %v (totalCount %d), want Równe Szanse", r.keys(), r.Search.TotalCount)
	}
}

// draftProbe is what an anonymous visitor could ask to learn of a draft
// named "Konimpeksowa Zatrudnieniowa": the typo correction (konimpeks
// finds Konimpex only while no published term starts so), prefixes,
// partial matches with the words that match nothing, counts and
// suggestions.
var draftProbe = []string{
	"konimpeks", "konimpex", "konimpeksowa", "konimp", "konimpeksowa zatrudnieniowa",
	"zatrudnieniowa", "zatrudnienie osób niepełnosprawnych", "konimpeksowa gebice", "spoldzielnia", "wtz",
}

// anonymousAnswers returns the raw bytes of every answer to draftProbe,
// searches and suggestions, as an anonymous reader gets them.
func anonymousAnswers(a *api) [][]byte {
	a.t.Helper()
	const q = `query($q: String!) {
  search(query: $q, first: 10) {
    totalCount totalCountIsExact partial unmatchedWords
    pageInfo { hasNextPage endCursor }
    edges { cursor score missingWords snippet { field html } node { key name } }
  }
  suggest(prefix: $q) { entityId name }
}`
	var out [][]byte
	for _, p := range draftProbe {
		status, r := a.post(q, map[string]any{"q": p})
		if status != 200 || len(r.Errors) > 0 {
			a.t.Fatalf("%q: %d %+v", p, status, r.Errors)
		}
		out = append(out, r.Data)
	}
	return out
}

func TestDraftsLeaveNoTraceInAnonymousSearch(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("admin", kb.RoleAdmin)
	before := anonymousAnswers(a)
	same := func(when string, got [][]byte) {
		t.Helper()
		for i := range before {
			if !bytes.Equal(before[i], got[i]) {
				t.Errorf("%s: %q answers\n%s\nwas\n%s", when, draftProbe[i], got[i], before[i])
			}
		}
	}

	id, version := a.create(admin, "createPerson", map[string]any{
		"name": "Konimpeksowa Zatrudnieniowa", "email": "k@example.org", "summary": "Zatrudnienie osób niepełnosprawnych w Gębicach"})
	same("with the draft", anonymousAnswers(a))

	// The probe does see the person once published: it can fail.
	var pub struct{ Publish struct{ Version int } }
	a.mustAs(admin, `mutation($id: ID!, $v: Int) { publish(id: $id, expectedVersion: $v) { version } }`,
		map[string]any{"id": id, "v": version}, &pub)
	published := anonymousAnswers(a)
	changed := 0
	for i := range before {
		if !bytes.Equal(before[i], published[i]) {
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("publishing the person changed no anonymous answer: the probe sees nothing")
	}

	// Unpublished, it is a draft again; deleted, it is gone: the answers
	// are those before it was ever written, byte for byte.
	var unpub struct{ Unpublish struct{ Version int } }
	a.mustAs(admin, `mutation($id: ID!, $v: Int) { unpublish(id: $id, expectedVersion: $v) { version } }`,
		map[string]any{"id": id, "v": pub.Publish.Version}, &unpub)
	same("unpublished", anonymousAnswers(a))
	var del struct{ DeleteEntity struct{ Deleted bool } }
	a.mustAs(admin, `mutation($id: ID!) { deleteEntity(id: $id, confirm: true) { deleted } }`, map[string]any{"id": id}, &del)
	if !del.DeleteEntity.Deleted {
		t.Fatal("deleteEntity did not delete")
	}
	same("deleted", anonymousAnswers(a))
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// postWith sends a query with request headers and returns the answer's
// status, headers and body.
func (a *api) postWith(query string, vars map[string]any, headers map[string]string) (int, http.Header, response) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		a.t.Fatalf("response is not JSON (%d): %s", res.StatusCode, raw)
	}
	return res.StatusCode, res.Header, r
}

type servedEntity struct {
	Name, NameLang, Summary, SummaryLang, OriginalLanguage string
	DescriptionLang                                        *string
}

const practicePage = `{ goodPractices(first: 20) { nodes { name nameLang summary summaryLang descriptionLang originalLanguage } } }`

func practicesIn(t *testing.T, a *api, query string, vars map[string]any, headers map[string]string) ([]servedEntity, http.Header) {
	t.Helper()
	status, h, r := a.postWith(query, vars, headers)
	if status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("%d %+v", status, r.Errors)
	}
	var got struct{ GoodPractices page[servedEntity] }
	if err := json.Unmarshal(r.Data, &got); err != nil {
		t.Fatal(err)
	}
	return got.GoodPractices, h
}

func byName(es []servedEntity, name string) *servedEntity {
	for i := range es {
		if es[i].Name == name {
			return &es[i]
		}
	}
	return nil
}

// @lang picks the language of the whole operation, a variable may give
// it, and every text field says which language it was served in; without
// a language the text is as stored, in its original language.
func TestLangDirectivePicksTheLanguageOfEveryTextField(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	orig, h := practicesIn(t, a, practicePage, nil, nil)
	if h.Get("Content-Language") != "" || !strings.Contains(strings.Join(h.Values("Vary"), ","), "Accept-Language") {
		t.Errorf("no language: Content-Language %q, Vary %q", h.Get("Content-Language"), h.Values("Vary"))
	}
	p := byName(orig, "Zasady budowania partnerstw z sektorem biznesu")
	if p == nil || p.NameLang != "pl" || p.OriginalLanguage != "pl" || p.DescriptionLang == nil || *p.DescriptionLang != "pl" {
		t.Fatalf("original: %+v", orig)
	}
	en, h := practicesIn(t, a, `query($l: String!) @lang(lang: $l) `+practicePage, map[string]any{"l": "en-GB"}, nil)
	if h.Get("Content-Language") != "en" {
		t.Errorf("Content-Language %q, want en", h.Get("Content-Language"))
	}
	p = byName(en, "Principles of building partnerships with the business sector")
	if p == nil || p.NameLang != "en" || p.SummaryLang != "en" || p.OriginalLanguage != "pl" || *p.DescriptionLang != "en" ||
		!strings.Contains(p.Summary, "Malwina Pokrywka") {
		t.Errorf("English: %+v", en)
	}
	sv, _ := practicesIn(t, a, `query @lang(lang: "sv") `+practicePage, nil, nil)
	if byName(sv, "Principer för att bygga partnerskap med näringslivet") == nil {
		t.Errorf("Swedish: %+v", sv)
	}
	// Related lists, node lookups and search hits are served in the
	// language too.
	var got struct {
		Projects page[struct {
			Name     string
			Partners page[struct{ Name, NameLang string }]
		}]
		Search struct {
			Nodes []struct{ Name string }
		}
		EntityByKey struct{ Name string }
	}
	_, _, r := a.postWith(`query @lang(lang: "en") { projects { nodes { name partners { nodes { name nameLang } } } }
		search(query: "Równe Szanse", first: 1) { nodes { name } } entityByKey(key: "wtz-gebice") { name } }`, nil, nil)
	if err := json.Unmarshal(r.Data, &got); err != nil || len(r.Errors) > 0 {
		t.Fatal(err, r.Errors)
	}
	if got.Projects[0].Name != "Innovative model of vocational activation of WTZ participants" ||
		got.Projects[0].Partners[0].Name != "Regional Centre for Social Policy in Poznań" || got.Projects[0].Partners[0].NameLang != "en" ||
		got.Search.Nodes[0].Name != "Social Cooperative „Równe Szanse”" || got.EntityByKey.Name != "Occupational Therapy Workshop in Gębice" {
		t.Errorf("related, search, lookup in English: %+v", got)
	}
}

// Accept-Language picks by q-values among the supported languages, @lang
// wins over it, and a language nobody wrote a text in falls back: the
// original, then Polish, then English. A Swedish organisation's own name
// stays Swedish, and says so.
func TestAcceptLanguageWithQValuesAndFallback(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	const q = `{ foreignExamples(filter: {name: "KOS"}) { nodes { name nameLang summary summaryLang place { name countryName } } }
		people(filter: {name: "Forslund"}) { nodes { name nameLang summaryLang } } }`
	type answer struct {
		ForeignExamples page[struct {
			Name, NameLang, Summary, SummaryLang string
			Place                                struct{ Name, CountryName string }
		}]
		People page[struct{ Name, NameLang, SummaryLang string }]
	}
	ask := func(h map[string]string, query string) (answer, http.Header) {
		status, hdr, r := a.postWith(query, nil, h)
		var got answer
		if status != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Data, &got) != nil {
			t.Fatalf("%d %+v", status, r.Errors)
		}
		return got, hdr
	}
	got, h := ask(map[string]string{"Accept-Language": "de-DE, sv;q=0.5, en;q=0.9"}, q)
	kos := got.ForeignExamples[0]
	if h.Get("Content-Language") != "en" || kos.Name != "Kooperativet KOS" || kos.NameLang != "sv" || kos.SummaryLang != "en" ||
		!strings.HasPrefix(kos.Summary, "A Swedish cooperative in Stockholm") || kos.Place.Name != "Stockholm" || kos.Place.CountryName != "Sweden" {
		t.Errorf("English by q-value: %s %+v", h.Get("Content-Language"), got)
	}
	// The person has no translation: the Polish original, said so.
	if p := got.People[0]; p.Name != "Jan Forslund" || p.NameLang != "pl" || p.SummaryLang != "pl" {
		t.Errorf("fallback to the original: %+v", p)
	}
	got, h = ask(map[string]string{"Accept-Language": "en"}, `query @lang(lang: "pl") `+q)
	if kos := got.ForeignExamples[0]; h.Get("Content-Language") != "pl" || kos.Place.Name != "Sztokholm" || kos.Place.CountryName != "Szwecja" || kos.SummaryLang != "pl" {
		t.Errorf("@lang over Accept-Language: %s %+v", h.Get("Content-Language"), got)
	}
	got, h = ask(map[string]string{"Accept-Language": "fr, de;q=0.9"}, q)
	if kos := got.ForeignExamples[0]; h.Get("Content-Language") != "" || kos.SummaryLang != "pl" || kos.Place.Name != "Stockholm" || kos.Place.CountryName != "Szwecja" {
		t.Errorf("no supported language: %s %+v", h.Get("Content-Language"), got)
	}
	got, _ = ask(map[string]string{"Accept-Language": "sv-SE"}, q)
	if kos := got.ForeignExamples[0]; kos.Place.CountryName != "Sverige" || !strings.HasPrefix(kos.Summary, "Ett svenskt kooperativ") {
		t.Errorf("Swedish: %+v", got)
	}
}

// Unknown or malformed languages are BAD_USER_INPUT naming lang, with no
// data; a malformed Accept-Language is ignored, as HTTP has it.
func TestBadLanguagesAreRefusedNamingLang(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	for _, q := range []string{
		`query @lang(lang: "de") { partners { totalCount } }`,
		`query @lang(lang: "not a tag!") { partners { totalCount } }`,
		`query @lang(lang: "") { partners { totalCount } }`,
		`{ entityByKey(key: "coompanion") { translations(lang: "xx-123456789") { text } } }`,
	} {
		e := a.fail(q, nil)
		if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != "lang" || !strings.Contains(e.Message, "pl, sv, en") {
			t.Errorf("%s: %+v", q, e)
		}
	}
	status, _, r := a.postWith(`{ partners { totalCount } }`, nil, map[string]string{"Accept-Language": ";;q=nonsense,,"})
	if status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("a malformed Accept-Language: %d %+v", status, r.Errors)
	}
	var langs struct {
		Languages []struct {
			Tag, Name, EnglishName string
			IsDefault              bool
		}
	}
	a.query(`{ languages { tag name englishName isDefault } }`, nil, &langs)
	if len(langs.Languages) != 3 || langs.Languages[0].Tag != "pl" || !langs.Languages[0].IsDefault || langs.Languages[1].Name != "svenska" ||
		langs.Languages[2].EnglishName != "English" {
		t.Errorf("languages: %+v", langs)
	}
}

// The response cache keeps an answer per negotiated language, with its
// Content-Language: headers that negotiate the same language share one.
func TestResponseCacheKeysOnTheLanguage(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "reference", server.Config{ResponseCache: server.ResponseCache{TTL: time.Minute, Entries: 16, MaxBytes: 1 << 20}},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	const q = `{ cooperatives { nodes { name } } }`
	ask := func(accept string) (string, string, int64) {
		before := counter.Statements.Load()
		_, h, r := a.postWith(q, nil, map[string]string{"Accept-Language": accept})
		return string(r.Data), h.Get("Content-Language"), counter.Statements.Load() - before
	}
	en, lang, n := ask("en")
	if !strings.Contains(en, "Social Cooperative") || lang != "en" || n == 0 {
		t.Fatalf("English: %s %q %d", en, lang, n)
	}
	sv, lang, n := ask("sv")
	if !strings.Contains(sv, "Sociala kooperativet") || lang != "sv" || n == 0 {
		t.Errorf("Swedish after English: %s %q, %d queries (want an execution, not the English answer)", sv, lang, n)
	}
	again, lang, n := ask("en-US,en;q=0.9")
	if again != en || lang != "en" || n != 0 {
		t.Errorf("English again: same %v, %q, %d queries (want the kept answer)", again == en, lang, n)
	}
	orig, lang, _ := ask("")
	if !strings.Contains(orig, "Spółdzielnia Socjalna") || lang != "" {
		t.Errorf("no language after English: %s %q", orig, lang)
	}
}

// Staff set and remove translations: validated, versioned, recorded in
// the history, undone by revert, announced so that caches forget.
func TestStaffSetAndRemoveTranslations(t *testing.T) {
	a := newAPI(t, "reference", server.Config{ResponseCache: server.ResponseCache{TTL: time.Minute, Entries: 16, MaxBytes: 1 << 20}})
	tok := a.newToken("anna", kb.RoleEditor)
	id := a.idOf(tok, "jan-forslund")
	const read = `query @lang(lang: "en") { people(filter: {name: "Forslund"}) { nodes { summary summaryLang } } }`
	var before struct {
		People page[struct{ Summary, SummaryLang string }]
	}
	a.query(read, nil, &before) // kept by the response cache
	if before.People[0].SummaryLang != "pl" {
		t.Fatalf("before: %+v", before)
	}
	const set = `mutation($in: SetTranslationInput!) { setTranslation(input: $in) { version summary
		translations { field lang text machine updatedBy } } }`
	in := map[string]any{"id": id, "field": "SUMMARY", "lang": "en", "text": "Director of Coompanion in Stockholm.", "machine": true}
	var res struct {
		SetTranslation struct {
			Version      int
			Summary      string
			Translations []struct {
				Field, Lang, Text, UpdatedBy string
				Machine                      bool
			}
		}
	}
	a.mustAs(tok, set, map[string]any{"in": in}, &res)
	if tr := res.SetTranslation.Translations; len(tr) != 1 || tr[0].UpdatedBy != "anna" || !tr[0].Machine ||
		!strings.HasPrefix(res.SetTranslation.Summary, "Dyrektor Coompanion") || res.SetTranslation.Version != 2 {
		t.Errorf("set: %+v", res)
	}
	var after struct {
		People page[struct{ Summary, SummaryLang string }]
	}
	a.query(read, nil, &after)
	if after.People[0].Summary != "Director of Coompanion in Stockholm." || after.People[0].SummaryLang != "en" {
		t.Errorf("a reader after the change (the cache forgot): %+v", after)
	}
	// Validation: each refusal names its field and changes nothing.
	for _, c := range []struct {
		change map[string]any
		field  string
	}{
		{map[string]any{"lang": "de"}, "lang"},
		{map[string]any{"lang": "pl"}, "lang"},
		{map[string]any{"text": strings.Repeat("x", 2001)}, "text"},
		{map[string]any{"text": "  "}, "text"},
		{map[string]any{"field": "DESCRIPTION"}, "field"},
		{map[string]any{"expectedVersion": 1}, ""},
	} {
		bad := map[string]any{}
		for k, v := range in {
			bad[k] = v
		}
		for k, v := range c.change {
			bad[k] = v
		}
		e := a.failAs(tok, set, map[string]any{"in": bad})
		want := "BAD_USER_INPUT"
		if c.field == "" {
			want = "CONFLICT"
		}
		if e.Extensions["code"] != want || (c.field != "" && e.Extensions["field"] != c.field) {
			t.Errorf("%v: %+v", c.change, e)
		}
	}
	if e := a.failAs("", set, map[string]any{"in": in}); e.Extensions["code"] != "UNAUTHENTICATED" && e.Extensions["code"] != "FORBIDDEN" {
		t.Errorf("anonymous: %+v", e)
	}
	// History and revert.
	var hist struct {
		Node struct {
			History struct {
				Nodes []struct {
					ID, Operation, Actor string
				}
			}
		}
	}
	a.mustAs(tok, `query($id: ID!) { node(id: $id) { ... on Person { history(first: 1) { nodes { id operation actor } } } } }`,
		map[string]any{"id": id}, &hist)
	h := hist.Node.History.Nodes
	if len(h) != 1 || h[0].Operation != "UPDATE" || h[0].Actor != "anna" {
		t.Fatalf("history %+v", h)
	}
	a.mustAs(tok, `mutation($r: ID!) { revert(revisionId: $r) { operation } }`, map[string]any{"r": h[0].ID}, nil)
	a.query(read, nil, &after)
	if after.People[0].SummaryLang != "pl" {
		t.Errorf("after revert: %+v", after)
	}
	const remove = `mutation($in: RemoveTranslationInput!) { removeTranslation(input: $in) { version } }`
	e := a.failAs(tok, remove, map[string]any{"in": map[string]any{"id": id, "field": "SUMMARY", "lang": "en"}})
	if e.Extensions["code"] != "NOT_FOUND" {
		t.Errorf("removing a translation that is gone: %+v", e)
	}
	a.mustAs(tok, set, map[string]any{"in": in}, nil)
	a.mustAs(tok, remove, map[string]any{"in": map[string]any{"id": id, "field": "SUMMARY", "lang": "en"}}, nil)
	a.query(read, nil, &after)
	if after.People[0].SummaryLang != "pl" {
		t.Errorf("after remove: %+v", after)
	}
}

// Search covers every language: English and Swedish words find the
// Polish entries by their translations, and the snippet says which.
func TestSearchFindsEntriesByTheirTranslations(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	for _, c := range []struct{ query, want, field string }{
		{"social cooperative ceramics", "Spółdzielnia Socjalna „Równe Szanse”", "summary@en"},
		{"principles business partnerships", "Zasady budowania partnerstw z sektorem biznesu", "name@en"},
		{"mutual benefits local governments", "Model obustronnych korzyści z zaangażowania samorządów w tworzenie spółdzielni socjalnych", "name@en"},
		{"näringslivet partnerskap", "Zasady budowania partnerstw z sektorem biznesu", "name@sv"},
		{"skyddat arbete psykisk sjukdom", "Aktywizacja zawodowa i praca chroniona dla osób z chorobami psychicznymi (doświadczenia szwedzkie)", "name@sv"},
	} {
		var got struct {
			Search struct {
				Partial bool
				Edges   []struct {
					Snippet struct{ Field string }
					Node    struct{ Name string }
				}
			}
		}
		a.query(`query($q: String!) { search(query: $q, first: 3) { partial edges { snippet { field } node { name } } } }`,
			map[string]any{"q": c.query}, &got)
		if got.Search.Partial || len(got.Search.Edges) == 0 || got.Search.Edges[0].Node.Name != c.want || got.Search.Edges[0].Snippet.Field != c.field {
			t.Errorf("%q: %+v, want %q first by %s", c.query, got.Search, c.want, c.field)
		}
	}
}

// A page in a language costs one statement more per level of entries,
// whatever its size: the translations of a level come in one query.
func TestAPageInALanguageCostsOneQueryMorePerLevel(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "migrated", server.Config{LoaderWait: 100 * time.Millisecond},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	if _, err := store.New(a.Pool).ApplyDataset(context.Background(), "test", practices(40)); err != nil {
		t.Fatal(err)
	}
	const q = `query($n: Int) { goodPractices(first: $n) { nodes { name nameLang cases(first: 3) { nodes { name } } } } }`
	count := func(query string, n int) int64 {
		before := counter.Statements.Load()
		a.query(query, map[string]any{"n": n}, &struct{}{})
		return counter.Statements.Load() - before
	}
	for _, n := range []int{5, 20, 40} {
		plain, en := count(q, n), count(`query($n: Int) @lang(lang: "en") `+q[len("query($n: Int)"):], n)
		if extra := en - plain; extra < 1 || extra > 2 {
			t.Errorf("a page of %d: %d queries, %d in English; want one more per level (two levels)", n, plain, en)
		}
	}
}

// The data-set export carries the translations and the original
// languages, and importing it again changes nothing.
func TestExportAndImportCarryTranslations(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	res, err := http.Get(a.URL + "/export?format=json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var d kb.Dataset
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%v: %.200s", err, raw)
	}
	n := 0
	for _, e := range d.Entities {
		n += len(e.Translations)
		if e.Key == "kooperativet-gloden" && (e.NameLanguage != "sv" || e.OriginalLanguage != "pl") {
			t.Errorf("Glöden: %q %q", e.OriginalLanguage, e.NameLanguage)
		}
	}
	if n < 100 {
		t.Errorf("the export holds %d translations", n)
	}
	tok := a.newToken("anna", kb.RoleEditor)
	var rep struct {
		ImportDataset struct {
			Written                          bool
			EntitiesUpdated, EntitiesCreated int
			Problems                         []struct{ Message string }
		}
	}
	a.mustAs(tok, `mutation($d: DatasetInput!) { importDataset(dataset: $d) { written entitiesUpdated entitiesCreated problems { message } } }`,
		map[string]any{"d": json.RawMessage(raw)}, &rep)
	if r := rep.ImportDataset; !r.Written || r.EntitiesUpdated != 0 || r.EntitiesCreated != 0 {
		t.Errorf("importing the export: %+v, want nothing changed", r)
	}
	// JSON-LD: every text in each of its languages, tagged.
	res, err = http.Get(a.URL + "/export?format=jsonld")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`{"@language":"en","@value":"Principles of building partnerships with the business sector"}`,
		`{"@language":"pl","@value":"Zasady budowania partnerstw z sektorem biznesu"}`,
		`{"@language":"sv","@value":"Kooperativet Glöden"}`,
		`{"@language":"pl","@value":"Sztokholm"}`,
	} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the JSON-LD export lacks %s", want)
		}
	}
}

// BenchmarkPageInALanguage measures what a language costs a page of 20
// entries with their related lists: the same query as stored and in
// English, through the whole HTTP stack, response cache off. It reports
// the SQL statements per request beside the time.
func BenchmarkPageInALanguage(b *testing.B) {
	counter := &queryCounter{}
	a := newAPI(b, "migrated", server.Config{}, func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	if _, err := store.New(a.Pool).ApplyDataset(context.Background(), "bench", practices(20)); err != nil {
		b.Fatal(err)
	}
	const page = `{ goodPractices(first: 20) { nodes { name summary cases(first: 3) { nodes { name summary } } } } }`
	for _, c := range []struct{ name, query string }{
		{"original", page},
		{"en", `query @lang(lang: "en") ` + page},
	} {
		b.Run(c.name, func(b *testing.B) {
			before := counter.Statements.Load()
			for b.Loop() {
				a.query(c.query, nil, &struct{}{})
			}
			b.ReportMetric(float64(counter.Statements.Load()-before)/float64(b.N), "queries/op")
		})
	}
}

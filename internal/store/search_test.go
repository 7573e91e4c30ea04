package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

func searchKeys(t *testing.T, st *store.Store, vis store.Visibility, r store.SearchRequest) []string {
	t.Helper()
	if r.Limit == 0 {
		r.Limit = 20
	}
	page, err := st.Search(context.Background(), vis, r)
	if err != nil {
		t.Fatalf("Search(%q): %v", r.Query, err)
	}
	out := make([]string, len(page.Hits))
	for i, h := range page.Hits {
		out[i] = h.Entity.Key
	}
	return out
}

func TestSearchIndexFollowsEveryWriteInItsTransaction(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "spoldzielni rowne szanse"}); len(got) == 0 || got[0] != "coop" {
		t.Fatalf("after loading: got %v, want coop first", got)
	}

	// An update re-indexes: the old name no longer matches, the new one does.
	d := small()
	d.Entities[6].Name = "Spółdzielnia Socjalna „Gliniane Ptaki”"
	load(t, st, d)
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "gliniane ptaki"}); !slices.Equal(got, []string{"coop"}) {
		t.Errorf("after renaming: search for the new name got %v, want [coop]", got)
	}
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "rowne szanse"}); len(got) != 0 {
		t.Errorf("after renaming: search for the old name got %v, want nothing", got)
	}

	// A failed write leaves the index as it was.
	d = small()
	d.Entities[6].Name = "Spółdzielnia Socjalna „Zielony Ogród”"
	d.Links[8].ToKey = "nowhere"
	if _, err := st.ApplyDataset(context.Background(), "test", d); err == nil {
		t.Fatal("ApplyDataset with a dangling link succeeded")
	}
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "zielony ogrod"}); len(got) != 0 {
		t.Errorf("after a rolled-back rename: got %v, want nothing", got)
	}
}

func TestSearchHidesDraftsFromThePublic(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	// Nothing public matches both words; a partial match may be offered,
	// never the draft.
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "lodzka firma"}); slices.Contains(got, "secret") {
		t.Errorf("public search found %v, want no draft", got)
	}
	if got := searchKeys(t, st, store.Visibility{Drafts: true}, store.SearchRequest{Query: "lodzka firma"}); !slices.Equal(got, []string{"secret"}) {
		t.Errorf("staff search got %v, want [secret]", got)
	}
	// A prefix reaches the draft's words for staff: their search matches
	// prefixes as such, not through the vocabulary of published terms
	// that anonymous searches complete them from.
	if got := searchKeys(t, st, store.Visibility{Drafts: true}, store.SearchRequest{Query: "lodzka fir"}); !slices.Equal(got, []string{"secret"}) {
		t.Errorf("staff search by prefix got %v, want [secret]", got)
	}
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "lodzka fir"}); slices.Contains(got, "secret") {
		t.Errorf("public search by prefix found %v, want no draft", got)
	}
	// Suggest likewise, for a later word of a name.
	ctx := context.Background()
	for _, c := range []struct {
		vis  store.Visibility
		want bool
	}{{store.Visibility{Drafts: true}, true}, {store.Public, false}} {
		ss, err := st.Suggest(ctx, c.vis, "fir", nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		found := slices.ContainsFunc(ss, func(s store.Suggestion) bool { return s.Name == "Łódzka Firma (draft)" })
		if found != c.want {
			t.Errorf("Suggest(fir) with %+v: %v, found the draft %v, want %v", c.vis, ss, found, c.want)
		}
	}
}

func TestSearchCompletesPrefixesFromThePublishedVocabulary(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	// "rown" completes to the terms of "Równe" through the vocabulary and
	// finds what a prefix match finds; the count agrees with the hits.
	for _, q := range []string{"spoldzielnia socjalna rown", "spoldzielnia rowne sza", "koop"} {
		pub := searchKeys(t, st, store.Public, store.SearchRequest{Query: q})
		staff := searchKeys(t, st, store.Visibility{Drafts: true}, store.SearchRequest{Query: q})
		if len(pub) == 0 && q != "koop" {
			t.Errorf("public %q found nothing", q)
		}
		if !slices.Equal(pub, staff) {
			t.Errorf("%q: public (completed) %v, staff (prefix) %v: want the same published hits", q, pub, staff)
		}
		n, _, err := st.CountSearch(context.Background(), store.Public, store.SearchRequest{Query: q})
		if err != nil || n != len(pub) {
			t.Errorf("CountSearch(%q) = %d, %v; want %d", q, n, err, len(pub))
		}
	}
}

func TestSearchFiltersByKindAndCountry(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "spoldzielni", Kinds: []kb.Kind{kb.KindCooperative}})
	if !slices.Equal(got, []string{"coop"}) {
		t.Errorf("cooperatives only: got %v, want [coop]", got)
	}
	got = searchKeys(t, st, store.Public, store.SearchRequest{Query: "poznan", Country: "pl"})
	if !slices.Equal(got, []string{"rops"}) {
		t.Errorf("in PL: got %v, want [rops]", got)
	}
	got = searchKeys(t, st, store.Public, store.SearchRequest{Query: "poznan", Country: "SE"})
	if len(got) != 0 {
		t.Errorf("in SE: got %v, want nothing", got)
	}
}

func TestSearchPagesAndCounts(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	r := store.SearchRequest{Query: "spoldzielni"}
	n, exact, err := st.CountSearch(ctx, store.Public, r)
	if err != nil || n < 2 || !exact {
		t.Fatalf("CountSearch = %d, %v, %v; want at least 2, exact", n, exact, err)
	}
	all := searchKeys(t, st, store.Public, store.SearchRequest{Query: "spoldzielni", Limit: 100})
	if len(all) != n {
		t.Errorf("one page of 100 holds %d hits, the count is %d", len(all), n)
	}
	var paged []string
	for off := 0; ; off++ {
		page, err := st.Search(ctx, store.Public, store.SearchRequest{Query: "spoldzielni", Offset: off, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page.Hits {
			paged = append(paged, h.Entity.Key)
		}
		if !page.HasNext {
			break
		}
	}
	if !slices.Equal(paged, all) {
		t.Errorf("page by page: %v, all at once: %v", paged, all)
	}
}

func TestSearchRejectsQueriesWithoutWords(t *testing.T) {
	st, _ := open(t)
	for _, q := range []string{"", " ,.; ", `""`} {
		_, err := st.Search(context.Background(), store.Public, store.SearchRequest{Query: q, Limit: 10})
		var v *kb.ValidationError
		if !errors.As(err, &v) || v.Field != "query" {
			t.Errorf("Search(%q) error = %v, want a validation error on query", q, err)
		}
	}
}

func TestReindexFillsMissingDocuments(t *testing.T) {
	st, pool := open(t)
	load(t, st, small())
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `DELETE FROM search_doc`); err != nil {
		t.Fatal(err)
	}
	n, _, err := st.Reindex(ctx, false)
	if err != nil || n != 10 {
		t.Fatalf("Reindex = %d, %v; want 10 entities indexed", n, err)
	}
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "konimpex"}); !slices.Equal(got, []string{"konimpex"}) {
		t.Errorf("after reindex: got %v, want [konimpex]", got)
	}
	if n, _, err := st.Reindex(ctx, false); err != nil || n != 0 {
		t.Errorf("second Reindex = %d, %v; want nothing to do", n, err)
	}
}

// TestReindexFindsOutdatedDocuments: without all, Reindex indexes what
// the index of migration 00051 and the anti-join find (store.outdated):
// practices' documents below docVersion, any document of version 0, and
// entities with none; a partner's document of version 1 is up to date.
func TestReindexFindsOutdatedDocuments(t *testing.T) {
	st, pool := open(t)
	load(t, st, small())
	ctx := context.Background()
	var practices, partners int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'GOOD_PRACTICE'), count(*) FILTER (WHERE kind = 'PARTNER')
		FROM search_doc`).Scan(&practices, &partners); err != nil || practices == 0 || partners < 3 {
		t.Fatalf("documents: %d practices, %d partners, %v", practices, partners, err)
	}
	for _, sql := range []string{
		`UPDATE search_doc SET version = 1 WHERE kind IN ('GOOD_PRACTICE', 'PARTNER')`,
		`UPDATE search_doc SET version = 0 WHERE entity_id = (SELECT min(entity_id) FROM search_doc WHERE kind = 'PARTNER')`,
		`DELETE FROM search_doc WHERE entity_id = (SELECT max(entity_id) FROM search_doc WHERE kind = 'PARTNER')`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	n, _, err := st.Reindex(ctx, false)
	if err != nil || n != practices+2 {
		t.Fatalf("Reindex = %d, %v; want %d (the practices, a partner of version 0, one without a document)", n, err, practices+2)
	}
	var stale int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM search_doc WHERE kind = 'GOOD_PRACTICE' AND version < 2)
		+ (SELECT count(*) FROM search_doc WHERE version < 1)
		+ (SELECT count(*) FROM entity e WHERE NOT EXISTS (SELECT 1 FROM search_doc d WHERE d.entity_id = e.id))`).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("after reindex: %d documents outdated or missing, %v", stale, err)
	}
	if n, _, err := st.Reindex(ctx, false); err != nil || n != 0 {
		t.Errorf("second Reindex = %d, %v; want nothing to do", n, err)
	}
}

func TestSuggestNamesByPrefixIgnoringDiacritics(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	staff := store.Visibility{Drafts: true}
	for _, tc := range []struct {
		prefix string
		kinds  []kb.Kind
		want   []string
		vis    store.Visibility
		limit  int
	}{
		{"spoldz", nil, []string{"Spółdzielnia Socjalna „Równe Szanse”", "Stowarzyszenie Na Rzecz Spółdzielni Socjalnych"}, store.Public, 10},
		// The names that start with the prefix fill the list: no name
		// with a later word follows.
		{"spoldz", nil, []string{"Spółdzielnia Socjalna „Równe Szanse”"}, store.Public, 1},
		{"SPÓŁDZ", []kb.Kind{kb.KindPartner}, []string{"Stowarzyszenie Na Rzecz Spółdzielni Socjalnych"}, store.Public, 10},
		{"geb", nil, []string{"Warsztat Terapii Zajęciowej w Gębicach"}, store.Public, 10},
		{"warsztat geb", nil, []string{"Warsztat Terapii Zajęciowej w Gębicach"}, store.Public, 10},
		// A short word before the last is a whole word, tested on the
		// matches of the others.
		{"w geb", nil, []string{"Warsztat Terapii Zajęciowej w Gębicach"}, store.Public, 10},
		{"z geb", nil, nil, store.Public, 10},
		{"w geb", nil, []string{"Warsztat Terapii Zajęciowej w Gębicach"}, staff, 10},
		{"lodz", nil, nil, store.Public, 10}, // a draft
		{"lodz", nil, []string{"Łódzka Firma (draft)"}, staff, 10},
		{"spoldz", nil, []string{"Spółdzielnia Socjalna „Równe Szanse”", "Stowarzyszenie Na Rzecz Spółdzielni Socjalnych"}, staff, 10},
	} {
		ss, err := st.Suggest(ctx, tc.vis, tc.prefix, tc.kinds, tc.limit)
		if err != nil {
			t.Fatalf("Suggest(%q): %v", tc.prefix, err)
		}
		var got []string
		for _, s := range ss {
			got = append(got, s.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Suggest(%q, %+v, %d) = %q, want %q", tc.prefix, tc.vis, tc.limit, got, tc.want)
		}
	}
}

// TestSuggestTakesLaterWordsFromTheSample: the names with a later word
// that starts with the prefix come from the names' sparser sample index
// (every 64th entity by id, migration 00055) where it holds the 100
// candidates, else from the other (every 8th) where it does, else from
// the whole names' index.
func TestSuggestTakesLaterWordsFromTheSample(t *testing.T) {
	st, _ := open(t)
	ctx := context.Background()
	// 8,000 names hold "Rozwojowa" (125 in the sparser sample), 1,200
	// "Kwitnąca" (18 there, 150 in the other), 300 "Zielona" (37 in the
	// other).
	names := namedCooperatives{{"Rozwojowa", 8000}, {"Kwitnąca", 1200}, {"Zielona", 300}}
	if _, err := st.BulkLoad(ctx, "test", names, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.BuildSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		every  int64 // the ids the suggestions must all be multiples of; 0: not all of 8
	}{{"socjalna rozw", 64}, {"socjalna kwit", 8}, {"socjalna ziel", 0}} {
		ss, err := st.Suggest(ctx, store.Public, tc.prefix, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 10 {
			t.Fatalf("%q: %d suggestions, want 10", tc.prefix, len(ss))
		}
		of64, of8 := 0, 0
		for i, sg := range ss {
			if sg.ID%64 == 0 {
				of64++
			}
			if sg.ID%8 == 0 {
				of8++
			}
			if i > 0 && strings.ToLower(ss[i-1].Name) > strings.ToLower(sg.Name) {
				t.Errorf("%q: %q before %q", tc.prefix, ss[i-1].Name, sg.Name)
			}
		}
		switch {
		case tc.every == 64 && of64 != len(ss):
			t.Errorf("%q: %d of %d suggestions from the sparser sample, want all: %+v", tc.prefix, of64, len(ss), ss)
		case tc.every == 8 && (of8 != len(ss) || of64 == len(ss)):
			t.Errorf("%q: %d of %d suggestions from the sample, %d from the sparser one; want all, not all: %+v", tc.prefix, of8, len(ss), of64, ss)
		case tc.every == 0 && of8 == len(ss):
			t.Errorf("%q: every suggestion from a sample, which holds fewer than 100 such names: %+v", tc.prefix, ss)
		}
	}
}

// namedCooperatives is a store.BulkSource of published cooperatives named
// "Spółdzielnia Socjalna <word> <n>", so many of each word.
type namedCooperatives []struct {
	word string
	n    int
}

func (c namedCooperatives) Len() int {
	n := 0
	for _, w := range c {
		n += w.n
	}
	return n
}

func (namedCooperatives) Kind(int) kb.Kind { return kb.KindCooperative }

func (c namedCooperatives) Entity(i int, e *kb.Entity) {
	j := i
	for _, w := range c {
		if j < w.n {
			*e = kb.Entity{Key: fmt.Sprintf("coop-%d", i), Kind: kb.KindCooperative, Name: fmt.Sprintf("Spółdzielnia Socjalna %s %d", w.word, j),
				Status: kb.StatusPublished, Cooperative: &kb.Cooperative{CoopStatus: kb.CoopOperating}}
			return
		}
		j -= w.n
	}
}

func (namedCooperatives) Links(func(*kb.Link) bool) {}

func (namedCooperatives) Indicators(func(*kb.Indicator) bool) {}

func TestSearchFollowsAStatusChangedOutsideTheStore(t *testing.T) {
	st, pool := open(t)
	load(t, st, small())
	if _, err := pool.Exec(context.Background(), `UPDATE entity SET status = 'PUBLISHED' WHERE key = 'secret'`); err != nil {
		t.Fatal(err)
	}
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "lodzka firma"}); !slices.Equal(got, []string{"secret"}) {
		t.Errorf("after publishing by SQL: got %v, want [secret]", got)
	}
	if _, err := pool.Exec(context.Background(), `UPDATE entity SET status = 'ARCHIVED' WHERE key = 'konimpex'`); err != nil {
		t.Fatal(err)
	}
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "konimpex"}); len(got) != 0 {
		t.Errorf("after archiving by SQL: got %v, want nothing", got)
	}
}

func TestCountSearchIsExactUpToItsBound(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	if err := loadSynthetic(ctx, pool, 3000); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Reindex(ctx, false); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"spoldzielnia", "gniezno", "fundacja ekonomii", "kooperativet"} {
		n, exact, err := st.CountSearch(ctx, store.Public, store.SearchRequest{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		// The truth, counted without a bound over the same documents.
		var all int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM search_doc WHERE status = 'PUBLISHED' AND vec @@ $1::tsquery`,
			mustParse(t, q)).Scan(&all); err != nil {
			t.Fatal(err)
		}
		switch {
		case all <= store.CountBound && (n != all || !exact):
			t.Errorf("%q: count %d exact %v, want %d exact", q, n, exact, all)
		case all > store.CountBound && (n != store.CountBound || exact):
			t.Errorf("%q: count %d exact %v, want %d inexact (%d match)", q, n, exact, store.CountBound, all)
		}
		// The count read with the page, from the same matches.
		page, err := st.Search(ctx, store.Public, store.SearchRequest{Query: q, Limit: 20, Count: true})
		if err != nil {
			t.Fatal(err)
		}
		if !page.Counted || page.Total != n || page.TotalExact != exact {
			t.Errorf("%q: counted with the page %v: %d exact %v, CountSearch %d exact %v", q, page.Counted, page.Total, page.TotalExact, n, exact)
		}
		t.Logf("%q: %d matches, count %d exact %v", q, all, n, exact)
	}
}

func mustParse(t *testing.T, q string) string {
	t.Helper()
	p, err := textsearch.Parse("query", q)
	if err != nil {
		t.Fatal(err)
	}
	return p.TSQuery()
}

func TestSearchOffersPartialMatchesAndNamesTheMissingWords(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	page, err := st.Search(ctx, store.Public, store.SearchRequest{Query: "konimpex gębice xyzzyq", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !page.Partial || !slices.Equal(page.Unmatched, []string{"xyzzyq"}) {
		t.Fatalf("partial %v, unmatched %v; want partial and [xyzzyq]", page.Partial, page.Unmatched)
	}
	missing := map[string][]string{}
	for _, h := range page.Hits {
		missing[h.Entity.Key] = h.Missing
	}
	if !slices.Equal(missing["konimpex"], []string{"gębice", "xyzzyq"}) || !slices.Equal(missing["wtz"], []string{"konimpex", "xyzzyq"}) {
		t.Errorf("missing words %v; want konimpex to lack gębice and xyzzyq, wtz konimpex and xyzzyq", missing)
	}
	n, exact, err := st.CountSearch(ctx, store.Public, store.SearchRequest{Query: "konimpex gębice xyzzyq"})
	if err != nil || n != len(page.Hits) || !exact {
		t.Errorf("count %d exact %v err %v; want the %d partial hits", n, exact, err, len(page.Hits))
	}
	// Counted with its page, a partial search counts what CountSearch
	// counts, from the page's own matches; one whose every word matches
	// nothing counts none, without a statement for it.
	for _, q := range []string{"konimpex gębice xyzzyq", "konimpex xyzzyq", "xyzzyq qqzzxx"} {
		n, exact, err := st.CountSearch(ctx, store.Public, store.SearchRequest{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		counted, err := st.Search(ctx, store.Public, store.SearchRequest{Query: q, Limit: 1, Count: true})
		if err != nil {
			t.Fatal(err)
		}
		if !counted.Counted || counted.Total != n || counted.TotalExact != exact {
			t.Errorf("%q: counted with its page %v: %d exact %v, CountSearch %d exact %v", q, counted.Counted, counted.Total, counted.TotalExact, n, exact)
		}
		if q == "xyzzyq qqzzxx" && (n != 0 || len(counted.Unmatched) != 2) {
			t.Errorf("%q: count %d, unmatched %v; want none and both words", q, n, counted.Unmatched)
		}
	}
	// A word that matches entities in full is no partial match.
	page, err = st.Search(ctx, store.Public, store.SearchRequest{Query: "konimpex", Limit: 10})
	if err != nil || page.Partial || len(page.Unmatched) != 0 || len(page.Hits) != 1 || len(page.Hits[0].Missing) != 0 {
		t.Errorf("konimpex: %+v, %v", page, err)
	}
}

func TestSearchKnowsACountryByAnyName(t *testing.T) {
	st, _ := open(t)
	d := small()
	d.Entities = append(d.Entities, kb.Entity{Key: "kos", Kind: kb.KindForeignExample, Name: "Kooperativet KOS", Status: kb.StatusPublished,
		Summary: "Spółdzielnia w Sztokholmie", ForeignExample: &kb.ForeignExample{Place: kb.Place{Country: "SE", City: "Stockholm"}}})
	load(t, st, d)
	for _, q := range []string{"szwecji", "Szwecja", "szwedzka spółdzielnia", "Sweden", "swedish cooperative", "Sverige", "svensk", "SE", "sztokholm"} {
		if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: q}); !slices.Equal(got, []string{"kos"}) {
			t.Errorf("%q: got %v, want [kos]", q, got)
		}
	}
	// "se" in lower case is a word, not the country.
	if got := searchKeys(t, st, store.Public, store.SearchRequest{Query: "se"}); slices.Contains(got, "kos") {
		t.Errorf("se: got %v, want no country match", got)
	}
}

// TestSearchProbeFindsWhatTheIndexFinds compares the searches of a store
// that probes every candidate set and count (searchprobe.go) with those
// of one that reads the text index, on a table where the probe finds
// enough: more entities hold the words than a search ranks (300) and
// than it counts (1,000). Both read the matches in the table's order,
// so the pages, scores and counts must be the same.
// cooperatives returns n published cooperatives, keyed key-0, key-1, …
// and named „Spółdzielnia Socjalna <word> <i>”; every third is in Poznań
// and sews bags ("Szyje torby.").
func cooperatives(key, word string, n int) []kb.Entity {
	out := make([]kb.Entity, n)
	for i := range out {
		e := kb.Entity{Key: fmt.Sprintf("%s-%d", key, i), Kind: kb.KindCooperative, Name: fmt.Sprintf("Spółdzielnia Socjalna %s %d", word, i),
			Status: kb.StatusPublished, Cooperative: &kb.Cooperative{CoopStatus: kb.CoopOperating}}
		if i%3 == 0 {
			e.Cooperative.Place = kb.Place{Country: "PL", City: "Poznań"}
			e.Summary = "Szyje torby."
		}
		out[i] = e
	}
	return out
}

// searchAsTheIndex checks that other (named name) answers r as the index
// store does: the same page, hit for hit with the same scores, its count
// when counted, and the same CountSearch. It returns the index store's
// page and count, and whether the pages had the same hits.
func searchAsTheIndex(t *testing.T, index, other *store.Store, name string, r store.SearchRequest) (*store.SearchPage, int, bool, bool) {
	t.Helper()
	ctx := context.Background()
	want, err := index.Search(ctx, store.Public, r)
	if err != nil {
		t.Fatalf("Search(%+v): %v", r, err)
	}
	got, err := other.Search(ctx, store.Public, r)
	if err != nil {
		t.Fatalf("%s Search(%+v): %v", name, r, err)
	}
	wn, wexact, err := index.CountSearch(ctx, store.Public, r)
	if err != nil {
		t.Fatal(err)
	}
	gn, gexact, err := other.CountSearch(ctx, store.Public, r)
	if err != nil {
		t.Fatal(err)
	}
	if gn != wn || gexact != wexact {
		t.Errorf("%+v: %s count %d (exact %v), index %d (exact %v)", r, name, gn, gexact, wn, wexact)
	}
	if len(got.Hits) != len(want.Hits) || got.HasNext != want.HasNext || got.Partial != want.Partial ||
		got.Total != want.Total || got.TotalExact != want.TotalExact {
		t.Errorf("%+v: %s %d hits (next %v, partial %v, count %d %v), index %d (next %v, partial %v, count %d %v)", r, name,
			len(got.Hits), got.HasNext, got.Partial, got.Total, got.TotalExact, len(want.Hits), want.HasNext, want.Partial, want.Total, want.TotalExact)
		return want, wn, wexact, false
	}
	for i := range want.Hits {
		if got.Hits[i].Entity.Key != want.Hits[i].Entity.Key || got.Hits[i].Score != want.Hits[i].Score {
			t.Errorf("%+v: hit %d %s %s (%.4f), index %s (%.4f)", r, i, name,
				got.Hits[i].Entity.Key, got.Hits[i].Score, want.Hits[i].Entity.Key, want.Hits[i].Score)
		}
	}
	return want, wn, wexact, true
}

func TestSearchProbeFindsWhatTheIndexFinds(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	d := small()
	d.Entities = append(d.Entities, cooperatives("probe", "Próbna", 1100)...)
	load(t, st, d)
	if _, err := pool.Exec(ctx, `ANALYZE search_doc`); err != nil {
		t.Fatal(err)
	}
	probed := store.New(pool)
	probed.ProbeEverySearch()
	if n, err := probed.ProbeWindows(ctx, "probna", 300); err != nil || n == 0 {
		t.Fatalf("ProbeWindows = %d, %v; want windows", n, err)
	}
	// The index store reads the index: the reference-sized table is too
	// small for a probe to pay.
	if n, err := st.ProbeWindows(ctx, "probna", 300); err != nil || n != 0 {
		t.Fatalf("ProbeWindows of the index store = %d, %v; want none", n, err)
	}
	for _, r := range []store.SearchRequest{
		{Query: "spoldzielnia probna", Limit: 20},
		{Query: "próbna", Offset: 280, Limit: 30},
		{Query: "spółdzielnia socjalna", Limit: 20, Kinds: []kb.Kind{kb.KindCooperative}},
		{Query: "probna poznan", Limit: 20},
		{Query: "torby", Limit: 20, Country: "PL"},
		{Query: "spoldzielnia rowne szanse", Limit: 5},
		{Query: "probna nieistniejace", Limit: 5},
	} {
		want, wn, wexact, ok := searchAsTheIndex(t, st, probed, "probed", r)
		if !ok {
			continue
		}
		// Counted with the page, by either store: the same hits, and the
		// count CountSearch gives.
		for name, s := range map[string]*store.Store{"index": st, "probed": probed} {
			rc := r
			rc.Count = true
			page, err := s.Search(ctx, store.Public, rc)
			if err != nil {
				t.Fatalf("%s Search(%+v): %v", name, rc, err)
			}
			if len(page.Hits) != len(want.Hits) || page.HasNext != want.HasNext {
				t.Errorf("%s, counted %+v: %d hits (next %v), uncounted %d (next %v)", name, rc, len(page.Hits), page.HasNext, len(want.Hits), want.HasNext)
				continue
			}
			for i := range want.Hits {
				if page.Hits[i].Entity.Key != want.Hits[i].Entity.Key || page.Hits[i].Score != want.Hits[i].Score {
					t.Errorf("%s, counted %+v: hit %d %s, uncounted %s", name, rc, i, page.Hits[i].Entity.Key, want.Hits[i].Entity.Key)
				}
			}
			// A page of partial matches too: the entities that match any
			// word, as CountSearch counts them.
			switch {
			case !page.Counted:
				t.Errorf("%s, counted %+v: not counted (partial %v)", name, rc, page.Partial)
			case page.Total != wn || page.TotalExact != wexact:
				t.Errorf("%s, counted %+v: %d (exact %v), CountSearch %d (exact %v)", name, rc, page.Total, page.TotalExact, wn, wexact)
			}
		}
	}
	// Counted with its page, the count of 1,100 matches reads the probe
	// only, as CountSearch does.
	if page, err := probed.Search(ctx, store.Public, store.SearchRequest{Query: "probna", Limit: 20, Count: true}); err != nil ||
		!page.Counted || page.Total != store.CountBound || page.TotalExact {
		t.Errorf("probed page of 1,100 matches counted %v: %d, %v, %v; want %d, inexact", page != nil && page.Counted, page.Total, page.TotalExact, err, store.CountBound)
	}
	if n, exact, err := probed.CountSearch(ctx, store.Public, store.SearchRequest{Query: "probna"}); err != nil || n != store.CountBound || exact {
		t.Errorf("probed count of 1,100 matches = %d, %v, %v; want %d, inexact", n, exact, err, store.CountBound)
	}
	// The probe found the bound: the text index was not read at all.
	plan, err := probed.ExplainCount(ctx, store.Public, "probna")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "Tid Range Scan") {
		t.Errorf("the probed count reads no window:\n%s", plan)
	}
	for _, l := range strings.Split(plan, "\n") {
		if strings.Contains(l, "Scan on search_doc") && !strings.Contains(l, "Tid Range Scan") && !strings.Contains(l, "never executed") {
			t.Errorf("the probed count also read the table otherwise: %s\n%s", l, plan)
		}
	}
}

// TestSearchSampleReadsTheSampleIndexFirst checks the sample index
// (migration 00054, searchprobe.go): a set the sample fills comes from
// the sample's documents only, ranked as the index's are; a set it does
// not fill, and every count under the bound, are those of the whole
// index, read in the same statement.
func TestSearchSampleReadsTheSampleIndexFirst(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	d := small()
	// 2,600 names that hold the word: about 325 in the sample, which
	// fills a set of 300 candidates.
	d.Entities = append(d.Entities, cooperatives("sample", "Próbkowa", 2600)...)
	load(t, st, d)
	if _, err := pool.Exec(ctx, `ANALYZE search_doc`); err != nil {
		t.Fatal(err)
	}
	sampled := store.New(pool)
	sampled.SampleEverySearch()

	// Filled by the sample: every hit is of the sample, in score order,
	// with the score the index store gives the same entity.
	for _, r := range []store.SearchRequest{
		{Query: "probkowa", Limit: 20, Count: true},
		{Query: "spółdzielnia próbkowa", Offset: 5, Limit: 10, Count: true},
	} {
		page, err := sampled.Search(ctx, store.Public, r)
		if err != nil {
			t.Fatalf("sampled Search(%+v): %v", r, err)
		}
		if len(page.Hits) != r.Limit || !page.HasNext {
			t.Fatalf("sampled %+v: %d hits (next %v), want %d and more", r, len(page.Hits), page.HasNext, r.Limit)
		}
		// The sample misses the count's bound (325 of 1,001): the count
		// is the whole index's.
		if !page.Counted || page.Total != store.CountBound || page.TotalExact {
			t.Errorf("sampled %+v: counted %v %d (exact %v), want %d, inexact", r, page.Counted, page.Total, page.TotalExact, store.CountBound)
		}
		byKey := map[string]float64{}
		all, err := st.Search(ctx, store.Public, store.SearchRequest{Query: r.Query, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range all.Hits {
			byKey[h.Entity.Key] = h.Score
		}
		for i, h := range page.Hits {
			if h.Entity.ID%8 != 0 {
				t.Errorf("sampled %+v: hit %d %s (id %d) is not of the sample", r, i, h.Entity.Key, h.Entity.ID)
			}
			if i > 0 && h.Score > page.Hits[i-1].Score {
				t.Errorf("sampled %+v: hit %d scores %.4f above the one before (%.4f)", r, i, h.Score, page.Hits[i-1].Score)
			}
			if want, ok := byKey[h.Entity.Key]; ok && want != h.Score {
				t.Errorf("sampled %+v: %s scores %.4f, the index store %.4f", r, h.Entity.Key, h.Score, want)
			}
		}
	}

	// Not filled by the sample: the answers are the index's, hit for hit.
	for _, r := range []store.SearchRequest{
		{Query: "spoldzielnia rowne szanse", Limit: 5, Count: true},
		{Query: "torby", Limit: 20, Country: "PL", Count: true},
		{Query: "próbkowa poznań", Limit: 20, Count: true},
		{Query: "probkowa nieistniejace", Limit: 5},
	} {
		searchAsTheIndex(t, st, sampled, "sampled", r)
	}

	// The sample is read by its own index, not by the whole one filtered.
	plan, err := sampled.ExplainCount(ctx, store.Public, "probkowa")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "Bitmap Index Scan on search_doc_vec_sample_idx") {
		t.Errorf("the sampled count does not read the sample index:\n%s", plan)
	}
}

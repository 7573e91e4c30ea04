package store_test

import (
	"context"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// withTranslations is small() with the association's name and summary in
// English and Swedish, and its city's name in Polish.
func withTranslations() kb.Dataset {
	d := small()
	for i := range d.Entities {
		if d.Entities[i].Key == "rops" {
			d.Entities[i].Summary = "Partner publiczny."
			d.Entities[i].Translations = []kb.Translation{
				{Field: kb.FieldName, Lang: "en", Text: "Regional Centre for Social Policy in Poznań"},
				{Field: kb.FieldName, Lang: "sv", Text: "Regionala centret för socialpolitik i Poznań"},
				{Field: kb.FieldSummary, Lang: "en", Text: "A public partner.", Machine: true},
			}
		}
		if d.Entities[i].Key == "konimpex" {
			d.Entities[i].NameLanguage = "en"
		}
	}
	return d
}

// Translations and the original language are stored with the entry, read
// back by the loaders' query, and a second load of the same data set
// changes nothing.
func TestTranslationsRoundTrip(t *testing.T) {
	st, _ := open(t)
	ctx := context.Background()
	load(t, st, withTranslations())
	rops, konimpex := idOfKey(t, st, "rops"), idOfKey(t, st, "konimpex")
	texts, err := st.Texts(ctx, store.Public, []int64{rops, konimpex})
	if err != nil {
		t.Fatal(err)
	}
	got := texts[rops]
	if got.Original != "pl" || len(got.Translations) != 3 {
		t.Fatalf("texts = %+v", got)
	}
	// Field order, then language.
	if tr := got.Translations[0]; tr.Field != kb.FieldName || tr.Lang != "en" || tr.By != "test" || tr.At == nil {
		t.Errorf("first translation %+v", tr)
	}
	if tr := got.Translations[2]; tr.Field != kb.FieldSummary || !tr.Machine {
		t.Errorf("summary translation %+v, want a machine's", tr)
	}
	if k := texts[konimpex]; k.Original != "pl" || k.Name != "en" {
		t.Errorf("konimpex %+v, want a Polish entry with an English name", k)
	}
	if rep := load(t, st, withTranslations()); rep.Changed() {
		t.Errorf("a second load changed %+v", rep)
	}
	// Another data set without one translation removes it, and keeps who
	// wrote the others.
	d := withTranslations()
	for i := range d.Entities {
		if d.Entities[i].Key == "rops" {
			d.Entities[i].Translations = d.Entities[i].Translations[:2]
		}
	}
	if _, err := st.ApplyDataset(ctx, "other", d); err != nil {
		t.Fatal(err)
	}
	texts, _ = st.Texts(ctx, store.Public, []int64{rops})
	if n := len(texts[rops].Translations); n != 2 || texts[rops].Translations[0].By != "test" {
		t.Errorf("after removal: %+v", texts[rops].Translations)
	}
}

// A translation set through UpdateEntity is a revision like any change:
// its states hold the translations, and reverting it takes the
// translation away again; reverting the revert brings it back.
func TestTranslationHistoryAndRevert(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	load(t, st, small())
	wtz := idOfKey(t, st, "wtz")
	// A made-up English name, with a word no other field holds.
	tr := kb.Translation{Field: kb.FieldName, Lang: "en", Text: "Sunflower Workshop in Gębice"}
	e, err := st.UpdateEntity(ctx, "ed", kb.OpUpdate, wtz, nil, func(cur *kb.Entity) (*kb.Entity, error) {
		next := *cur
		next.SetTranslation(tr)
		return &next, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Translations) != 1 || e.Translations[0].By != "ed" || e.Version != 2 {
		t.Fatalf("stored %+v (version %d)", e.Translations, e.Version)
	}
	set := lastRevision(t, pool, "entity_id = $1", wtz)
	var after string
	if err := pool.QueryRow(ctx, `SELECT after->'translations'->0->>'text' FROM revision WHERE id = $1`, set).Scan(&after); err != nil || after != tr.Text {
		t.Errorf("the revision's state after holds %q, %v", after, err)
	}
	// The search document holds the translation: an English word finds
	// the Polish entry.
	page, err := st.Search(ctx, store.Public, store.SearchRequest{Query: "sunflowers", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Hits) == 0 || page.Hits[0].Entity.ID != wtz || page.Hits[0].Snippet.Field != "name@en" {
		t.Errorf("search in English: %+v", page.Hits)
	}
	rev, err := st.Revert(ctx, "ed", set)
	if err != nil {
		t.Fatal(err)
	}
	texts, _ := st.Texts(ctx, store.Public, []int64{wtz})
	if len(texts[wtz].Translations) != 0 {
		t.Errorf("after revert: %+v", texts[wtz].Translations)
	}
	page, _ = st.Search(ctx, store.Public, store.SearchRequest{Query: "sunflowers", Limit: 5})
	if len(page.Hits) != 0 {
		t.Errorf("the reverted translation is still found: %+v", page.Hits)
	}
	if _, err := st.Revert(ctx, "ed", rev.RevisionID); err != nil {
		t.Fatal(err)
	}
	texts, _ = st.Texts(ctx, store.Public, []int64{wtz})
	if ts := texts[wtz].Translations; len(ts) != 1 || ts[0].Text != tr.Text {
		t.Errorf("after reverting the revert: %+v", ts)
	}
}

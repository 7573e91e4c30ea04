package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// listKeys lists the keys f matches under the public visibility, and
// checks that the count agrees with the list.
func listKeys(t *testing.T, st *store.Store, f store.Filter) []string {
	t.Helper()
	ctx := context.Background()
	page, err := st.ListEntities(ctx, store.Public, f, store.Order{}, store.Page{First: 100})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	got := keys(page.Entities)
	n, err := st.CountEntities(ctx, store.Public, f)
	if err != nil || n != len(got) {
		t.Errorf("count: got %d, %v; the list has %d", n, err, len(got))
	}
	return got
}

func expectKeys(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func practices(f store.Filter) store.Filter {
	f.Kind = kb.KindGoodPractice
	return f
}

// The practice of small() is demonstrated by the partnership (members: the
// association, ROPS in Poznań, PL, Konimpex, and a draft company) and by
// the cooperative (founded by the workshop, which employs its
// participants).
func TestPracticesByCountryAndPartnerSector(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"country of a partner behind it, any case", practices(store.Filter{PracticeCountries: []string{"pl"}}), []string{"practice"}},
		{"a country none is in", practices(store.Filter{PracticeCountries: []string{"SE"}}), nil},
		{"one of the countries", practices(store.Filter{PracticeCountries: []string{"SE", "PL"}}), []string{"practice"}},
		{"a sector behind it", practices(store.Filter{PracticeSectors: []kb.Sector{kb.SectorPrivate}}), []string{"practice"}},
		{"country and sector", practices(store.Filter{PracticeCountries: []string{"PL"}, PracticeSectors: []kb.Sector{kb.SectorPublic}}), []string{"practice"}},
		{"not a practice", store.Filter{Kind: kb.KindPartner, PracticeSectors: []kb.Sector{kb.SectorPrivate}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) { expectKeys(t, tc.name, listKeys(t, st, tc.f), tc.want...) })
	}
}

// The facets follow every write that changes them, in its transaction:
// publication, a partner's sector and country, links made and removed.
func TestPracticeFacetsFollowWrites(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	n := ids(t, st, "konimpex", "secret", "rops", "practice", "ps")
	konimpex, secret, rops, practice, ps := n[0], n[1], n[2], n[3], n[4]
	update := func(id int64, change func(e *kb.Entity)) {
		t.Helper()
		// A copy: a change that returns the current entity changes nothing.
		if _, err := st.UpdateEntity(ctx, "test", kb.OpUpdate, id, nil, func(cur *kb.Entity) (*kb.Entity, error) {
			e := *cur
			if cur.Partner != nil {
				p := *cur.Partner
				e.Partner = &p
			}
			change(&e)
			return &e, nil
		}); err != nil {
			t.Fatalf("update: %v", err)
		}
	}
	private := practices(store.Filter{PracticeSectors: []kb.Sector{kb.SectorPrivate}})
	sweden := practices(store.Filter{PracticeCountries: []string{"SE"}})

	update(konimpex, func(e *kb.Entity) { e.Status = kb.StatusDraft })
	expectKeys(t, "private, Konimpex unpublished (the other private member is a draft)", listKeys(t, st, private))
	update(secret, func(e *kb.Entity) { e.Status = kb.StatusPublished })
	expectKeys(t, "private, the draft company published", listKeys(t, st, private), "practice")
	update(secret, func(e *kb.Entity) { e.Partner.Sector = kb.SectorSocial })
	expectKeys(t, "private, its sector changed", listKeys(t, st, private))

	update(rops, func(e *kb.Entity) { e.Partner.Place.Country = "SE" })
	expectKeys(t, "Sweden, ROPS moved", listKeys(t, st, sweden), "practice")

	// A new practice of the partnership: its facets come with its link.
	np, err := st.CreateEntity(ctx, "test", &kb.Entity{Key: "nowa", Kind: kb.KindGoodPractice, Name: "Nowa praktyka", Status: kb.StatusPublished,
		GoodPractice: &kb.GoodPractice{}})
	if err != nil {
		t.Fatal(err)
	}
	update(np.ID, func(e *kb.Entity) { e.Status = kb.StatusPublished }) // created as a draft
	expectKeys(t, "not Sweden, before its link", listKeys(t, st, practices(store.Filter{Not: &store.Filter{PracticeCountries: []string{"SE"}}})), "nowa")
	l, err := st.CreateLink(ctx, "test", &kb.Link{FromID: ps, ToID: np.ID, Type: kb.RelDemonstrates})
	if err != nil {
		t.Fatal(err)
	}
	expectKeys(t, "Sweden, with its link", listKeys(t, st, sweden), "practice", "nowa")
	if _, err := st.DeleteLink(ctx, "test", l.ID, nil); err != nil {
		t.Fatal(err)
	}
	expectKeys(t, "Sweden, its link removed", listKeys(t, st, sweden), "practice")
	_ = practice
}

func TestComposedFilters(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	partners := func(f store.Filter) store.Filter { f.Kind = kb.KindPartner; return f }
	public := store.Filter{Sectors: []kb.Sector{kb.SectorPublic}}
	private := store.Filter{Sectors: []kb.Sector{kb.SectorPrivate}}
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"or", partners(store.Filter{Or: []store.Filter{public, private}}), []string{"konimpex", "rops"}},
		{"empty or holds for nothing", partners(store.Filter{Or: []store.Filter{}}), nil},
		{"not", partners(store.Filter{Not: &store.Filter{Or: []store.Filter{public, private}}}), []string{"assoc", "wtz"}},
		{"and", partners(store.Filter{And: []store.Filter{{Name: "o"}, {Not: &public}}}), []string{"konimpex", "assoc", "wtz"}},
		// The country is '' for partners without one: "not PL" keeps them.
		{"not on a column some lack", partners(store.Filter{Not: &store.Filter{Country: "PL"}}), []string{"konimpex", "assoc", "wtz"}},
		{"or with a name", partners(store.Filter{Or: []store.Filter{{Name: "gebic"}, {City: "poznan"}}}), []string{"rops", "wtz"}},
		{"since a time to come", partners(store.Filter{UpdatedSince: ptr(time.Now().Add(time.Hour))}), nil},
		{"since a time past", partners(store.Filter{CreatedSince: ptr(time.Now().Add(-time.Hour)), Sectors: []kb.Sector{kb.SectorPublic}}), []string{"rops"}},
	} {
		t.Run(tc.name, func(t *testing.T) { expectKeys(t, tc.name, listKeys(t, st, tc.f), tc.want...) })
	}
}

func ptr[T any](v T) *T { return &v }

func TestTopicsMatchFoldedAndStemmedWords(t *testing.T) {
	st, _ := open(t)
	d := small()
	d.Entities = append(d.Entities, kb.Entity{Key: "ps-practice", Kind: kb.KindGoodPractice, Name: "Spółdzielnie z WTZ",
		Status: kb.StatusPublished, GoodPractice: &kb.GoodPractice{Topics: []string{"spółdzielnie socjalne", "WTZ"}}})
	load(t, st, d)
	for _, tc := range []struct {
		topic string
		want  []string
	}{
		{"spółdzielnie socjalne", []string{"ps-practice"}},
		{"spółdzielnie", []string{"ps-practice"}},
		{"Spoldzielnia", []string{"ps-practice"}},
		{"socjalne spółdzielnie", []string{"ps-practice"}},
		{"spółdzielczość", nil},
		{"dzielnie", nil}, // inside a word, not at its start
		{"biznes", []string{"practice"}},
		{"wtz", []string{"ps-practice"}},
		{"...", nil},
	} {
		got := listKeys(t, st, practices(store.Filter{Topics: []string{tc.topic}}))
		expectKeys(t, tc.topic, got, tc.want...)
	}
}

func TestFilterShapeIsBounded(t *testing.T) {
	f := store.Filter{}
	for range store.MaxFilterDepth {
		g := f
		f = store.Filter{Not: &g}
	}
	if err := store.CheckFilterShape("filter", f); err != nil {
		t.Fatalf("depth %d: %v", store.MaxFilterDepth, err)
	}
	var ve *kb.ValidationError
	if err := store.CheckFilterShape("filter", store.Filter{Not: &f}); !errors.As(err, &ve) || ve.Field != "filter" {
		t.Fatalf("depth %d: %v, want a validation error of filter", store.MaxFilterDepth+1, err)
	}
	wide := store.Filter{Or: make([]store.Filter, store.MaxFilterParts)}
	if err := store.CheckFilterShape("filter", wide); !errors.As(err, &ve) {
		t.Fatalf("%d parts: %v, want a validation error", store.MaxFilterParts+1, err)
	}
}

// A country few practices have is read through the GIN index first, then
// listed by those ids; a common one is probed practice by practice. Both
// give the same answer.
func TestRareAndCommonFacetsListTheSame(t *testing.T) {
	st, _ := open(t)
	d := small()
	for i := range 60 {
		d.Entities = append(d.Entities, kb.Entity{Key: fmt.Sprintf("gp-%02d", i), Kind: kb.KindGoodPractice,
			Name: fmt.Sprintf("Praktyka %02d", i), Status: kb.StatusPublished, GoodPractice: &kb.GoodPractice{}})
	}
	load(t, st, d)
	// 1 practice of 61 is in PL: under the 2% share, by ids.
	expectKeys(t, "rare country", listKeys(t, st, practices(store.Filter{PracticeCountries: []string{"PL"}})), "practice")
	expectKeys(t, "rare sector", listKeys(t, st, practices(store.Filter{PracticeSectors: []kb.Sector{kb.SectorPrivate}})), "practice")
	expectKeys(t, "a country none has", listKeys(t, st, practices(store.Filter{PracticeCountries: []string{"DE"}})))
	// Nested, the same facets are probed per practice.
	expectKeys(t, "nested", listKeys(t, st, practices(store.Filter{And: []store.Filter{{PracticeCountries: []string{"PL"}}}})), "practice")
	got := listKeys(t, st, practices(store.Filter{Not: &store.Filter{PracticeCountries: []string{"PL"}}}))
	if len(got) != 60 || slices.Contains(got, "practice") {
		t.Errorf("not PL: %d practices %v, want the 60 others", len(got), got)
	}
}

// A composed filter of nothing but facets is counted up to the bound from
// practice_facet (Store.countFacets): the same number as the list, and
// flagged past the bound.
func TestComposedFacetFiltersCountAsTheyList(t *testing.T) {
	st, _ := open(t)
	d := small()
	for i := range 5 {
		d.Entities = append(d.Entities, kb.Entity{Key: fmt.Sprintf("gp-%02d", i), Kind: kb.KindGoodPractice,
			Name: fmt.Sprintf("Praktyka %02d", i), Status: kb.StatusPublished, GoodPractice: &kb.GoodPractice{}})
	}
	d.Entities = append(d.Entities, kb.Entity{Key: "gp-draft", Kind: kb.KindGoodPractice, Name: "Praktyka szkic",
		Status: kb.StatusDraft, GoodPractice: &kb.GoodPractice{}})
	load(t, st, d)
	ctx := context.Background()
	pl := store.Filter{PracticeCountries: []string{"pl"}}
	for _, tc := range []struct {
		name string
		f    store.Filter
		want int
	}{
		{"not PL", practices(store.Filter{Not: &pl}), 5},
		{"PL and not SE", practices(store.Filter{PracticeCountries: []string{"PL"}, Not: &store.Filter{PracticeCountries: []string{"SE"}}}), 1},
		{"or", practices(store.Filter{Or: []store.Filter{pl, {PracticeSectors: []kb.Sector{kb.SectorPrivate}}}}), 1},
		{"empty or", practices(store.Filter{Or: []store.Filter{}}), 0},
		{"not not", practices(store.Filter{Not: &store.Filter{Not: &pl}}), 1},
	} {
		got := listKeys(t, st, tc.f)
		if len(got) != tc.want {
			t.Errorf("%s: list %v, want %d practices", tc.name, got, tc.want)
		}
		c, err := st.CountEntitiesUpTo(ctx, store.Public, tc.f, 10)
		if err != nil || c != (store.Count{N: tc.want, Exact: true}) {
			t.Errorf("%s: count up to 10 = %+v, %v; want exactly %d", tc.name, c, err, tc.want)
		}
		if tc.want > 1 {
			c, err := st.CountEntitiesUpTo(ctx, store.Public, tc.f, 1)
			if err != nil || c != (store.Count{N: 1, Exact: false}) {
				t.Errorf("%s: count up to 1 = %+v, %v; want 1, not exact", tc.name, c, err)
			}
		}
	}
}

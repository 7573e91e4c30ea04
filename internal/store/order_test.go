package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// orderData is 13 partners whose countries and names repeat (and some have
// no country), so that an order by country and name has ties on the first
// key, ties on both (broken by id), and entries without the first key.
func orderData() kb.Dataset {
	d := kb.Dataset{Entities: []kb.Entity{{Key: "art", Kind: kb.KindSource, Name: "Artykuł", Status: kb.StatusPublished,
		Source: &kb.Source{SourceKind: kb.SourceArticle, Language: "pl"}}}}
	countries := []string{"SE", "PL", "", "GB", "PL", "SE", "", "PL", "GB", "PL", "SE", "", "PL"}
	names := []string{"Ćma", "Alfa", "Beta", "alfa", "Beta", "Alfa", "Zeta", "Żuk", "Beta", "Alfa", "Omega", "Alfa", "Ęta"}
	for i := range countries {
		d.Entities = append(d.Entities, kb.Entity{Key: fmt.Sprintf("p%02d", i), Kind: kb.KindPartner, Name: names[i],
			Status: kb.StatusPublished, Citations: cite("art"),
			Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerAssociation, Place: kb.Place{Country: countries[i]}}})
	}
	return d
}

// TestOrderBySeveralKeysPagesEveryWay reads the partners of orderData in
// orders of one, two and three keys, in the same and in mixed directions,
// two by two forwards and backwards from every cursor, and checks each walk
// against the order computed here: no entry lost or repeated across pages,
// entries without a country after those with one, ties broken by id.
func TestOrderBySeveralKeysPagesEveryWay(t *testing.T) {
	st, _ := open(t)
	load(t, st, orderData())
	ctx := context.Background()
	f := store.Filter{Kind: kb.KindPartner}
	all, err := st.ListEntities(ctx, store.Public, f, store.Order{Field: store.OrderCreatedAt}, store.Page{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Entities) != 13 {
		t.Fatalf("got %d partners, want 13", len(all.Entities))
	}
	country := func(e *kb.Entity) string {
		if c := e.Country(); c != "" {
			return c
		}
		return "~" // after every country
	}
	value := map[store.OrderField]func(e *kb.Entity) string{
		store.OrderCountry:   country,
		store.OrderName:      func(e *kb.Entity) string { return kb.Fold(e.Name) },
		store.OrderCreatedAt: func(e *kb.Entity) string { return fmt.Sprintf("%020d", e.CreatedAt.UnixNano()) },
		store.OrderUpdatedAt: func(e *kb.Entity) string { return fmt.Sprintf("%020d", e.UpdatedAt.UnixNano()) },
	}
	for _, ks := range [][]store.OrderKey{
		{{Field: store.OrderCountry}},
		{{Field: store.OrderCountry}, {Field: store.OrderName}},
		{{Field: store.OrderCountry, Desc: true}, {Field: store.OrderName, Desc: true}},
		{{Field: store.OrderCountry}, {Field: store.OrderName, Desc: true}},
		{{Field: store.OrderCountry, Desc: true}, {Field: store.OrderName}},
		{{Field: store.OrderName}, {Field: store.OrderCountry}},
		{{Field: store.OrderCountry}, {Field: store.OrderName}, {Field: store.OrderCreatedAt, Desc: true}},
		// The data are loaded at one time: every entry ties on the first
		// key, as the generated graph's do.
		{{Field: store.OrderUpdatedAt, Desc: true}, {Field: store.OrderName}},
		{{Field: store.OrderCreatedAt}, {Field: store.OrderCountry, Desc: true}, {Field: store.OrderName}},
		{{Field: store.OrderName, Desc: true}, {Field: store.OrderCountry}},
	} {
		o := store.OrderOf(ks)
		t.Run(o.Key(), func(t *testing.T) {
			want := slices.Clone(all.Entities)
			slices.SortStableFunc(want, func(a, b *kb.Entity) int {
				for _, k := range ks {
					c := cmp.Compare(value[k.Field](a), value[k.Field](b))
					if k.Desc {
						c = -c
					}
					if c != 0 {
						return c
					}
				}
				c := cmp.Compare(a.ID, b.ID)
				if ks[len(ks)-1].Desc {
					c = -c
				}
				return c
			})
			wantKeys := keys(want)
			var got []string
			var positions []store.Position
			p := store.Page{First: 2}
			for range 20 {
				page, err := st.ListEntities(ctx, store.Public, f, o, p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, keys(page.Entities)...)
				positions = append(positions, page.Positions...)
				if !page.HasNext {
					break
				}
				last := page.Positions[len(page.Positions)-1]
				p = store.Page{First: 2, After: &last}
			}
			if !slices.Equal(got, wantKeys) {
				t.Fatalf("forward pages:\n got %v\nwant %v", got, wantKeys)
			}
			// Backwards from each position: the two items before it.
			for i, pos := range positions {
				page, err := st.ListEntities(ctx, store.Public, f, o, store.Page{Last: 2, Before: &pos})
				if err != nil {
					t.Fatal(err)
				}
				if w := wantKeys[max(0, i-2):i]; !slices.Equal(keys(page.Entities), w) || page.HasPrev != (i > 2) {
					t.Fatalf("before %s: got %v (prev %v), want %v (prev %v)", wantKeys[i], keys(page.Entities), page.HasPrev, w, i > 2)
				}
			}
		})
	}
}

func TestOrderRefusesDuplicateAndTooManyKeys(t *testing.T) {
	for _, tc := range []struct {
		o    store.Order
		want string
	}{
		{store.OrderOf([]store.OrderKey{{Field: store.OrderName}, {Field: store.OrderName, Desc: true}}), "orderBy[1].field"},
		{store.OrderOf([]store.OrderKey{{Field: store.OrderCountry}, {Field: store.OrderName}, {Field: store.OrderWhen}, {Field: store.OrderCreatedAt}}), "orderBy"},
		{store.OrderOf([]store.OrderKey{{Field: store.OrderCountry}, {Field: "SIZE"}}), "orderBy[1].field"},
	} {
		err := tc.o.Check("orderBy")
		var ve *kb.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.want {
			t.Errorf("%s: got %v, want a validation error on %s", tc.o.Key(), err, tc.want)
		}
	}
	if err := store.OrderOf([]store.OrderKey{{Field: store.OrderCountry}, {Field: store.OrderName}}).Check("orderBy"); err != nil {
		t.Errorf("[COUNTRY, NAME]: %v", err)
	}
	if k := (store.Order{Field: store.OrderName}).Key(); k != "NAME_ASC" || strings.Contains(k, ",") {
		t.Errorf("one key is named %q, want NAME_ASC as before", k)
	}
}

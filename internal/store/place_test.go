package store_test

import (
	"context"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestMapFiltersWideAndNarrowAgree: a map filter lists and counts the same
// entities whether its area is taken for a narrow one (its points' entities
// read first) or a wide one (each entity probed as the list walks, and the
// count walking the area's points), alone, with other conditions and inside
// and/or/not; an event with several places in the area counts once.
func TestMapFiltersWideAndNarrowAgree(t *testing.T) {
	st, _ := open(t)
	pt := func(lat, lon float64) kb.Place { return kb.Place{Country: "PL", Latitude: &lat, Longitude: &lon} }
	poznan, gniezno, swarzedz, krakow := pt(52.4064, 16.9252), pt(52.5348, 17.5826), pt(52.4121, 17.0826), pt(50.0647, 19.9450)
	pub := kb.StatusPublished
	partner := func(key, name string, s kb.Sector, p kb.Place) kb.Entity {
		return kb.Entity{Key: key, Kind: kb.KindPartner, Name: name, Status: pub,
			Partner: &kb.Partner{Sector: s, PartnerKind: kb.PartnerAssociation, Place: p}}
	}
	d := small()
	d.Entities = append(d.Entities,
		partner("m-poznan", "Mapa Poznań", kb.SectorPublic, poznan),
		partner("m-gniezno", "Mapa Gniezno", kb.SectorSocial, gniezno),
		partner("m-swarzedz", "Mapa Swarzędz", kb.SectorPrivate, swarzedz),
		partner("m-krakow", "Mapa Kraków", kb.SectorPublic, krakow),
		kb.Entity{Key: "m-draft", Kind: kb.KindPartner, Name: "Mapa szkic", Status: kb.StatusDraft,
			Partner: &kb.Partner{Sector: kb.SectorPublic, PartnerKind: kb.PartnerAssociation, Place: poznan}},
		// Three of its places in Wielkopolska: counted once.
		kb.Entity{Key: "m-tour", Kind: kb.KindEvent, Name: "Mapa objazd", Status: pub,
			Event: &kb.Event{EventKind: kb.EventStudyVisit, EventStatus: kb.EventHeld, Place: poznan,
				OtherPlaces: []kb.Place{krakow, gniezno, swarzedz}}},
		kb.Entity{Key: "m-krakow-ev", Kind: kb.KindEvent, Name: "Mapa Kraków wydarzenie", Status: pub,
			Event: &kb.Event{EventKind: kb.EventTraining, EventStatus: kb.EventHeld, Place: krakow}},
	)
	load(t, st, d)
	wlkp := &kb.BBox{South: 52, West: 16, North: 53, East: 18}
	near := &kb.Circle{Lat: 52.4064, Lon: 16.9252, RadiusKm: 20}
	partners := func(f store.Filter) store.Filter { f.Kind = kb.KindPartner; return f }
	events := func(f store.Filter) store.Filter { f.Kind = kb.KindEvent; return f }
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"within", partners(store.Filter{Within: wlkp}), []string{"m-gniezno", "m-poznan", "m-swarzedz"}},
		{"near", partners(store.Filter{Near: near}), []string{"m-poznan", "m-swarzedz"}},
		{"near and a sector", partners(store.Filter{Near: near, Sectors: []kb.Sector{kb.SectorPrivate}}), []string{"m-swarzedz"}},
		{"within and a name", partners(store.Filter{Within: wlkp, Name: "gniez"}), []string{"m-gniezno"}},
		{"within and near", partners(store.Filter{Within: wlkp, Near: near, Not: &store.Filter{Sectors: []kb.Sector{kb.SectorPublic}}}), []string{"m-swarzedz"}},
		{"not near", partners(store.Filter{Name: "mapa", Not: &store.Filter{Near: near}}), []string{"m-gniezno", "m-krakow"}},
		{"or near", partners(store.Filter{Or: []store.Filter{{Near: near}, {Sectors: []kb.Sector{kb.SectorSocial}, Name: "mapa"}}}),
			[]string{"m-gniezno", "m-poznan", "m-swarzedz"}},
		{"events within", events(store.Filter{Within: wlkp}), []string{"m-tour"}},
		{"events within, a kind", events(store.Filter{Within: wlkp, EventKinds: []kb.EventKind{kb.EventTraining}}), nil},
		{"events near Kraków", events(store.Filter{Near: &kb.Circle{Lat: 50.06, Lon: 19.94, RadiusKm: 10}}), []string{"m-krakow-ev", "m-tour"}},
	} {
		for _, limit := range []int{2000, 1} {
			restore := store.SetPlaceIndexLimit(limit)
			got := listKeys(t, st, tc.f) // checks the exact count too
			expectKeys(t, tc.name, got, tc.want...)
			// Counted up to a bound, as the API counts: through the area's
			// points when it is wide.
			c, err := st.CountEntitiesUpTo(context.Background(), store.Public, tc.f, 10)
			if err != nil || c != (store.Count{N: len(tc.want), Exact: true}) {
				t.Errorf("%s (limit %d): count up to 10 = %+v, %v; want exactly %d", tc.name, limit, c, err, len(tc.want))
			}
			if len(tc.want) > 1 {
				c, err := st.CountEntitiesUpTo(context.Background(), store.Public, tc.f, 1)
				if err != nil || c != (store.Count{N: 1, Exact: false}) {
					t.Errorf("%s (limit %d): count up to 1 = %+v, %v; want 1, not exact", tc.name, limit, c, err)
				}
			}
			restore()
		}
	}
}

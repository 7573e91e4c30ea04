package store

import (
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// The API gives an absent list as an empty one: the plans that depend on
// what a filter sets (a count from the points of a wide area, or from
// practice_facet, or the counters' plan of a list) must not take an empty
// list for a condition. Until they did not, the server counted every wide
// map filter row by row, where the store's own tests took the fast plan.
func TestEmptyListsSetNothing(t *testing.T) {
	none := []kb.Sector{}
	c := &kb.Circle{Lat: 52.4, Lon: 16.9, RadiusKm: 50}
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"restricts, empty lists", Filter{Kind: kb.KindPartner, Sectors: none, Topics: []string{}}.restricts(), false},
		{"restricts, or: []", Filter{Kind: kb.KindPartner, Or: []Filter{}}.restricts(), true},
		{"restricts, a sector", Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{kb.SectorPublic}}.restricts(), true},
		{"restricts, a sector mix", Filter{Kind: kb.KindCooperative, SectorMix: kb.MixFilter{Includes: []kb.Sector{kb.SectorPublic}}}.restricts(), true},
		{"onlyPlaces, empty lists", Filter{Kind: kb.KindPartner, Near: c, Sectors: none, Activities: []kb.Activity{}}.onlyPlaces(), true},
		{"onlyPlaces, a name", Filter{Kind: kb.KindPartner, Near: c, Name: "x"}.onlyPlaces(), false},
		{"onlyFacets, empty lists", Filter{Kind: kb.KindGoodPractice, Topics: []string{}, Not: &Filter{PracticeSectors: []kb.Sector{kb.SectorPublic}, Sectors: none}}.onlyFacets(), true},
		{"onlyFacets, a topic inside", Filter{Kind: kb.KindGoodPractice, Not: &Filter{PracticeSectors: []kb.Sector{kb.SectorPublic}, Topics: []string{"x"}}}.onlyFacets(), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

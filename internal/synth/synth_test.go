package synth

import (
	"math"
	"reflect"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
)

func TestEntitiesValidateAndLinksFollowTheVocabulary(t *testing.T) {
	g, err := New(7, 5000, 25000)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[kb.Kind]int{}
	sectors := map[kb.Sector]int{}
	var e kb.Entity
	for i := 0; i < g.Len(); i++ {
		g.Entity(i, &e)
		if err := e.Validate(); err != nil {
			t.Fatalf("entity %d (%s %q): %v", i, e.Kind, e.Name, err)
		}
		if e.Kind != g.Kind(i) {
			t.Fatalf("entity %d: kind %s, Kind(i) says %s", i, e.Kind, g.Kind(i))
		}
		kinds[e.Kind]++
		if e.Partner != nil {
			sectors[e.Partner.Sector]++
		}
	}
	for _, k := range kb.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %s", k)
		}
	}
	if sectors[kb.SectorSocial] < sectors[kb.SectorPublic] || sectors[kb.SectorPrivate] == 0 {
		t.Errorf("partners by sector %v, want SOCIAL the largest and some PRIVATE", sectors)
	}
	type key struct {
		from, to int64
		t        kb.RelationType
	}
	seen := map[key]bool{}
	degree := map[int64]int{}
	n, swedishCases := 0, 0
	g.Links(func(l *kb.Link) bool {
		n++
		if l.Type == kb.RelDemonstrates && g.Kind(int(l.FromID)) == kb.KindEvent {
			var ev kb.Entity
			if g.Entity(int(l.FromID), &ev); ev.Event != nil && ev.Event.Place.Country == "SE" {
				swedishCases++
			}
		}
		k := key{l.FromID, l.ToID, l.Type}
		if seen[k] {
			t.Fatalf("link %v twice", k)
		}
		seen[k] = true
		if l.FromID == l.ToID {
			t.Fatalf("self link %v", k)
		}
		if err := kb.CheckLink(l.Type, g.Kind(int(l.FromID)), g.Kind(int(l.ToID))); err != nil {
			t.Fatalf("link %v: %v", k, err)
		}
		degree[l.FromID]++
		degree[l.ToID]++
		return true
	})
	if n != 25000 {
		t.Errorf("links: got %d, want 25000", n)
	}
	// The country filter of practices has Swedish cases to find.
	if swedishCases == 0 {
		t.Error("no Swedish event demonstrates a practice")
	}
	top := 0
	for _, d := range degree {
		top = max(top, d)
	}
	if mean := 2 * n / g.Len(); top < 10*mean {
		t.Errorf("largest degree %d, mean %d: want hubs of at least 10 times the mean", top, mean)
	}
}

func TestSameSeedSameGraph(t *testing.T) {
	a, _ := New(42, 2000, 8000)
	b, _ := New(42, 2000, 8000)
	c, _ := New(43, 2000, 8000)
	var ea, eb, ec kb.Entity
	differs := false
	for i := 0; i < 2000; i += 97 {
		a.Entity(i, &ea)
		b.Entity(i, &eb)
		c.Entity(i, &ec)
		if ea.Name != eb.Name || ea.Key != eb.Key {
			t.Fatalf("entity %d: %q and %q from the same seed", i, ea.Name, eb.Name)
		}
		differs = differs || ea.Name != ec.Name
	}
	if !differs {
		t.Error("seeds 42 and 43 give the same names")
	}
	ka, kb := a.keys(), b.keys()
	for i := range ka {
		if ka[i] != kb[i] {
			t.Fatalf("link %d differs between two graphs of one seed", i)
		}
	}
}

// TestEntriesWithATownHavePointsInTheirCountry: the map filters (near,
// within) are measured on the generated graph, so most of its partners,
// cooperatives, events and foreign examples carry a point, in the box of
// their country and near their town, the same for the same seed.
func TestEntriesWithATownHavePointsInTheirCountry(t *testing.T) {
	// Poland and Sweden, with a margin of 0.1°.
	boxes := map[string]kb.BBox{
		"PL": {South: 49.0, West: 14.1, North: 54.9, East: 24.2},
		"SE": {South: 55.3, West: 10.9, North: 69.1, East: 24.2},
	}
	g, _ := New(11, 20000, 40000)
	again, _ := New(11, 20000, 40000)
	other, _ := New(12, 20000, 40000)
	placed, total := map[kb.Kind]int{}, map[kb.Kind]int{}
	moved := 0
	var e, e2, e3 kb.Entity
	for i := 0; i < g.Len(); i++ {
		g.Entity(i, &e)
		p := placeOf(&e)
		if p == nil {
			continue
		}
		total[e.Kind]++
		if p.City == "" {
			t.Fatalf("entity %d (%s) has no town", i, e.Kind)
		}
		if !p.HasPoint() {
			continue
		}
		placed[e.Kind]++
		lat, lon := *p.Latitude, *p.Longitude
		b, ok := boxes[p.Country]
		if !ok || lat < b.South || lat > b.North || lon < b.West || lon > b.East {
			t.Fatalf("entity %d (%s in %s, %s) at (%v, %v): outside its country's box", i, e.Kind, p.City, p.Country, lat, lon)
		}
		c := cityPoints[p.City]
		if d := kb.DistanceKm(lat, lon, c[0], c[1]); d > jitterKm*math.Sqrt2+0.01 {
			t.Fatalf("entity %d at (%v, %v): %.1f km from %s", i, lat, lon, d, p.City)
		}
		again.Entity(i, &e2)
		other.Entity(i, &e3)
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("entity %d differs between two graphs of one seed:\n%+v\n%+v", i, e, e2)
		}
		if q := placeOf(&e3); q != nil && q.HasPoint() && (*q.Latitude != lat || *q.Longitude != lon) {
			moved++
		}
	}
	for _, k := range []kb.Kind{kb.KindPartner, kb.KindCooperative, kb.KindEvent, kb.KindForeignExample} {
		// Seven in eight, give or take the chance of a few thousand draws.
		if f := float64(placed[k]) / float64(total[k]); total[k] == 0 || f < 0.8 || f > 0.95 {
			t.Errorf("%s: %d of %d with a point, want about 7 in 8", k, placed[k], total[k])
		}
	}
	if moved == 0 {
		t.Error("seeds 11 and 12 put every entry at the same point")
	}
}

// placeOf is the place of a partner, cooperative, event or foreign
// example, nil for the other kinds.
func placeOf(e *kb.Entity) *kb.Place {
	switch {
	case e.Partner != nil:
		return &e.Partner.Place
	case e.Cooperative != nil:
		return &e.Cooperative.Place
	case e.Event != nil:
		return &e.Event.Place
	case e.ForeignExample != nil:
		return &e.ForeignExample.Place
	}
	return nil
}

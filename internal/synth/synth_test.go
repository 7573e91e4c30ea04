package synth

import (
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

package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

// The seed-coverage table: every organisation, person, place, date and
// figure that the four source articles of the reference data name
// (internal/seed/reference.json cites them as art. 1 to art. 4), written by
// reading the articles, with what the graph must hold for it. The article's
// spelling comes first; the graph keeps each organisation's own spelling
// ("Atelie Inuti" in the article is Ateljé Inuti).
type seedFact struct {
	category string // ORGANISATION, PERSON, PLACE, DATE, FIGURE
	article  string // the spelling and locator in the article
	// check finds the fact in the graph read through the API; it returns
	// "" when found, else what is missing.
	check func(g *seedGraph) string
}

// seedGraph is the whole published reference graph as the API answers it.
type seedGraph struct {
	Partners struct {
		Nodes []struct {
			Name, City, Region, Country string
			Address                     *string
			Website                     *string
			Point                       *struct{ Latitude, Longitude float64 }
			ParticipatedIn              struct{ Nodes []struct{ Name string } }
			Organized                   struct{ Nodes []struct{ Name string } }
		}
	}
	Cooperatives struct {
		Nodes []struct {
			Name       string
			Activities []string
			Indicators []struct {
				Name   string
				Value  float64
				Source *struct{ Locator string }
			}
		}
	}
	ForeignExamples struct {
		Nodes []struct {
			Name, City string
			Point      *struct{ Latitude, Longitude float64 }
			Practices  struct{ Nodes []struct{ Name string } }
		}
	}
	Projects struct {
		Nodes []struct {
			Name, Summary string
			PresentedAt   struct{ Nodes []struct{ Name string } }
			Indicators    []struct {
				Name   string
				Value  float64
				Source *struct{ Locator string }
			}
		}
	}
	Events struct {
		Nodes []struct {
			Name, Summary, Region, Country string
			When                           *struct {
				Edtf string
				End  *struct{ Edtf string }
			}
			Places []struct {
				Name  *string
				Point *struct{ Latitude, Longitude float64 }
			}
			Participants struct{ Nodes []struct{ Name string } }
			Organizers   struct{ Nodes []struct{ Name string } }
			Indicators   []struct {
				Name   string
				Value  float64
				Source *struct{ Locator string }
			}
		}
	}
	People struct {
		Nodes []struct{ Name, PublicRole string }
	}
	GoodPractices struct {
		Nodes []struct {
			Name, Description, Evidence, Recognition string
			Topics                                   []string
			Cases                                    struct{ Nodes []struct{ Name string } }
		}
	}
	Sources struct {
		Nodes []struct {
			Name      string
			Published *struct{ Edtf string }
		}
	}
}

const seedGraphQuery = `{
  partners(first: 100) { nodes { name city region country address website point { latitude longitude }
    participatedIn { nodes { name } } organized { nodes { name } } } }
  cooperatives(first: 100) { nodes { name activities indicators { name value source { locator } } } }
  foreignExamples(first: 100) { nodes { name city point { latitude longitude } practices { nodes { name } } } }
  projects(first: 100) { nodes { name summary presentedAt { nodes { name } } indicators { name value source { locator } } } }
  events(first: 100) { nodes { name summary region country when { edtf end { edtf } }
    places { name point { latitude longitude } } participants { nodes { name } } organizers { nodes { name } }
    indicators { name value source { locator } } } }
  people(first: 100) { nodes { name publicRole } }
  goodPractices(first: 100) { nodes { name description evidence recognition topics cases(first: 20) { nodes { name } } } }
  sources(first: 100) { nodes { name published { edtf } } }
}`

// names of entries, for the checks.
func nodeNames[T any](nodes []T, name func(T) string) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = name(n)
	}
	return out
}

func (g *seedGraph) allNames() []string {
	var out []string
	for _, n := range g.Partners.Nodes {
		out = append(out, n.Name)
	}
	for _, n := range g.Cooperatives.Nodes {
		out = append(out, n.Name)
	}
	for _, n := range g.ForeignExamples.Nodes {
		out = append(out, n.Name)
	}
	for _, n := range g.Projects.Nodes {
		out = append(out, n.Name)
	}
	for _, n := range g.Events.Nodes {
		out = append(out, n.Name)
	}
	for _, n := range g.Sources.Nodes {
		out = append(out, n.Name)
	}
	return out
}

// namedEntry: an entry of this exact name exists.
func namedEntry(name string) func(g *seedGraph) string {
	return func(g *seedGraph) string {
		if slices.Contains(g.allNames(), name) {
			return ""
		}
		return "no entry named " + name
	}
}

func person(name, role string) func(g *seedGraph) string {
	return func(g *seedGraph) string {
		for _, p := range g.People.Nodes {
			if p.Name == name && strings.Contains(p.PublicRole, role) {
				return ""
			}
		}
		return fmt.Sprintf("no person %s whose role holds %q", name, role)
	}
}

// inCity: an organisation of this name is in the city, with a point when
// withPoint.
func inCity(org, city string, withPoint bool) func(g *seedGraph) string {
	return func(g *seedGraph) string {
		for _, p := range g.Partners.Nodes {
			if p.Name == org && p.City == city && (p.Point != nil) == withPoint {
				return ""
			}
		}
		for _, f := range g.ForeignExamples.Nodes {
			if f.Name == org && f.City == city && (f.Point != nil) == withPoint {
				return ""
			}
		}
		return fmt.Sprintf("%s is not in %s (with a point: %v)", org, city, withPoint)
	}
}

// event finds an event by name and checks it.
func event(name string, ok func(e int, g *seedGraph) bool, what string) func(g *seedGraph) string {
	return func(g *seedGraph) string {
		for i, e := range g.Events.Nodes {
			if e.Name == name && ok(i, g) {
				return ""
			}
		}
		return name + ": " + what
	}
}

func eventPlaces(g *seedGraph, i int) []string {
	var out []string
	for _, p := range g.Events.Nodes[i].Places {
		if p.Name != nil && p.Point != nil {
			out = append(out, *p.Name)
		}
	}
	return out
}

// text: some text field of the graph holds s.
func text(s string) func(g *seedGraph) string {
	return func(g *seedGraph) string {
		var all []string
		for _, p := range g.Projects.Nodes {
			all = append(all, p.Summary)
		}
		for _, e := range g.Events.Nodes {
			all = append(all, e.Summary)
		}
		for _, p := range g.GoodPractices.Nodes {
			all = append(all, p.Description, p.Evidence, p.Recognition)
		}
		for _, t := range all {
			if strings.Contains(t, s) {
				return ""
			}
		}
		return fmt.Sprintf("no summary or description holds %q", s)
	}
}

const (
	forum    = "III Wielkopolskie Forum WTZ"
	sweden   = "Warsztaty Wymiany Doświadczeń w Szwecji"
	scotland = "Warsztaty Wymiany Doświadczeń w Szkocji"
	training = "Szkolenia integracyjne w Łężeczkach"
	project  = "Innowacyjny model aktywizacji zawodowej uczestników WTZ"
	krzemien = "Warsztat Terapii Zajęciowej „Krzemień” w Poznaniu"
	rowne    = "Spółdzielnia Socjalna „Równe Szanse”"
)

var seedFacts = []seedFact{
	// Organisations, projects, programmes and events, as named.
	{"ORGANISATION", "Stowarzyszenie Na Rzecz Spółdzielni Socjalnych (art. 1, tytuł)", namedEntry("Stowarzyszenie Na Rzecz Spółdzielni Socjalnych")},
	{"ORGANISATION", "Projekt „Innowacyjny model aktywizacji zawodowej uczestników WTZ” (art. 1, akapit 1)", namedEntry(project)},
	{"ORGANISATION", "III Wielkopolskie Forum WTZ (art. 1, akapit 1)", namedEntry(forum)},
	{"ORGANISATION", "Wielkopolska Rada Koordynacyjna Związek Organizacji Pozarządowych (art. 1, akapit 2)", namedEntry("Wielkopolska Rada Koordynacyjna Związek Organizacji Pozarządowych")},
	{"ORGANISATION", "Regionalny Ośrodek Polityki Społecznej w Poznaniu (art. 1, akapit 2)", namedEntry("Regionalny Ośrodek Polityki Społecznej w Poznaniu")},
	{"ORGANISATION", "Konimpex Spółka z o.o. (art. 1, akapit 2)", namedEntry("Konimpex Sp. z o.o.")},
	{"ORGANISATION", "WTZ w Gębicach (art. 1, akapit 2)", namedEntry("Warsztat Terapii Zajęciowej w Gębicach")},
	{"ORGANISATION", "Spółdzielnia Socjalna „Równe Szanse” (art. 1, akapit 2)", namedEntry(rowne)},
	{"ORGANISATION", "Warsztaty Wymiany Doświadczeń w Szwecji (art. 2, tytuł)", namedEntry(sweden)},
	{"ORGANISATION", "Coompanion (art. 2, akapit 3)", namedEntry("Coompanion")},
	{"ORGANISATION", "Franstorps Verkstader (art. 2, akapit 4)", namedEntry("Franstorps Verkstäder")},
	{"ORGANISATION", "Atelie Inuti (art. 2, akapit 4)", namedEntry("Ateljé Inuti")},
	{"ORGANISATION", "Kooperativet Industrihuset (art. 2, akapit 4)", namedEntry("Kooperativet Industrihuset")},
	{"ORGANISATION", "Roslagen Ekonomisk Forenings (art. 2, akapit 4)", namedEntry("Roslagens Ekonomiska Förening")},
	{"ORGANISATION", "Kooperativet KOS (art. 2, akapit 5)", namedEntry("Kooperativet KOS")},
	{"ORGANISATION", "Kooperativet Gloden (art. 2, akapit 5)", namedEntry("Kooperativet Glöden")},
	{"ORGANISATION", "kolejna tura Warsztatów w Szkocji (art. 2, akapit 6)", namedEntry(scotland)},
	{"ORGANISATION", "szkolenia integracyjne w Łężeczkach (art. 3, akapit 2)", namedEntry(training)},
	{"ORGANISATION", "WTZ „Krzemień” w Poznaniu (art. 3, akapit 2)", namedEntry(krzemien)},
	{"ORGANISATION", "Ministerstwo Pracy i Polityki Społecznej (art. 4, akapit 1)", namedEntry("Ministerstwo Pracy i Polityki Społecznej")},
	{"ORGANISATION", "Krajowy Program Przeciwdziałania Ubóstwu i Wykluczeniu Społecznemu 2020 (art. 4, akapit 1)", namedEntry("Krajowy Program Przeciwdziałania Ubóstwu i Wykluczeniu Społecznemu 2020")},

	// People, with the role the article gives them.
	{"PERSON", "Malwina Pokrywka, specjalistka ds. merytorycznych (art. 1, akapit 2)", person("Malwina Pokrywka", "specjalistka ds. merytorycznych")},
	{"PERSON", "Natalia Wasielewska, przedstawicielka ROPS w Poznaniu (art. 1, akapit 2)", person("Natalia Wasielewska", "Regionalnego Ośrodka Polityki Społecznej")},
	{"PERSON", "Jolanta Grzech, Kierownik WTZ w Gębicach (art. 1, akapit 2)", person("Jolanta Grzech", "Kierownik WTZ w Gębicach")},
	{"PERSON", "Jan Forslund, Dyrektor Coompanion (art. 2, akapit 3)", person("Jan Forslund", "Dyrektor Coompanion")},
	{"PERSON", "Magda Szczepańska z WTZ „Krzemień” (art. 3, akapit 2)", person("Magda Szczepańska", "autorka")},

	// Places: each on the entries the article puts there, with a point
	// from a gazetteer where one is known to 0.01°. Gębice has none:
	// several villages of Wielkopolska bear the name and the article does
	// not say which (the reference data keeps it without a point rather
	// than guess); nor have the Forum's region and Scotland, which are no
	// points. Łężeczki is one village (gmina Chrzypsko Wielkie, TERYT SIMC
	// 0581267), in the region of the Forum and the project.
	{"PLACE", "Poznań: ROPS w Poznaniu (art. 1, akapit 2)", inCity("Regionalny Ośrodek Polityki Społecznej w Poznaniu", "Poznań", true)},
	{"PLACE", "Poznań: WTZ „Krzemień” w Poznaniu (art. 3, akapit 2)", inCity(krzemien, "Poznań", true)},
	{"PLACE", "Gębice: WTZ w Gębicach (art. 1, akapit 2)", inCity("Warsztat Terapii Zajęciowej w Gębicach", "Gębice", false)},
	{"PLACE", "Wielkopolska: Wielkopolskie Fora WTZ (art. 1, akapit 2)", event(forum, func(i int, g *seedGraph) bool { return g.Events.Nodes[i].Region == "wielkopolskie" }, "not in wielkopolskie")},
	{"PLACE", "Sztokholm i Rimbo: Warsztaty w Szwecji (art. 2, akapit 1)", event(sweden, func(i int, g *seedGraph) bool {
		return slices.Equal(eventPlaces(g, i), []string{"Stockholm", "Rimbo"})
	}, "not held in Stockholm and Rimbo, both with a point")},
	{"PLACE", "Sztokholm: Coompanion (art. 2, akapit 3)", inCity("Coompanion", "Stockholm", true)},
	{"PLACE", "Sundbyberg: Franstorps Verkstader (art. 2, akapit 4)", inCity("Franstorps Verkstäder", "Sundbyberg", true)},
	{"PLACE", "Sztokholm: Atelie Inuti (art. 2, akapit 4)", inCity("Ateljé Inuti", "Stockholm", true)},
	{"PLACE", "Rimbo: Kooperativet Industrihuset (art. 2, akapit 4)", inCity("Kooperativet Industrihuset", "Rimbo", true)},
	{"PLACE", "Rimbo: Roslagen Ekonomisk Forenings (art. 2, akapit 4)", inCity("Roslagens Ekonomiska Förening", "Rimbo", true)},
	{"PLACE", "Sztokholm: Kooperativet KOS (art. 2, akapit 5)", inCity("Kooperativet KOS", "Stockholm", true)},
	{"PLACE", "Sztokholm: Kooperativet Gloden (art. 2, akapit 5)", inCity("Kooperativet Glöden", "Stockholm", true)},
	{"PLACE", "Szkocja (art. 2, akapit 6)", event(scotland, func(i int, g *seedGraph) bool {
		e := g.Events.Nodes[i]
		return e.Country == "GB" && e.Region == "Scotland"
	}, "not in Scotland, GB")},
	{"PLACE", "Łężeczki (art. 3, akapit 1)", event(training, func(i int, g *seedGraph) bool {
		p := g.Events.Nodes[i].Places
		return len(p) == 1 && p[0].Name != nil && *p[0].Name == "Łężeczki" && p[0].Point != nil &&
			p[0].Point.Latitude == 52.61 && p[0].Point.Longitude == 16.21 && g.Events.Nodes[i].Region == "wielkopolskie"
	}, "not in Łężeczki, wielkopolskie, at 52.61 N 16.21 E")},
	{"PLACE", "postal address of ROPS w Poznaniu (UMWW page, Kontakt)", func(g *seedGraph) string {
		for _, p := range g.Partners.Nodes {
			if p.Name == "Regionalny Ośrodek Polityki Społecznej w Poznaniu" && p.Address != nil && *p.Address == "ul. Feliksa Nowowiejskiego 11, 61-731 Poznań" {
				return ""
			}
		}
		return "ROPS w Poznaniu has no postal address"
	}},

	// Dates: the articles give no year.
	{"DATE", "17-19 września, pierwsza grupa tydzień wcześniej (art. 3, akapit 2)", event(training, func(i int, g *seedGraph) bool {
		w := g.Events.Nodes[i].When
		return w != nil && w.Edtf == "XXXX-09/XXXX-09-19" && w.End != nil && w.End.Edtf == "XXXX-09-19"
	}, "when is not XXXX-09/XXXX-09-19")},
	{"DATE", "20 października (art. 2, akapit 6)", event(scotland, func(i int, g *seedGraph) bool {
		w := g.Events.Nodes[i].When
		return w != nil && w.Edtf == "XXXX-10-20"
	}, "when is not XXXX-10-20")},
	{"DATE", "artykuł o szkoleniach: „w tym tygodniu, w dniach 17-19 września” (art. 3, akapit 2)", func(g *seedGraph) string {
		for _, s := range g.Sources.Nodes {
			if strings.HasPrefix(s.Name, "Trwają szkolenia") && s.Published != nil && s.Published.Edtf == "XXXX-09" {
				return ""
			}
		}
		return "the training article is not published XXXX-09"
	}},

	// Figures.
	{"FIGURE", "III (trzecie) Forum (art. 1, tytuł)", namedEntry(forum)},
	// The figures are typed values (indicators) of the entry they count,
	// each cited to its article's paragraph, and said in its summary.
	{"FIGURE", "ośmiu powstających spółdzielni (art. 1, akapit 2)",
		all(text("ośmiu powstających spółdzielni"), indicator(project, "COOPERATIVES_PLANNED", 8, "art. 1, akapit 2"))},
	{"FIGURE", "8 osób (art. 1, akapit 2)", indicator(rowne, "JOBS_PLANNED", 8, "art. 1, akapit 2")},
	{"FIGURE", "w tym 5 uczestników WTZ Gębice (art. 1, akapit 2)", indicator(rowne, "WTZ_JOBS_PLANNED", 5, "art. 1, akapit 2")},
	{"FIGURE", "3-dniowych spotkań warsztatowych (art. 3, akapit 2)",
		all(text("Trzydniowe szkolenia"), indicator(training, "DURATION_DAYS", 3, "art. 3, akapit 2"))},
	{"FIGURE", "10 różnych WTZ (art. 3, akapit 2)",
		all(text("10 różnych WTZ"), indicator(training, "WORKSHOPS_REPRESENTED", 10, "art. 3, akapit 2"))},
	{"FIGURE", "dwie grupy szkoleń (art. 3, akapit 2)",
		all(text("w dwóch grupach"), indicator(training, "PARTICIPANT_GROUPS", 2, "art. 3, akapit 2"))},
	{"FIGURE", "przyszłe działalności: mydlarnia, restauracja, kawiarnia, ogrodnictwo, ceramika, konfekcjonowanie, co-packing, pralnia (art. 3, akapit 2)",
		text("mydlarnia, restauracja, kawiarnia, ogrodnictwo, produkcja ceramiki, konfekcjonowanie, co-packing i pralnia")},
	{"FIGURE", "str. 67 Programu (art. 4, akapit 1)", text("(str. 67)")},
	{"FIGURE", "Program … 2020 (art. 4, akapit 1)", namedEntry("Krajowy Program Przeciwdziałania Ubóstwu i Wykluczeniu Społecznemu 2020")},
}

// indicator: the cooperative, project or event named has the indicator
// with the value, cited at the locator.
func indicator(entry, name string, value float64, locator string) func(g *seedGraph) string {
	type ind = struct {
		Name   string
		Value  float64
		Source *struct{ Locator string }
	}
	return func(g *seedGraph) string {
		var all [][]ind
		for _, c := range g.Cooperatives.Nodes {
			if c.Name == entry {
				all = append(all, c.Indicators)
			}
		}
		for _, p := range g.Projects.Nodes {
			if p.Name == entry {
				all = append(all, p.Indicators)
			}
		}
		for _, e := range g.Events.Nodes {
			if e.Name == entry {
				all = append(all, e.Indicators)
			}
		}
		for _, ins := range all {
			for _, in := range ins {
				if in.Name == name && in.Value == value && in.Source != nil && in.Source.Locator == locator {
					return ""
				}
			}
		}
		return fmt.Sprintf("%s has no %s of %v cited at %q", entry, name, value, locator)
	}
}

// all finds the fact when every check does.
func all(checks ...func(g *seedGraph) string) func(g *seedGraph) string {
	return func(g *seedGraph) string {
		for _, c := range checks {
			if miss := c(g); miss != "" {
				return miss
			}
		}
		return ""
	}
}

// seedLinks are the facts of the articles that the issue found missing
// (issue 17), as typed relations read from both ends.
var seedLinks = []seedFact{
	{"LINK", "Forum ↔ Projekt: osiągnięcia Projektu na III Forum (art. 1, akapit 1)", func(g *seedGraph) string {
		for _, p := range g.Projects.Nodes {
			if p.Name == project && slices.Contains(nodeNames(p.PresentedAt.Nodes, func(n struct{ Name string }) string { return n.Name }), forum) {
				return ""
			}
		}
		return "the project was not presented at the forum"
	}},
	{"LINK", "WTZ „Krzemień” ↔ szkolenia (art. 3, akapit 2)", event(training, func(i int, g *seedGraph) bool {
		return slices.Contains(nodeNames(g.Events.Nodes[i].Participants.Nodes, func(n struct{ Name string }) string { return n.Name }), krzemien)
	}, "WTZ „Krzemień” did not take part")},
	{"LINK", "organizator szkoleń (art. 3, tytuł)", event(training, func(i int, g *seedGraph) bool {
		return slices.Contains(nodeNames(g.Events.Nodes[i].Organizers.Nodes, func(n struct{ Name string }) string { return n.Name }), "Stowarzyszenie Na Rzecz Spółdzielni Socjalnych")
	}, "not organized by the association")},
	{"LINK", "tematy szkoleń: planowanie, podział zadań, konflikty, komunikacja (art. 3, akapit 2)", func(g *seedGraph) string {
		for _, p := range g.GoodPractices.Nodes {
			if strings.HasPrefix(p.Name, "Szkolenia integracyjne") && slices.Contains(nodeNames(p.Cases.Nodes, func(n struct{ Name string }) string { return n.Name }), training) {
				for _, t := range []string{"planowanie pracy w zespole", "podział zadań", "rozwiązywanie konfliktów", "komunikacja w zespole"} {
					if !slices.Contains(p.Topics, t) {
						return "the training's practice lacks the topic " + t
					}
				}
				return ""
			}
		}
		return "the training demonstrates no practice of integration trainings"
	}},
	{"LINK", "Łączenie działalności społecznej z gospodarczą: przypadki (art. 2, akapit 4)", func(g *seedGraph) string {
		for _, p := range g.GoodPractices.Nodes {
			if strings.HasPrefix(p.Name, "Łączenie działalności") {
				cases := nodeNames(p.Cases.Nodes, func(n struct{ Name string }) string { return n.Name })
				for _, want := range []string{"Franstorps Verkstäder", "Ateljé Inuti", "Kooperativet Industrihuset", "Roslagens Ekonomiska Förening"} {
					if !slices.Contains(cases, want) {
						return "the practice lacks the case " + want
					}
				}
				return ""
			}
		}
		return "no practice Łączenie działalności"
	}},
	{"LINK", "Kooperativet KOS → praktyka (ForeignExample.practices) (art. 2, akapit 5)", func(g *seedGraph) string {
		for _, f := range g.ForeignExamples.Nodes {
			if f.Name == "Kooperativet KOS" && len(f.Practices.Nodes) > 0 {
				return ""
			}
		}
		return "Kooperativet KOS has no practices"
	}},
}

// TestSeedCoverage: every organisation, person, place, date and figure of
// the seed articles, and the links the issue found missing, are in the
// graph as the API serves it to an anonymous reader.
func TestSeedCoverage(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var g seedGraph
	var raw json.RawMessage
	a.query(seedGraphQuery, nil, &raw)
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range append(slices.Clone(seedFacts), seedLinks...) {
		counts[f.category]++
		if miss := f.check(&g); miss != "" {
			t.Errorf("%s %s: %s", f.category, f.article, miss)
		}
	}
	t.Logf("seed coverage: %v", counts)
	// The table is the articles' whole list; a shrinking table is a
	// regression of the test, not of the data.
	want := map[string]int{"ORGANISATION": 21, "PERSON": 5, "PLACE": 15, "DATE": 3, "FIGURE": 10, "LINK": 6}
	for c, n := range want {
		if counts[c] != n {
			t.Errorf("%s: %d facts in the table, want %d", c, counts[c], n)
		}
	}
}

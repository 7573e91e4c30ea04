package seed

import (
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
)

func reference(t *testing.T) *kb.Dataset {
	t.Helper()
	d, err := Reference()
	if err != nil {
		t.Fatalf("Reference: %v", err)
	}
	return d
}

func byKey(d *kb.Dataset) map[string]*kb.Entity {
	m := make(map[string]*kb.Entity, len(d.Entities))
	for i := range d.Entities {
		m[d.Entities[i].Key] = &d.Entities[i]
	}
	return m
}

func TestReferenceValidates(t *testing.T) {
	d := reference(t)
	if len(d.Entities) == 0 || len(d.Links) == 0 || len(d.Indicators) == 0 {
		t.Fatalf("got %d entities, %d links, %d indicators, want some of each",
			len(d.Entities), len(d.Links), len(d.Indicators))
	}
	for i, e := range d.Entities {
		if e.Status != kb.StatusPublished {
			t.Errorf("entities[%d] (key %s): status %s, want PUBLISHED", i, e.Key, e.Status)
		}
	}
}

func TestReferenceKeepsSpellings(t *testing.T) {
	ents := byKey(reference(t))
	for _, tc := range []struct {
		key, name string
		kind      kb.Kind
		country   string
	}{
		{"coompanion", "Coompanion", kb.KindForeignExample, "SE"},
		{"franstorps-verkstader", "Franstorps Verkstäder", kb.KindForeignExample, "SE"},
		{"atelje-inuti", "Ateljé Inuti", kb.KindForeignExample, "SE"},
		{"kooperativet-industrihuset", "Kooperativet Industrihuset", kb.KindForeignExample, "SE"},
		{"roslagens-ekonomiska-forening", "Roslagens Ekonomiska Förening", kb.KindForeignExample, "SE"},
		{"kooperativet-kos", "Kooperativet KOS", kb.KindForeignExample, "SE"},
		{"kooperativet-gloden", "Kooperativet Glöden", kb.KindForeignExample, "SE"},
		{"stowarzyszenie-na-rzecz-spoldzielni-socjalnych", "Stowarzyszenie Na Rzecz Spółdzielni Socjalnych", kb.KindPartner, "PL"},
		{"rops-poznan", "Regionalny Ośrodek Polityki Społecznej w Poznaniu", kb.KindPartner, "PL"},
		{"konimpex", "Konimpex Sp. z o.o.", kb.KindPartner, "PL"},
		{"wtz-gebice", "Warsztat Terapii Zajęciowej w Gębicach", kb.KindPartner, "PL"},
		{"spoldzielnia-socjalna-rowne-szanse", "Spółdzielnia Socjalna „Równe Szanse”", kb.KindCooperative, "PL"},
		{"szkolenia-integracyjne-lezeczki", "Szkolenia integracyjne w Łężeczkach", kb.KindEvent, "PL"},
	} {
		e, ok := ents[tc.key]
		if !ok {
			t.Errorf("no entity with key %q", tc.key)
			continue
		}
		if e.Name != tc.name || e.Kind != tc.kind {
			t.Errorf("%s: got %s %q, want %s %q", tc.key, e.Kind, e.Name, tc.kind, tc.name)
		}
		var country string
		switch {
		case e.ForeignExample != nil:
			country = e.ForeignExample.Country
		case e.Partner != nil:
			country = e.Partner.Country
		case e.Cooperative != nil:
			country = e.Cooperative.Country
		case e.Event != nil:
			country = e.Event.Country
		}
		if country != tc.country {
			t.Errorf("%s: country %q, want %q", tc.key, country, tc.country)
		}
	}
}

func TestReferenceCitesSources(t *testing.T) {
	d := reference(t)
	for i, e := range d.Entities {
		if len(e.Citations) == 0 {
			t.Errorf("entities[%d] (key %s) cites no source", i, e.Key)
		}
	}
	for i, l := range d.Links {
		if len(l.Citations) == 0 {
			t.Errorf("links[%d] (%s) cites no source", i, l)
		}
	}
	for i, in := range d.Indicators {
		if in.Citation == nil {
			t.Errorf("indicators[%d] (%s %s) cites no source", i, in.Subject(), in.Name)
		}
	}
}

// TestReferenceFacts pins the facts the articles state and the reference data
// must carry.
func TestReferenceFacts(t *testing.T) {
	d := reference(t)
	links := make(map[string]kb.Link, len(d.Links))
	for _, l := range d.Links {
		links[l.String()] = l
	}
	for _, tc := range []struct {
		from string
		typ  kb.RelationType
		to   string
		role string
	}{
		{"stowarzyszenie-na-rzecz-spoldzielni-socjalnych", kb.RelLeads, "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", "LEADER"},
		{"rops-poznan", kb.RelPartnerIn, "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", "PUBLIC_PARTNER"},
		{"konimpex", kb.RelPartnerIn, "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", "BUSINESS_PARTNER"},
		{"stowarzyszenie-na-rzecz-spoldzielni-socjalnych", kb.RelMemberOf, "partnerstwo-projektu-innowacyjny-model-aktywizacji", "LEADER"},
		{"rops-poznan", kb.RelMemberOf, "partnerstwo-projektu-innowacyjny-model-aktywizacji", "PUBLIC_PARTNER"},
		{"konimpex", kb.RelMemberOf, "partnerstwo-projektu-innowacyjny-model-aktywizacji", "BUSINESS_PARTNER"},
		{"partnerstwo-projektu-innowacyjny-model-aktywizacji", kb.RelFormedAround, "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", ""},
		{"wtz-gebice", kb.RelFounded, "spoldzielnia-socjalna-rowne-szanse", "inicjator"},
		{"spoldzielnia-socjalna-rowne-szanse", kb.RelEmploysParticipantsOf, "wtz-gebice", ""},
		{"wtz-gebice", kb.RelParticipatedIn, "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", ""},
		{"wielkopolska-rada-koordynacyjna", kb.RelOrganized, "iii-wielkopolskie-forum-wtz", ""},
		{"model-aktywizacji-zawodowej-uczestnikow-wtz", kb.RelRecognizedIn, "krajowy-program-przeciwdzialania-ubostwu-i-wykluczeniu-spolecznemu-2020", ""},
		{"warsztaty-wymiany-doswiadczen-szwecja", kb.RelPartOf, "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", ""},
		{"szkolenia-integracyjne-lezeczki", kb.RelPartOf, "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", ""},
		{"jan-forslund", kb.RelAffiliatedWith, "coompanion", "Dyrektor"},
		{"jolanta-grzech", kb.RelAffiliatedWith, "wtz-gebice", "Kierownik"},
	} {
		key := kb.Link{FromKey: tc.from, ToKey: tc.to, Type: tc.typ}.String()
		l, ok := links[key]
		if !ok {
			t.Errorf("no link %s", key)
			continue
		}
		if l.Role != tc.role {
			t.Errorf("%s: role %q, want %q", key, l.Role, tc.role)
		}
	}

	visited := 0
	for _, l := range d.Links {
		if l.FromKey == "warsztaty-wymiany-doswiadczen-szwecja" && l.Type == kb.RelVisited {
			visited++
		}
	}
	if visited != 7 {
		t.Errorf("the Swedish study visit visited %d organisations, want 7", visited)
	}

	// The articles' figures, each on the entry it counts.
	type figure struct {
		entity string
		name   kb.IndicatorName
	}
	figures := map[figure]float64{
		{"spoldzielnia-socjalna-rowne-szanse", kb.IndicatorJobsPlanned}:                                      8,
		{"spoldzielnia-socjalna-rowne-szanse", kb.IndicatorWTZJobsPlanned}:                                   5,
		{"projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", kb.IndicatorCooperativesPlanned}: 8,
		{"szkolenia-integracyjne-lezeczki", kb.IndicatorWorkshopsRepresented}:                                10,
		{"szkolenia-integracyjne-lezeczki", kb.IndicatorParticipantGroups}:                                   2,
		{"szkolenia-integracyjne-lezeczki", kb.IndicatorDurationDays}:                                        3,
	}
	for _, in := range d.Indicators {
		f := figure{in.Subject(), in.Name}
		if v, ok := figures[f]; ok && v == in.Value {
			delete(figures, f)
		}
	}
	if len(figures) != 0 {
		t.Errorf("the reference data lacks the figures %v", figures)
	}

	for _, l := range d.Links {
		if l.Type != kb.RelRecognizedIn {
			continue
		}
		var p67 bool
		for _, c := range l.Citations {
			p67 = p67 || c.Locator == "s. 67"
		}
		if !p67 {
			t.Errorf("%s: no citation with locator \"s. 67\"", l)
		}
	}
}

// small returns a minimal valid data set: a source, a partner, a project, a
// cooperative, a link and an indicator.
func small() *kb.Dataset {
	cite := []kb.Citation{{SourceKey: "art", Locator: "art. 1, akapit 1"}}
	return &kb.Dataset{
		Entities: []kb.Entity{
			{Key: "art", Kind: kb.KindSource, Name: "Artykuł", Status: kb.StatusPublished,
				Source: &kb.Source{SourceKind: kb.SourceArticle}, Citations: cite},
			{Key: "stow", Kind: kb.KindPartner, Name: "Stowarzyszenie", Status: kb.StatusPublished,
				Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerAssociation}, Citations: cite},
			{Key: "proj", Kind: kb.KindProject, Name: "Projekt", Status: kb.StatusPublished,
				Project: &kb.Project{}, Citations: cite},
			{Key: "coop", Kind: kb.KindCooperative, Name: "Spółdzielnia", Status: kb.StatusPublished,
				Cooperative: &kb.Cooperative{CoopStatus: kb.CoopInitiativeGroup}, Citations: cite},
		},
		Links: []kb.Link{
			{FromKey: "stow", ToKey: "proj", Type: kb.RelLeads, Citations: cite},
		},
		Indicators: []kb.Indicator{
			{CooperativeKey: "coop", Name: kb.IndicatorJobsPlanned, Value: 8, Citation: &cite[0]},
		},
	}
}

func TestValidateNamesBadRecord(t *testing.T) {
	if err := small().Validate(); err != nil {
		t.Fatalf("small data set: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(d *kb.Dataset)
		want   []string
	}{
		{"dangling link key", func(d *kb.Dataset) { d.Links[0].ToKey = "missing" },
			[]string{`links[0] (stow -LEADS-> missing): to: no entity with key "missing"`}},
		{"duplicate entity key", func(d *kb.Dataset) { d.Entities[3].Key = "proj" },
			[]string{`entities[3] (key proj): key: duplicates the key of entities[2]`}},
		{"link breaks the kind rule", func(d *kb.Dataset) { d.Links[0].ToKey = "coop" },
			[]string{`links[0] (stow -LEADS-> coop): type: LEADS may join Partner to Project|Partnership, not Partner to Cooperative`}},
		{"entity cites a non-source", func(d *kb.Dataset) { d.Entities[1].Citations[0].SourceKey = "proj" },
			[]string{`entities[1] (key stow): sources[0].source: "proj" is a Project, not a Source`}},
		{"link cites a missing source", func(d *kb.Dataset) { d.Links[0].Citations = []kb.Citation{{SourceKey: "nope"}} },
			[]string{`links[0] (stow -LEADS-> proj): sources[0].source: no entity with key "nope"`}},
		{"duplicate link", func(d *kb.Dataset) { d.Links = append(d.Links, d.Links[0]) },
			[]string{`links[1] (stow -LEADS-> proj): type: duplicates links[0]`}},
		{"indicator on a non-cooperative", func(d *kb.Dataset) { d.Indicators[0].CooperativeKey = "stow" },
			[]string{`indicators[0] (stow JOBS_PLANNED): cooperative: "stow" is a Partner, not a Cooperative`}},
		{"indicator on a missing key", func(d *kb.Dataset) { d.Indicators[0].CooperativeKey = "gone" },
			[]string{`indicators[0] (gone JOBS_PLANNED): cooperative: no entity with key "gone"`}},
		{"indicator of a project on a cooperative", func(d *kb.Dataset) {
			d.Indicators[0].EntityKey, d.Indicators[0].Name = "coop", kb.IndicatorCooperativesPlanned
		}, []string{`indicators[0] (coop COOPERATIVES_PLANNED): entity: COOPERATIVES_PLANNED measures a Project, not a Cooperative like "coop"`}},
		{"a cooperative's indicator on a project", func(d *kb.Dataset) { d.Indicators[0].EntityKey, d.Indicators[0].CooperativeKey = "proj", "" },
			[]string{`indicators[0] (proj JOBS_PLANNED): entity: JOBS_PLANNED measures a Cooperative, not a Project like "proj"`}},
		{"entity and cooperative name two entries", func(d *kb.Dataset) { d.Indicators[0].EntityKey = "proj" },
			[]string{`indicators[0] (proj JOBS_PLANNED): entity: entity "proj" and cooperative "coop" name two entries; give entity only`}},
		{"kb rule on an entity", func(d *kb.Dataset) { d.Entities[1].Partner.Sector = "CHARITY" },
			[]string{`entities[1] (key stow): partner.sector: sector must be PUBLIC, SOCIAL or PRIVATE`}},
		{"missing entity key", func(d *kb.Dataset) { d.Entities[2].Key = "" },
			[]string{`entities[2] (no key): key: must not be empty`, `links[0] (stow -LEADS-> proj): to: no entity with key "proj"`}},
		{"every bad record is named", func(d *kb.Dataset) {
			d.Links[0].FromKey = "ghost"
			d.Entities[0].Citations[0].SourceKey = "stow"
		}, []string{
			`entities[0] (key art): sources[0].source: "stow" is a Partner, not a Source`,
			`links[0] (ghost -LEADS-> proj): from: no entity with key "ghost"`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := small()
			tc.change(d)
			err := d.Validate()
			if err == nil {
				t.Fatalf("got no error, want %q", tc.want)
			}
			if !kb.IsValidation(err) {
				t.Errorf("got %v, want an error wrapping *kb.ValidationError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"unknown field", `{"entities": [], "links": [], "indicators": [], "extra": 1}`, `unknown field "extra"`},
		{"unknown entity field", `{"entities": [{"key": "a", "kind": "PERSON", "name": "A", "person": {}, "email": "a@b"}]}`, `unknown field "email"`},
		{"trailing data", `{"entities": []} {}`, "unexpected data"},
		{"invalid record", `{"entities": [{"key": "a", "kind": "PERSON", "name": "A"}]}`, "entities[0] (key a): person: a Person needs its person attributes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}

	d, err := Parse(strings.NewReader(`{"entities": [{"key": "a", "kind": "PERSON", "name": "A", "person": {}}], "links": [], "indicators": []}`))
	if err != nil {
		t.Fatalf("valid data set: %v", err)
	}
	if got := d.Entities[0].Status; got != kb.StatusDraft {
		t.Errorf("got status %s, want the DRAFT default", got)
	}
}

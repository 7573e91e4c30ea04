// Package synth generates a realistic synthetic knowledge graph of any
// size, for load tests and benchmarks: partners of the three sectors in
// the proportions of the field, social cooperatives, three-sector
// partnerships, projects, events, people, practices, foreign examples and
// sources, with Polish and Swedish names, citations and indicators, and
// links whose degrees are skewed: a few hubs (regional centres, support
// centres, national programmes, large forums) carry many of them.
// Partners, cooperatives, events and foreign examples have a town and,
// seven in eight, a point near it (places.go), for the map filters.
//
// Everything derives from the seed: entity i is a pure function of (seed,
// i), so it can be read again cheaply and in any order, and the same seed
// gives the same graph. It does no I/O; store.BulkLoad loads it.
package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// Graph is a synthetic graph of Entities entities and LinkCount links.
type Graph struct {
	Seed      uint64
	Entities  int
	LinkCount int

	ranges   []kindRange
	partners partnerIndex
}

type kindRange struct {
	kind       kb.Kind
	start, end int // entity numbers [start, end)
}

// kindShares are the proportions of the kinds: partners and people
// dominate, as in the field's registers; practices and foreign examples
// are few.
var kindShares = []struct {
	kind  kb.Kind
	share float64
}{
	{kb.KindPartner, 0.36},
	{kb.KindCooperative, 0.12},
	{kb.KindPartnership, 0.10},
	{kb.KindProject, 0.06},
	{kb.KindEvent, 0.08},
	{kb.KindPerson, 0.18},
	{kb.KindGoodPractice, 0.04},
	{kb.KindForeignExample, 0.02},
	{kb.KindSource, 0.04},
}

// New returns the graph of the given size and seed. It returns an error
// when the size cannot hold every kind or the links cannot fit.
func New(seed uint64, entities, links int) (*Graph, error) {
	if entities < 1000 {
		return nil, kb.Invalid("entities", "at least 1000 entities, got %d", entities)
	}
	if entities >= 1<<28 {
		return nil, kb.Invalid("entities", "at most %d entities, got %d", 1<<28-1, entities)
	}
	if links < 0 || links > entities*50 {
		return nil, kb.Invalid("links", "between 0 and 50 per entity (%d), got %d", entities*50, links)
	}
	g := &Graph{Seed: seed, Entities: entities, LinkCount: links}
	start := 0
	for i, ks := range kindShares {
		end := start + int(float64(entities)*ks.share)
		if i == len(kindShares)-1 {
			end = entities
		}
		g.ranges = append(g.ranges, kindRange{ks.kind, start, end})
		start = end
	}
	g.partners = g.indexPartners()
	return g, nil
}

// Len is the number of entities.
func (g *Graph) Len() int { return g.Entities }

// Kind returns the kind of entity i.
func (g *Graph) Kind(i int) kb.Kind { return g.rangeOf(i).kind }

func (g *Graph) rangeOf(i int) kindRange {
	for _, r := range g.ranges {
		if i < r.end {
			return r
		}
	}
	return g.ranges[len(g.ranges)-1]
}

func (g *Graph) rangeFor(k kb.Kind) kindRange {
	for _, r := range g.ranges {
		if r.kind == k {
			return r
		}
	}
	panic("synth: no range for " + k)
}

// Key returns the stable key of entity i: gen-<seed>-<i>.
func Key(seed uint64, i int) string { return fmt.Sprintf("gen-%d-%d", seed, i) }

// rng returns the random source of entity i (or of another stream of the
// graph, by salt).
func (g *Graph) rng(salt uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(g.Seed^salt*0x9e3779b97f4a7c15, uint64(i)))
}

const (
	saltEntity uint64 = iota + 1
	saltLinks
	saltIndicators
	saltPlaces
)

// The hubs at the start of the partner range: the 16 regional centres for
// social policy, then the ministries, then the support centres (one per
// 2,000 partners). Drawing link ends with a Zipf law over the range gives
// them most links.
const (
	regionalCentres = 16
	ministries      = 3
)

func (g *Graph) supportCentres() int { return max(4, g.rangeFor(kb.KindPartner).len()/2000) }

func (r kindRange) len() int { return r.end - r.start }

// partnerIndex lists the partners by sector and the workshops, for links
// that need a partner of one sector.
type partnerIndex struct {
	bySector  map[kb.Sector][]int
	workshops []int
}

func (g *Graph) indexPartners() partnerIndex {
	idx := partnerIndex{bySector: map[kb.Sector][]int{}}
	r := g.rangeFor(kb.KindPartner)
	for i := r.start; i < r.end; i++ {
		s, k := g.partnerKind(i)
		idx.bySector[s] = append(idx.bySector[s], i)
		if k == kb.PartnerWorkshop {
			idx.workshops = append(idx.workshops, i)
		}
	}
	return idx
}

// partnerKind returns the sector and kind of partner i: the hubs first,
// then PUBLIC 20 %, SOCIAL 55 %, PRIVATE 25 %.
func (g *Graph) partnerKind(i int) (kb.Sector, kb.PartnerKind) {
	j := i - g.rangeFor(kb.KindPartner).start
	switch {
	case j < regionalCentres:
		return kb.SectorPublic, kb.PartnerRegionalCenter
	case j < regionalCentres+ministries:
		return kb.SectorPublic, kb.PartnerMinistry
	case j < regionalCentres+ministries+g.supportCentres():
		return kb.SectorSocial, kb.PartnerSupportCenter
	}
	x := g.rng(saltEntity, i).Float64()
	switch {
	case x < 0.13:
		return kb.SectorPublic, kb.PartnerMunicipality
	case x < 0.17:
		return kb.SectorPublic, kb.PartnerCounty
	case x < 0.20:
		return kb.SectorPublic, kb.PartnerPublicAgency
	case x < 0.47:
		return kb.SectorSocial, kb.PartnerAssociation
	case x < 0.60:
		return kb.SectorSocial, kb.PartnerFoundation
	case x < 0.71:
		return kb.SectorSocial, kb.PartnerWorkshop
	case x < 0.73:
		return kb.SectorSocial, kb.PartnerFederation
	case x < 0.75:
		return kb.SectorSocial, kb.PartnerOther
	}
	return kb.SectorPrivate, kb.PartnerCompany
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// sourceCitation cites a source of the graph, the national programmes and
// big reports more often than the rest.
func (g *Graph) sourceCitation(r *rand.Rand) kb.Citation {
	src := g.rangeFor(kb.KindSource)
	i := src.start + zipf(r, src.len())
	return kb.Citation{SourceID: int64(i), Locator: fmt.Sprintf("s. %d", 1+r.IntN(120))}
}

// zipf draws from [0, n) with a Zipf law: 0 most often.
func zipf(r *rand.Rand, n int) int {
	// Inverse-transform sampling of a continuous power law with exponent
	// 1.1 and offset 10, truncated to n: close to rand.Zipf(1.1, 10) but
	// without its per-call setup.
	const s, v = 1.1, 10.0
	u := r.Float64()
	a := pow(v, 1-s)
	b := pow(v+float64(n), 1-s)
	x := pow(a+u*(b-a), 1/(1-s)) - v
	k := int(x)
	if k < 0 {
		k = 0
	}
	if k >= n {
		k = n - 1
	}
	return k
}

var epoch = time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)

func date(r *rand.Rand) *time.Time {
	d := epoch.AddDate(0, 0, r.IntN(20*365))
	return &d
}

// Entity fills e with entity i.
func (g *Graph) Entity(i int, e *kb.Entity) {
	r := g.rng(saltEntity, i)
	kind := g.Kind(i)
	*e = kb.Entity{Key: Key(g.Seed, i), Kind: kind, Status: kb.StatusPublished}
	town := pick(r, plTowns)
	region := pick(r, voivodeships)
	place := kb.Place{Country: "PL", Region: region, City: town.nom}
	switch kind {
	case kb.KindPartner:
		sector, pk := g.partnerKind(i)
		j := i - g.rangeFor(kb.KindPartner).start
		p := &kb.Partner{Sector: sector, PartnerKind: pk, Place: place}
		switch pk {
		case kb.PartnerRegionalCenter:
			c := capitals[j%len(capitals)]
			e.Name = "Regionalny Ośrodek Polityki Społecznej w " + c.loc
			p.Place = kb.Place{Country: "PL", Region: voivodeships[j%len(voivodeships)], City: c.nom}
		case kb.PartnerMinistry:
			e.Name = ministryNames[j%len(ministryNames)]
			p.Place = kb.Place{Country: "PL", Region: "mazowieckie", City: "Warszawa"}
		case kb.PartnerSupportCenter:
			e.Name = "Ośrodek Wsparcia Ekonomii Społecznej w " + town.loc
		case kb.PartnerMunicipality:
			e.Name = "Gmina " + town.nom
		case kb.PartnerCounty:
			e.Name = "Starostwo Powiatowe w " + town.loc
		case kb.PartnerPublicAgency:
			e.Name = pick(r, publicAgencies) + " w " + town.loc
		case kb.PartnerAssociation:
			e.Name = "Stowarzyszenie " + pick(r, associationAims) + " w " + town.loc
			p.LegalForm = "stowarzyszenie"
		case kb.PartnerFoundation:
			e.Name = "Fundacja " + pick(r, foundationNames)
			p.LegalForm = "fundacja"
		case kb.PartnerWorkshop:
			e.Name = "Warsztat Terapii Zajęciowej w " + town.loc
		case kb.PartnerFederation:
			e.Name = "Związek Organizacji Pozarządowych Województwa " + town.nom
		case kb.PartnerOther:
			e.Name = "Koło Gospodyń Wiejskich w " + town.loc
		default:
			e.Name = pick(r, companyStems) + pick(r, companySuffixes) + " Sp. z o.o."
			p.LegalForm = "spółka z ograniczoną odpowiedzialnością"
		}
		p.RegistrationNumber = fmt.Sprintf("%010d", r.Int64N(1e10))
		g.locate(i, &p.Place)
		e.Partner = p
		e.Summary = fmt.Sprintf("%s (%s), %s.", e.Name, sectorWords[sector], town.nom)
	case kb.KindCooperative:
		acts := []kb.Activity{pick(r, kb.Activities)}
		if r.IntN(3) == 0 {
			if a := pick(r, kb.Activities); a != acts[0] {
				acts = append(acts, a)
			}
		}
		e.Name = "Spółdzielnia Socjalna „" + pick(r, coopNames) + "” w " + town.loc
		status := []kb.CooperativeStatus{kb.CoopInitiativeGroup, kb.CoopRegistered, kb.CoopOperating, kb.CoopOperating, kb.CoopOperating, kb.CoopClosed}
		e.Cooperative = &kb.Cooperative{CoopStatus: pick(r, status), Activities: acts, Place: place, FoundedOn: date(r)}
		g.locate(i, &e.Cooperative.Place)
		e.Summary = "Spółdzielnia socjalna zatrudniająca uczestników warsztatów terapii zajęciowej: " + activityWords[acts[0]] + "."
	case kb.KindPartnership:
		e.Name = "Partnerstwo publiczno-społeczno-prywatne „" + pick(r, projectTitles) + "” w " + town.loc
		e.Partnership = &kb.Partnership{StartsOn: date(r)}
		e.Summary = "Partnerstwo samorządu, organizacji społecznych i biznesu."
	case kb.KindProject:
		e.Name = pick(r, projectTitles) + " – " + town.nom + fmt.Sprintf(" %d", 2008+r.IntN(18))
		e.Project = &kb.Project{StartsOn: date(r), Funding: pick(r, fundings)}
		e.Summary = "Projekt aktywizacji zawodowej osób z niepełnosprawnościami."
	case kb.KindEvent:
		ek := pick(r, []kb.EventKind{kb.EventForum, kb.EventTraining, kb.EventTraining, kb.EventConference, kb.EventMeeting, kb.EventMeeting, kb.EventStudyVisit})
		ev := &kb.Event{EventKind: ek, EventStatus: pick(r, []kb.EventStatus{kb.EventHeld, kb.EventHeld, kb.EventHeld, kb.EventPlanned, kb.EventCancelled}), StartsOn: date(r), Place: place}
		// The bulk load does not validate: the fuzzy date that Validate
		// would derive from the day is set here.
		ev.When = kb.FuzzyDateOf(ev.StartsOn, nil)
		switch ek {
		case kb.EventStudyVisit:
			se := pick(r, seTowns)
			e.Name = "Wizyta studyjna w Szwecji: " + se.nom
			ev.Place = kb.Place{Country: "SE", Region: se.region, City: se.nom}
		case kb.EventForum:
			e.Name = fmt.Sprintf("%s Forum WTZ w %s", roman[r.IntN(len(roman))], town.loc)
		case kb.EventTraining:
			e.Name = "Szkolenia integracyjne w " + town.loc
		case kb.EventConference:
			e.Name = "Konferencja Ekonomii Społecznej w " + town.loc
		default:
			e.Name = "Spotkanie partnerów w " + town.loc
		}
		g.locate(i, &ev.Place)
		e.Event = ev
		e.Summary = e.Name + "."
	case kb.KindPerson:
		if r.IntN(8) == 0 {
			e.Name = pick(r, seFirst) + " " + pick(r, seLast)
		} else {
			e.Name = pick(r, plFirst) + " " + pick(r, plLast)
		}
		e.Person = &kb.Person{PublicRole: pick(r, publicRoles)}
		e.Summary = "Osoba pełniąca funkcję publiczną."
	case kb.KindGoodPractice:
		e.Name = pick(r, practiceTitles)
		e.GoodPractice = &kb.GoodPractice{Topics: []string{pick(r, topics), pick(r, topics)}, Description: "Opis praktyki.", TransferPotential: "wysoki"}
		if e.GoodPractice.Topics[0] == e.GoodPractice.Topics[1] {
			e.GoodPractice.Topics = e.GoodPractice.Topics[:1]
		}
		e.Summary = e.Name + "."
	case kb.KindForeignExample:
		se := pick(r, seTowns)
		e.Name = pick(r, seOrgPatterns)(r, se)
		e.ForeignExample = &kb.ForeignExample{Place: kb.Place{Country: "SE", Region: se.region, City: se.nom},
			Model: "social work cooperative", HomeAnalogue: "spółdzielnia socjalna", TargetGroup: "osoby z niepełnosprawnościami"}
		g.locate(i, &e.ForeignExample.Place)
		e.Summary = "Szwedzka spółdzielnia pracy socjalnej."
	case kb.KindSource:
		j := i - g.rangeFor(kb.KindSource).start
		if j < len(programmes) {
			e.Name = programmes[j]
			e.Source = &kb.Source{SourceKind: kb.SourceProgramme, Publisher: "Ministerstwo Pracy i Polityki Społecznej", PublishedOn: date(r), Language: "pl"}
		} else {
			e.Name = fmt.Sprintf("Raport o ekonomii społecznej: województwo %s, %d", region, 2008+r.IntN(18))
			e.Source = &kb.Source{SourceKind: pick(r, []kb.SourceKind{kb.SourceArticle, kb.SourceReport, kb.SourceWebsite}),
				Publisher: "Stowarzyszenie Na Rzecz Spółdzielni Socjalnych", PublishedOn: date(r), Language: "pl"}
		}
		e.Summary = "Źródło."
	}
	if kind != kb.KindSource {
		e.Citations = []kb.Citation{g.sourceCitation(r)}
	}
}

// Indicators yields jobs planned and jobs for workshop participants for
// half the cooperatives, each citing a source.
func (g *Graph) Indicators(yield func(in *kb.Indicator) bool) {
	c := g.rangeFor(kb.KindCooperative)
	for i := c.start; i < c.end; i += 2 {
		r := g.rng(saltIndicators, i)
		jobs := 3 + r.IntN(20)
		cite := g.sourceCitation(r)
		asOf := date(r)
		for _, in := range []kb.Indicator{
			{EntityID: int64(i), Name: kb.IndicatorJobsPlanned, Value: float64(jobs), Unit: "jobs", AsOf: asOf, Citation: &cite},
			{EntityID: int64(i), Name: kb.IndicatorWTZJobsPlanned, Value: float64(r.IntN(jobs + 1)), Unit: "jobs", AsOf: asOf, Citation: &cite},
		} {
			if !yield(&in) {
				return
			}
		}
	}
}

func pow(x, y float64) float64 { return mathPow(x, y) }

// sortedUnique sorts keys and drops duplicates in place.
func sortedUnique(keys []uint64) []uint64 {
	slices.Sort(keys)
	return slices.Compact(keys)
}

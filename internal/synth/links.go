package synth

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/partnergraph/partnergraph/internal/kb"
)

func mathPow(x, y float64) float64 { return math.Pow(x, y) }

// picker draws an entity number.
type picker func(r *rand.Rand) int

// recipe makes links of one type between entities drawn by two pickers;
// weight is its share of the links left after the structural ones.
type recipe struct {
	typ      kb.RelationType
	weight   float64
	from, to picker
}

func (g *Graph) uniform(k kb.Kind) picker {
	rg := g.rangeFor(k)
	return func(r *rand.Rand) int { return rg.start + r.IntN(rg.len()) }
}

// hubs draws with a Zipf law over the kind's range: its first entities
// (for partners: the regional centres, ministries and support centres)
// get most links.
func (g *Graph) hubs(k kb.Kind) picker {
	rg := g.rangeFor(k)
	return func(r *rand.Rand) int { return rg.start + zipf(r, rg.len()) }
}

func (g *Graph) ofSector(s kb.Sector) picker {
	ps := g.partners.bySector[s]
	return func(r *rand.Rand) int { return ps[r.IntN(len(ps))] }
}

func (g *Graph) workshop() picker {
	ws := g.partners.workshops
	return func(r *rand.Rand) int { return ws[r.IntN(len(ws))] }
}

func oneOf(ps ...picker) picker {
	return func(r *rand.Rand) int { return ps[r.IntN(len(ps))](r) }
}

// recipes follow the relation vocabulary's rules (kb.CheckLink); weights
// give participation, support and affiliation the bulk, as in the field.
func (g *Graph) recipes() []recipe {
	u, h := g.uniform, g.hubs
	partner, coop, project, event := kb.KindPartner, kb.KindCooperative, kb.KindProject, kb.KindEvent
	return []recipe{
		{kb.RelFounded, 0.05, oneOf(g.ofSector(kb.SectorSocial), g.ofSector(kb.SectorPublic), u(kb.KindPerson)), u(coop)},
		{kb.RelEmploysParticipantsOf, 0.02, u(coop), g.workshop()},
		{kb.RelSupports, 0.12, h(partner), oneOf(u(coop), u(project))},
		{kb.RelFunds, 0.05, h(partner), oneOf(u(project), u(coop), u(event))},
		{kb.RelRuns, 0.02, u(partner), oneOf(u(coop), u(project))},
		{kb.RelPartnerIn, 0.05, oneOf(u(partner), u(coop)), u(project)},
		{kb.RelOrganized, 0.03, h(partner), u(event)},
		{kb.RelParticipatedIn, 0.25, oneOf(u(partner), u(coop), u(kb.KindPerson)), oneOf(h(event), u(project))},
		{kb.RelPresented, 0.04, oneOf(u(kb.KindPerson), u(partner)), h(event)},
		{kb.RelAffiliatedWith, 0.06, u(kb.KindPerson), oneOf(u(partner), u(partner), u(coop), u(project))},
		// Events are cases too: a Swedish study visit puts its practices in
		// SE for the practices' country filter (issue 17).
		{kb.RelDemonstrates, 0.06, oneOf(u(coop), u(project), u(kb.KindPartnership), u(partner), u(event)), h(kb.KindGoodPractice)},
		{kb.RelRecognizedIn, 0.04, oneOf(u(kb.KindGoodPractice), u(project), u(coop)), h(kb.KindSource)},
		{kb.RelPublished, 0.01, h(partner), u(kb.KindSource)},
		{kb.RelVisited, 0.03, u(event), oneOf(h(kb.KindForeignExample), u(partner), u(coop))},
		{kb.RelInspired, 0.02, oneOf(h(kb.KindForeignExample), u(event)), oneOf(u(kb.KindGoodPractice), u(coop), u(project))},
		{kb.RelComparableTo, 0.01, u(kb.KindForeignExample), oneOf(u(coop), u(partner))},
		{kb.RelPartOf, 0.02, u(event), u(project)},
		{kb.RelLeads, 0.02, h(partner), u(project)},
	}
}

var typeIndex = func() map[kb.RelationType]uint64 {
	m := map[kb.RelationType]uint64{}
	for i, t := range kb.RelationTypes() {
		m[t] = uint64(i)
	}
	return m
}()

func pack(from, to int, t kb.RelationType) uint64 {
	return uint64(from)<<34 | uint64(to)<<6 | typeIndex[t]
}

func unpack(k uint64) (from, to int, t kb.RelationType) {
	return int(k >> 34), int(k >> 6 & (1<<28 - 1)), kb.RelationTypes()[k&63]
}

var keysCache sync.Map // *Graph -> []uint64

// keys returns the links as sorted packed keys (by source, then target):
// first the structural links of every partnership (three to five members
// of which 60 % span all three sectors, and the cooperative or project it
// is formed around), then links drawn from the recipes until there are
// g.LinkCount distinct ones.
func (g *Graph) keys() []uint64 {
	if k, ok := keysCache.Load(g); ok {
		return k.([]uint64)
	}
	keys := make([]uint64, 0, g.LinkCount+g.LinkCount/8)
	add := func(from, to int, t kb.RelationType) {
		if from != to {
			keys = append(keys, pack(from, to, t))
		}
	}
	ps := g.rangeFor(kb.KindPartnership)
	coop, project := g.uniform(kb.KindCooperative), g.uniform(kb.KindProject)
	anyPartner := g.uniform(kb.KindPartner)
	for i := ps.start; i < ps.end && len(keys) < g.LinkCount; i++ {
		r := g.rng(saltLinks, i)
		sectors := []kb.Sector{kb.SectorSocial, kb.SectorPublic, kb.SectorPrivate}
		if r.Float64() >= 0.6 {
			// Two sectors: drop one, more often the private one.
			drop := []int{2, 2, 1, 0}[r.IntN(4)]
			sectors = append(sectors[:drop:drop], sectors[drop+1:]...)
		}
		for _, s := range sectors {
			add(g.ofSector(s)(r), i, kb.RelMemberOf)
		}
		for n := r.IntN(3); n > 0; n-- {
			m := anyPartner(r)
			if s, _ := g.partnerKind(m); slicesContains(sectors, s) { // keep the mix as drawn
				add(m, i, kb.RelMemberOf)
			}
		}
		if r.IntN(10) < 7 {
			add(i, coop(r), kb.RelFormedAround)
		} else {
			add(i, project(r), kb.RelFormedAround)
		}
	}
	keys = sortedUnique(keys)
	rs := g.recipes()
	total := 0.0
	for _, rc := range rs {
		total += rc.weight
	}
	for round := 0; len(keys) < g.LinkCount && round < 50; round++ {
		r := g.rng(saltLinks, -1-round)
		deficit := g.LinkCount - len(keys)
		for n := 0; n < deficit; n++ {
			x := r.Float64() * total
			rc := rs[len(rs)-1]
			for _, c := range rs {
				if x < c.weight {
					rc = c
					break
				}
				x -= c.weight
			}
			from, to := rc.from(r), rc.to(r)
			if from == to {
				n--
				continue
			}
			keys = append(keys, pack(from, to, rc.typ))
		}
		keys = sortedUnique(keys)
	}
	if len(keys) > g.LinkCount {
		keys = keys[:g.LinkCount] // only when the structural links alone exceed it
	}
	keysCache.Store(g, keys)
	return keys
}

func slicesContains(ss []kb.Sector, s kb.Sector) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Links yields every link, sorted by source, with its role (members of a
// partnership by their sector, one in four social members as its leader)
// and, for one link in five, a citation.
func (g *Graph) Links(yield func(l *kb.Link) bool) {
	var l kb.Link
	for _, k := range g.keys() {
		from, to, t := unpack(k)
		l = kb.Link{FromID: int64(from), ToID: int64(to), Type: t}
		if t == kb.RelMemberOf {
			s, _ := g.partnerKind(from)
			switch {
			case s == kb.SectorPublic:
				l.Role = string(kb.RolePublicPartner)
			case s == kb.SectorPrivate:
				l.Role = string(kb.RoleBusinessPartner)
			case k%4 == 0:
				l.Role = string(kb.RoleLeader)
			default:
				l.Role = string(kb.RoleSocialPartner)
			}
		}
		if k%5 == 0 {
			r := rand.New(rand.NewPCG(g.Seed, k))
			l.Citations = []kb.Citation{g.sourceCitation(r)}
		}
		if !yield(&l) {
			return
		}
	}
}

// Forget drops the links g computed and cached.
func (g *Graph) Forget() { keysCache.Delete(g) }

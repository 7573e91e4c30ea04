package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// mixWorld makes partners, partnerships, cooperatives and practices, and
// random writes among them through the store's write paths, so that what
// the triggers of migrations 00046 (the counters of the practices' facet
// combinations), 00047 (the sectors of each partnership's members) and
// 00050 (the sectors of the partners around each cooperative) keep can be
// compared with reading the rows one by one.
type mixWorld struct {
	t     *testing.T
	st    *store.Store
	rng   *rand.Rand
	kinds map[int64]kb.Kind
	links []int64
	n     int
	dels  int // deletes made, which take the kinds in turn
}

// newMixWorld returns a world over st that knows the partners,
// partnerships, cooperatives, practices and projects st holds.
func newMixWorld(t *testing.T, st *store.Store, rng *rand.Rand) *mixWorld {
	t.Helper()
	w := &mixWorld{t: t, st: st, rng: rng, kinds: map[int64]kb.Kind{}}
	all, err := st.ListEntities(context.Background(), store.Visibility{Drafts: true}, store.Filter{}, store.Order{}, store.Page{First: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all.Entities {
		switch e.Kind {
		case kb.KindPartner, kb.KindPartnership, kb.KindCooperative, kb.KindGoodPractice, kb.KindProject:
			w.kinds[e.ID] = e.Kind
		}
	}
	return w
}

func (w *mixWorld) create(kind kb.Kind) {
	w.t.Helper()
	w.n++
	e := kb.Entity{Kind: kind, Name: fmt.Sprintf("Mix %03d", w.n)}
	place := kb.Place{Country: pickOne(w.rng, countCountry)}
	if w.rng.IntN(4) > 0 { // a point near Poznań, for the map filters
		lat, lon := 52+w.rng.Float64(), 16.5+w.rng.Float64()
		place.Latitude, place.Longitude = &lat, &lon
	}
	switch kind {
	case kb.KindPartner:
		e.Partner = &kb.Partner{Sector: pickOne(w.rng, countSectors), PartnerKind: kb.PartnerCompany, Place: place}
	case kb.KindPartnership:
		e.Partnership = &kb.Partnership{}
	case kb.KindCooperative:
		e.Cooperative = &kb.Cooperative{CoopStatus: kb.CoopOperating, Place: place}
	case kb.KindGoodPractice:
		e.GoodPractice = &kb.GoodPractice{}
	case kb.KindProject:
		e.Project = &kb.Project{}
	}
	out, err := w.st.CreateEntity(context.Background(), "test", &e)
	if err != nil {
		w.t.Fatalf("create %s: %v", kind, err)
	}
	w.kinds[out.ID] = kind
	if w.rng.IntN(4) > 0 {
		w.status(out.ID, kb.StatusPublished)
	}
}

func (w *mixWorld) of(kind kb.Kind) []int64 {
	var out []int64
	for id, k := range w.kinds {
		if k == kind {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (w *mixWorld) update(id int64, fn func(e *kb.Entity)) {
	w.t.Helper()
	_, err := w.st.UpdateEntity(context.Background(), "test", kb.OpUpdate, id, nil, func(cur *kb.Entity) (*kb.Entity, error) {
		e := *cur
		if cur.Partner != nil {
			p := *cur.Partner
			e.Partner = &p
		}
		fn(&e)
		return &e, nil
	})
	if err != nil {
		w.t.Fatalf("update %d: %v", id, err)
	}
}

func (w *mixWorld) status(id int64, s kb.PublicationStatus) {
	w.update(id, func(e *kb.Entity) { e.Status = s })
}

// link makes a link of type from one of the kind from to one of to, if
// there are such and it is not there yet.
func (w *mixWorld) link(from kb.Kind, typ kb.RelationType, to kb.Kind) {
	fs, ts := w.of(from), w.of(to)
	if len(fs) == 0 || len(ts) == 0 {
		return
	}
	l, err := w.st.CreateLink(context.Background(), "test", &kb.Link{FromID: pickOne(w.rng, fs), ToID: pickOne(w.rng, ts), Type: typ})
	if err != nil {
		return // the same link again: a conflict, nothing written
	}
	w.links = append(w.links, l.ID)
}

// linkAroundCooperative makes one of the links a cooperative's partners
// are found through (kb.CooperativePartnersIn and Out, projects).
func (w *mixWorld) linkAroundCooperative() {
	switch w.rng.IntN(7) {
	case 0:
		w.link(kb.KindPartner, kb.RelFounded, kb.KindCooperative)
	case 1:
		w.link(kb.KindPartner, pickOne(w.rng, []kb.RelationType{kb.RelRuns, kb.RelSupports, kb.RelFunds}), kb.KindCooperative)
	case 2:
		w.link(kb.KindCooperative, kb.RelEmploysParticipantsOf, kb.KindPartner)
	case 3:
		w.link(kb.KindPartnership, kb.RelFormedAround, kb.KindCooperative)
	case 4:
		w.link(kb.KindPartnership, kb.RelFormedAround, kb.KindProject)
	case 5:
		w.link(kb.KindProject, pickOne(w.rng, []kb.RelationType{kb.RelSupports, kb.RelFunds}), kb.KindCooperative)
	default:
		w.link(kb.KindPartnership, kb.RelSupports, kb.KindCooperative) // not a partner: no sector
	}
}

// step makes one random write and returns what it did.
func (w *mixWorld) step() string {
	w.t.Helper()
	ctx := context.Background()
	switch w.rng.IntN(10) {
	case 0:
		w.create(pickOne(w.rng, []kb.Kind{kb.KindPartner, kb.KindPartner, kb.KindPartnership, kb.KindCooperative, kb.KindGoodPractice}))
		return "create"
	case 1, 2:
		w.link(kb.KindPartner, kb.RelMemberOf, kb.KindPartnership)
		return "link a member"
	case 3:
		switch w.rng.IntN(4) {
		case 0:
			w.link(kb.KindPartnership, kb.RelDemonstrates, kb.KindGoodPractice)
		case 1:
			w.link(kb.KindCooperative, kb.RelDemonstrates, kb.KindGoodPractice)
		default:
			w.linkAroundCooperative()
		}
		return "link a case or a backer"
	case 4:
		if len(w.links) == 0 {
			return "unlink (none)"
		}
		i := w.rng.IntN(len(w.links))
		if _, err := w.st.DeleteLink(ctx, "test", w.links[i], nil); err != nil {
			w.t.Fatalf("unlink: %v", err)
		}
		w.links = slices.Delete(w.links, i, i+1)
		return "unlink"
	case 5, 6:
		ids := w.of(pickOne(w.rng, []kb.Kind{kb.KindPartner, kb.KindPartner, kb.KindGoodPractice, kb.KindCooperative, kb.KindPartnership, kb.KindProject}))
		if len(ids) == 0 {
			return "status (none)"
		}
		w.status(pickOne(w.rng, ids), pickOne(w.rng, countStatuses))
		return "status"
	case 7:
		ps := w.of(kb.KindPartner)
		if len(ps) == 0 {
			return "sector (none)"
		}
		w.update(pickOne(w.rng, ps), func(e *kb.Entity) { e.Partner.Sector = pickOne(w.rng, countSectors) })
		return "sector"
	case 8:
		w.dels++
		ids := w.of([]kb.Kind{kb.KindPartner, kb.KindGoodPractice, kb.KindPartnership, kb.KindPartner, kb.KindProject, kb.KindCooperative}[w.dels%6])
		if len(ids) == 0 {
			return "delete (none)"
		}
		id := pickOne(w.rng, ids)
		if _, _, err := w.st.DeleteEntity(ctx, "test", id, true); err != nil {
			w.t.Fatalf("delete %d: %v", id, err)
		}
		delete(w.kinds, id)
		// Its links went with it; the others are still there.
		var left []int64
		for _, l := range w.links {
			ls, err := w.st.LinksByID(ctx, store.Visibility{Drafts: true}, []int64{l})
			if err == nil && len(ls) == 1 && ls[0] != nil {
				left = append(left, l)
			}
		}
		w.links = left
		return "delete"
	default:
		if _, err := w.st.FoldCounts(ctx); err != nil {
			w.t.Fatalf("fold: %v", err)
		}
		return "fold"
	}
}

// checkCountOf checks that f counts n under vis: exactly up to 1,000, and
// as 2, not exact, up to 2 when n is larger.
func checkCountOf(t *testing.T, st *store.Store, vis store.Visibility, f store.Filter, n int, after string) {
	t.Helper()
	ctx := context.Background()
	c, err := st.CountEntitiesUpTo(ctx, vis, f, 1000)
	if err != nil || c != (store.Count{N: n, Exact: true}) {
		t.Fatalf("after %s: count of %+v (drafts %v) = %+v, %v; want exactly %d", after, f, vis.Drafts, c, err, n)
	}
	if n > 2 {
		c, err := st.CountEntitiesUpTo(ctx, vis, f, 2)
		if err != nil || c != (store.Count{N: 2, Exact: false}) {
			t.Fatalf("after %s: count of %+v up to 2 = %+v, %v; want 2, not exact", after, f, c, err)
		}
	}
}

// checkFacetCountsAndMix compares, for readers and staff: the count of
// each filter of facets alone (summed from the counters) with the length
// of the same list walked row by row; the partnerships of each sector mix
// filter, listed and counted, with the mix read from the links, partners
// and entities one partnership at a time; and the counters with a recount
// of the practices' facets and statuses.
func checkFacetCountsAndMix(t *testing.T, st *store.Store, pool *pgxpool.Pool, after string) {
	t.Helper()
	ctx := context.Background()
	pl, se := []string{"PL"}, []string{"se"}
	facets := []store.Filter{
		{PracticeCountries: pl},
		{PracticeSectors: []kb.Sector{kb.SectorPrivate}},
		{PracticeCountries: pl, PracticeSectors: []kb.Sector{kb.SectorPrivate}, Not: &store.Filter{PracticeSectors: []kb.Sector{kb.SectorPublic}}},
		{Not: &store.Filter{PracticeCountries: pl}},
		{Or: []store.Filter{{PracticeCountries: se}, {PracticeSectors: []kb.Sector{kb.SectorPublic, kb.SectorSocial}}}},
		{Not: &store.Filter{Not: &store.Filter{PracticeSectors: []kb.Sector{kb.SectorSocial}}}},
		{And: []store.Filter{{PracticeCountries: pl}, {Not: &store.Filter{PracticeCountries: se}}}},
	}
	yes, no := true, false
	mixes := []kb.MixFilter{
		{Full: &yes}, {Full: &no},
		{Includes: []kb.Sector{kb.SectorPrivate}},
		{Missing: []kb.Sector{kb.SectorPublic}},
		{Includes: []kb.Sector{kb.SectorSocial}, Missing: []kb.Sector{kb.SectorPrivate}},
	}
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, g := range facets {
			f := practices(g)
			rowwise := f
			rowwise.CreatedSince = &epoch // not of facets alone: walked row by row
			want, err := st.ListEntities(ctx, vis, rowwise, store.Order{}, store.Page{First: 1000})
			if err != nil {
				t.Fatalf("list %+v: %v", rowwise, err)
			}
			got, err := st.ListEntities(ctx, vis, f, store.Order{}, store.Page{First: 1000})
			if err != nil || !slices.Equal(entityIDs(got.Entities), entityIDs(want.Entities)) {
				t.Fatalf("after %s: list of %+v (drafts %v) = %v, %v; row by row %v", after, g, vis.Drafts,
					entityIDs(got.Entities), err, entityIDs(want.Entities))
			}
			n := len(want.Entities)
			checkCountOf(t, st, vis, f, n, after)
			if all, err := st.CountEntities(ctx, vis, f); err != nil || all != n {
				t.Fatalf("after %s: exact count of %+v = %d, %v; want %d", after, g, all, err, n)
			}
		}
		// The mix of each partnership, read from the rows.
		statuses := []string{"PUBLISHED"}
		if vis.Drafts {
			statuses = append(statuses, "DRAFT", "ARCHIVED")
		}
		all, err := st.ListEntities(ctx, vis, store.Filter{Kind: kb.KindPartnership}, store.Order{}, store.Page{First: 1000})
		if err != nil {
			t.Fatal(err)
		}
		mixOf := map[int64]kb.SectorMix{}
		for _, e := range all.Entities {
			var sectors []string
			if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT p.sector), '{}') FROM link l
				JOIN partner p ON p.id = l.from_id JOIN entity m ON m.id = l.from_id AND m.status = ANY($2)
				WHERE l.to_id = $1 AND l.type = 'MEMBER_OF'`, e.ID, statuses).Scan(&sectors); err != nil {
				t.Fatal(err)
			}
			counts := map[kb.Sector]int{}
			for _, s := range sectors {
				counts[kb.Sector(s)]++
			}
			mixOf[e.ID] = kb.MixOf(counts)
		}
		for _, mf := range mixes {
			var want []int64
			for _, e := range all.Entities {
				if mf.Match(mixOf[e.ID]) {
					want = append(want, e.ID)
				}
			}
			f := store.Filter{Kind: kb.KindPartnership, SectorMix: mf}
			got, err := st.ListEntities(ctx, vis, f, store.Order{}, store.Page{First: 1000})
			if err != nil || !slices.Equal(entityIDs(got.Entities), want) {
				t.Fatalf("after %s: partnerships of %+v (drafts %v) = %v, %v; row by row %v", after, mf, vis.Drafts,
					entityIDs(got.Entities), err, want)
			}
			c, err := st.CountEntitiesUpTo(ctx, vis, f, 1000)
			if err != nil || c != (store.Count{N: len(want), Exact: true}) {
				t.Fatalf("after %s: count of partnerships of %+v (drafts %v) = %+v, %v; want %d", after, mf, vis.Drafts, c, err, len(want))
			}
		}
		// The mix of each cooperative, computed from its links one
		// request at a time (Store.CooperativeSectorCounts, what the
		// cooperative's sectorMix field shows), against the kept sets.
		coops, err := st.ListEntities(ctx, vis, store.Filter{Kind: kb.KindCooperative}, store.Order{}, store.Page{First: 1000})
		if err != nil {
			t.Fatal(err)
		}
		ids := entityIDs(coops.Entities)
		counts, err := st.CooperativeSectorCounts(ctx, vis, ids)
		if err != nil {
			t.Fatal(err)
		}
		col := "published"
		if vis.Drafts {
			col = "every"
		}
		for _, id := range ids {
			var kept []string
			if err := pool.QueryRow(ctx, `SELECT coalesce((SELECT `+col+` FROM cooperative_mix WHERE id = $1), '{}')`, id).Scan(&kept); err != nil {
				t.Fatal(err)
			}
			var computed []string
			for sc := range counts[id] {
				computed = append(computed, string(sc))
			}
			slices.Sort(computed)
			if !slices.Equal(kept, computed) {
				t.Fatalf("after %s: cooperative %d's kept sectors (drafts %v) %v; from the links %v", after, id, vis.Drafts, kept, computed)
			}
		}
		for _, mf := range mixes {
			var want, wantBoth []int64
			for _, id := range ids {
				if mf.Match(kb.MixOf(counts[id])) {
					want = append(want, id)
				}
			}
			for _, e := range all.Entities {
				if mf.Match(mixOf[e.ID]) {
					wantBoth = append(wantBoth, e.ID)
				}
			}
			wantBoth = append(wantBoth, want...)
			slices.Sort(wantBoth)
			f := store.Filter{Kind: kb.KindCooperative, SectorMix: mf}
			got, err := st.ListEntities(ctx, vis, f, store.Order{}, store.Page{First: 1000})
			if err != nil || !slices.Equal(entityIDs(got.Entities), want) {
				t.Fatalf("after %s: cooperatives of %+v (drafts %v) = %v, %v; from the links %v", after, mf, vis.Drafts,
					entityIDs(got.Entities), err, want)
			}
			checkCountOf(t, st, vis, f, len(want), after)
			both := store.Filter{SectorMix: mf}
			gotBoth, err := st.ListEntities(ctx, vis, both, store.Order{}, store.Page{First: 1000})
			gotIDs := entityIDs(gotBoth.Entities)
			slices.Sort(gotIDs)
			if err != nil || !slices.Equal(gotIDs, wantBoth) {
				t.Fatalf("after %s: partnerships and cooperatives of %+v (drafts %v) = %v, %v; want %v", after, mf, vis.Drafts,
					gotIDs, err, wantBoth)
			}
		}
	}
	// The map filters over a wide area (every area is wide with a limit
	// of 1): counted from the points' own status and sector (migration
	// 00048), as many as the list holds, which probes each entity.
	restore := store.SetPlaceIndexLimit(1)
	defer restore()
	near := &kb.Circle{Lat: 52.41, Lon: 16.93, RadiusKm: 50}
	box := &kb.BBox{South: 52, West: 16, North: 52.6, East: 17.2}
	var maps []store.Filter
	for _, k := range []kb.Kind{kb.KindPartner, kb.KindCooperative, ""} {
		maps = append(maps, store.Filter{Kind: k, Near: near}, store.Filter{Kind: k, Within: box})
		for _, sc := range countSectors {
			maps = append(maps, store.Filter{Kind: k, Near: near, Sectors: []kb.Sector{sc}},
				store.Filter{Kind: k, Within: box, Sectors: []kb.Sector{sc, kb.SectorPublic}})
		}
	}
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, f := range maps {
			list, err := st.ListEntities(ctx, vis, f, store.Order{}, store.Page{First: 1000})
			if err != nil {
				t.Fatalf("list %+v: %v", f, err)
			}
			// Row by row: the same filter nested in an and, which probes
			// each entity's points and reads its status and sector.
			ref := store.Filter{Kind: f.Kind, And: []store.Filter{f}}
			ref.And[0].Kind = ""
			want, err := st.ListEntities(ctx, vis, ref, store.Order{}, store.Page{First: 1000})
			if err != nil || !slices.Equal(entityIDs(list.Entities), entityIDs(want.Entities)) {
				t.Fatalf("after %s: map list of %+v (drafts %v) = %v; nested %v, %v", after, f, vis.Drafts,
					entityIDs(list.Entities), entityIDs(want.Entities), err)
			}
			checkCountOf(t, st, vis, f, len(want.Entities), after)
		}
	}
	var diff int
	if err := pool.QueryRow(ctx, `
		WITH counted AS (
			SELECT countries, sectors, status, sum(n) AS n FROM (TABLE practice_facet_count UNION ALL TABLE practice_facet_count_delta) c
			GROUP BY 1, 2, 3 HAVING sum(n) <> 0),
		recounted AS (
			SELECT pf.countries, pf.sectors, e.status, count(*) AS n FROM practice_facet pf JOIN entity e ON e.id = pf.id GROUP BY 1, 2, 3)
		SELECT count(*) FROM ((TABLE counted EXCEPT TABLE recounted) UNION ALL (TABLE recounted EXCEPT TABLE counted)) x`).Scan(&diff); err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Fatalf("after %s: %d combinations of practice_facet_count differ from a recount", after, diff)
	}
}

// TestFacetCountsAndSectorMixFollowWrites is a property test: after
// random creates, links and unlinks of members, cases and backers,
// publication changes, sector changes, deletes and folds, the count of
// every filter of practices' facets alone (summed from the counters of
// migration 00046), the partnerships of every sector mix filter (read
// from the sets of migration 00047) and the cooperatives of each (read from
// those of 00050, and both kinds at once), listed and counted, and the count of
// every map filter over a wide area with a sector (from the points' own
// status and sector, 00048) are those of a row-by-row reading, for
// readers and staff.
func TestFacetCountsAndSectorMixFollowWrites(t *testing.T) {
	st, pool := open(t)
	load(t, st, small())
	w := newMixWorld(t, st, rand.New(rand.NewPCG(46, 47)))
	for range 4 {
		for _, k := range []kb.Kind{kb.KindPartner, kb.KindPartner, kb.KindPartner, kb.KindPartnership, kb.KindCooperative, kb.KindGoodPractice, kb.KindProject} {
			w.create(k)
		}
	}
	for range 20 {
		w.link(kb.KindPartner, kb.RelMemberOf, kb.KindPartnership)
	}
	for range 6 {
		w.link(kb.KindPartnership, kb.RelDemonstrates, kb.KindGoodPractice)
		w.link(kb.KindCooperative, kb.RelDemonstrates, kb.KindGoodPractice)
		w.link(kb.KindPartner, kb.RelFounded, kb.KindCooperative)
	}
	for range 8 {
		w.create(kb.KindCooperative)
		w.create(kb.KindProject)
	}
	for range 30 {
		w.linkAroundCooperative()
	}
	checkFacetCountsAndMix(t, st, pool, "the start")
	for i := range 150 {
		did := w.step()
		if i%5 == 4 {
			checkFacetCountsAndMix(t, st, pool, fmt.Sprintf("step %d (%s)", i, did))
		}
	}
}

// TestCooperativeMixFollowsItsPaths walks each path a cooperative's
// partners are found through (migration 00050), one write at a time: a
// member joining a partnership formed around it, or around a project that
// supports it; the partnership and the project unpublished and published
// again; a member's sector changed; a founder and a workshop; a link of
// the path removed, the partnership deleted. After each write the kept
// sets are those computed from the links, for readers and staff.
func TestCooperativeMixFollowsItsPaths(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	w := &mixWorld{t: t, st: st, rng: rand.New(rand.NewPCG(50, 50)), kinds: map[int64]kb.Kind{}}
	mk := func(kind kb.Kind, sector kb.Sector) int64 {
		t.Helper()
		w.n++
		e := kb.Entity{Kind: kind, Name: fmt.Sprintf("Path %02d", w.n)}
		switch kind {
		case kb.KindPartner:
			e.Partner = &kb.Partner{Sector: sector, PartnerKind: kb.PartnerCompany}
		case kb.KindPartnership:
			e.Partnership = &kb.Partnership{}
		case kb.KindCooperative:
			e.Cooperative = &kb.Cooperative{CoopStatus: kb.CoopOperating}
		case kb.KindProject:
			e.Project = &kb.Project{}
		}
		out, err := st.CreateEntity(ctx, "test", &e)
		if err != nil {
			t.Fatal(err)
		}
		w.status(out.ID, kb.StatusPublished)
		return out.ID
	}
	link := func(from int64, typ kb.RelationType, to int64) int64 {
		t.Helper()
		l, err := st.CreateLink(ctx, "test", &kb.Link{FromID: from, ToID: to, Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	coop := mk(kb.KindCooperative, "")
	check := func(step string, published, every []string) {
		t.Helper()
		for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
			counts, err := st.CooperativeSectorCounts(ctx, vis, []int64{coop})
			if err != nil {
				t.Fatal(err)
			}
			var computed []string
			for sc := range counts[coop] {
				computed = append(computed, string(sc))
			}
			slices.Sort(computed)
			col, want := "published", published
			if vis.Drafts {
				col, want = "every", every
			}
			var kept []string
			if err := pool.QueryRow(ctx, `SELECT coalesce((SELECT `+col+` FROM cooperative_mix WHERE id = $1), '{}')`, coop).Scan(&kept); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(kept, computed) || !slices.Equal(kept, want) && !(len(kept) == 0 && len(want) == 0) {
				t.Fatalf("after %s (drafts %v): kept %v, computed %v, want %v", step, vis.Drafts, kept, computed, want)
			}
		}
	}
	none := []string{}
	ps, pj, ps2 := mk(kb.KindPartnership, ""), mk(kb.KindProject, ""), mk(kb.KindPartnership, "")
	pub, soc, pri := mk(kb.KindPartner, kb.SectorPublic), mk(kb.KindPartner, kb.SectorSocial), mk(kb.KindPartner, kb.SectorPrivate)
	link(ps, kb.RelFormedAround, coop)
	check("a partnership formed around it", none, none)
	link(pub, kb.RelMemberOf, ps)
	check("a member of it", []string{"PUBLIC"}, []string{"PUBLIC"})
	link(ps2, kb.RelFormedAround, pj)
	link(soc, kb.RelMemberOf, ps2)
	check("a member around a project", []string{"PUBLIC"}, []string{"PUBLIC"})
	sup := link(pj, kb.RelSupports, coop)
	check("the project supports it", []string{"PUBLIC", "SOCIAL"}, []string{"PUBLIC", "SOCIAL"})
	w.status(pj, kb.StatusDraft)
	check("the project a draft", []string{"PUBLIC"}, []string{"PUBLIC", "SOCIAL"})
	w.status(pj, kb.StatusPublished)
	w.status(ps, kb.StatusDraft)
	check("the partnership a draft", []string{"SOCIAL"}, []string{"PUBLIC", "SOCIAL"})
	w.status(ps, kb.StatusPublished)
	w.update(soc, func(e *kb.Entity) { e.Partner.Sector = kb.SectorPrivate })
	check("a member's sector", []string{"PRIVATE", "PUBLIC"}, []string{"PRIVATE", "PUBLIC"})
	w.update(soc, func(e *kb.Entity) { e.Partner.Sector = kb.SectorSocial })
	link(pri, kb.RelFounded, coop)
	check("a founder", []string{"PRIVATE", "PUBLIC", "SOCIAL"}, []string{"PRIVATE", "PUBLIC", "SOCIAL"})
	if _, err := st.DeleteLink(ctx, "test", sup, nil); err != nil {
		t.Fatal(err)
	}
	check("the project's support removed", []string{"PRIVATE", "PUBLIC"}, []string{"PRIVATE", "PUBLIC"})
	w.status(pri, kb.StatusArchived)
	check("the founder archived", []string{"PUBLIC"}, []string{"PRIVATE", "PUBLIC"})
	wtz := mk(kb.KindPartner, kb.SectorSocial)
	link(coop, kb.RelEmploysParticipantsOf, wtz)
	check("a workshop", []string{"PUBLIC", "SOCIAL"}, []string{"PRIVATE", "PUBLIC", "SOCIAL"})
	w.update(wtz, func(e *kb.Entity) { e.Partner.Sector = kb.SectorPrivate })
	check("the workshop's sector", []string{"PRIVATE", "PUBLIC"}, []string{"PRIVATE", "PUBLIC"})
	w.update(wtz, func(e *kb.Entity) { e.Partner.Sector = kb.SectorSocial })
	if _, _, err := st.DeleteEntity(ctx, "test", ps, true); err != nil {
		t.Fatal(err)
	}
	check("the partnership deleted", []string{"SOCIAL"}, []string{"PRIVATE", "SOCIAL"})
	if _, _, err := st.DeleteEntity(ctx, "test", wtz, true); err != nil {
		t.Fatal(err)
	}
	check("the workshop deleted", none, []string{"PRIVATE"})
}

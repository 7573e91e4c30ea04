package store_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/graphalg"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

func TestBulkLoadKeepsTheStoreInvariants(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(1, 3000, 12000)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.BulkLoad(ctx, "generate", g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entities != 3000 || rep.Links != 12000 || rep.Citations == 0 || rep.Indicators == 0 {
		t.Fatalf("report %s, want 3000 entities, 12000 links, citations and indicators", rep)
	}
	var bad int
	if err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM entity e WHERE NOT EXISTS (SELECT 1 FROM entity_full f WHERE f.id = e.id AND
				CASE e.kind WHEN 'PARTNER' THEN f.sector IS NOT NULL AND EXISTS (SELECT 1 FROM partner p WHERE p.id = e.id AND p.sector = e.sector AND p.partner_kind = e.partner_kind) WHEN 'COOPERATIVE' THEN f.coop_status IS NOT NULL
				WHEN 'EVENT' THEN f.event_kind IS NOT NULL AND EXISTS (SELECT 1 FROM event v WHERE v.id = e.id AND v.event_kind = e.event_kind) WHEN 'SOURCE' THEN f.source_kind IS NOT NULL ELSE true END))
			+ (SELECT count(*) FROM link l WHERE NOT EXISTS (SELECT 1 FROM entity WHERE id = l.from_id)
				OR NOT EXISTS (SELECT 1 FROM entity WHERE id = l.to_id))
			+ (SELECT count(*) FROM citation c WHERE NOT EXISTS (SELECT 1 FROM entity WHERE id = c.source_id AND kind = 'SOURCE'))`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d rows break the invariants (typed row per kind, a partner's sector and kind and an event's kind on its entity, link ends and citation sources exist)", bad)
	}
	// The practices' facets (migration 00016), whose triggers stand aside
	// during the load, are filled at its end: one row per practice, the
	// same as recomputing them now, and some practice has facets.
	var practices, facets, filled int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM good_practice), (SELECT count(*) FROM practice_facet),
			(SELECT count(*) FROM practice_facet WHERE cardinality(countries) + cardinality(sectors) > 0)`).Scan(&practices, &facets, &filled); err != nil {
		t.Fatal(err)
	}
	snapshot := func() map[int64]string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT id, array_to_string(countries, ',') || '|' || array_to_string(sectors, ',') FROM practice_facet`)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]string{}
		var id int64
		var v string
		if _, err := pgx.ForEachRow(rows, []any{&id, &v}, func() error { out[id] = v; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	loaded := snapshot()
	if _, err := pool.Exec(ctx, `SELECT practice_facet_refresh(NULL)`); err != nil {
		t.Fatal(err)
	}
	if practices == 0 || facets != practices || filled == 0 || !maps.Equal(loaded, snapshot()) {
		t.Errorf("practice facets after the load: %d rows (%d with facets) for %d practices, or not what a refresh computes", facets, filled, practices)
	}
	// The generated entries with a point are on the map (entity_place,
	// which the map filters read), one row each.
	var points, placeRows int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM partner WHERE latitude IS NOT NULL)
			+ (SELECT count(*) FROM cooperative WHERE latitude IS NOT NULL)
			+ (SELECT count(*) FROM foreign_example WHERE latitude IS NOT NULL)
			+ (SELECT count(*) FROM event WHERE latitude IS NOT NULL),
		(SELECT count(*) FROM entity_place)`).Scan(&points, &placeRows); err != nil {
		t.Fatal(err)
	}
	if points == 0 || placeRows != points {
		t.Errorf("%d generated entries have a point, entity_place holds %d", points, placeRows)
	}
	// The indexes and constraints dropped for the load are back.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE indexname IN
		('link_unique', 'link_to_idx', 'entity_key_key', 'entity_sort_name_trgm_idx', 'citation_entity_idx', 'indicator_unique_idx', 'partner_sector_idx',
		 'entity_place_partner_attrs_idx', 'entity_place_point_idx')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 9 {
		t.Errorf("%d of the 9 secondary indexes checked exist after the load", n)
	}
	e, err := st.EntityByKey(ctx, store.Public, synth.Key(1, 5))
	if err != nil {
		t.Fatal(err)
	}
	var want kb.Entity
	g.Entity(5, &want)
	if e.Name != want.Name || e.Partner == nil || e.Partner.Sector != want.Partner.Sector {
		t.Errorf("entity 5 reads back as %q %+v, want %q %+v", e.Name, e.Partner, want.Name, want.Partner)
	}
	var sortOK bool
	if err := pool.QueryRow(ctx, `SELECT sort_name = $2 FROM entity WHERE key = $1`, synth.Key(1, 5), kb.Fold(want.Name)).Scan(&sortOK); err != nil || !sortOK {
		t.Errorf("sort_name is not kb.Fold(name): %v", err)
	}
	// A second load appends a graph of another seed.
	g2, _ := synth.New(2, 1000, 3000)
	if _, err := st.BulkLoad(ctx, "generate", g2, nil); err != nil {
		t.Fatalf("second load: %v", err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM entity`).Scan(&n); err != nil || n != 4000 {
		t.Errorf("entities after two loads: %d (%v), want 4000", n, err)
	}
}

// TestEntitiesByIDReadsAsTheView: EntitiesByID joins each entity to its
// kind's table only, with a copy of entity_full's select list, in SQL of
// its own or, where the pool keeps no prepared statements (behind
// PgBouncer), through the function entity_rows (migration 00021); for
// every entity of a generated graph (all nine kinds, drafts among them)
// both must read exactly what the view reads.
func TestEntitiesByIDReadsAsTheView(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(3, 2000, 4000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	rows, _ := pool.Query(ctx, `SELECT id FROM entity ORDER BY id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	staff := store.Visibility{Drafts: true}
	kinds := map[kb.Kind]int{}
	for name, st := range map[string]*store.Store{"statement": st, "entity_rows": unprepared(t, pool)} {
		got, err := st.EntitiesByID(ctx, staff, ids)
		if err != nil {
			t.Fatal(err)
		}
		clear(kinds)
		for i, id := range ids {
			want, err := st.EntityViaView(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got[i] == nil {
				t.Fatalf("%s: entity %d: EntitiesByID read nothing", name, id)
			}
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("%s: entity %d (%s) reads differently:\n by id:    %+v\n the view: %+v", name, id, want.Kind, got[i], want)
			}
			kinds[want.Kind]++
		}
	}
	if len(kinds) != 9 {
		t.Errorf("the graph has %d kinds (%v), want all 9", len(kinds), kinds)
	}
}

// unprepared returns a store on pool's database whose pool keeps no
// prepared statements (cache_describe, as behind PgBouncer in transaction
// mode), so that its hottest reads go through the PL/pgSQL functions.
func unprepared(t *testing.T, pool *pgxpool.Pool) *store.Store {
	t.Helper()
	cfg := pool.Config()
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return store.New(p)
}

// TestListsReadTheSameWithoutPreparedStatements: a store whose pool keeps
// no prepared statements reads a list's ids from entity_full and its rows
// through entity_rows; every page of every kind, in every order, forwards
// and backwards, for staff and for the public, must equal the page read
// by the single statement of a pool that prepares.
func TestListsReadTheSameWithoutPreparedStatements(t *testing.T) {
	prepared, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(5, 1500, 3000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepared.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	bare := unprepared(t, pool)
	filters := []store.Filter{{Kind: kb.KindPartner}, {Kind: kb.KindCooperative}, {Kind: kb.KindEvent}, {Kind: kb.KindGoodPractice},
		{Kind: kb.KindPartner, Sectors: []kb.Sector{kb.SectorPublic}}, {Kind: kb.KindCooperative, City: "Poznań"}, {Name: "a"},
		// Each partner kind walked side by side (Filter.splitWalk); a
		// region and an activity read through the kinds' tables.
		{Kind: kb.KindPartner, Not: &store.Filter{Sectors: []kb.Sector{kb.SectorPrivate}}},
		{Kind: kb.KindPartner, Region: "wielkopolskie"}, {Kind: kb.KindCooperative, Activities: []kb.Activity{kb.ActivityCeramics}}}
	orders := []store.Order{{Field: store.OrderName}, {Field: store.OrderName, Desc: true}, {Field: store.OrderCreatedAt},
		{Field: store.OrderUpdatedAt, Desc: true},
		// Mixed directions: the first key's value at the page's end first.
		{Field: store.OrderUpdatedAt, Desc: true, Then: []store.OrderKey{{Field: store.OrderName}}},
		{Field: store.OrderCountry, Then: []store.OrderKey{{Field: store.OrderName, Desc: true}}}}
	pages, rows := 0, 0
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, f := range filters {
			for _, o := range orders {
				for _, backward := range []bool{false, true} {
					p := store.Page{First: 37}
					if backward {
						p = store.Page{Last: 37}
					}
					for range 4 {
						want, err := prepared.ListEntities(ctx, vis, f, o, p)
						if err != nil {
							t.Fatal(err)
						}
						got, err := bare.ListEntities(ctx, vis, f, o, p)
						if err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("%+v %+v %+v %+v: the pages differ:\n entity_rows: %d entities %+v\n statement:   %d entities %+v",
								vis, f, o, p, len(got.Entities), got.Positions, len(want.Entities), want.Positions)
						}
						pages++
						rows += len(want.Entities)
						if len(want.Positions) == 0 || (!backward && !want.HasNext) || (backward && !want.HasPrev) {
							break
						}
						if backward {
							p.Before = &want.Positions[0]
						} else {
							p.After = &want.Positions[len(want.Positions)-1]
						}
					}
				}
			}
		}
	}
	if rows < 5000 {
		t.Errorf("%d pages compared %d entities: too few for the test to mean much", pages, rows)
	}
	// Entities by key too, drafts and a key that does not exist included.
	keyRows, err := pool.Query(ctx, `SELECT key FROM entity WHERE key IS NOT NULL ORDER BY id LIMIT 300`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(keyRows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, k := range append(keys, "no-such-key") {
			want, werr := prepared.EntityByKey(ctx, vis, k)
			got, gerr := bare.EntityByKey(ctx, vis, k)
			if !reflect.DeepEqual(got, want) || errors.Is(gerr, kb.ErrNotFound) != errors.Is(werr, kb.ErrNotFound) {
				t.Fatalf("%+v %q: by key without prepared statements %+v (%v), with %+v (%v)", vis, k, got, gerr, want, werr)
			}
		}
	}
	// Counts too: without prepared statements, those whose conditions
	// read only entity's own columns read entity instead of entity_full.
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, f := range append(filters, store.Filter{Sectors: []kb.Sector{kb.SectorSocial}}) {
			for _, bound := range []int{0, 10} {
				want, err := prepared.CountEntitiesUpTo(ctx, vis, f, bound)
				if err != nil {
					t.Fatal(err)
				}
				got, err := bare.CountEntitiesUpTo(ctx, vis, f, bound)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%+v %+v up to %d: counted %+v without prepared statements, %+v with", vis, f, bound, got, want)
				}
			}
		}
	}
	readsTheSameWithoutPreparedStatements(t, ctx, prepared, bare, pool)
	// The store without prepared statements does read through the
	// function: without it, it fails, and the other does not.
	if _, err := pool.Exec(ctx, `DROP FUNCTION entity_rows(bigint[], text[])`); err != nil {
		t.Fatal(err)
	}
	f, o := store.Filter{Kind: kb.KindPartner}, store.Order{Field: store.OrderName}
	if _, err := bare.ListEntities(ctx, store.Public, f, o, store.Page{First: 5}); err == nil {
		t.Error("without entity_rows the store without prepared statements still lists")
	}
	if _, err := prepared.ListEntities(ctx, store.Public, f, o, store.Page{First: 5}); err != nil {
		t.Errorf("without entity_rows the store that prepares fails: %v", err)
	}
}

// TestLinkPagesReadTheSameWithoutPreparedStatements: a store whose pool
// keeps no prepared statements reads pages of links in link order through
// link_page (migration 00021); for the entities with the most links of a
// generated graph, in every direction, for one type and several, other
// kinds and statuses narrowed or not, forwards and backwards, page after
// page, and for staff and the public, its pages must equal those of the
// store that prepares its own statement.
func TestLinkPagesReadTheSameWithoutPreparedStatements(t *testing.T) {
	prepared, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(7, 1500, 6000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepared.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	bare := unprepared(t, pool)
	rows, _ := pool.Query(ctx, `SELECT id FROM (SELECT from_id AS id FROM link UNION ALL SELECT to_id FROM link) x
		GROUP BY id ORDER BY count(*) DESC, id LIMIT 40`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) < 40 {
		t.Fatalf("%d ids: %v", len(ids), err)
	}
	all := kb.RelationTypes()
	typeSets := [][]kb.RelationType{all[:1], all[1:3], all}
	var specs []store.LinkSpec
	for _, dir := range []store.Direction{store.Outgoing, store.Incoming, store.Both} {
		for _, types := range typeSets {
			for _, desc := range []bool{false, true} {
				for _, limit := range []int{1, 4, 25} {
					specs = append(specs, store.LinkSpec{Direction: dir, Types: types, Desc: desc, Limit: limit})
				}
			}
		}
	}
	specs = append(specs,
		store.LinkSpec{Direction: store.Both, Types: all[:2], InTypes: all[2:5], Limit: 7},
		store.LinkSpec{Direction: store.Outgoing, Types: all, OtherKinds: []kb.Kind{kb.KindCooperative, kb.KindPartner}, Limit: 5},
		store.LinkSpec{Direction: store.Incoming, Types: all, Statuses: []kb.PublicationStatus{kb.StatusPublished}, Limit: 5, Desc: true})
	compared := 0
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, sp := range specs {
			for page := 0; page < 4; page++ {
				// Two asks in one statement, as a page with two related lists.
				asks := []store.SpecIDs{{Spec: sp, IDs: ids}, {Spec: store.LinkSpec{Direction: store.Outgoing, Types: all, Limit: 3}, IDs: ids[:5]}}
				want, err := prepared.LinkPages(ctx, vis, asks)
				if err != nil {
					t.Fatal(err)
				}
				got, err := bare.LinkPages(ctx, vis, asks)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%+v %+v page %d: the pages differ:\n link_page: %+v\n statement: %+v", vis, sp, page, got[0], want[0])
				}
				// The next page: after the last link of the first node
				// that has a full page, before the first node's first.
				for _, rs := range want[0] {
					compared += len(rs)
				}
				var next int64
				for _, id := range ids {
					if rs := want[0][id]; len(rs) == sp.Limit {
						next = rs[len(rs)-1].Link.ID
						break
					}
				}
				if next == 0 {
					break
				}
				sp.AfterID = next
				if page == 2 {
					sp.UntilID = next // an empty range on the last page
				}
			}
		}
	}
	if compared < 1000 {
		t.Errorf("%d links compared: too few for the test to mean much", compared)
	}
	if _, err := pool.Exec(ctx, `DROP FUNCTION link_page(bigint[], text[], text[], text[], text[], bigint, bigint, integer, boolean)`); err != nil {
		t.Fatal(err)
	}
	asks := []store.SpecIDs{{Spec: store.LinkSpec{Direction: store.Outgoing, Types: all, Limit: 3}, IDs: ids}}
	if _, err := bare.LinkPages(ctx, store.Public, asks); err == nil {
		t.Error("without link_page the store without prepared statements still reads pages of links")
	}
	if _, err := prepared.LinkPages(ctx, store.Public, asks); err != nil {
		t.Errorf("without link_page the store that prepares fails: %v", err)
	}
}

// entitySource is a BulkSource of fixed entities, without links or
// indicators.
type entitySource []kb.Entity

func (s entitySource) Len() int                                     { return len(s) }
func (s entitySource) Kind(i int) kb.Kind                           { return s[i].Kind }
func (s entitySource) Entity(i int, e *kb.Entity)                   { *e = s[i] }
func (s entitySource) Links(yield func(l *kb.Link) bool)            {}
func (s entitySource) Indicators(yield func(in *kb.Indicator) bool) {}

// TestBulkLoadPutsEntriesOnTheMap: entity_place, which the map filters
// read, is kept by a trigger that a bulk load skips; the load's own step
// must write the same rows, so that a bulk-loaded graph answers near and
// within exactly as the same entries written one by one.
func TestBulkLoadPutsEntriesOnTheMap(t *testing.T) {
	ctx := context.Background()
	pt := func(lat, lon float64) kb.Place {
		return kb.Place{Country: "PL", Latitude: &lat, Longitude: &lon}
	}
	pub := kb.StatusPublished
	poznan, gniezno, stockholm, rimbo := pt(52.4064, 16.9252), pt(52.5348, 17.5826), pt(59.3293, 18.0686), pt(59.7457, 18.3690)
	stockholm.Country, rimbo.Country = "SE", "SE"
	entities := []kb.Entity{
		{Key: "p-poznan", Kind: kb.KindPartner, Name: "Partner w Poznaniu", Status: pub,
			Partner: &kb.Partner{Sector: kb.SectorPublic, PartnerKind: kb.PartnerRegionalCenter, Place: poznan}},
		{Key: "p-gniezno", Kind: kb.KindPartner, Name: "Partner w Gnieźnie", Status: pub,
			Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerWorkshop, Place: gniezno}},
		{Key: "p-nowhere", Kind: kb.KindPartner, Name: "Partner bez punktu", Status: pub,
			Partner: &kb.Partner{Sector: kb.SectorPrivate, PartnerKind: kb.PartnerCompany, Place: kb.Place{Country: "PL", City: "Poznań"}}},
		{Key: "c-poznan", Kind: kb.KindCooperative, Name: "Spółdzielnia w Poznaniu", Status: pub,
			Cooperative: &kb.Cooperative{CoopStatus: kb.CoopInitiativeGroup, Place: poznan}},
		{Key: "f-stockholm", Kind: kb.KindForeignExample, Name: "Kooperativet", Status: pub,
			ForeignExample: &kb.ForeignExample{Place: stockholm}},
		{Key: "e-visit", Kind: kb.KindEvent, Name: "Wizyta w Szwecji", Status: pub,
			Event: &kb.Event{EventKind: kb.EventStudyVisit, EventStatus: kb.EventHeld, Place: stockholm,
				OtherPlaces: []kb.Place{rimbo, {Country: "SE", City: "Uppsala"}, poznan}}},
		{Key: "e-home", Kind: kb.KindEvent, Name: "Szkolenie bez punktu", Status: pub,
			Event: &kb.Event{EventKind: kb.EventTraining, EventStatus: kb.EventHeld, OtherPlaces: []kb.Place{gniezno}}},
	}
	bulk, bulkPool := open(t)
	if _, err := bulk.BulkLoad(ctx, "generate", entitySource(entities), nil); err != nil {
		t.Fatal(err)
	}
	one, onePool := open(t)
	for i := range entities {
		e := entities[i]
		if _, err := one.CreateEntity(ctx, "staff", &e); err != nil {
			t.Fatalf("%s: %v", e.Key, err)
		}
	}
	places := func(pool *pgxpool.Pool) []string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT e.key || ' ' || pl.position || ' ' || pl.latitude || ' ' || pl.longitude || ' ' || pl.kind || ' ' || pl.pt::text
			FROM entity_place pl JOIN entity e ON e.id = pl.entity_id ORDER BY e.key, pl.position`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got, want := places(bulkPool), places(onePool)
	if len(want) != 8 || !reflect.DeepEqual(got, want) {
		t.Fatalf("entity_place after a bulk load:\n%v\nafter the same writes one by one (want 8 points):\n%v", got, want)
	}
	list := func(st *store.Store, f store.Filter) []string {
		t.Helper()
		// Created entries are drafts: staff's view sees both.
		page, err := st.ListEntities(ctx, store.Visibility{Drafts: true}, f, store.Order{Field: store.OrderName}, store.Page{First: 50})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, e := range page.Entities {
			keys = append(keys, e.Key)
		}
		return keys
	}
	for _, c := range []struct {
		f    store.Filter
		want []string
	}{
		{store.Filter{Kind: kb.KindPartner, Near: &kb.Circle{Lat: 52.4064, Lon: 16.9252, RadiusKm: 60}}, []string{"p-gniezno", "p-poznan"}},
		{store.Filter{Kind: kb.KindPartner, Near: &kb.Circle{Lat: 52.4064, Lon: 16.9252, RadiusKm: 10}}, []string{"p-poznan"}},
		{store.Filter{Kind: kb.KindCooperative, Within: &kb.BBox{South: 52, West: 16, North: 53, East: 18}}, []string{"c-poznan"}},
		{store.Filter{Kind: kb.KindForeignExample, Near: &kb.Circle{Lat: 59.33, Lon: 18.07, RadiusKm: 5}}, []string{"f-stockholm"}},
		// Rimbo is an event's second place, Gniezno a third kind of row:
		// a place of an event without a point of its own.
		{store.Filter{Kind: kb.KindEvent, Near: &kb.Circle{Lat: 59.7457, Lon: 18.3690, RadiusKm: 5}}, []string{"e-visit"}},
		{store.Filter{Kind: kb.KindEvent, Within: &kb.BBox{South: 52, West: 16, North: 53, East: 18}}, []string{"e-home", "e-visit"}},
	} {
		b, o := list(bulk, c.f), list(one, c.f)
		if !reflect.DeepEqual(b, c.want) || !reflect.DeepEqual(o, c.want) {
			t.Errorf("%s near %+v within %+v: bulk-loaded %v, written one by one %v, want %v", c.f.Kind, c.f.Near, c.f.Within, b, o, c.want)
		}
	}
}

// readsTheSameWithoutPreparedStatements compares, on the graph loaded in
// pool's database, the other reads of the read mix that a store whose
// pool keeps no prepared statements runs through the functions of
// migration 00037 (entity heads, indicators, translations, links by key,
// link tallies, counters, practice partners, the vocabulary of search)
// with those of the store that prepares its statements: they must read
// the same. Then it drops each function and checks that the store
// without prepared statements fails where it used it (so it did use it)
// and the other does not.
func readsTheSameWithoutPreparedStatements(t *testing.T, ctx context.Context, prepared, bare *store.Store, pool *pgxpool.Pool) {
	t.Helper()
	// Translations of a third of the entities, two fields and two
	// languages for some (the generator writes none).
	if _, err := pool.Exec(ctx, `INSERT INTO translation (entity_id, field, lang, text, machine, updated_by)
		SELECT id, f, l, name || ' (' || l || ')', id % 2 = 0, 'test' FROM entity,
			(VALUES ('NAME', 'en'), ('SUMMARY', 'en'), ('NAME', 'sv')) v(f, l)
		WHERE id % 3 = 0 AND (l = 'en' OR id % 5 = 0)`); err != nil {
		t.Fatal(err)
	}
	idRows, _ := pool.Query(ctx, `SELECT id FROM entity ORDER BY id`)
	ids, err := pgx.CollectRows(idRows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, 1<<40) // one that does not exist
	kindRows, _ := pool.Query(ctx, `SELECT id FROM entity WHERE kind = 'COOPERATIVE' ORDER BY id`)
	coops, err := pgx.CollectRows(kindRows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	kindRows, _ = pool.Query(ctx, `SELECT id FROM entity WHERE kind = 'GOOD_PRACTICE' ORDER BY id`)
	practices, err := pgx.CollectRows(kindRows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	var indicators, translations int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM indicator), (SELECT count(*) FROM translation)`).Scan(&indicators, &translations); err != nil {
		t.Fatal(err)
	}
	if indicators < 50 || translations < 300 || len(practices) < 20 {
		t.Fatalf("%d indicators, %d translations, %d practices: too few for the test to mean much", indicators, translations, len(practices))
	}
	nameRows, _ := pool.Query(ctx, `SELECT DISTINCT split_part(lower(name), ' ', 1) FROM entity
		WHERE length(split_part(name, ' ', 1)) >= 6 ORDER BY 1 LIMIT 12`)
	words, err := pgx.CollectRows(nameRows, pgx.RowTo[string])
	if err != nil || len(words) < 5 {
		t.Fatalf("%d words: %v", len(words), err)
	}
	same := func(what string, read func(st *store.Store) (any, error)) {
		t.Helper()
		want, werr := read(prepared)
		got, gerr := read(bare)
		if werr != nil || gerr != nil {
			t.Fatalf("%s: %v (with prepared statements), %v (without)", what, werr, gerr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s reads differently without prepared statements:\n without: %+v\n with:    %+v", what, got, want)
		}
	}
	all := kb.RelationTypes()
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		same("entity heads", func(st *store.Store) (any, error) { return st.EntityHeads(ctx, vis, ids) })
		same("indicators", func(st *store.Store) (any, error) { return st.Indicators(ctx, vis, coops) })
		same("translations", func(st *store.Store) (any, error) { return st.Texts(ctx, vis, ids) })
		// Link tallies: every direction, one type and several, other
		// kinds narrowed or not, other statuses narrowed or not.
		for _, dir := range []store.Direction{store.Both, store.Outgoing, store.Incoming} {
			for _, sp := range []store.LinkSpec{{}, {Types: all[:1]}, {Types: all[1:4]}, {OtherKinds: []kb.Kind{kb.KindPartner}},
				{Types: all[:3], OtherKinds: []kb.Kind{kb.KindPartner, kb.KindCooperative}},
				{Statuses: []kb.PublicationStatus{kb.StatusPublished}}} {
				sp.Direction = dir
				same("link tallies", func(st *store.Store) (any, error) { return st.CountLinksOf(ctx, vis, ids, sp) })
			}
		}
		same("practice partner counts", func(st *store.Store) (any, error) { return st.CountPracticePartners(ctx, vis, practices) })
		for _, p := range []store.PartnerPage{{Limit: 1}, {Limit: 3}, {Limit: 50}, {Limit: 3, Desc: true}} {
			same("practice partner pages", func(st *store.Store) (any, error) { return st.PracticePartnerPages(ctx, vis, practices, p) })
		}
		// Counters of a kind, of a kind and sectors.
		for _, f := range []store.Filter{{Kind: kb.KindPartner}, {Kind: kb.KindEvent}, {Kind: kb.KindPartner, Sectors: []kb.Sector{kb.SectorSocial}},
			{Kind: kb.KindPartner, Sectors: []kb.Sector{kb.SectorPublic, kb.SectorPrivate}}, {Kind: kb.KindCooperative, Sectors: []kb.Sector{kb.SectorPublic}}} {
			same("counters", func(st *store.Store) (any, error) { return st.CountEntitiesUpTo(ctx, vis, f, 10) })
			same("a list by counters", func(st *store.Store) (any, error) {
				return st.ListEntities(ctx, vis, f, store.Order{Field: store.OrderName}, store.Page{First: 3})
			})
		}
		// Search: whole words, prefixes, misspelt words (the vocabulary's
		// lookups), and Suggest's completions.
		for _, w := range words {
			r := []rune(w)
			for _, q := range []string{w, string(r[:len(r)-1]), string(r[:2]) + string(r[3:]), w + " " + words[0], string(r[:4])} {
				same("search "+q, func(st *store.Store) (any, error) {
					return st.Search(ctx, vis, store.SearchRequest{Query: q, Limit: 20, Count: true})
				})
				same("suggest "+q, func(st *store.Store) (any, error) { return st.Suggest(ctx, vis, q, nil, 8) })
				same("suggest a second word "+q, func(st *store.Store) (any, error) { return st.Suggest(ctx, vis, words[1]+" "+q, nil, 8) })
			}
		}
	}
	// Links by key, as neighbourhoods' and paths' links are read.
	linkRows, _ := pool.Query(ctx, `SELECT from_id, type, to_id FROM link ORDER BY id LIMIT 500`)
	var keys []graphalg.Key
	var from, to int64
	var typ kb.RelationType
	if _, err := pgx.ForEachRow(linkRows, []any{&from, &typ, &to}, func() error {
		keys = append(keys, graphalg.Key{From: from, Type: int32(store.RelationCode(typ)), To: to})
		return nil
	}); err != nil || len(keys) < 500 {
		t.Fatalf("%d links: %v", len(keys), err)
	}
	keys = append(keys, graphalg.Key{From: keys[0].To, Type: keys[0].Type, To: keys[0].From})
	same("links by key", func(st *store.Store) (any, error) {
		return st.SubgraphOf(ctx, &graphalg.Subgraph{Nodes: []int64{keys[0].From}, Links: keys})
	})

	// Without each function, the store without prepared statements fails
	// where it used it, and the other does not.
	for _, c := range []struct {
		fn   string
		read func(st *store.Store) error
	}{
		{"entity_heads(bigint[], text[])", func(st *store.Store) error { _, err := st.EntityHeads(ctx, store.Public, ids); return err }},
		{"indicator_rows(bigint[], text[])", func(st *store.Store) error { _, err := st.Indicators(ctx, store.Public, coops); return err }},
		{"text_rows(bigint[], text[])", func(st *store.Store) error { _, err := st.Texts(ctx, store.Public, ids); return err }},
		{"link_tally_counts(bigint[], text[], text[], text[], integer)", func(st *store.Store) error {
			_, err := st.CountLinksOf(ctx, store.Public, ids, store.LinkSpec{Types: all[:1]})
			return err
		}},
		{"practice_partner_counts(bigint[])", func(st *store.Store) error {
			_, err := st.CountPracticePartners(ctx, store.Public, practices)
			return err
		}},
		{"practice_partner_first(bigint[], integer)", func(st *store.Store) error {
			_, err := st.PracticePartnerPages(ctx, store.Public, practices, store.PartnerPage{Limit: 3})
			return err
		}},
		{"kind_count(text, text[], text[])", func(st *store.Store) error {
			_, err := st.CountEntities(ctx, store.Public, store.Filter{Kind: kb.KindPartner})
			return err
		}},
		{"entity_name_page(text, text[], text, integer)", func(st *store.Store) error {
			// Of any sector and of one: nil unless both fail, so that the
			// store without prepared statements must use it for both.
			_, err := st.ListEntities(ctx, store.Public, store.Filter{Kind: kb.KindPartner}, store.Order{Field: store.OrderName}, store.Page{First: 3})
			_, errSector := st.ListEntities(ctx, store.Public, store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{kb.SectorPublic}},
				store.Order{}, store.Page{First: 3})
			if err == nil || errSector == nil {
				return nil
			}
			return errors.Join(err, errSector)
		}},
		{"search_term_completions(text[], integer)", func(st *store.Store) error {
			_, err := st.Suggest(ctx, store.Public, "xqzv "+string([]rune(words[0])[:4]), nil, 8) // no name starts so: the vocabulary
			return err
		}},
		{"search_term_known(text[], text)", func(st *store.Store) error {
			_, err := st.Search(ctx, store.Public, store.SearchRequest{Query: string([]rune(words[0])[1:]), Limit: 5})
			return err
		}},
		{"links_by_key(bigint[], text[], bigint[])", func(st *store.Store) error {
			_, err := st.SubgraphOf(ctx, &graphalg.Subgraph{Nodes: []int64{keys[0].From}, Links: keys})
			return err
		}},
	} {
		if _, err := pool.Exec(ctx, `DROP FUNCTION `+c.fn); err != nil {
			t.Fatal(err)
		}
		if err := c.read(bare); err == nil {
			t.Errorf("without %s the store without prepared statements still reads", c.fn)
		}
		if err := c.read(prepared); err != nil {
			t.Errorf("without %s the store that prepares fails: %v", c.fn, err)
		}
	}
}

// The bulk build of the search index (partnergraph generate) writes the
// documents and the vocabulary that indexing row by row writes, leaves the
// text indexes and the vocabulary's trigger in place, and stands aside
// when documents exist.
func TestBuildSearchIndexWritesWhatReindexWrites(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(1, 3000, 6000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM search_doc; DELETE FROM search_term`); err != nil {
		t.Fatal(err)
	}
	n, _, err := st.BuildSearchIndex(ctx)
	if err != nil || n != 3000 {
		t.Fatalf("BuildSearchIndex = %d, %v; want 3000 entities", n, err)
	}
	snapshot := func() (docs, terms string) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT
				(SELECT md5(string_agg(concat_ws('|', entity_id, vec, name_vec, name_words, kind, status, country, version), E'\n' ORDER BY entity_id)) FROM search_doc),
				(SELECT md5(string_agg(term, ' ' ORDER BY term)) FROM search_term)`).Scan(&docs, &terms); err != nil {
			t.Fatal(err)
		}
		return docs, terms
	}
	bulkDocs, bulkTerms := snapshot()
	var indexes int
	var triggerOn bool
	// The indexes come back with their bounded pending lists (00049).
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_class WHERE relname IN ('search_doc_vec_idx', 'search_doc_name_vec_idx')
			AND 'gin_pending_list_limit=256' = ANY (reloptions)),
		(SELECT tgenabled = 'O' FROM pg_trigger WHERE tgname = 'search_doc_to_search_term')`).Scan(&indexes, &triggerOn); err != nil {
		t.Fatal(err)
	}
	if indexes != 2 || !triggerOn {
		t.Errorf("after the bulk build: %d of the 2 text indexes with gin_pending_list_limit=256, trigger enabled %v", indexes, triggerOn)
	}
	// Row by row, as before.
	if _, err := pool.Exec(ctx, `DELETE FROM search_doc; DELETE FROM search_term`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Reindex(ctx, false); err != nil {
		t.Fatal(err)
	}
	if docs, terms := snapshot(); docs != bulkDocs || terms != bulkTerms {
		t.Errorf("the bulk build wrote other documents (%v) or another vocabulary (%v) than Reindex", docs != bulkDocs, terms != bulkTerms)
	}
	// With documents in place it indexes only what lacks one.
	if n, _, err := st.BuildSearchIndex(ctx); err != nil || n != 0 {
		t.Errorf("BuildSearchIndex over an index = %d, %v; want nothing to do", n, err)
	}
	if r, err := st.Search(ctx, store.Public, store.SearchRequest{Query: "spółdzielnia", Limit: 3}); err != nil || len(r.Hits) == 0 {
		t.Errorf("search after the bulk build: %v, %v", r, err)
	}
}

package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// countWorld makes random entities and random changes to them through the
// store's write paths, so that the counters (migration 00009) can be
// compared with counting rows.
type countWorld struct {
	t   *testing.T
	st  *store.Store
	rng *rand.Rand
	ids []int64 // entities that exist
	n   int     // names made so far
}

var (
	countStatuses = []kb.PublicationStatus{kb.StatusDraft, kb.StatusPublished, kb.StatusArchived}
	countSectors  = []kb.Sector{kb.SectorPublic, kb.SectorSocial, kb.SectorPrivate}
	countPKinds   = []kb.PartnerKind{kb.PartnerMunicipality, kb.PartnerWorkshop, kb.PartnerCompany}
	countCoops    = []kb.CooperativeStatus{kb.CoopInitiativeGroup, kb.CoopRegistered, kb.CoopOperating}
	countEvKinds  = []kb.EventKind{kb.EventForum, kb.EventStudyVisit}
	countEvStatus = []kb.EventStatus{kb.EventPlanned, kb.EventHeld}
	countSrcKinds = []kb.SourceKind{kb.SourceArticle, kb.SourceReport}
	countCountry  = []string{"", "PL", "SE"}
	countLangs    = []string{"", "pl", "sv"}
	countKinds    = []kb.Kind{kb.KindPartner, kb.KindCooperative, kb.KindEvent, kb.KindSource, kb.KindForeignExample,
		kb.KindPerson, kb.KindProject}
)

func pickOne[T any](rng *rand.Rand, vs []T) T { return vs[rng.IntN(len(vs))] }

// entity returns a new valid entity of kind with random counted
// attributes.
func (w *countWorld) entity(kind kb.Kind, key string) kb.Entity {
	w.n++
	e := kb.Entity{Key: key, Kind: kind, Name: fmt.Sprintf("Podmiot %d", w.n), Status: pickOne(w.rng, countStatuses)}
	w.randomise(&e)
	return e
}

// randomise gives e's kind row new random counted attributes.
func (w *countWorld) randomise(e *kb.Entity) {
	place := kb.Place{Country: pickOne(w.rng, countCountry)}
	switch e.Kind {
	case kb.KindPartner:
		e.Partner = &kb.Partner{Sector: pickOne(w.rng, countSectors), PartnerKind: pickOne(w.rng, countPKinds), Place: place}
	case kb.KindCooperative:
		e.Cooperative = &kb.Cooperative{CoopStatus: pickOne(w.rng, countCoops), Place: place}
	case kb.KindEvent:
		e.Event = &kb.Event{EventKind: pickOne(w.rng, countEvKinds), EventStatus: pickOne(w.rng, countEvStatus), Place: place}
	case kb.KindSource:
		e.Source = &kb.Source{SourceKind: pickOne(w.rng, countSrcKinds), Language: pickOne(w.rng, countLangs)}
	case kb.KindForeignExample:
		e.ForeignExample = &kb.ForeignExample{Place: place}
	case kb.KindPerson:
		e.Person = &kb.Person{PublicRole: "członek"}
	case kb.KindProject:
		e.Project = &kb.Project{}
	}
}

func (w *countWorld) update(id int64, fn func(e *kb.Entity)) {
	w.t.Helper()
	_, err := w.st.UpdateEntity(context.Background(), "test", kb.OpUpdate, id, nil, func(cur *kb.Entity) (*kb.Entity, error) {
		e := *cur
		fn(&e)
		return &e, nil
	})
	if err != nil {
		w.t.Fatalf("update %d: %v", id, err)
	}
}

// step makes one random write and returns what it did.
func (w *countWorld) step() string {
	w.t.Helper()
	ctx := context.Background()
	op := w.rng.IntN(9)
	if len(w.ids) == 0 {
		op = 0
	}
	i := w.rng.IntN(max(len(w.ids), 1))
	switch op {
	case 0: // create (always as a draft)
		e := w.entity(pickOne(w.rng, countKinds), "")
		out, err := w.st.CreateEntity(ctx, "test", &e)
		if err != nil {
			w.t.Fatalf("create: %v", err)
		}
		w.ids = append(w.ids, out.ID)
		return "create"
	case 1: // the counted attributes change
		w.update(w.ids[i], w.randomise)
		return "update attributes"
	case 2: // publish
		w.update(w.ids[i], func(e *kb.Entity) { e.Status = kb.StatusPublished })
		return "publish"
	case 3: // unpublish or archive
		w.update(w.ids[i], func(e *kb.Entity) {
			e.Status = pickOne(w.rng, []kb.PublicationStatus{kb.StatusDraft, kb.StatusArchived})
		})
		return "unpublish"
	case 4: // a change the counters do not see
		w.update(w.ids[i], func(e *kb.Entity) { e.Summary = fmt.Sprintf("zmiana %d", w.rng.IntN(1000)) })
		return "update summary"
	case 5:
		if _, _, err := w.st.DeleteEntity(ctx, "test", w.ids[i], true); err != nil {
			// A source still cited cannot go; its transaction, counters
			// included, is rolled back.
			return "delete refused"
		}
		w.ids = append(w.ids[:i], w.ids[i+1:]...)
		return "delete"
	case 6: // erase a person, if there is one
		for _, id := range w.ids {
			e, err := w.st.EntitiesByID(ctx, store.Visibility{Drafts: true}, []int64{id})
			if err != nil {
				w.t.Fatal(err)
			}
			if e[0] != nil && e[0].Kind == kb.KindPerson {
				if _, err := w.st.ErasePerson(ctx, "test", id); err != nil {
					w.t.Fatalf("erase %d: %v", id, err)
				}
				return "erase"
			}
		}
		return "erase (no person)"
	case 8: // the server's fold of the changes into the counters
		if _, err := w.st.FoldCounts(ctx); err != nil {
			w.t.Fatalf("fold: %v", err)
		}
		return "fold"
	default: // an import: new keyed entities, and changes to earlier ones
		var d kb.Dataset
		for k := range 3 {
			// A key keeps its kind from one import to the next.
			n := w.rng.IntN(6) + k*6
			d.Entities = append(d.Entities, w.entity(countKinds[n%len(countKinds)], fmt.Sprintf("imp-%d", n)))
		}
		if _, err := w.st.ApplyDataset(ctx, "test", d); err != nil {
			w.t.Fatalf("import: %v", err)
		}
		// The import may have created entities: know them all again.
		ids, err := w.allIDs()
		if err != nil {
			w.t.Fatal(err)
		}
		w.ids = ids
		return "import"
	}
}

func (w *countWorld) allIDs() ([]int64, error) {
	var out []int64
	for _, k := range countKinds {
		p, err := w.st.ListEntities(context.Background(), store.Visibility{Drafts: true}, store.Filter{Kind: k},
			store.Order{Field: store.OrderCreatedAt}, store.Page{First: 10_000})
		if err != nil {
			return nil, err
		}
		for _, e := range p.Entities {
			out = append(out, e.ID)
		}
	}
	return out, nil
}

// countFilters are the filters the counters answer, alone and combined.
func countFilters() []store.Filter {
	fs := []store.Filter{{}}
	for _, k := range countKinds {
		fs = append(fs, store.Filter{Kind: k})
	}
	for _, s := range countSectors {
		fs = append(fs, store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{s}})
		fs = append(fs, store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{s}, Country: "pl"})
		fs = append(fs, store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{s, kb.SectorPublic}, PartnerKinds: []kb.PartnerKind{kb.PartnerCompany}})
		// A sector on a kind without one matches nothing.
		fs = append(fs, store.Filter{Kind: kb.KindCooperative, Sectors: []kb.Sector{s}})
	}
	for _, c := range countCountry[1:] {
		fs = append(fs, store.Filter{Kind: kb.KindCooperative, Country: c},
			store.Filter{Kind: kb.KindEvent, Country: c, EventKinds: countEvKinds[:1]},
			store.Filter{Kind: kb.KindForeignExample, Country: c},
			store.Filter{Kind: kb.KindProject, Country: c})
	}
	for _, c := range countCoops {
		fs = append(fs, store.Filter{Kind: kb.KindCooperative, CoopStatuses: []kb.CooperativeStatus{c}},
			store.Filter{Kind: kb.KindCooperative, CoopStatuses: []kb.CooperativeStatus{c, kb.CoopClosed}, Country: "SE"})
	}
	fs = append(fs, store.Filter{Kind: kb.KindEvent, EventStatuses: countEvStatus[1:]},
		store.Filter{Kind: kb.KindSource, SourceKinds: countSrcKinds[:1], Language: "PL"},
		store.Filter{Kind: kb.KindSource, Language: "sv"})
	// and/or/not of what the counters keep: a condition on each row of
	// counters as on each entity.
	pl := store.Filter{Country: "PL"}
	fs = append(fs, store.Filter{Kind: kb.KindPartner, Not: &pl},
		store.Filter{Kind: kb.KindPartner, Or: []store.Filter{{Sectors: countSectors[:1]}, {PartnerKinds: countPKinds[2:]}}},
		store.Filter{Kind: kb.KindPartner, Or: []store.Filter{}},
		store.Filter{Kind: kb.KindPartner, Sectors: countSectors[2:], Not: &store.Filter{PartnerKinds: countPKinds[2:]}},
		store.Filter{Kind: kb.KindCooperative, Not: &store.Filter{Or: []store.Filter{{CoopStatuses: countCoops[:1]}, {Country: "se"}}}},
		store.Filter{Kind: kb.KindEvent, And: []store.Filter{{EventKinds: countEvKinds[:1]}, {Not: &pl}}},
		// A sector on a kind without one does not hold, so its not does.
		store.Filter{Kind: kb.KindEvent, Not: &store.Filter{Sectors: countSectors[:1]}},
		store.Filter{Kind: kb.KindSource, Not: &store.Filter{Language: "sv", SourceKinds: countSrcKinds[:1]}},
		store.Filter{Kind: kb.KindProject, Not: &store.Filter{Not: &pl}})
	return fs
}

var epoch = time.Unix(0, 0)

// checkCounts compares every counted filter's count with the number of
// rows a list of the same filter returns, for readers and staff, and the
// counter table, shard by shard summed, with a recount of the rows.
func checkCounts(t *testing.T, st *store.Store, pool *pgxpool.Pool, after string) {
	t.Helper()
	ctx := context.Background()
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, f := range countFilters() {
			got, err := st.CountEntitiesUpTo(ctx, vis, f, 5)
			if err != nil {
				t.Fatalf("count %+v: %v", f, err)
			}
			p, err := st.ListEntities(ctx, vis, f, store.Order{Field: store.OrderName}, store.Page{First: 10_000})
			if err != nil {
				t.Fatalf("list %+v: %v", f, err)
			}
			// The same list under a condition that holds for every entry
			// and that the counters do not keep: read row by row, where
			// the list above may take its plan from the counters (none
			// match, or a rare country's ids).
			rowwise := f
			rowwise.CreatedSince = &epoch
			q, err := st.ListEntities(ctx, vis, rowwise, store.Order{Field: store.OrderName}, store.Page{First: 10_000})
			if err != nil {
				t.Fatalf("list %+v: %v", rowwise, err)
			}
			if !got.Exact || got.N != len(q.Entities) || len(p.Entities) != len(q.Entities) {
				t.Fatalf("after %s: count of %+v (drafts %v) = %+v, want exactly %d (the list planned from the counters: %d)",
					after, f, vis.Drafts, got, len(q.Entities), len(p.Entities))
			}
			for i := range p.Entities {
				if p.Entities[i].ID != q.Entities[i].ID {
					t.Fatalf("after %s: list of %+v: entity %d is %d, row by row %d", after, f, i, p.Entities[i].ID, q.Entities[i].ID)
				}
			}
		}
	}
	var diff int
	err := pool.QueryRow(ctx, `
		WITH counted AS (
			SELECT kind, status, sector, partner_kind, country, coop_status, event_kind, event_status, source_kind, language, sum(n) AS n
			FROM (TABLE entity_count UNION ALL TABLE entity_count_delta) c GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING sum(n) <> 0),
		recounted AS (
			SELECT kind, status, coalesce(sector, '') AS sector, coalesce(partner_kind, '') AS partner_kind, country,
				coalesce(coop_status, '') AS coop_status, coalesce(event_kind, '') AS event_kind,
				coalesce(event_status, '') AS event_status, coalesce(source_kind, '') AS source_kind, language, count(*) AS n
			FROM entity_full GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
		SELECT count(*) FROM ((TABLE counted EXCEPT TABLE recounted) UNION ALL (TABLE recounted EXCEPT TABLE counted)) x`).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Fatalf("after %s: %d rows of entity_count differ from a recount", after, diff)
	}
}

// TestCountersFollowEveryWrite is a property test: after random creates,
// updates of the counted attributes, publishing, unpublishing, deletes,
// erasures, imports and folds of the changes, every count the counters
// answer equals the number of rows that match.
func TestCountersFollowEveryWrite(t *testing.T) {
	st, pool := open(t)
	load(t, st, small())
	for seed := uint64(1); seed <= 3; seed++ {
		w := &countWorld{t: t, st: st, rng: rand.New(rand.NewPCG(seed, 11))}
		ids, err := w.allIDs()
		if err != nil {
			t.Fatal(err)
		}
		w.ids = ids
		checkCounts(t, st, pool, "the small data set")
		for i := range 60 {
			did := w.step()
			if i%6 == 5 {
				checkCounts(t, st, pool, fmt.Sprintf("step %d (%s), seed %d", i, did, seed))
			}
		}
	}
}

// TestCountsPastTheBound: a filter the counters do not cover (a part of
// the name) is counted exactly up to the bound, then reported as the
// bound and not exact.
func TestCountsPastTheBound(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	f := store.Filter{Kind: kb.KindPartner, Name: "a"} // three of the four published partners have an "a"
	for _, tc := range []struct {
		bound int
		want  store.Count
	}{
		{0, store.Count{N: 3, Exact: true}},
		{10, store.Count{N: 3, Exact: true}},
		{3, store.Count{N: 3, Exact: true}},
		{2, store.Count{N: 2, Exact: false}},
		{1, store.Count{N: 1, Exact: false}},
	} {
		got, err := st.CountEntitiesUpTo(ctx, store.Public, f, tc.bound)
		if err != nil || got != tc.want {
			t.Errorf("bound %d: got %+v, %v; want %+v", tc.bound, got, err, tc.want)
		}
	}
	// The counters answer exactly whatever the bound.
	got, err := st.CountEntitiesUpTo(ctx, store.Visibility{Drafts: true}, store.Filter{Kind: kb.KindPartner}, 1)
	if err != nil || got != (store.Count{N: 5, Exact: true}) {
		t.Errorf("all partners for staff with bound 1: got %+v, %v; want exactly 5", got, err)
	}
}

// TestCountersUnderConcurrentWriters: writers creating and publishing
// entries of the same combinations at once, while folds run, neither wait
// on nor lose each other's counts.
func TestCountersUnderConcurrentWriters(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	const writers, each = 4, 12
	var (
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	done := make(chan struct{})
	var folder sync.WaitGroup
	folder.Add(1)
	go func() { // folds all along, as serve runs them
		defer folder.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := st.FoldCounts(ctx); err != nil {
				fail(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := kb.Entity{Kind: kb.KindPartner, Name: fmt.Sprintf("Partner %d-%d", w, i),
					Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerAssociation, Place: kb.Place{Country: "PL"}}}
				out, err := st.CreateEntity(ctx, "test", &e)
				if err != nil {
					fail(err)
					return
				}
				if i%2 == 0 {
					_, err = st.UpdateEntity(ctx, "test", kb.OpUpdate, out.ID, nil, func(cur *kb.Entity) (*kb.Entity, error) {
						e := *cur
						e.Status = kb.StatusPublished
						return &e, nil
					})
					if err != nil {
						fail(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	folder.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	f := store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{kb.SectorSocial}, Country: "PL"}
	for _, tc := range []struct {
		vis  store.Visibility
		want int
	}{{store.Public, writers * each / 2}, {store.Visibility{Drafts: true}, writers * each}} {
		got, err := st.CountEntitiesUpTo(ctx, tc.vis, f, 0)
		if err != nil || got != (store.Count{N: tc.want, Exact: true}) {
			t.Errorf("drafts %v: %+v, %v; want exactly %d", tc.vis.Drafts, got, err, tc.want)
		}
	}
	checkCounts(t, st, pool, "concurrent writers")
}

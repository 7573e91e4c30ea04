// Package loader holds the per-request dataloaders: every field that loads
// related data asks a loader, which collects the keys asked for within a
// short wait and fetches them in one query with = ANY($1). A list of 100
// practices with their cases and partners so costs a fixed number of
// queries; the pages and counts of one level, whatever they are, go in
// one round trip (the level loader, store.Together). Loaders cache per
// request only: a new set for every request, never shared, so one reader
// never sees another's visibility.
package loader

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/serial"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vikstrous/dataloadgen"
)

// DefaultWait is how long a loader collects keys before it fetches. gqlgen
// resolves the fields of a list concurrently, so the keys of one list level
// arrive within microseconds; the wait only has to outlast that. A request
// waits once per level of related data (a cooperative's page: three), so
// the wait is latency, and at 16 clients throughput; much shorter waits
// let a busy scheduler split a batch in two (one query more, never N+1).
// docs/benchmarks.md ("Measurements behind the code") has the figures.
const DefaultWait = time.Millisecond

// Loader is a dataloader whose waits give back the resolver's slot of a
// request whose resolvers run a few at a time (package serial), so that
// the other fields of its level add their keys to the same batch.
type Loader[K comparable, V any] struct{ *dataloadgen.Loader[K, V] }

// Load is dataloadgen's Load, without a slot while it waits.
func (l Loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	defer serial.Pause(ctx)()
	return l.Loader.Load(ctx, key)
}

// LoadAll is dataloadgen's LoadAll, without a slot while it waits.
func (l Loader[K, V]) LoadAll(ctx context.Context, keys []K) ([]V, error) {
	defer serial.Pause(ctx)()
	return l.Loader.LoadAll(ctx, keys)
}

// LoadThunk is dataloadgen's LoadThunk; the thunk gives back the slot of
// the field of ctx while it waits.
func (l Loader[K, V]) LoadThunk(ctx context.Context, key K) func() (V, error) {
	th := l.Loader.LoadThunk(ctx, key)
	return func() (V, error) {
		defer serial.Pause(ctx)()
		return th()
	}
}

// Loaders are the dataloaders of one request.
type Loaders struct {
	store *store.Store
	vis   store.Visibility
	opts  []dataloadgen.Option

	// Entity loads entities by id; nil for one that is missing or hidden.
	// It is a part of the level loader: the rows asked in one wait go to
	// the database with that wait's other questions (the pages of links
	// of the entities listed before, their counts), in one round trip.
	Entity EntityLoader
	// EntityHead loads what the entity row alone holds (store.EntityHeads),
	// for lists that show no more.
	EntityHead Loader[int64, *kb.Entity]
	// Link loads links by id; nil for one that is missing or hidden.
	Link Loader[int64, *kb.Link]
	// EntityCitations loads the citations of entities.
	EntityCitations Loader[int64, []kb.Citation]
	// LinkCitations loads the citations of links.
	LinkCitations Loader[int64, []kb.Citation]
	// Indicators loads the indicators of cooperatives, projects and events.
	Indicators Member[[]kb.Indicator]
	// SectorCounts loads the members per sector of partnerships.
	SectorCounts Member[map[kb.Sector]int]
	// CooperativeSectorCounts loads the partners per sector around
	// cooperatives.
	CooperativeSectorCounts Member[map[kb.Sector]int]
	// Texts loads the original language and the translations of
	// entities: a page in a requested language costs one query for all
	// its entries.
	Texts Loader[int64, kb.Texts]
	// PracticeTopics loads the topics of good practices (migration
	// 00026), each practice's in its order.
	PracticeTopics Loader[int64, []*kb.Topic]

	// level loads what the entities of a level of the request are asked
	// by id: the pages of their links of any spec (one statement for all
	// the specs), the counts of their links, the partners behind
	// practices and their counts, indicators and sector counts. The
	// questions of one wait, whatever they are, go to the database in one
	// round trip (fetchLevel).
	level Loader[levelKey, any]

	// ahead remembers and asks ahead what the fields under an entity
	// read at the root ask (Ahead); roots are this request's such
	// entities, by the root field's path.
	ahead      *Ahead
	roots      map[string]aheadRoot
	rooted     atomic.Bool       // roots is not empty
	askedAhead map[levelKey]bool // asked ahead, not yet by a field

	mu            sync.Mutex
	specs         map[string]store.LinkSpec // by LinkSpec.Key
	groups        map[string]levelFetch     // by levelKey.group, but for pages of links
	histories     map[historyKey]Loader[int64, *store.HistoryPage]
	historyCounts map[store.Subject]Loader[int64, int]
}

// levelKey is one question of the level loader: what group asks of entity
// id. A group of pages of links is linkGroup followed by the spec's key.
type levelKey struct {
	group string
	id    int64
}

// linkGroup begins the group of a page of links.
const linkGroup = "links:"

// levelFetch answers one group's questions for entities ids, with one
// statement.
type levelFetch func(ctx context.Context, ids []int64) (map[int64]any, error)

// Member is the part of the level loader that answers one group's
// questions, each a V.
type Member[V any] struct {
	l     *Loaders
	group string
	// again registers the group with another request's loaders and
	// returns its name there, for Ahead.
	again func(*Loaders) string
}

// Load returns the answer for entity id, without a slot while it waits.
func (m Member[V]) Load(ctx context.Context, id int64) (V, error) {
	return m.LoadThunk(ctx, id)()
}

// LoadThunk asks for the answer for entity id at once and returns the
// wait for it, which gives back the slot of the field of ctx.
func (m Member[V]) LoadThunk(ctx context.Context, id int64) func() (V, error) {
	th := m.thunk(ctx, id)
	return func() (V, error) {
		defer serial.Pause(ctx)()
		return th()
	}
}

// thunk is LoadThunk whose wait keeps the slot.
func (m Member[V]) thunk(ctx context.Context, id int64) func() (V, error) {
	m.l.record(ctx, m.group, m.again, id)
	th := m.l.level.Loader.LoadThunk(ctx, levelKey{m.group, id})
	return func() (V, error) {
		v, err := th()
		out, _ := v.(V)
		return out, err
	}
}

// Prime leaves v as the answer for entity id, if none is there yet.
func (m Member[V]) Prime(id int64, v V) {
	m.l.level.Prime(levelKey{m.group, id}, v)
}

// EntityLoader is the level loader's part that reads entities by id
// (Loaders.Entity).
type EntityLoader Member[*kb.Entity]

// Load returns entity id, nil when it is missing or hidden.
func (e EntityLoader) Load(ctx context.Context, id int64) (*kb.Entity, error) {
	return Member[*kb.Entity](e).Load(ctx, id)
}

// LoadAll returns the entities ids in their order, nil for one missing
// or hidden, without a slot while it waits.
func (e EntityLoader) LoadAll(ctx context.Context, ids []int64) ([]*kb.Entity, error) {
	return e.LoadAllThunk(ctx, ids)()
}

// LoadAllThunk asks for the entities ids at once and returns the wait for
// them, in the order of ids (nil for one missing or hidden), which gives
// back the slot of the field of ctx.
func (e EntityLoader) LoadAllThunk(ctx context.Context, ids []int64) func() ([]*kb.Entity, error) {
	ths := make([]func() (*kb.Entity, error), len(ids))
	for i, id := range ids {
		ths[i] = Member[*kb.Entity](e).thunk(ctx, id)
	}
	return func() ([]*kb.Entity, error) {
		defer serial.Pause(ctx)()
		out := make([]*kb.Entity, len(ids))
		for i, th := range ths {
			var err error
			if out[i], err = th(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// Prime leaves entity e, read elsewhere, as the answer for id (nil: id is
// missing or hidden).
func (e EntityLoader) Prime(id int64, v *kb.Entity) { Member[*kb.Entity](e).Prime(id, v) }

// member registers the group of questions name, answered by fetch, and
// returns its part of the level loader. A group New registers is asked
// ahead by its name; one registered later sets its Member's again.
func member[V any](l *Loaders, name string, fetch func(ctx context.Context, ids []int64) (map[int64]V, error)) Member[V] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.groups[name]; !ok {
		l.groups[name] = func(ctx context.Context, ids []int64) (map[int64]any, error) {
			m, err := fetch(ctx, ids)
			if err != nil {
				return nil, err
			}
			out := make(map[int64]any, len(m))
			for id, v := range m {
				out[id] = v
			}
			return out, nil
		}
	}
	return Member[V]{l: l, group: name, again: func(*Loaders) string { return name }}
}

// historyKey is one page of revision histories: of entities or links, of
// one size, from one cursor.
type historyKey struct {
	subject store.Subject
	spec    store.HistorySpec
}

// New returns the loaders of one request that reads st with visibility vis.
// wait is how long each loader collects keys; 0 means DefaultWait.
func New(st *store.Store, vis store.Visibility, wait time.Duration) *Loaders {
	if wait <= 0 {
		wait = DefaultWait
	}
	l := &Loaders{
		store:         st,
		vis:           vis,
		opts:          []dataloadgen.Option{dataloadgen.WithWait(wait)},
		specs:         map[string]store.LinkSpec{},
		groups:        map[string]levelFetch{},
		histories:     map[historyKey]Loader[int64, *store.HistoryPage]{},
		historyCounts: map[store.Subject]Loader[int64, int]{},
	}
	l.level = Loader[levelKey, any]{dataloadgen.NewLoader(l.fetchLevel, l.opts...)}
	l.Entity = EntityLoader(member(l, "entities", func(ctx context.Context, ids []int64) (map[int64]*kb.Entity, error) {
		es, err := st.EntitiesByID(ctx, vis, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]*kb.Entity, len(es))
		for _, e := range es {
			if e != nil {
				out[e.ID] = e
			}
		}
		return out, nil
	}))
	l.EntityHead = Loader[int64, *kb.Entity]{dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*kb.Entity, []error) {
		es, err := st.EntityHeads(ctx, vis, ids)
		return es, fill(len(ids), err)
	}, l.opts...)}
	l.Link = Loader[int64, *kb.Link]{dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*kb.Link, []error) {
		ls, err := st.LinksByID(ctx, vis, ids)
		return ls, fill(len(ids), err)
	}, l.opts...)}
	l.EntityCitations = mapped(func(ctx context.Context, ids []int64) (map[int64][]kb.Citation, error) {
		return st.EntityCitations(ctx, vis, ids)
	}, l.opts)
	l.LinkCitations = mapped(func(ctx context.Context, ids []int64) (map[int64][]kb.Citation, error) {
		return st.LinkCitations(ctx, vis, ids)
	}, l.opts)
	l.Indicators = member(l, "indicators", func(ctx context.Context, ids []int64) (map[int64][]kb.Indicator, error) {
		return st.Indicators(ctx, vis, ids)
	})
	l.SectorCounts = member(l, "sector counts", func(ctx context.Context, ids []int64) (map[int64]map[kb.Sector]int, error) {
		return st.SectorCounts(ctx, vis, ids)
	})
	l.CooperativeSectorCounts = member(l, "cooperative sector counts", func(ctx context.Context, ids []int64) (map[int64]map[kb.Sector]int, error) {
		return st.CooperativeSectorCounts(ctx, vis, ids)
	})
	l.Texts = mapped(func(ctx context.Context, ids []int64) (map[int64]kb.Texts, error) {
		return st.Texts(ctx, vis, ids)
	}, l.opts)
	l.PracticeTopics = mapped(func(ctx context.Context, ids []int64) (map[int64][]*kb.Topic, error) {
		return st.PracticeTopics(ctx, ids)
	}, l.opts)
	return l
}

// TextsNow reads the texts of entities ids at once, without the loaders'
// wait, and keeps them for Texts: a root list has no other list of its
// level to share a query with, and a page's text fields then find them.
func (l *Loaders) TextsNow(ctx context.Context, ids []int64) ([]kb.Texts, error) {
	m, err := l.store.Texts(ctx, l.vis, ids)
	if err != nil {
		return nil, err
	}
	out := make([]kb.Texts, len(ids))
	for i, id := range ids {
		out[i] = m[id]
		l.Texts.Prime(id, m[id])
	}
	return out, nil
}

// Visibility returns what the request may see.
func (l *Loaders) Visibility() store.Visibility { return l.vis }

// Links returns the loader of the links that match spec, keyed by entity
// id. Loads of every spec within one wait go to the database together, in
// one statement.
func (l *Loaders) Links(spec store.LinkSpec) SpecLoader {
	key := spec.Key()
	l.mu.Lock()
	if _, ok := l.specs[key]; !ok {
		l.specs[key] = spec
	}
	l.mu.Unlock()
	return SpecLoader{l: l, group: linkGroup + key, again: func(l *Loaders) string { return l.Links(spec).group }}
}

// SpecLoader loads the links of entities that match one spec.
type SpecLoader struct {
	l     *Loaders
	group string
	again func(*Loaders) string
}

// Load returns the links of entity id.
func (s SpecLoader) Load(ctx context.Context, id int64) ([]*kb.Link, error) {
	rows, err := s.Rows(ctx, id)
	if err != nil {
		return nil, err
	}
	ls := make([]*kb.Link, len(rows))
	for i, r := range rows {
		ls[i] = r.Link
	}
	return ls, nil
}

// Rows returns the links of entity id with the sort names of their other
// ends.
func (s SpecLoader) Rows(ctx context.Context, id int64) ([]store.LinkRow, error) {
	return Member[[]store.LinkRow](s).Load(ctx, id)
}

// fetchLevel answers one batch of the level loader's questions in one
// round trip (store.Together): the pages of links of every spec in one
// statement (store.LinkPages), each other group's questions in one.
func (l *Loaders) fetchLevel(ctx context.Context, keys []levelKey) ([]any, []error) {
	out, errs, _ := l.fetchLevelWith(ctx, keys, nil)
	return out, errs
}

// fetchLevelWith is fetchLevel with the reads extra in the same pipeline,
// after the questions' statements; it also returns their errors.
func (l *Loaders) fetchLevelWith(ctx context.Context, keys []levelKey, extra []func(context.Context) error) ([]any, []error, []error) {
	type group struct {
		fetch levelFetch
		ids   []int64
		got   map[int64]any
		err   error
	}
	l.mu.Lock()
	links := map[string]int{} // the index in asks of a page of links' group
	var asks []store.SpecIDs
	groups := map[string]*group{}
	var order []*group
	for _, k := range keys {
		if spec, ok := strings.CutPrefix(k.group, linkGroup); ok {
			i, ok := links[k.group]
			if !ok {
				i = len(asks)
				links[k.group] = i
				asks = append(asks, store.SpecIDs{Spec: l.specs[spec]})
			}
			asks[i].IDs = append(asks[i].IDs, k.id)
			continue
		}
		g, ok := groups[k.group]
		if !ok {
			g = &group{fetch: l.groups[k.group]}
			groups[k.group] = g
			order = append(order, g)
		}
		g.ids = append(g.ids, k.id)
	}
	l.mu.Unlock()
	// The pages that read whole rows (LinkSpec.Rows) are a statement of
	// their own (store.LinkPages), in the same pipeline as the others.
	pages := make([]map[int64][]store.LinkRow, len(asks))
	var fns []func(context.Context) error
	for _, g := range store.RowsApart(asks) {
		part := make([]store.SpecIDs, len(g))
		for j, i := range g {
			part[j] = asks[i]
		}
		fns = append(fns, func(ctx context.Context) error {
			got, err := l.store.LinkPages(ctx, l.vis, part)
			if err != nil {
				return err
			}
			for j, p := range got {
				pages[g[j]] = p
				// The heads and rows of the pages that asked for them.
				for _, rows := range p {
					for _, r := range rows {
						l.primeHead(r.Other)
						if r.Whole != nil {
							l.Entity.Prime(r.Whole.ID, r.Whole)
						}
					}
				}
			}
			return nil
		})
	}
	linkFns := len(fns)
	for _, g := range order {
		fns = append(fns, func(ctx context.Context) (err error) {
			g.got, err = g.fetch(ctx, g.ids)
			return err
		})
	}
	groupFns := len(fns)
	fns = append(fns, extra...)
	errs := l.store.Together(ctx, fns...)
	extraErrs := errs[groupFns:]
	linksErr := errors.Join(errs[:linkFns]...)
	errs = errs[linkFns:groupFns]
	for i, g := range order {
		g.err = errs[i]
	}
	out := make([]any, len(keys))
	var outErrs []error
	for i, k := range keys {
		var err error
		if strings.HasPrefix(k.group, linkGroup) {
			if err = linksErr; err == nil {
				out[i] = pages[links[k.group]][k.id]
			}
		} else {
			g := groups[k.group]
			if err = g.err; err == nil {
				out[i] = g.got[k.id]
			}
		}
		if err != nil {
			if outErrs == nil {
				outErrs = make([]error, len(keys))
			}
			outErrs[i] = err
		}
	}
	return out, outErrs, extraErrs
}

// LinkCount returns the loader of the number of links that match spec
// (ignoring its order and paging), keyed by entity id: one grouped count
// statement for all the entities of a level.
func (l *Loaders) LinkCount(spec store.LinkSpec) Member[int] {
	spec = spec.Unpaged()
	m := member(l, "link count:"+spec.Key(), func(ctx context.Context, ids []int64) (map[int64]int, error) {
		return l.store.CountLinksOf(ctx, l.vis, ids, spec)
	})
	m.again = func(l *Loaders) string { return l.LinkCount(spec).group }
	return m
}

// History returns the loader of one page of revisions (store.HistorySpec)
// of entities, links or topics (subject), keyed by their id: the
// histories of a list of entries cost one statement.
func (l *Loaders) History(subject store.Subject, sp store.HistorySpec) Loader[int64, *store.HistoryPage] {
	key := historyKey{subject, sp}
	l.mu.Lock()
	defer l.mu.Unlock()
	ld, ok := l.histories[key]
	if !ok {
		ld = mapped(func(ctx context.Context, ids []int64) (map[int64]*store.HistoryPage, error) {
			return l.store.Histories(ctx, subject, ids, sp)
		}, l.opts)
		l.histories[key] = ld
	}
	return ld
}

// PracticePartnerPage returns the loader of one page of the partners behind
// good practices, keyed by practice id: the practices of one level that
// ask for the same page share one query. With p.Heads the partners' heads
// come with it and are left in EntityHead.
func (l *Loaders) PracticePartnerPage(p store.PartnerPage) Member[[]store.Named] {
	m := member(l, "practice partners:"+p.Key(), func(ctx context.Context, ids []int64) (map[int64][]store.Named, error) {
		m, err := l.store.PracticePartnerPages(ctx, l.vis, ids, p)
		for _, page := range m {
			for _, n := range page {
				l.primeHead(n.Head)
			}
		}
		return m, err
	})
	m.again = func(l *Loaders) string { return l.PracticePartnerPage(p).group }
	return m
}

// primeHead leaves the head e, read with a page (LinkSpec.Heads,
// PartnerPage.Heads), in EntityHead, so that the page's entities cost no
// statement of their own; nil does nothing. The head is what
// store.EntityHeads would read in the same request: its other end passed
// the page's visibility, which is the request's, narrowed.
func (l *Loaders) primeHead(e *kb.Entity) {
	if e != nil {
		l.EntityHead.Prime(e.ID, e)
	}
}

// PracticePartnerCount loads how many partners are behind good practices.
func (l *Loaders) PracticePartnerCount() Member[int] {
	m := member(l, "practice partner count", func(ctx context.Context, ids []int64) (map[int64]int, error) {
		return l.store.CountPracticePartners(ctx, l.vis, ids)
	})
	m.again = func(l *Loaders) string { return l.PracticePartnerCount().group }
	return m
}

// HistoryCount returns the loader of the number of revisions of entities,
// links or topics (subject), keyed by their id.
func (l *Loaders) HistoryCount(subject store.Subject) Loader[int64, int] {
	l.mu.Lock()
	defer l.mu.Unlock()
	ld, ok := l.historyCounts[subject]
	if !ok {
		ld = mapped(func(ctx context.Context, ids []int64) (map[int64]int, error) {
			return l.store.CountHistories(ctx, subject, ids)
		}, l.opts)
		l.historyCounts[subject] = ld
	}
	return ld
}

// Entities loads the entities ids and drops the missing or hidden ones,
// keeping the order of ids. It stops queueing keys as soon as ctx ends (a
// request stopped by its timeout or a limit, docs/api.md "Limits"): the
// loader takes its lock once per key, and thousands of resolvers of a
// fan-out each queueing 100 keys on it after the request had been stopped
// took 25-75 s to drain at 1M.
func (l *Loaders) Entities(ctx context.Context, ids []int64) ([]*kb.Entity, error) {
	return l.entities(ctx, Member[*kb.Entity](l.Entity).thunk, ids)
}

// EntityHeads is Entities with only what the entity row holds (see
// store.EntityHeads).
func (l *Loaders) EntityHeads(ctx context.Context, ids []int64) ([]*kb.Entity, error) {
	return l.entities(ctx, l.EntityHead.Loader.LoadThunk, ids)
}

// EntityHeadsNow is EntityHeads for a list whose ids are all known at
// once, the nodes of a walk's answer: it reads them at once, without the
// loader's wait (DefaultWait), since no sibling field would add keys to
// the batch, and leaves them in the loader for the request's other fields.
// The wait was a fifth of a 100-node neighbourhood's time at one client
// (docs/benchmarks.md, "The API layer's own cost").
func (l *Loaders) EntityHeadsNow(ctx context.Context, ids []int64) ([]*kb.Entity, error) {
	return l.entitiesNow(ctx, func(id int64, e *kb.Entity) { l.EntityHead.Prime(id, e) }, l.store.EntityHeads, ids)
}

// EntitiesNow is Entities without the wait, as EntityHeadsNow.
func (l *Loaders) EntitiesNow(ctx context.Context, ids []int64) ([]*kb.Entity, error) {
	return l.entitiesNow(ctx, l.Entity.Prime, l.store.EntitiesByID, ids)
}

// entitiesNow reads ids with fetch (aligned with ids, nil for one missing
// or hidden), primes a loader with them and drops the missing or hidden
// ones.
func (l *Loaders) entitiesNow(ctx context.Context, prime func(int64, *kb.Entity),
	fetch func(context.Context, store.Visibility, []int64) ([]*kb.Entity, error), ids []int64) ([]*kb.Entity, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	es, err := fetch(ctx, l.vis, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*kb.Entity, 0, len(es))
	for i, e := range es {
		prime(ids[i], e)
		if e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// entities loads ids through a loader's thunks (whose waits keep the
// slot) and drops the missing or hidden ones.
func (l *Loaders) entities(ctx context.Context, thunk func(context.Context, int64) func() (*kb.Entity, error), ids []int64) ([]*kb.Entity, error) {
	thunks := make([]func() (*kb.Entity, error), len(ids))
	for i, id := range ids {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		thunks[i] = thunk(ctx, id)
	}
	defer serial.Pause(ctx)() // once for all the thunks
	out := make([]*kb.Entity, 0, len(ids))
	for _, th := range thunks {
		e, err := th()
		if err != nil {
			return nil, err
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// mapped builds a loader from a fetch that returns a map; keys without an
// entry get the zero value (an empty list), not an error.
func mapped[V any](fetch func(ctx context.Context, ids []int64) (map[int64]V, error), opts []dataloadgen.Option) Loader[int64, V] {
	return Loader[int64, V]{dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]V, []error) {
		m, err := fetch(ctx, ids)
		out := make([]V, len(ids))
		if err == nil {
			for i, id := range ids {
				out[i] = m[id]
			}
		}
		return out, fill(len(ids), err)
	}, opts...)}
}

// fill returns nil for no error, else err for every key.
func fill(n int, err error) []error {
	if err == nil {
		return nil
	}
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the loaders of the request in ctx. It panics when there are
// none: every GraphQL request passes through Middleware, so that is a
// wiring bug, not a runtime condition.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loader: no loaders in context; is the handler wrapped in loader.Middleware?")
	}
	return l
}

// Middleware gives every request a fresh set of loaders that read st with
// the visibility that vis computes for the request, asking ahead with
// ahead (none when nil).
func Middleware(st *store.Store, vis func(*http.Request) store.Visibility, wait time.Duration, ahead *Ahead) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := With(r.Context(), New(st, vis(r), wait).WithAhead(ahead))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

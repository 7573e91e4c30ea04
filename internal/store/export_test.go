package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// EntitiesOfKinds exposes entitiesOfKinds, and EntitiesByIDSQL the
// statement of every kind, to the tests.
func EntitiesOfKinds(kinds map[kb.Kind]bool) string { return entitiesOfKinds(kinds) }

// EntitiesByIDSQL is the statement of EntitiesByID where the pool keeps
// prepared statements.
var EntitiesByIDSQL = entitiesByIDSQL

// Translate exposes translate to the tests.
var Translate = translate

// EntityViaView reads entity id through the view entity_full, without
// citations: what EntitiesByID must read.
func (s *Store) EntityViaView(ctx context.Context, id int64) (*kb.Entity, error) {
	return scanEntity(s.pool.QueryRow(ctx, `SELECT `+entityColumns+` FROM entity_full e WHERE e.id = $1`, id))
}

// PracticePartnerPagesByRule exposes the rule that practice_partner
// (migration 00019) keeps the answer of, for the tests that compare them.
func (s *Store) PracticePartnerPagesByRule(ctx context.Context, vis Visibility, ids []int64, p PartnerPage) (map[int64][]Named, error) {
	return s.practicePartnerPagesByRule(ctx, vis, ids, p)
}

// CountPracticePartnersByRule exposes the rule's count for the same tests.
func (s *Store) CountPracticePartnersByRule(ctx context.Context, vis Visibility, ids []int64) (map[int64]int, error) {
	return s.countPracticePartnersByRule(ctx, vis, ids)
}

// ProbeEverySearch makes every candidate set and count of s's searches
// probed (searchprobe.go), whatever the statistics say, over windows
// that cover the whole table: a probe that finds enough must then find
// what the text index finds.
func (s *Store) ProbeEverySearch() {
	s.probe.mu.Lock()
	s.probe.always = true
	s.probe.mu.Unlock()
}

// SampleEverySearch makes every candidate set and count of s's searches
// read from the sample index first (searchprobe.go), whatever the
// statistics say.
func (s *Store) SampleEverySearch() {
	s.probe.mu.Lock()
	s.probe.sample = true
	s.probe.mu.Unlock()
}

// LimitPagePlans makes each connection of s keep at most n search page
// statements prepared (searchplan.go).
func (s *Store) LimitPagePlans(n int) {
	s.pagePlans.limit.Store(int32(n))
}

// ProbeWindows returns how many windows of the table a set of need
// matches of query is probed in: 0 when it is read from the index.
func (s *Store) ProbeWindows(ctx context.Context, query string, need int) (int, error) {
	q, err := parse(query)
	if err != nil {
		return 0, err
	}
	p, err := s.probeFor(ctx, q, need, probeMargin)
	return len(p.windows), err
}

// ExplainCount returns the plan, executed, of the statement that counts
// the hits of query as typed (EXPLAIN ANALYZE).
func (s *Store) ExplainCount(ctx context.Context, vis Visibility, query string) (string, error) {
	q, err := parse(query)
	if err != nil {
		return "", err
	}
	if err := s.complete(ctx, vis, q, nil); err != nil {
		return "", err
	}
	if err := s.prune(ctx, vis, q); err != nil {
		return "", err
	}
	sql, args, err := s.countSQL(ctx, vis, SearchRequest{}, q, q.TSQuery())
	if err != nil {
		return "", err
	}
	rows, err := s.pool.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) `+sql, args...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}

// SetPlaceIndexLimit sets how many points of a map filter are read before
// the area is taken for a wide one, so that a test's few points take
// either plan; it returns what restores the limit. Not for parallel tests.
func SetPlaceIndexLimit(n int) (restore func()) {
	old := placeIndexLimit
	placeIndexLimit = n
	return func() { placeIndexLimit = old }
}

// SetAttrIndexLimit sets how many entities a region, city or activity may
// match for a list to read them by their ids (Store.attrPlan), so that a
// test's few entities take either plan; it returns what restores the
// limit. Not for parallel tests.
func SetAttrIndexLimit(n int) (restore func()) {
	old := attrIndexLimit
	attrIndexLimit = n
	return func() { attrIndexLimit = old }
}

// MixCountSQL returns the statement that sums the counters of sector
// mixes for f under vis (Store.countMixes), with its arguments, and
// whether CountEntitiesUpTo takes that route for f; a test runs it inside
// a transaction of its own.
func MixCountSQL(vis Visibility, f Filter) (sql string, args []any, routed bool) {
	sql, args = f.mixCountSQL(vis)
	return sql, args, f.onlyMixes()
}

// ReverseRememberedSearches makes every search page that searchAhead
// remembers hold its hits in the reverse order: a page remembered that is
// not the page the next run reads.
func (s *Store) ReverseRememberedSearches() {
	s.searchAhead.mu.Lock()
	defer s.searchAhead.mu.Unlock()
	for k, p := range s.searchAhead.pages {
		ids := append([]int64(nil), p.ids...)
		for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
			ids[i], ids[j] = ids[j], ids[i]
		}
		s.searchAhead.pages[k] = aheadPage{ids: ids, kinds: p.kinds}
	}
}

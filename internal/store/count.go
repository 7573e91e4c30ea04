package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// DefaultCountBound is how many matches a root list's totalCount counts,
// by default, of a filter the counters do not cover (a part of the name,
// a region, a city, activities, topics, a sector mix) before it stops and
// reports a lower bound ("1,000+"). On the million-entity graph a name
// matching 11% of the partners ("fund") was counted to 10,000 in 361 ms
// and to 1,000 in 8 ms; a page never shows more than 100.
const DefaultCountBound = 1_000

// Count is the size of a list: N matches when Exact, else at least N (the
// count stopped at its bound).
type Count struct {
	N     int
	Exact bool
}

// countedByCounters reports whether the counters of migration 00009
// (entity_count and the changes not yet folded, entity_count_delta) answer f: every condition of f is on a column they keep.
func (f Filter) countedByCounters() bool {
	return kb.Fold(f.Name) == "" && f.Region == "" && f.City == "" && len(f.Activities) == 0 &&
		len(f.Topics) == 0 && f.SectorMix.Empty() && len(f.PracticeCountries) == 0 && len(f.PracticeSectors) == 0 &&
		f.CreatedSince == nil && f.UpdatedSince == nil && !f.composed() &&
		f.Near == nil && f.Within == nil && f.StartsAfter == nil && f.StartsBefore == nil
}

// counterSQL returns the statement that sums the counters of f under vis,
// with its arguments. The conditions are those of Filter.build on the
// same values: ” in a counter column that does not apply to a kind
// matches no filter value, as NULL does in entity_full.
func (f Filter) counterSQL(vis Visibility) (string, []any) {
	b := &builder{}
	if f.Kind != "" {
		b.cond("kind = ?", string(f.Kind))
	}
	b.cond("status = ANY(?)", vis.statuses())
	b.anyOf("sector", strs(f.Sectors))
	b.anyOf("partner_kind", strs(f.PartnerKinds))
	if f.Country != "" {
		b.cond("country = upper(?)", f.Country)
	}
	b.anyOf("coop_status", strs(f.CoopStatuses))
	b.anyOf("event_kind", strs(f.EventKinds))
	b.anyOf("event_status", strs(f.EventStatuses))
	b.anyOf("source_kind", strs(f.SourceKinds))
	if f.Language != "" {
		b.cond("language = lower(?)", f.Language)
	}
	return `SELECT coalesce(sum(n), 0) FROM (TABLE entity_count UNION ALL TABLE entity_count_delta) c WHERE ` +
		strings.Join(b.where, " AND "), b.args
}

// FoldCounts moves the committed changes of the counters into them
// (entity_count_fold, migration 00009) and returns how many it moved.
// Counts are exact without it; it keeps the changes a count sums few.
func (s *Store) FoldCounts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT entity_count_fold()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("fold counts: %w", translate(err))
	}
	return n, nil
}

// CountEntities returns how many entities match f under vis, exactly: from
// the counters when they cover f (a sum of a few rows), else by counting
// every match.
func (s *Store) CountEntities(ctx context.Context, vis Visibility, f Filter) (int, error) {
	c, err := s.CountEntitiesUpTo(ctx, vis, f, 0)
	return c.N, err
}

// CountEntitiesUpTo returns how many entities match f under vis. When the
// counters cover f the count is exact whatever its size; otherwise it
// counts matches up to bound and, past it, returns Count{N: bound, Exact:
// false}. A bound of 0 or less counts every match.
func (s *Store) CountEntitiesUpTo(ctx context.Context, vis Visibility, f Filter, bound int) (Count, error) {
	var n int
	if f.countedByCounters() {
		sql, args := f.counterSQL(vis)
		if err := s.read(ctx).QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			return Count{}, fmt.Errorf("count %s: %w", f.Kind, translate(err))
		}
		return Count{N: n, Exact: true}, nil
	}
	f, err := s.facetPlan(ctx, f)
	if err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, err)
	}
	if f, err = s.placePlan(ctx, f); err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, err)
	}
	if f.placeWide && f.onlyPlaces() && f.Kind != "" && f.Kind != kb.KindEvent && bound > 0 {
		return s.countPlaces(ctx, vis, f, bound)
	}
	b := f.build(vis)
	from := "entity_full e"
	if s.serverPlans && onEntityAlone(b.where...) {
		from = "entity e" // planned at each execution: see onEntityAlone
	}
	sql := `SELECT count(*) FROM ` + from + ` WHERE ` + strings.Join(b.where, " AND ")
	if bound > 0 {
		sql = `SELECT count(*) FROM (SELECT FROM ` + from + ` WHERE ` + strings.Join(b.where, " AND ") +
			` LIMIT ` + f.limit(b, bound+1) + `) x`
	}
	if err := s.read(ctx).QueryRow(ctx, sql, f.execMode(b.args)...).Scan(&n); err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, translate(err))
	}
	if bound > 0 && n > bound {
		return Count{N: bound, Exact: false}, nil
	}
	return Count{N: n, Exact: true}, nil
}

package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// DefaultCountBound is how many matches a root list's totalCount counts,
// by default, of a filter the counters do not cover (a part of the name,
// a region, a city, activities, topics, a sector mix with any of those)
// before it stops and reports a lower bound ("1,000+"). On the million-entity graph a name
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
// (entity_count and the changes not yet folded, entity_count_delta) answer
// f: every condition of f, and of every filter inside its and/or/not, is
// on a column they keep. A composed filter is a condition on each row of
// counters as it is on each entity (a row of counters is one combination
// of the columns, so it holds for all of its entities or for none), so
// `{not: {country: "PL"}}` is counted exactly from the counters, where
// counting rows read every partner (1.3 s at 1M).
func (f Filter) countedByCounters() bool {
	if kb.Fold(f.Name) != "" || f.Region != "" || f.City != "" || len(f.Activities) > 0 ||
		len(f.Topics) > 0 || !f.SectorMix.Empty() || len(f.PracticeCountries) > 0 || len(f.PracticeSectors) > 0 ||
		f.CreatedSince != nil || f.UpdatedSince != nil ||
		f.Near != nil || f.Within != nil || f.StartsAfter != nil || f.StartsBefore != nil {
		return false
	}
	for _, g := range append(append([]Filter{}, f.And...), f.Or...) {
		if !g.countedByCounters() {
			return false
		}
	}
	return f.Not == nil || f.Not.countedByCounters()
}

// kindCount returns, for a filter of a kind and at most sectors, the
// statement that sums its counters through the function kind_count
// (migration 00037), planned once per server session, with its
// arguments; ok is false for any other filter.
func (f Filter) kindCount(vis Visibility) (sql string, args []any, ok bool) {
	g := f
	g.Kind, g.Sectors = "", nil
	if f.Kind == "" || !g.empty() {
		return "", nil, false
	}
	var sectors []string
	if len(f.Sectors) > 0 {
		sectors = strs(f.Sectors)
	}
	return `SELECT kind_count($1, $2, $3)`, []any{string(f.Kind), vis.statuses(), sectors}, true
}

// restricts reports whether f has a condition beyond its kind.
func (f Filter) restricts() bool {
	g := f
	g.Kind = ""
	return !g.empty()
}

// empty reports whether f sets nothing: every field is zero, a list empty
// (as the API gives an absent list or an empty one) but for Or, whose
// empty list holds for nothing.
func (f Filter) empty() bool {
	if f.Or != nil {
		return false
	}
	var zero func(v reflect.Value) bool
	zero = func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.Slice, reflect.Map:
			return v.Len() == 0
		case reflect.Struct:
			for i := range v.NumField() {
				if !zero(v.Field(i)) {
					return false
				}
			}
			return true
		default:
			return v.IsZero()
		}
	}
	return zero(reflect.ValueOf(f))
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
	b.where = append(b.where, f.counterConds(b)...)
	return `SELECT coalesce(sum(n), 0) FROM (TABLE entity_count UNION ALL TABLE entity_count_delta) c WHERE ` +
		strings.Join(b.where, " AND "), b.args
}

// counterConds returns the conditions of f's fields and of its and/or/not
// on a row of the counters, their arguments added to b, composed as
// Filter.conds composes them on an entity.
func (f Filter) counterConds(b *builder) []string {
	return f.composeConds(b, func(g Filter, b *builder) []string {
		b.anyOf("sector", strs(g.Sectors))
		b.anyOf("partner_kind", strs(g.PartnerKinds))
		if g.Country != "" {
			b.cond("country = upper(?)", g.Country)
		}
		b.anyOf("coop_status", strs(g.CoopStatuses))
		b.anyOf("event_kind", strs(g.EventKinds))
		b.anyOf("event_status", strs(g.EventStatuses))
		b.anyOf("source_kind", strs(g.SourceKinds))
		if g.Language != "" {
			b.cond("language = lower(?)", g.Language)
		}
		return nil
	})
}

// countryIndexLimit is how many entities of a kind a country may have for
// a list filtered by it to read them through the index on the country kept
// on entity (migration 00023) and sort them, rather than walk the kind in
// its order: the country of a list's condition is entity_full's, which no
// index holds, and a country few entities have made the walk read every
// entity of the kind (7.8 s for partners in SE at 1M, where all are in PL).
const countryIndexLimit = 2000

// counterPlan returns f with its plan chosen from the counters, for a
// filter of a kind that they answer and that restricts more than the
// kind: none, when the counters say nothing matches (the list is empty,
// and walking the kind to learn it read every entity: 13.6 s for partners
// not in PL at 1M); the ids of f's country, read through the index, when
// fewer than countryIndexLimit entities of the kind have it. The second
// result is false when nothing matches.
func (s *Store) counterPlan(ctx context.Context, vis Visibility, f Filter) (Filter, bool, error) {
	if f.Kind == "" || !f.restricts() || !f.countedByCounters() {
		return f, true, nil
	}
	b := &builder{}
	kind, statuses := b.arg(string(f.Kind)), b.arg(vis.statuses())
	conds := f.counterConds(b)
	country := "0"
	if f.Country != "" {
		country = "coalesce(sum(n) FILTER (WHERE country = upper(" + b.arg(f.Country) + ")), 0)"
	}
	// The matches, the entities of f's country, and the values of the
	// kind's column for splitting the walk (splitColumns), in one
	// statement.
	split := "NULL::text[]"
	col := splitColumns[f.Kind]
	if col != "" {
		split = "array_agg(DISTINCT " + col + " ORDER BY " + col + ") FILTER (WHERE " + and(conds) + " AND n <> 0)"
	}
	sql := `SELECT coalesce(sum(n) FILTER (WHERE ` + and(conds) + `), 0), ` + country + `, ` + split +
		` FROM (TABLE entity_count UNION ALL TABLE entity_count_delta) c WHERE kind = ` + kind + ` AND status = ANY(` + statuses + `)`
	args := b.args
	if fsql, fargs, ok := f.kindCount(vis); ok && s.serverPlans && col == "" {
		// No country, and no column to split by: kindCount reads neither.
		sql, args = fsql+`, 0, NULL::text[]`, fargs
	}
	c, err := s.readCounters(ctx, sql, args)
	if err != nil {
		return f, false, fmt.Errorf("count %s: %w", f.Kind, translate(err))
	}
	all, inCountry, vals := c.all, c.inCountry, c.vals
	if all == 0 {
		return f, false, nil
	}
	if col != "" && len(vals) <= maxSplit && !slices.Contains(vals, "") {
		f.splitVals = vals
	}
	if f.Country == "" || inCountry >= countryIndexLimit {
		return f, true, nil
	}
	// Fewer than the limit, the counters say: never wide (but in the
	// moment between the two statements).
	ids, wide, err := s.idsUpTo(ctx, "list "+string(f.Kind), countryIndexLimit, `SELECT id FROM entity WHERE kind = $1
		AND (coalesce(country, '`+noCountry+`') COLLATE "C") = upper($2)`, string(f.Kind), f.Country)
	if err != nil {
		return f, false, err
	}
	if !wide {
		f.countryIDs = ids
	}
	return f, true, nil
}

// counterAnswer is what counterPlan reads from the counters.
type counterAnswer struct {
	all, inCountry int
	vals           []string
}

// readCounters runs counterPlan's statement. A read that needs to see
// only the changes its instance has heard of (HeardSuffices: anonymous and
// reader lists) shares the answer of the same statement with the others
// until the change feed announces a write (CacheCounts): the counters
// decide a list's plan before its page is read, one round trip of its
// own for a list of one sector of partners. Staff lists read them every
// time, as they must see every commit.
func (s *Store) readCounters(ctx context.Context, sql string, args []any) (counterAnswer, error) {
	read := func(ctx context.Context) (counterAnswer, error) {
		var c counterAnswer
		err := s.read(ctx).QueryRow(ctx, sql, args...).Scan(&c.all, &c.inCountry, &c.vals)
		return c, err
	}
	if s.counts == nil || !s.HeardSuffices(ctx) {
		return read(ctx)
	}
	v, err := s.counts.get(sql+"\x00"+fmt.Sprint(args...), func() (any, error) {
		// The shared read must not end with the first caller's request.
		return read(context.WithoutCancel(ctx))
	})
	if err != nil {
		return counterAnswer{}, err
	}
	return v.(counterAnswer), nil
}

// splitColumns are the columns of the counters that are indexed with the
// name on entity, by kind (migration 00030's (kind, partner_kind,
// sort_name, id) and (kind, event_kind, sort_name, id)).
var splitColumns = map[kb.Kind]string{kb.KindPartner: "partner_kind", kb.KindEvent: "event_kind"}

// maxSplit is how many values of a split column a list by name walks
// side by side at most (there are 13 kinds of partner, 7 of event).
const maxSplit = 16

// FoldCounts moves the committed changes of the counters into them
// (entity_count_fold, migration 00009; practice_facet_count_fold, 00046;
// mix_count_fold, 00053) and returns how many it moved.
// Counts are exact without it; it keeps the changes a count sums few.
func (s *Store) FoldCounts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT entity_count_fold() + practice_facet_count_fold() + mix_count_fold()`).Scan(&n); err != nil {
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
		if fsql, fargs, ok := f.kindCount(vis); ok && s.serverPlans {
			sql, args = fsql, fargs // planned once per server session
		}
		if err := s.read(ctx).QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			return Count{}, fmt.Errorf("count %s: %w", f.Kind, translate(err))
		}
		return Count{N: n, Exact: true}, nil
	}
	// A filter of facets alone, composed or not, is summed from the
	// counters of its combinations (a rare combination of common values
	// was the case the list's walk reached slowly).
	if f.onlyFacets() {
		return s.countFacets(ctx, vis, f, bound)
	}
	// So is a filter of sector mixes alone (migration 00053).
	if f.onlyMixes() {
		return s.countMixes(ctx, vis, f, bound)
	}
	f, err := s.facetPlan(ctx, f)
	if err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, err)
	}
	if f, err = s.topicPlan(ctx, f); err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, err)
	}
	if f.matchesNothing() {
		return Count{N: 0, Exact: true}, nil
	}
	if f, err = s.placePlan(ctx, f); err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, err)
	}
	if f, err = s.attrPlan(ctx, f); err != nil {
		return Count{}, err
	}
	if f.matchesNothing() {
		return Count{N: 0, Exact: true}, nil
	}
	if f.placeWide && bound > 0 {
		return s.countPlaces(ctx, vis, f, bound)
	}
	if f.attrWide && bound > 0 {
		return s.countAttrs(ctx, vis, f, bound)
	}
	b := f.build(vis)
	from := "entity_full e"
	if s.serverPlans && onEntityAlone(b.where...) {
		from = "entity e" // planned at each execution: see onEntityAlone
	}
	sql := `SELECT count(*) FROM ` + from + ` WHERE ` + strings.Join(b.where, " AND ")
	if bound > 0 {
		// A time since which entries changed or were created is walked in
		// the order of its index, which stops at the bound: left to itself
		// the generic plan read the whole range of the index into a bitmap
		// first (70-80 ms for partners at 1M, where all are recent).
		order := ""
		if f.placeIDs == nil && f.facetIDs == nil && f.attrIDs == nil {
			switch {
			case f.UpdatedSince != nil:
				order = ` ORDER BY e.updated_at`
			case f.CreatedSince != nil:
				order = ` ORDER BY e.created_at`
			}
		}
		sql = `SELECT count(*) FROM (SELECT FROM ` + from + ` WHERE ` + strings.Join(b.where, " AND ") + order +
			` LIMIT ` + f.limit(bound+1) + `) x`
	}
	if err := s.read(ctx).QueryRow(ctx, sql, f.execMode(b.args)...).Scan(&n); err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, translate(err))
	}
	if bound > 0 && n > bound {
		return Count{N: bound, Exact: false}, nil
	}
	return Count{N: n, Exact: true}, nil
}

// splitWalk reports whether a page of f in order o walks, side by side,
// the index of its kind's split column (splitColumns) and the name for
// each value of the column the counters say matches (f.splitVals, from
// counterPlan), and merges their pages. It does for an order by the name
// alone and a filter of the counted columns that no one index yields in
// that order: and/or/not, or several values of one column. The matches
// of such a filter may lie far apart in name order, where one walk of the
// kind read every entity in between: `{not: {sector: PRIVATE}}` of
// partners, whose companies' names come first, walked ... (23 ms-2.3 s
// at 1M). Each value's walk finds its page at once: every entity of a
// value matches when the filter is of counted columns, but for other
// values of the other columns.
func (f Filter) splitWalk(o Order) bool {
	if f.splitVals == nil || len(o.Then) > 0 || (o.Field != "" && o.Field != OrderName) || f.countryIDs != nil {
		return false
	}
	return f.composed() || len(f.Sectors) > 1 || len(f.PartnerKinds) > 1 || len(f.EventKinds) > 1
}

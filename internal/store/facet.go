package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// facetStatsTTL is how long a Store keeps how many practices have each
// facet value: they decide a plan, not an answer, so they may lag.
const facetStatsTTL = 10 * time.Second

// facetIndexShare is the share of the practices below which a filter on
// their facets reads the matches through the GIN indexes and sorts them;
// at or above it, walking the practices in list order and probing each
// one's facets finds a page sooner. At 2% a page of 20 is found within
// about a thousand practices of the walk.
const facetIndexShare = 0.02

// facetStats is how many practices have each facet value ("c:PL",
// "s:PRIVATE") and how many practices there are ("").
type facetStats map[string]int

// facetPlan returns f with its plan for the facets of practices chosen:
// when the practices of f's countries, or those of its sectors, are fewer
// than facetIndexShare of all, it reads the matching practices through the
// GIN indexes (at most that share of them) and f lists those ids (see
// Filter.conds).
// Only the facets of f itself count; those inside and/or/not are probed
// practice by practice.
func (s *Store) facetPlan(ctx context.Context, f Filter) (Filter, error) {
	if len(f.PracticeCountries) == 0 && len(f.PracticeSectors) == 0 {
		return f, nil
	}
	v, err := s.facets.get("stats", func() (any, error) {
		rows, err := s.read(ctx).Query(ctx, `
			SELECT 'c:' || c, count(*) FROM practice_facet, unnest(countries) c GROUP BY 1
			UNION ALL SELECT 's:' || x, count(*) FROM practice_facet, unnest(sectors) x GROUP BY 1
			UNION ALL SELECT '', count(*) FROM practice_facet`)
		if err != nil {
			return nil, translate(err)
		}
		st := facetStats{}
		var key string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&key, &n}, func() error {
			st[key] = n
			return nil
		}); err != nil {
			return nil, translate(err)
		}
		return st, nil
	})
	if err != nil {
		return f, err
	}
	st := v.(facetStats)
	share := func(prefix string, vals []string) float64 {
		n := 0
		for _, x := range vals {
			n += st[prefix+strings.ToUpper(x)]
		}
		return float64(n) / float64(max(st[""], 1))
	}
	most := 1.0
	if len(f.PracticeCountries) > 0 {
		most = min(most, share("c:", f.PracticeCountries))
	}
	if len(f.PracticeSectors) > 0 {
		most = min(most, share("s:", strs(f.PracticeSectors)))
	}
	if most >= facetIndexShare {
		return f, nil
	}
	var cond []string
	var args []any
	if len(f.PracticeCountries) > 0 {
		cs := make([]string, len(f.PracticeCountries))
		for i, c := range f.PracticeCountries {
			cs[i] = strings.ToUpper(c)
		}
		args = append(args, cs)
		cond = append(cond, fmt.Sprintf("countries && $%d::text[]", len(args)))
	}
	if len(f.PracticeSectors) > 0 {
		args = append(args, strs(f.PracticeSectors))
		cond = append(cond, fmt.Sprintf("sectors && $%d::text[]", len(args)))
	}
	// No limit: the share says they are few.
	ids, _, err := s.idsUpTo(ctx, "facets", 0, `SELECT id FROM practice_facet WHERE `+strings.Join(cond, " AND "), args...)
	if err != nil {
		return f, err
	}
	f.facetIDs = ids
	return f, nil
}

// onlyFacets reports whether every condition of f, and of every filter
// inside its and/or/not, is on the facets of practices (country and
// partner sector), and f has one.
func (f Filter) onlyFacets() bool {
	return f.Kind == kb.KindGoodPractice && f.facetIDs == nil && f.restricts() &&
		f.onlyOf(func(h *Filter) { h.PracticeCountries, h.PracticeSectors = nil, nil })
}

// onlyOf reports whether every condition of f, and of every filter inside
// its and/or/not, is one of those that clear takes off a filter.
func (f Filter) onlyOf(clear func(h *Filter)) bool {
	h := f
	h.Kind, h.And, h.Or, h.Not = "", nil, nil, nil
	clear(&h)
	if !h.empty() {
		return false
	}
	for _, x := range append(append([]Filter{}, f.And...), f.Or...) {
		if !x.onlyOf(clear) {
			return false
		}
	}
	return f.Not == nil || f.Not.onlyOf(clear)
}

// composed reports whether f uses and/or/not.
func (f Filter) composed() bool {
	return f.And != nil || f.Or != nil || f.Not != nil
}

// facetConds returns the conditions of f's facets and of its and/or/not on
// a row pf of practice_facet, composed as Filter.conds composes them.
func (f Filter) facetConds(b *builder) []string {
	return f.composeConds(b, Filter.ownFacetConds)
}

// composeConds returns the conditions own writes for f, followed by those
// of its and/or/not, each composed the same way, as Filter.conds composes
// them on an entity: and's added, or's as one alternative (`or: []` holds
// for nothing), not's negated. own may add its conditions to b.where
// (builder.cond) or return them: it sees b.where empty, and b.where is as
// it was when composeConds returns.
func (f Filter) composeConds(b *builder, own func(Filter, *builder) []string) []string {
	outer := b.where
	b.where = nil
	defer func() { b.where = outer }()
	conds := own(f, b)
	conds = append(append([]string(nil), b.where...), conds...)
	for _, g := range f.And {
		conds = append(conds, g.composeConds(b, own)...)
	}
	if f.Or != nil {
		alts := make([]string, 0, len(f.Or))
		for _, g := range f.Or {
			alts = append(alts, and(g.composeConds(b, own)))
		}
		if len(alts) == 0 {
			alts = append(alts, "false")
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	if f.Not != nil {
		conds = append(conds, "NOT "+and(f.Not.composeConds(b, own)))
	}
	return conds
}

// ownFacetConds returns the conditions of f's own facets (not those of
// its and/or/not) on a row pf of practice_facet.
func (f Filter) ownFacetConds(b *builder) []string {
	var conds []string
	if len(f.PracticeCountries) > 0 {
		cs := make([]string, len(f.PracticeCountries))
		for i, c := range f.PracticeCountries {
			cs[i] = strings.ToUpper(c)
		}
		conds = append(conds, "pf.countries && "+b.arg(cs)+"::text[]")
	}
	if len(f.PracticeSectors) > 0 {
		conds = append(conds, "pf.sectors && "+b.arg(strs(f.PracticeSectors))+"::text[]")
	}
	return conds
}

// countFacets counts the visible practices of a filter of nothing but
// facets (onlyFacets) from the counters of migration 00046: how many
// practices there are of each combination of countries, sectors and
// status (some 18 combinations at 1M), kept by triggers in the writing
// transaction. A filter of facets, composed with and/or/not, holds for a
// combination as it does for each of its practices, so the count is a sum
// of a few rows, exact; past bound (when bound > 0) it is reported as the
// bound, not exact, as a count that stopped there would be. Before,
// counting scanned practice_facet up to the bound and probed each match's
// status: 23,829 rows for the 1,001 practices "in PL with a private
// partner and no public one" at 1M (11 ms at the median through the API),
// and before that the list's walk probed the facets practice by practice
// in name order (91-174 ms).
func (s *Store) countFacets(ctx context.Context, vis Visibility, f Filter, bound int) (Count, error) {
	b := &builder{}
	conds := and(f.facetConds(b))
	sql := fmt.Sprintf(`SELECT coalesce(sum(n), 0) FROM (TABLE practice_facet_count UNION ALL TABLE practice_facet_count_delta) pf
		WHERE pf.status = ANY(%s) AND %s`, b.arg(vis.statuses()), conds)
	var n int
	if err := s.read(ctx).QueryRow(ctx, sql, b.args...).Scan(&n); err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, translate(err))
	}
	if bound > 0 && n > bound {
		return Count{N: bound, Exact: false}, nil
	}
	return Count{N: n, Exact: true}, nil
}

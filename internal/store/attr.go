package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// attrTables are the kinds' tables that hold a place's region and city,
// indexed by place_fold (migration 00033).
var attrTables = map[kb.Kind]string{
	kb.KindPartner: "partner", kb.KindCooperative: "cooperative",
	kb.KindForeignExample: "foreign_example", kb.KindEvent: "event",
}

// attrIndexLimit is how many entities of a kind a region, a city or an
// activity of a filter may match for a list to read them through the
// indexes of their kind's table and sort them, rather than walk the kind
// in its order (as countryIndexLimit for a country).
var attrIndexLimit = countryIndexLimit

// hasAttrs reports whether f itself (not a filter inside its and/or/not)
// filters on what the indexes of migration 00033 and 00001 hold on the
// table of f's kind: a region, a city, a cooperative's activities.
func (f Filter) hasAttrs() bool {
	if _, ok := attrTables[f.Kind]; !ok {
		return false
	}
	return f.Region != "" || f.City != "" || (f.Kind == kb.KindCooperative && len(f.Activities) > 0)
}

// attrConds returns the conditions of f's region, city and activities on
// the row x of its kind's table, in the form its indexes serve; they hold
// exactly where the conditions of Filter.conds hold on entity_full (the
// kind's row is the only one of the view's joins an entity has). The
// argument is folded once, by an InitPlan: in a generic plan (the pool's
// plan_cache_mode) place_fold($n) is not a constant and was computed again
// for every row a walk probed (1,257 for a page of partners in Poznań at
// 1M: 8.7 ms, 2.9 ms folded once).
func (f Filter) attrConds(b *builder) []string {
	var conds []string
	if f.Region != "" {
		conds = append(conds, "place_fold(x.region) = (SELECT place_fold("+b.arg(f.Region)+"))")
	}
	if f.City != "" {
		conds = append(conds, "place_fold(x.city) = (SELECT place_fold("+b.arg(f.City)+"))")
	}
	if f.Kind == kb.KindCooperative && len(f.Activities) > 0 {
		conds = append(conds, "x.activities && "+b.arg(strs(f.Activities))+"::text[]")
	}
	return conds
}

// attrPlan returns f with its plan for its own region, city and
// activities (hasAttrs): the entities of its kind that match them are read
// through the indexes of the kind's table, at most attrIndexLimit of them;
// when there are fewer, f lists them by their ids (attrIDs), in place of
// the conditions, else the list walks the kind in its order (the matches
// are common, a page is found soon) and the count reads the index
// (countAttrs). Before, both walked: a region, city or activity few
// entities have read the whole kind (up to 1.4 s for partners at 1M), and
// counting a common one read some 16 entities a match (50-190 ms).
func (s *Store) attrPlan(ctx context.Context, f Filter) (Filter, error) {
	if !f.hasAttrs() {
		return f, nil
	}
	b := &builder{}
	conds := f.attrConds(b)
	sql := fmt.Sprintf(`SELECT x.id FROM %s x WHERE %s`, attrTables[f.Kind], strings.Join(conds, " AND "))
	ids, wide, err := s.idsUpTo(ctx, "list "+string(f.Kind), attrIndexLimit, sql, b.args...)
	if err != nil {
		return f, err
	}
	f.attrWide, f.attrIDs = wide, ids
	return f, nil
}

// countAttrs counts, up to bound, the visible entities of f whose own
// region, city or activities match many (attrWide): it reads the matches
// through the indexes of the kind's table and probes, by key, each one's
// entity for the rest of f, so that it stops after bound matches.
func (s *Store) countAttrs(ctx context.Context, vis Visibility, f Filter, bound int) (Count, error) {
	rest := f
	rest.Region, rest.City, rest.attrWide = "", "", false
	if f.Kind == kb.KindCooperative {
		rest.Activities = nil
	}
	b := rest.build(vis)
	conds := f.attrConds(b)
	// OFFSET 0 keeps the probe a probe of one entity by its key.
	sql := fmt.Sprintf(`SELECT count(*) FROM (SELECT FROM %s x WHERE %s
		AND EXISTS (SELECT 1 FROM entity_full e WHERE %s AND e.id = x.id OFFSET 0) LIMIT %d) c`,
		attrTables[f.Kind], strings.Join(conds, " AND "), strings.Join(b.where, " AND "), bound+1)
	if !rest.restricts() {
		// Nothing but the kind and the status is left to probe: when the
		// counters say that every entity of the kind has a status the
		// viewer sees (on the generated graph, every one is published),
		// the probe holds for every match, and the index alone counts
		// them (1,001 probes of entity for a common city at 1M). Decided
		// in the same statement, so in the same snapshot as the count.
		sql = fmt.Sprintf(`SELECT CASE WHEN EXISTS (SELECT 1 FROM (TABLE entity_count UNION ALL TABLE entity_count_delta) n
			WHERE n.kind = %s AND NOT (n.status = ANY(%s)) GROUP BY n.status HAVING sum(n.n) <> 0)
			THEN (%s) ELSE (SELECT count(*) FROM (SELECT FROM %s x WHERE %s LIMIT %d) c) END`,
			b.arg(string(f.Kind)), b.arg(vis.statuses()), sql, attrTables[f.Kind], strings.Join(conds, " AND "), bound+1)
	}
	return s.countBounded(ctx, f.Kind, sql, rest.execMode(b.args), bound)
}

// matchesNothing reports whether a list of ids read beforehand for f
// itself (a narrow area, a rare country, facet, topic, region, city or
// activity) is empty: nothing matches, and neither the page nor the count
// needs a statement. Left to the statement, a generic plan cannot see that
// the array is empty and walked the kind (a topic no practice carries:
// 0.4-1.5 s for page and count at 1M).
func (f Filter) matchesNothing() bool {
	empty := func(ids []int64) bool { return ids != nil && len(ids) == 0 }
	return empty(f.placeIDs) || empty(f.countryIDs) || empty(f.facetIDs) || empty(f.attrIDs) ||
		(len(f.Topics) > 0 && (empty(f.topicPractices) || (f.topicIDs != nil && len(f.topicIDs) == 0)))
}

// countBounded runs sql, a count of at most bound+1 matches of a list of
// kind, and returns it as a Count: the bound and not exact past it.
func (s *Store) countBounded(ctx context.Context, kind kb.Kind, sql string, args []any, bound int) (Count, error) {
	var n int
	if err := s.read(ctx).QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return Count{}, fmt.Errorf("count %s: %w", kind, translate(err))
	}
	if n > bound {
		return Count{N: bound, Exact: false}, nil
	}
	return Count{N: n, Exact: true}, nil
}

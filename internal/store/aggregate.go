package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// partnershipSectors is an expression for the distinct sectors of the
// visible member partners of partnership e.id, as text[]: the set kept
// with the partnership by the triggers of migration 00047 (partnership_mix,
// one probe of its key), of its published members for readers and of all
// its members for staff; none when it has no row (no members). Computed
// from the links here, it read some 1,700 partnerships' members for a
// page of full ones with its count at 1M (40 ms).
func partnershipSectors(vis Visibility) string {
	col := "published"
	if vis.Drafts {
		col = "every"
	}
	return `coalesce((SELECT pm.` + col + ` FROM partnership_mix pm WHERE pm.id = e.id), '{}')`
}

// cooperativePartners is a subquery of the ids (pid) of the partners around
// the cooperative c.id, as kb.CooperativePartnersIn and Out define them,
// visible or not; the caller joins them with their entity.
func cooperativePartners(b *builder, vis string) string {
	return `SELECT l.from_id AS pid FROM link l WHERE l.to_id = c.id AND l.type = ANY(` + b.arg(strs(kb.CooperativePartnersIn)) + `)
		UNION ALL
		SELECT l.to_id FROM link l WHERE l.from_id = c.id AND l.type = ANY(` + b.arg(strs(kb.CooperativePartnersOut)) + `)
		UNION ALL
		SELECT m.from_id FROM link f
		JOIN entity ps ON ps.id = f.from_id AND ps.status = ANY(` + vis + `)
		JOIN link m ON m.to_id = f.from_id AND m.type = 'MEMBER_OF'
		WHERE f.to_id = c.id AND f.type = 'FORMED_AROUND'
		UNION ALL
		SELECT m.from_id FROM link sp
		JOIN entity pr ON pr.id = sp.from_id AND pr.kind = 'PROJECT' AND pr.status = ANY(` + vis + `)
		JOIN link f ON f.to_id = sp.from_id AND f.type = 'FORMED_AROUND'
		JOIN entity ps ON ps.id = f.from_id AND ps.status = ANY(` + vis + `)
		JOIN link m ON m.to_id = f.from_id AND m.type = 'MEMBER_OF'
		WHERE sp.to_id = c.id AND sp.type = ANY(` + b.arg(strs(kb.CooperativeProjectsIn)) + `)`
}

// cooperativeSectors is an expression for the distinct sectors of the
// visible partners around cooperative e.id (cooperativePartners), as
// text[]: the sets kept with the cooperative by the triggers of migration
// 00050 (cooperative_mix, one probe of its key), as readers see them or as
// staff do; none when it has no row. Computed from the links here, a page
// of full cooperatives with its count read the links, partnerships and
// projects of some 120,000 cooperatives at 1M (276 ms at the median).
func cooperativeSectors(vis Visibility) string {
	col := "published"
	if vis.Drafts {
		col = "every"
	}
	return `coalesce((SELECT cm.` + col + ` FROM cooperative_mix cm WHERE cm.id = e.id), '{}')`
}

// mixCond adds the condition of f on the sectors expression sectors. A
// full mix includes every sector, so {full: true, includes: [...]} is one
// condition, not two: the planner multiplies the selectivities of two
// conditions on one expression (0.5 % each) and, expecting one row,
// sorted every match of the page's kind instead of walking its order
// (over 30 s at 1M, on main too for partnerships).
func mixCond(b *builder, sectors string, f kb.MixFilter) {
	all := strs(kb.Sectors)
	need := strs(f.Includes)
	if f.Full != nil {
		if *f.Full {
			need = all
		} else {
			b.cond("NOT ("+sectors+" @> ?::text[])", all)
		}
	}
	if len(need) > 0 {
		b.cond(sectors+" @> ?::text[]", need)
	}
	if len(f.Missing) > 0 {
		b.cond("NOT ("+sectors+" && ?::text[])", strs(f.Missing))
	}
}

// CooperativeSectorCounts returns, for each of the cooperatives ids, how
// many distinct visible partners of each sector stand around it (see
// kb.CooperativePartnersIn). One query for any number of cooperatives.
func (s *Store) CooperativeSectorCounts(ctx context.Context, vis Visibility, ids []int64) (map[int64]map[kb.Sector]int, error) {
	b := &builder{}
	nodes := b.arg(ids)
	v := b.arg(vis.statuses())
	rows, err := s.read(ctx).Query(ctx, `SELECT c.id, p.sector, count(DISTINCT x.pid)::int
		FROM unnest(`+nodes+`::bigint[]) AS c(id)
		CROSS JOIN LATERAL (`+cooperativePartners(b, v)+`) x
		JOIN partner p ON p.id = x.pid
		JOIN entity pe ON pe.id = x.pid AND pe.status = ANY(`+v+`)
		GROUP BY c.id, p.sector`, b.args...)
	if err != nil {
		return nil, fmt.Errorf("cooperative sector counts: %w", translate(err))
	}
	out, err := collectSectorCounts(rows, len(ids))
	if err != nil {
		return nil, fmt.Errorf("cooperative sector counts: %w", err)
	}
	return out, nil
}

// GroupField is a field an aggregate groups by.
type GroupField string

// The group fields.
const (
	GroupKind        GroupField = "KIND"
	GroupSector      GroupField = "SECTOR"
	GroupPartnerKind GroupField = "PARTNER_KIND"
	GroupCountry     GroupField = "COUNTRY"
	GroupRegion      GroupField = "REGION"
	GroupCity        GroupField = "CITY"
	GroupActivity    GroupField = "ACTIVITY"
	GroupTopic       GroupField = "TOPIC"
	GroupStatus      GroupField = "STATUS"
	GroupEventKind   GroupField = "EVENT_KIND"
	GroupSourceKind  GroupField = "SOURCE_KIND"
	GroupLanguage    GroupField = "LANGUAGE"
)

// groupExprs are the SQL expressions of the group fields over entity_full e;
// ACTIVITY unnests an array through a lateral join, TOPIC joins the
// practices' topics (practice_topic, migration 00026) and groups by slug.
var groupExprs = map[GroupField]string{
	GroupKind:        "e.kind",
	GroupSector:      "e.sector",
	GroupPartnerKind: "e.partner_kind",
	GroupCountry:     "nullif(e.country, '')",
	GroupRegion:      "nullif(e.region, '')",
	GroupCity:        "nullif(e.city, '')",
	GroupActivity:    "act.v",
	GroupTopic:       "top.slug",
	GroupStatus:      "coalesce(e.coop_status, e.event_status)",
	GroupEventKind:   "e.event_kind",
	GroupSourceKind:  "e.source_kind",
	GroupLanguage:    "nullif(e.language, '')",
}

// Group is one group of an aggregate: the value of each group field (nil
// for none) and the count.
type Group struct {
	Key   []*string
	Count int
}

// Aggregate counts the entities that match f under vis (f.Kind may be empty
// for all kinds), grouped by the fields by, largest group first. It also
// returns how many distinct entities match. It returns a
// *kb.ValidationError for an unknown field. With CacheAggregates the
// result may be up to its ttl old; callers must not change it.
func (s *Store) Aggregate(ctx context.Context, vis Visibility, f Filter, by []GroupField) ([]Group, int, error) {
	if s.aggregates == nil {
		return s.aggregate(ctx, vis, f, by)
	}
	type result struct {
		groups []Group
		total  int
	}
	key, err := json.Marshal([]any{vis, f, by}) // values, not pointers: *bool in the mix filter
	if err != nil {
		return nil, 0, fmt.Errorf("aggregate: %w", err)
	}
	v, err := s.aggregates.get(string(key), func() (any, error) {
		// The shared query must not end with the first caller's request.
		g, n, err := s.aggregate(context.WithoutCancel(ctx), vis, f, by)
		return result{g, n}, err
	})
	if err != nil {
		return nil, 0, err
	}
	r := v.(result)
	return r.groups, r.total, nil
}

func (s *Store) aggregate(ctx context.Context, vis Visibility, f Filter, by []GroupField) ([]Group, int, error) {
	b := f.build(vis)
	from := "entity_full e"
	cols := make([]string, len(by))
	unnests := false
	for i, g := range by {
		expr, ok := groupExprs[g]
		if !ok {
			return nil, 0, kb.Invalid(fmt.Sprintf("groupBy[%d]", i), "cannot group by %q", g)
		}
		if slices.Index(by, g) != i {
			return nil, 0, kb.Invalid(fmt.Sprintf("groupBy[%d]", i), "%s appears twice", g)
		}
		cols[i] = expr + "::text"
		switch g {
		case GroupActivity:
			from += " LEFT JOIN LATERAL unnest(e.activities) act(v) ON true"
			unnests = true
		case GroupTopic:
			// The topic, not the label text the practice was written
			// with: two spellings of one topic are one group.
			from += " LEFT JOIN practice_topic ptop ON ptop.practice_id = e.id LEFT JOIN topic top ON top.id = ptop.topic_id"
			unnests = true
		}
	}
	where := strings.Join(b.where, " AND ")
	var sql string
	if len(by) == 0 {
		sql = `SELECT count(*) FROM ` + from + ` WHERE ` + where
	} else {
		pos := make([]string, len(by))
		for i := range by {
			pos[i] = fmt.Sprint(i + 1)
		}
		sql = `SELECT ` + strings.Join(cols, ", ") + `, count(*) FROM ` + from + ` WHERE ` + where +
			` GROUP BY ` + strings.Join(pos, ", ") + ` ORDER BY ` + fmt.Sprint(len(by)+1) + ` DESC, ` + strings.Join(pos, ", ")
	}
	rows, err := s.read(ctx).Query(ctx, sql, b.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("aggregate: %w", translate(err))
	}
	defer rows.Close()
	var groups []Group
	total := 0
	for rows.Next() {
		g := Group{Key: make([]*string, len(by))}
		dest := make([]any, 0, len(by)+1)
		for i := range g.Key {
			dest = append(dest, &g.Key[i])
		}
		if err := rows.Scan(append(dest, &g.Count)...); err != nil {
			return nil, 0, fmt.Errorf("aggregate: %w", err)
		}
		total += g.Count
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("aggregate: %w", translate(err))
	}
	if unnests {
		// An entity counts in each of its activities or topics: count the
		// distinct entities apart.
		if total, err = s.CountEntities(ctx, vis, f); err != nil {
			return nil, 0, err
		}
	}
	return groups, total, nil
}

// Degree is an entity's number of links.
type Degree struct {
	ID     int64
	Degree int
}

// MostConnected returns the first n visible entities of the kinds (all when
// empty) with the most links of the relation types (all when empty) to
// visible entities, in both directions, most first, ties by id. It reads
// every link of those types: a full scan, meant for analysis, not for the
// hot path.
func (s *Store) MostConnected(ctx context.Context, vis Visibility, relations []kb.RelationType, kinds []kb.Kind, n int) ([]Degree, error) {
	b := &builder{}
	typeCond := "true"
	if len(relations) > 0 {
		typeCond = "l.type = ANY(" + b.arg(strs(relations)) + ")"
	}
	v := b.arg(vis.statuses())
	kindCond := ""
	if len(kinds) > 0 {
		kindCond = " AND e.kind = ANY(" + b.arg(strs(kinds)) + ")"
	}
	rows, err := s.read(ctx).Query(ctx, `SELECT d.id, d.n FROM (
			SELECT x.id, count(*)::int AS n FROM (
				SELECT l.from_id AS id, l.to_id AS other FROM link l WHERE `+typeCond+`
				UNION ALL
				SELECT l.to_id, l.from_id FROM link l WHERE `+typeCond+`
			) x JOIN entity o ON o.id = x.other AND o.status = ANY(`+v+`)
			GROUP BY x.id
		) d JOIN entity e ON e.id = d.id AND e.status = ANY(`+v+`)`+kindCond+`
		ORDER BY d.n DESC, d.id LIMIT `+b.arg(n), b.args...)
	if err != nil {
		return nil, fmt.Errorf("most connected: %w", translate(err))
	}
	var out []Degree
	var d Degree
	_, err = pgx.ForEachRow(rows, []any{&d.ID, &d.Degree}, func() error { out = append(out, d); return nil })
	if err != nil {
		return nil, fmt.Errorf("most connected: %w", translate(err))
	}
	return out, nil
}

package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// placeIndexLimit is how many points of a map filter (near, within) a list
// reads through the spatial index before it takes the area for a wide one.
// Below it, the matching entities are read first and their page sorted
// (cheap: a few hundred rows); at or above it, the list walks the kind in
// its order and probes each entity's points (a page of 20 is found within
// about 20 × kind / matches rows: 900 partners for 8,000 of 360,000). The
// two costs meet near √(20 × 360,000) ≈ 2,700 on the generated graph of a
// million entities; docs/api.md, "Places", has the figures.
const placeIndexLimit = 2000

// placePlan returns f with its plan for the map filters of f itself (near,
// within; those inside and/or/not keep the plain subquery): the points of
// f's kind in the area are read through the GiST index of the kind
// (migration 00023), index only, at most placeIndexLimit of them; when
// there are fewer, f lists their entities (placeIDs), else f probes each
// entity it walks (placeWide).
func (s *Store) placePlan(ctx context.Context, f Filter) (Filter, error) {
	if f.Near == nil && f.Within == nil {
		return f, nil
	}
	b := &builder{}
	sql := fmt.Sprintf(`SELECT pl.entity_id FROM entity_place pl WHERE %s LIMIT %d`, f.placeCond(b), placeIndexLimit)
	rows, err := s.read(ctx).Query(ctx, sql, b.args...)
	if err != nil {
		return f, fmt.Errorf("places: %w", translate(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return f, fmt.Errorf("places: %w", translate(err))
	}
	if len(ids) >= placeIndexLimit {
		f.placeWide = true
		return f, nil
	}
	f.placeIDs = append([]int64{}, ids...) // not nil: no point is no match
	return f, nil
}

// countPlaces counts, up to bound, the visible entities of f with a point
// in f's area, for a filter of nothing else (onlyPlaces) over a wide area:
// from the GiST index of f's kind and a probe of each entity, bound probes
// at most, where counting through the list's walk would probe every
// entity of the kind. Events, which may have several points in an area,
// are counted as the list is.
func (s *Store) countPlaces(ctx context.Context, vis Visibility, f Filter, bound int) (Count, error) {
	b := &builder{}
	sql := fmt.Sprintf(`SELECT count(*) FROM (SELECT FROM entity_place pl JOIN entity x ON x.id = pl.entity_id
		WHERE %s AND x.status = ANY(%s) LIMIT %d) c`, f.placeCond(b), b.arg(vis.statuses()), bound+1)
	var n int
	if err := s.read(ctx).QueryRow(ctx, sql, b.args...).Scan(&n); err != nil {
		return Count{}, fmt.Errorf("count %s: %w", f.Kind, translate(err))
	}
	if n > bound {
		return Count{N: bound, Exact: false}, nil
	}
	return Count{N: n, Exact: true}, nil
}

// onlyPlaces reports whether f restricts nothing but the kind and the map
// filters (so that a wide area has, of f's entities, at least
// placeIndexLimit: placePlan has read them).
func (f Filter) onlyPlaces() bool {
	g := f
	g.Kind, g.Near, g.Within, g.placeWide, g.placeIDs = "", nil, nil, false, nil
	return reflect.DeepEqual(g, Filter{})
}

// placeCond is the condition that a point pl (entity_place) is of f's
// kind and in f's area: in its box (Within, and the box around Near's
// circle) and, for Near, within the great-circle distance (haversine, mean
// earth radius). It reads only what the GiST index of the kind holds (the
// point and the entity id; pt[0] is the longitude, pt[1] the latitude),
// so a box is an index-only scan. The kind is written into the statement,
// so that the planner picks the kind's partial index: it is one of
// kb's kinds, checked by the API, never text from a client.
func (f Filter) placeCond(b *builder) string {
	var conds []string
	if f.Kind != "" {
		conds = append(conds, "pl.kind = '"+strings.ReplaceAll(string(f.Kind), "'", "''")+"'")
	}
	if c := f.Near; c != nil {
		conds = append(conds, gistBox(b, c.Box()), fmt.Sprintf(`2 * 6371.0088 * asin(sqrt(least(1, power(sin(radians(pl.pt[1] - %s) / 2), 2)
				+ cos(radians(%s)) * cos(radians(pl.pt[1])) * power(sin(radians(pl.pt[0] - %s) / 2), 2)))) <= %s`,
			b.arg(c.Lat), b.arg(c.Lat), b.arg(c.Lon), b.arg(c.RadiusKm)))
	}
	if f.Within != nil {
		conds = append(conds, gistBox(b, *f.Within))
	}
	return and(conds)
}

// gistBox is the condition that the point pl (entity_place) lies in box,
// in the form the GiST index entity_place_gist_idx (migration 00023)
// serves: one box, or two when the box crosses the antimeridian (West >
// East).
func gistBox(b *builder, box kb.BBox) string {
	const pt = "pl.pt"
	s, n := b.arg(box.South), b.arg(box.North)
	if box.West <= box.East {
		return fmt.Sprintf("%s <@ box(point(%s, %s), point(%s, %s))", pt, b.arg(box.West), s, b.arg(box.East), n)
	}
	return fmt.Sprintf("(%s <@ box(point(%s, %s), point(180, %s)) OR %s <@ box(point(-180, %s), point(%s, %s)))",
		pt, b.arg(box.West), s, n, pt, s, b.arg(box.East), n)
}

package store

import (
	"context"
	"fmt"
	"strings"

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
var placeIndexLimit = 2000

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
	ids, wide, err := s.idsUpTo(ctx, "places", placeIndexLimit, `SELECT pl.entity_id FROM entity_place pl WHERE `+f.placeCond(b), b.args...)
	if err != nil {
		return f, err
	}
	f.placeWide, f.placeIDs = wide, ids
	return f, nil
}

// countPlaces counts, up to bound, the visible entities of f over a wide
// area (placeWide): it walks the area's points of f's kind through the
// kind's GiST index and probes, by key, each point's entity for the rest
// of f, so that it stops after bound matches, where counting through the
// list's walk probed every entity of the kind (29 s for the events in a
// box around Poland at 1M, 99 ms for the private partners within 50 km of
// Poznań). An event with several places in the area is counted at the
// first of them.
func (s *Store) countPlaces(ctx context.Context, vis Visibility, f Filter, bound int) (Count, error) {
	rest := f
	rest.Near, rest.Within, rest.placeWide, rest.placeIDs = nil, nil, false, nil
	var b *builder
	var probe string
	sectorsOnly := rest
	sectorsOnly.Sectors = nil
	if sectorsOnly.onlyPlaces() {
		// The kind, the status and the sectors only: the point holds them
		// (migration 00048), in the kind's GiST index, so the count is an
		// index-only scan that probes nothing. Probing each point's entity
		// read 3,868 entities for the 1,001 private partners within 50 km
		// of Poznań at 1M (22 ms through the API).
		b = &builder{}
		probe = `pl.status = ANY(` + b.arg(vis.statuses()) + `)`
		if len(rest.Sectors) > 0 {
			probe += ` AND pl.sector = ANY(` + b.arg(strs(rest.Sectors)) + `)`
		}
	} else {
		// OFFSET 0 keeps the probe a probe of one entity by its key.
		b = rest.build(vis)
		probe = `EXISTS (SELECT 1 FROM entity_full e WHERE ` + strings.Join(b.where, " AND ") + ` AND e.id = pl.entity_id OFFSET 0)`
	}
	area := f.placeCondOn(b, "pl")
	first := ""
	if f.Kind == "" || f.Kind == kb.KindEvent {
		// By the key of the entity's points (without the kind, which
		// would lead the planner to the kind's GiST index).
		g := f
		g.Kind = ""
		// Position 0 is the entity's own place, first of all: no earlier
		// one to look for (the events' GiST index holds the position,
		// migration 00048).
		first = ` AND (pl.position = 0 OR NOT EXISTS (SELECT 1 FROM entity_place q WHERE q.entity_id = pl.entity_id AND q.position < pl.position AND ` +
			g.placeCondOn(b, "q") + `))`
	}
	sql := fmt.Sprintf(`SELECT count(*) FROM (SELECT FROM entity_place pl WHERE %s%s AND %s LIMIT %d) c`, area, first, probe, bound+1)
	return s.countBounded(ctx, f.Kind, sql, rest.execMode(b.args), bound)
}

// onlyPlaces reports whether f restricts nothing but the kind and the map
// filters (so that a wide area has, of f's entities, at least
// placeIndexLimit: placePlan has read them).
func (f Filter) onlyPlaces() bool {
	g := f
	g.Kind, g.Near, g.Within, g.placeWide, g.placeIDs = "", nil, nil, false, nil
	return g.empty()
}

// placeCond is the condition that a point pl (entity_place) is of f's
// kind and in f's area: in its box (Within, and the box around Near's
// circle) and, for Near, within the great-circle distance (haversine, mean
// earth radius). It reads only what the GiST index of the kind holds (the
// point and the entity id; pt[0] is the longitude, pt[1] the latitude),
// so a box is an index-only scan. The kind is written into the statement,
// so that the planner picks the kind's partial index: it is one of
// kb's kinds, checked by the API, never text from a client.
func (f Filter) placeCond(b *builder) string { return f.placeCondOn(b, "pl") }

// placeCondOn is placeCond on the point of the row pl of entity_place
// (an alias, never text from a client).
func (f Filter) placeCondOn(b *builder, pl string) string {
	var conds []string
	if f.Kind != "" {
		conds = append(conds, pl+".kind = '"+strings.ReplaceAll(string(f.Kind), "'", "''")+"'")
	}
	if c := f.Near; c != nil {
		conds = append(conds, gistBox(b, c.Box(), pl), fmt.Sprintf(`2 * 6371.0088 * asin(sqrt(least(1, power(sin(radians(%[5]s.pt[1] - %[1]s) / 2), 2)
				+ cos(radians(%[2]s)) * cos(radians(%[5]s.pt[1])) * power(sin(radians(%[5]s.pt[0] - %[3]s) / 2), 2)))) <= %[4]s`,
			b.arg(c.Lat), b.arg(c.Lat), b.arg(c.Lon), b.arg(c.RadiusKm), pl))
	}
	if f.Within != nil {
		conds = append(conds, gistBox(b, *f.Within, pl))
	}
	return and(conds)
}

// gistBox is the condition that the point pl (entity_place) lies in box,
// in the form the GiST index entity_place_gist_idx (migration 00023)
// serves: one box, or two when the box crosses the antimeridian (West >
// East).
func gistBox(b *builder, box kb.BBox, pl string) string {
	pt := pl + ".pt"
	s, n := b.arg(box.South), b.arg(box.North)
	if box.West <= box.East {
		return fmt.Sprintf("%s <@ box(point(%s, %s), point(%s, %s))", pt, b.arg(box.West), s, b.arg(box.East), n)
	}
	return fmt.Sprintf("(%s <@ box(point(%s, %s), point(180, %s)) OR %s <@ box(point(-180, %s), point(%s, %s)))",
		pt, b.arg(box.West), s, n, pt, s, b.arg(box.East), n)
}

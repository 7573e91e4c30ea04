package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// Direction says which links of an entity to read.
type Direction int

// Directions.
const (
	Both     Direction = iota // links from and to the entity
	Outgoing                  // links from the entity
	Incoming                  // links to the entity
)

// LinkSpec selects links of an entity: by direction, relation type, the
// kind and publication status of the entity at the other end, in link
// order (by id) or by the other end's name, ascending or descending,
// after a position, at most Limit of them (0 means no limit).
type LinkSpec struct {
	Direction Direction
	Types     []kb.RelationType
	// InTypes, with Direction Both, are the types of the incoming links
	// when they differ from those of the outgoing ones (Types): a
	// partner's cooperatives are those it founded, runs, supports or
	// funds, and those that employ its workshop's participants.
	InTypes    []kb.RelationType
	OtherKinds []kb.Kind
	// Statuses narrows what the caller's Visibility lets it see to these
	// publication statuses of the other end; empty means all it may see.
	Statuses []kb.PublicationStatus
	// ByName orders by the other end's sort name, then link id, instead of
	// by link id: each page then reads every matching link of the entity
	// to sort them, as no index holds the other end's name.
	ByName bool
	// Desc reverses the order.
	Desc bool
	// AfterID and AfterName are the position to read after (before, with
	// Desc) in the order: the link id, and with ByName the sort name of
	// its other end. AfterID 0 means from the start.
	AfterID   int64
	AfterName string
	// UntilID and UntilName bound the read at its other end: only links
	// before that position in the reading order (a Relay `before` read
	// forwards, `after` read backwards). UntilID 0 means no bound.
	UntilID   int64
	UntilName string
	Limit     int
	// DistinctOther makes counts count distinct entities at the other end
	// rather than links: a related list shows an entity linked in two
	// ways (supports and funds) once.
	DistinctOther bool
	// Heads makes LinkPages read, with each link, what the row of the
	// entity at its other end holds (LinkRow.Other, as EntityHeads reads
	// it): a list that shows no more of them needs no second statement.
	Heads bool
	// Rows makes LinkPages read, with each link, the whole row of the
	// entity at its other end (LinkRow.Whole, as EntitiesByID reads it):
	// a list that shows more than heads needs no second round trip
	// (docs/scaling.md, "Round trips"). Through the functions of a pool
	// that keeps no prepared statements (link_pages) it reads none, and
	// the caller reads the entities as before.
	Rows bool
}

// Key is a stable text form of the spec, for caching loaders per spec. It
// is asked for by every related field of every object of an answer, so it
// is built without fmt.
func (sp LinkSpec) Key() string {
	b := make([]byte, 0, 64)
	b = strconv.AppendInt(b, int64(sp.Direction), 10)
	b = append(b, '|')
	for _, t := range sp.Types {
		b = append(b, t...)
		b = append(b, ',')
	}
	b = append(b, '|')
	for _, t := range sp.InTypes {
		b = append(b, t...)
		b = append(b, ',')
	}
	b = append(b, '|')
	for _, k := range sp.OtherKinds {
		b = append(b, k...)
		b = append(b, ',')
	}
	b = append(b, '|')
	for _, st := range sp.Statuses {
		b = append(b, st...)
		b = append(b, ',')
	}
	b = append(b, '|')
	b = strconv.AppendBool(b, sp.ByName)
	b = append(b, '|')
	b = strconv.AppendBool(b, sp.Desc)
	b = append(b, '|')
	b = strconv.AppendBool(b, sp.DistinctOther)
	b = append(b, '|')
	b = strconv.AppendBool(b, sp.Heads)
	b = append(b, '|')
	b = strconv.AppendBool(b, sp.Rows)
	b = append(b, '|')
	b = strconv.AppendInt(b, sp.AfterID, 10)
	b = append(b, '|')
	b = strconv.AppendQuote(b, sp.AfterName)
	b = append(b, '|')
	b = strconv.AppendInt(b, sp.UntilID, 10)
	b = append(b, '|')
	b = strconv.AppendQuote(b, sp.UntilName)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(sp.Limit), 10)
	return string(b)
}

// Unpaged returns sp without its position, limit and order: the spec of
// the whole list, for counting it.
func (sp LinkSpec) Unpaged() LinkSpec {
	sp.AfterID, sp.AfterName, sp.Limit, sp.ByName, sp.Desc = 0, "", 0, false, false
	sp.UntilID, sp.UntilName, sp.Heads, sp.Rows = 0, "", false, false
	return sp
}

const linkColumns = `l.id, l.from_id, l.to_id, l.type, l.role, l.note, l.starts_on, l.ends_on, l.version, l.created_at, l.created_by,
	l.confidence`

func scanLink(row pgx.Row, extra ...any) (*kb.Link, error) {
	var l kb.Link
	dest := append([]any{&l.ID, &l.FromID, &l.ToID, &l.Type, &l.Role, &l.Note, &l.StartsOn, &l.EndsOn,
		&l.Version, &l.CreatedAt, &l.CreatedBy, &l.Confidence}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return &l, nil
}

// source returns the links of node n that match sp's direction and types,
// each with the id of its other end as "other": a union of the two
// directions, so that each half walks its own index (link_unique from the
// source end, link_to_idx from the target end).
func (sp LinkSpec) source(b *builder) string {
	typeCond := ""
	if len(sp.Types) > 0 {
		typeCond = " AND l.type = ANY(" + b.arg(strs(sp.Types)) + ")"
	}
	inTypeCond := typeCond
	if len(sp.InTypes) > 0 {
		inTypeCond = " AND l.type = ANY(" + b.arg(strs(sp.InTypes)) + ")"
	}
	out := `SELECT ` + linkColumns + `, l.to_id AS other FROM link l WHERE l.from_id = n.id` + typeCond
	in := `SELECT ` + linkColumns + `, l.from_id AS other FROM link l WHERE l.to_id = n.id` + inTypeCond
	switch sp.Direction {
	case Outgoing:
		return out
	case Incoming:
		return in
	}
	return out + " UNION ALL " + in
}

// page returns the links of node n that match sp and whose other end is
// visible, in sp's order, after sp's position, at most sp.Limit; each row
// carries the other end's id (other) and sort name (okey), and with
// sp.Heads its head (headColumns).
//
// In link order with types and a limit, each type and direction is read
// on its own in link order from its index (link_from_order_idx,
// link_to_idx: node, type, id), forwards or backwards, and stops after the
// limit; a merge of those short reads is cut to the limit again. So a
// hub's first 10 cases cost about 10 index entries and entity probes, not
// one for each of its thousands of links, which a sort by id over all of
// them needed (docs/benchmarks.md, "Measurements behind the code").
func (sp LinkSpec) page(b *builder, vis Visibility) string {
	dir, cmp, until := "", ">", "<"
	if sp.Desc {
		dir, cmp, until = " DESC", "<", ">"
	}
	heads := ""
	if sp.Heads {
		heads = ", " + headColumns("o", "h_")
	}
	if sp.ByName || len(sp.Types) == 0 || sp.Limit <= 0 {
		where := sp.otherCond(b, vis)
		order := "x.id" + dir
		if sp.ByName {
			order = "o.sort_name" + dir + ", x.id" + dir
			if sp.AfterID > 0 {
				where += " AND (o.sort_name, x.id) " + cmp + " (" + b.arg(sp.AfterName) + "::text, " + b.arg(sp.AfterID) + "::bigint)"
			}
			if sp.UntilID > 0 {
				where += " AND (o.sort_name, x.id) " + until + " (" + b.arg(sp.UntilName) + "::text, " + b.arg(sp.UntilID) + "::bigint)"
			}
		} else {
			if sp.AfterID > 0 {
				where += " AND x.id " + cmp + " " + b.arg(sp.AfterID)
			}
			if sp.UntilID > 0 {
				where += " AND x.id " + until + " " + b.arg(sp.UntilID)
			}
		}
		limit := ""
		if sp.Limit > 0 {
			limit = " LIMIT " + b.arg(sp.Limit)
		}
		return `SELECT x.*, o.sort_name AS okey` + heads + ` FROM (` + sp.source(b) + `) x
			JOIN entity o ON o.id = x.other
			WHERE ` + where + `
			ORDER BY ` + order + limit
	}
	ocond := sp.otherCond(b, vis)
	after := ""
	if sp.AfterID > 0 {
		after = " AND l.id " + cmp + " " + b.arg(sp.AfterID)
	}
	if sp.UntilID > 0 {
		after += " AND l.id " + until + " " + b.arg(sp.UntilID)
	}
	limit := b.arg(sp.Limit)
	var parts []string
	if sp.Direction != Incoming {
		for _, t := range sp.Types {
			parts = append(parts, `SELECT `+linkColumns+`, l.to_id AS other, o.sort_name AS okey`+heads+` FROM link l JOIN entity o ON o.id = l.to_id
				WHERE l.from_id = n.id AND l.type = `+b.arg(string(t))+` AND `+ocond+after+` ORDER BY l.id`+dir+` LIMIT `+limit)
		}
	}
	if sp.Direction != Outgoing {
		inTypes := sp.Types
		if len(sp.InTypes) > 0 {
			inTypes = sp.InTypes
		}
		for _, t := range inTypes {
			parts = append(parts, `SELECT `+linkColumns+`, l.from_id AS other, o.sort_name AS okey`+heads+` FROM link l JOIN entity o ON o.id = l.from_id
				WHERE l.to_id = n.id AND l.type = `+b.arg(string(t))+` AND `+ocond+after+` ORDER BY l.id`+dir+` LIMIT `+limit)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return `SELECT x.* FROM ((` + strings.Join(parts, ") UNION ALL (") + `)) x ORDER BY x.id` + dir + ` LIMIT ` + limit
}

// inLinkOrder reports whether sp's page is read type by type in link
// order (page's second form), which link_page can read.
func (sp LinkSpec) inLinkOrder() bool { return !sp.ByName && len(sp.Types) > 0 && sp.Limit > 0 }

// pageByFunction returns the part of LinkPages for the nodes ids and sp
// (inLinkOrder) read through the PL/pgSQL functions link_pages and
// link_page (migrations 00037 and 00021), the pos-th ask: the same rows
// as page's per-type reads, for the pools that keep no prepared
// statements, where page's statement was planned at every execution and
// the functions' plans are kept by the server session (docs/scaling.md,
// "PgBouncer").
func (sp LinkSpec) pageByFunction(b *builder, vis Visibility, ids []int64, pos int) string {
	var out, in []string
	if sp.Direction != Incoming {
		out = strs(sp.Types)
	}
	if sp.Direction != Outgoing {
		in = strs(sp.Types)
		if len(sp.InTypes) > 0 {
			in = strs(sp.InTypes)
		}
	}
	var kinds []string // NULL: any kind
	if len(sp.OtherKinds) > 0 {
		kinds = strs(sp.OtherKinds)
	}
	dir := ""
	if sp.Desc {
		dir = " DESC"
	}
	// The page of each node is cut inside the function too (link_pages,
	// migration 00037): the statement plans a function scan, not a window
	// over one.
	// The function returns no heads: they are read beside it, by the
	// other end's id (the sort is over the joined rows).
	heads, join := ", "+headNulls, ""
	if sp.Heads {
		heads = ", " + headColumns("o", "")
		join = " LEFT JOIN entity o ON o.id = CASE WHEN y.from_id = y.node THEN y.to_id ELSE y.from_id END"
	}
	return `SELECT y.id, y.from_id, y.to_id, y.type, y.role, y.note, y.starts_on, y.ends_on,
			y.version, y.created_at, y.created_by, y.confidence, y.node, ` + strconv.Itoa(pos) + `, y.okey` + heads + `
		FROM link_pages(` + b.arg(ids) + `::bigint[], ` + b.arg(out) + `::text[], ` + b.arg(in) + `::text[], ` +
		b.arg(sp.otherStatuses(vis)) + `::text[], ` + b.arg(kinds) + `::text[], ` + b.arg(sp.AfterID) + `::bigint, ` +
		b.arg(sp.UntilID) + `::bigint, ` + b.arg(sp.Limit) + `::integer, ` + b.arg(sp.Desc) + `::boolean) y` + join + `
		ORDER BY y.node, y.id` + dir
}

// otherCond returns the conditions on the other end o of a link.
func (sp LinkSpec) otherCond(b *builder, vis Visibility) string {
	cond := "o.status = ANY(" + b.arg(sp.otherStatuses(vis)) + ")"
	if len(sp.OtherKinds) > 0 {
		cond += " AND o.kind = ANY(" + b.arg(strs(sp.OtherKinds)) + ")"
	}
	return cond
}

// otherStatuses returns the statuses the other end of a link may have:
// those vis sees, narrowed to sp.Statuses if any.
func (sp LinkSpec) otherStatuses(vis Visibility) []string {
	statuses := vis.statuses()
	if len(sp.Statuses) > 0 {
		statuses = slices.DeleteFunc(slices.Clone(statuses), func(st string) bool {
			return !slices.Contains(sp.Statuses, kb.PublicationStatus(st))
		})
	}
	return statuses
}

// LinksOf returns, for each of the entities ids, its links that match sp
// and whose other end is visible under vis, in sp's order. It costs one
// query whatever the number of ids.
func (s *Store) LinksOf(ctx context.Context, vis Visibility, ids []int64, sp LinkSpec) (map[int64][]*kb.Link, error) {
	got, err := s.LinksOfSpecs(ctx, vis, []SpecIDs{{Spec: sp, IDs: ids}})
	if err != nil {
		return nil, err
	}
	return got[0], nil
}

// SpecIDs asks for the links of the entities IDs that match Spec.
type SpecIDs struct {
	Spec LinkSpec
	IDs  []int64
}

// LinksOfSpecs is LinkPages without the sort names of the other ends.
func (s *Store) LinksOfSpecs(ctx context.Context, vis Visibility, asks []SpecIDs) ([]map[int64][]*kb.Link, error) {
	pages, err := s.LinkPages(ctx, vis, asks)
	if err != nil {
		return nil, err
	}
	out := make([]map[int64][]*kb.Link, len(pages))
	for i, p := range pages {
		out[i] = make(map[int64][]*kb.Link, len(p))
		for id, rows := range p {
			ls := make([]*kb.Link, len(rows))
			for j, r := range rows {
				ls[j] = r.Link
			}
			out[i][id] = ls
		}
	}
	return out, nil
}

// LinkRow is a link read from one of its ends, with the sort name of the
// entity at the other end (the position of a cursor ordered by name) and,
// when its spec asked for them, that entity's head (LinkSpec.Heads) or
// whole row (LinkSpec.Rows).
type LinkRow struct {
	Link      *kb.Link
	OtherName string
	Other     *kb.Entity
	Whole     *kb.Entity
}

// LinkPages answers several LinksOf questions in one query: for each of
// asks, in order, the links of each of its entities that match its spec
// and whose other end is visible under vis, in the spec's order, each
// entity's page cut in SQL. A page that asks for a cooperative's founders,
// workshops and partnerships, or the first 3 cases of each of 20
// practices, so costs one round trip, not three or twenty.
//
// The questions go into the SQL ordered by their specs' keys, whatever the
// order of asks, so that one combination of specs is one statement for
// PostgreSQL (and pgx's cache of prepared statements).
//
// The asks whose specs read whole rows (LinkSpec.Rows) and the others are
// two statements, one after the other: a caller that wants them in one
// round trip asks them apart, in one pipeline (store.Together).
func (s *Store) LinkPages(ctx context.Context, vis Visibility, asks []SpecIDs) ([]map[int64][]LinkRow, error) {
	groups := RowsApart(asks)
	if s.serverPlans || len(groups) < 2 {
		return s.linkPages(ctx, vis, asks, !s.serverPlans && len(asks) > 0 && asks[0].Spec.Rows)
	}
	out := make([]map[int64][]LinkRow, len(asks))
	for _, g := range groups {
		part := make([]SpecIDs, len(g))
		for j, i := range g {
			part[j] = asks[i]
		}
		got, err := s.linkPages(ctx, vis, part, part[0].Spec.Rows)
		if err != nil {
			return nil, err
		}
		for j, i := range g {
			out[i] = got[j]
		}
	}
	return out, nil
}

// RowsApart returns the indexes of asks in two groups, those whose specs
// read no whole rows and those that do (LinkSpec.Rows), leaving out an
// empty group: each group is one statement of LinkPages.
func RowsApart(asks []SpecIDs) [][]int {
	var without, with []int
	for i, a := range asks {
		if a.Spec.Rows {
			with = append(with, i)
		} else {
			without = append(without, i)
		}
	}
	var groups [][]int
	for _, g := range [][]int{without, with} {
		if len(g) > 0 {
			groups = append(groups, g)
		}
	}
	return groups
}

// linkedNames name the columns of a part of linkPages' statement, for the
// whole rows' statement, which carries them beside the columns of the
// entity rows: each prefixed with y_ (the entity row has no such column).
var linkedNames = []string{"id", "from_id", "to_id", "type", "role", "note", "starts_on", "ends_on", "version", "created_at",
	"created_by", "confidence", "node", "ask", "okey"}

// linkedKindBranches are entityKindBranches carrying, after the columns
// of each entity, those of the link that names it (linkedNames) and the
// link's place in the answer (y_rn).
var linkedKindBranches = kindBranches(", e.y_rn, e.y_" + strings.Join(linkedNames, ", e.y_"))

// linkPages is LinkPages for asks that all read whole rows (rows) or
// none; rows only where the statements are the API's own (not
// serverPlans).
//
// With rows, the pages are read as without, into a CTE numbered in their
// order, and the entities at their other ends as EntitiesByID reads them
// (each of their kinds' tables joined to the CTE b of their entity rows),
// joined to them: one statement, a row a link.
func (s *Store) linkPages(ctx context.Context, vis Visibility, asks []SpecIDs, rows bool) ([]map[int64][]LinkRow, error) {
	order := make([]int, len(asks))
	keys := make([]string, len(asks))
	for i, a := range asks {
		order[i], keys[i] = i, a.Spec.Key()
	}
	slices.SortStableFunc(order, func(i, j int) int { return strings.Compare(keys[i], keys[j]) })
	b := &builder{}
	parts := make([]string, len(asks))
	for pos, i := range order {
		a := asks[i]
		if s.serverPlans && a.Spec.inLinkOrder() {
			parts[pos] = a.Spec.pageByFunction(b, vis, a.IDs, pos)
			continue
		}
		nodes := b.arg(a.IDs)
		heads := headNulls
		if a.Spec.Heads {
			heads = headRefs("y", "h_") // named so by page
		}
		// The lateral subquery pages each node's links on its own, so a
		// node with many links does not crowd out the others.
		parts[pos] = `SELECT y.id, y.from_id, y.to_id, y.type, y.role, y.note, y.starts_on, y.ends_on,
			y.version, y.created_at, y.created_by, y.confidence, n.id, ` + strconv.Itoa(pos) + `, y.okey, ` + heads + `
		FROM unnest(` + nodes + `::bigint[]) AS n(id)
		CROSS JOIN LATERAL (` + a.Spec.page(b, vis) + `) y`
	}
	sql := parts[0]
	if len(parts) > 1 {
		sql = "(" + strings.Join(parts, ") UNION ALL (") + ")"
	}
	var sc *entityScan
	if rows {
		var kinds []kb.Kind
		for _, a := range asks {
			if len(a.Spec.OtherKinds) == 0 {
				kinds = nil
				break
			}
			kinds = append(kinds, a.Spec.OtherKinds...)
		}
		// The pages' rows are numbered in their order (row_number over
		// the union, which the window reads in its order); b is the
		// entity row at the other end of each link (the end that is not
		// node), read by its index, carrying the link's columns; each
		// kind's own row is joined to it by its primary key. Measured at
		// 1M on the bench's partners (20 partners' 1,083 cooperatives):
		// a join of the entities to the pages' CTE instead was planned as
		// a nested loop over both (their sizes unknown to the planner),
		// 140 ms; sorting the wide rows back into the pages' order in
		// SQL, 10.4 ms against 8.1 without (p50 of the bench's ceiling).
		cols := make([]string, len(linkedNames))
		for i, n := range linkedNames {
			cols[i] = "e.y_" + n
		}
		sql = `WITH y AS MATERIALIZED (SELECT row_number() OVER () AS y_rn, q.* FROM (` + sql + `) q(y_` + strings.Join(linkedNames, ", y_") + `, h_` + strings.Join(headNames, ", h_") + `)),
			b AS MATERIALIZED (SELECT o.*, y.* FROM y JOIN entity o ON o.id = CASE WHEN y.y_from_id = y.y_node THEN y.y_to_id ELSE y.y_from_id END
				WHERE o.status = ANY(` + b.arg(vis.statuses()) + `))
			SELECT ` + strings.Join(cols, ", ") + `, e.y_rn, ` + entityColumns + `
			FROM (` + branchesOf(linkedKindBranches, kindSet(kinds)) + `) e`
		sc = newEntityScan()
	}
	// The whole rows come by kind, and are put back in the pages' order
	// (y_rn) here.
	var ranked []rankedRow
	got, err := s.read(ctx).Query(ctx, sql, b.args...)
	if err != nil {
		return nil, fmt.Errorf("links: %w", translate(err))
	}
	defer got.Close()
	out := make([]map[int64][]LinkRow, len(asks))
	for i, a := range asks {
		out[i] = make(map[int64][]LinkRow, len(a.IDs))
	}
	read := 1 // a row a link, and one an entity with whole rows, as read apart
	if sc != nil {
		read = 2
	}
	for got.Next() {
		if err := budget.Rows(ctx, read); err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
		var node, rank int64
		var ask int32
		var okey string
		var h head
		extra := []any{&node, &ask, &okey}
		if sc != nil {
			sc.reset()
			extra = append(append(extra, &rank), sc.dest...)
		} else {
			extra = append(extra, h.dest()...)
		}
		l, err := scanLink(got, extra...)
		if err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
		row := LinkRow{Link: l, OtherName: okey}
		if sc != nil {
			if row.Whole, err = sc.entity(); err != nil {
				return nil, fmt.Errorf("links: %w", err)
			}
			row.Whole = vis.scrub(row.Whole)
		}
		if asks[order[ask]].Spec.Heads {
			other := l.ToID
			if l.FromID != node {
				other = l.FromID
			}
			row.Other = h.entity(other)
		}
		if sc != nil {
			ranked = append(ranked, rankedRow{rank, order[ask], node, row})
			continue
		}
		out[order[ask]][node] = append(out[order[ask]][node], row)
	}
	if err := got.Err(); err != nil {
		return nil, fmt.Errorf("links: %w", translate(err))
	}
	slices.SortFunc(ranked, func(a, b rankedRow) int { return cmp.Compare(a.rank, b.rank) })
	for _, r := range ranked {
		out[r.ask][r.node] = append(out[r.ask][r.node], r.row)
	}
	return out, nil
}

// rankedRow is a row of linkPages' whole rows' statement, with its place
// in the pages' order.
type rankedRow struct {
	rank int64
	ask  int
	node int64
	row  LinkRow
}

// CountLinksOf returns, for each of the entities ids, how many of its links
// match sp (ignoring its order, position and limit) under vis: how many
// distinct entities at their other ends with sp.DistinctOther. One
// statement for all ids.
func (s *Store) CountLinksOf(ctx context.Context, vis Visibility, ids []int64, sp LinkSpec) (map[int64]int, error) {
	if sp.tallied() {
		return s.countTallied(ctx, vis, ids, sp)
	}
	b := &builder{}
	nodes := b.arg(ids)
	src := sp.source(b)
	where := sp.otherCond(b, vis)
	count := "count(*)"
	if sp.DistinctOther {
		count = "count(DISTINCT x.other)"
	}
	return s.countsByID(ctx, "count links", `SELECT n.id, (
			SELECT `+count+` FROM (`+src+`) x JOIN entity o ON o.id = x.other WHERE `+where+`)
		FROM unnest(`+nodes+`::bigint[]) AS n(id)`, b.args...)
}

// countsByID runs query, whose rows are (id, count), and returns the counts
// by id; what names the query in its errors.
func (s *Store) countsByID(ctx context.Context, what, query string, args ...any) (map[int64]int, error) {
	rows, err := s.read(ctx).Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	out := map[int64]int{}
	var id int64
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { out[id] = n; return nil }); err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	return out, nil
}

// tallied is whether link_tally (migration 00008) answers the count of sp
// exactly: it counts links, which are the distinct entities at their other
// ends when the links are of one type in one direction (a link is unique
// per from, type and to); an entity may be reached by two types, or both
// ways, so other counts of distinct ends read the links.
func (sp LinkSpec) tallied() bool {
	if len(sp.InTypes) > 0 {
		return false
	}
	return !sp.DistinctOther || len(sp.Types) == 1 && sp.Direction != Both
}

// countTallied is CountLinksOf from link_tally: one index range per entity,
// whatever the number of its links.
func (s *Store) countTallied(ctx context.Context, vis Visibility, ids []int64, sp LinkSpec) (map[int64]int, error) {
	b := &builder{}
	nodes := b.arg(ids)
	statuses := vis.statuses()
	if len(sp.Statuses) > 0 {
		statuses = slices.DeleteFunc(slices.Clone(statuses), func(st string) bool {
			return !slices.Contains(sp.Statuses, kb.PublicationStatus(st))
		})
	}
	if s.serverPlans {
		// The same conditions, planned once per server session (migration
		// 00037): NULL for a condition left out.
		var types, kinds []string
		if len(sp.Types) > 0 {
			types = strs(sp.Types)
		}
		if len(sp.OtherKinds) > 0 {
			kinds = strs(sp.OtherKinds)
		}
		dir := map[Direction]int{Outgoing: 1, Incoming: 2}[sp.Direction]
		return s.countsByID(ctx, "count links", `SELECT * FROM link_tally_counts($1, $2, $3, $4, $5)`, ids, statuses, types, kinds, dir)
	}
	cond := "t.other_status = ANY(" + b.arg(statuses) + ")"
	if len(sp.Types) > 0 {
		cond += " AND t.type = ANY(" + b.arg(strs(sp.Types)) + ")"
	}
	if len(sp.OtherKinds) > 0 {
		cond += " AND t.other_kind = ANY(" + b.arg(strs(sp.OtherKinds)) + ")"
	}
	switch sp.Direction {
	case Outgoing:
		cond += " AND t.outgoing"
	case Incoming:
		cond += " AND NOT t.outgoing"
	}
	return s.countsByID(ctx, "count links", `SELECT n.id, coalesce((SELECT sum(t.n) FROM link_tally t WHERE t.entity_id = n.id AND `+cond+`), 0)::int
		FROM unnest(`+nodes+`::bigint[]) AS n(id)`, b.args...)
}

// LinksByID returns the links with the given ids in the order of ids, with
// nil where a link does not exist or an end of it is not visible.
func (s *Store) LinksByID(ctx context.Context, vis Visibility, ids []int64) ([]*kb.Link, error) {
	rows, err := s.read(ctx).Query(ctx, `SELECT `+linkColumns+` FROM link l
		JOIN entity f ON f.id = l.from_id JOIN entity t ON t.id = l.to_id
		WHERE l.id = ANY($1) AND f.status = ANY($2) AND t.status = ANY($2)`, ids, vis.statuses())
	if err != nil {
		return nil, fmt.Errorf("links by id: %w", translate(err))
	}
	defer rows.Close()
	byID := map[int64]*kb.Link{}
	for rows.Next() {
		if err := budget.Rows(ctx, 1); err != nil {
			return nil, fmt.Errorf("links by id: %w", err)
		}
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("links by id: %w", err)
		}
		byID[l.ID] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("links by id: %w", translate(err))
	}
	out := make([]*kb.Link, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

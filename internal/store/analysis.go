package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// PracticeCap bounds PracticePartners: the partners behind a practice are
// found behind its first PracticeCap cases (in link order, as its cases
// are listed), and at most PracticeCap of them are returned. On the
// generated graph of a million entities a practice has thousands of cases
// and, uncapped, tens of thousands of partners behind them: a page of
// practices took seconds and gigabytes (docs/benchmarks.md, "Measurements
// behind the code").
const PracticeCap = 100

// PracticePartners returns, for each of the good practices ids, the ids of
// the partners behind it, ordered by name: partners that demonstrate the
// practice themselves, and partners linked to a case that demonstrates it
// by one of kb.PracticeCaseBackersIn (or Out); see PracticeCap. Only entities
// visible under vis count. One query for any number of practices.
func (s *Store) PracticePartners(ctx context.Context, vis Visibility, ids []int64) (map[int64][]int64, error) {
	if !vis.Drafts {
		pages, err := s.PracticePartnerPages(ctx, vis, ids, PartnerPage{Limit: PracticeCap})
		if err != nil {
			return nil, err
		}
		out := make(map[int64][]int64, len(pages))
		for id, page := range pages {
			for _, n := range page {
				out[id] = append(out[id], n.ID)
			}
		}
		return out, nil
	}
	return s.practicePartnersByRule(ctx, vis, ids)
}

// practicePartnersByRule is PracticePartners computed from the links by
// the rule itself: the reader of staff, who see drafts, and the reference
// that the kept table (migration 00019) must agree with.
func (s *Store) practicePartnersByRule(ctx context.Context, vis Visibility, ids []int64) (map[int64][]int64, error) {
	const cases = `SELECT d.from_id AS case_id FROM link d JOIN entity c ON c.id = d.from_id AND c.status = ANY($2)
				WHERE d.to_id = n.practice AND d.type = 'DEMONSTRATES' ORDER BY d.id LIMIT $5`
	rows, err := s.read(ctx).Query(ctx, `
		SELECT n.practice, x.id FROM unnest($1::bigint[]) WITH ORDINALITY AS n(practice, ord)
		CROSS JOIN LATERAL (
			SELECT p.id, p.sort_name FROM (
				SELECT c.case_id AS partner FROM (`+cases+`) c
				UNION
				SELECT l.from_id FROM (`+cases+`) c JOIN link l ON l.to_id = c.case_id AND l.type = ANY($3)
				UNION
				SELECT l.to_id FROM (`+cases+`) c JOIN link l ON l.from_id = c.case_id AND l.type = ANY($4)
			) b
			JOIN entity p ON p.id = b.partner AND p.kind = 'PARTNER' AND p.status = ANY($2)
			ORDER BY p.sort_name, p.id LIMIT $5
		) x
		ORDER BY n.ord, x.sort_name, x.id`, ids, vis.statuses(), strs(kb.PracticeCaseBackersIn), strs(kb.PracticeCaseBackersOut), PracticeCap)
	if err != nil {
		return nil, fmt.Errorf("practice partners: %w", translate(err))
	}
	out := make(map[int64][]int64, len(ids))
	var practice, partner int64
	_, err = pgx.ForEachRow(rows, []any{&practice, &partner}, func() error {
		out[practice] = append(out[practice], partner)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("practice partners: %w", translate(err))
	}
	return out, nil
}

// PartnerPage is a page of the partners behind practices: in order of
// sort name and id (reversed with Desc), after the position AfterName,
// AfterID (AfterID 0: from the start), at most Limit of them.
type PartnerPage struct {
	Desc      bool
	AfterName string
	AfterID   int64
	// UntilName and UntilID bound the read at its other end (a Relay
	// `before` read forwards, `after` read backwards); UntilID 0: no bound.
	UntilName string
	UntilID   int64
	Limit     int
	// Heads makes PracticePartnerPages read each partner's head with it
	// (Named.Head, as EntityHeads reads it).
	Heads bool
}

// bounds returns the page's order direction (" DESC" or "") and its keyset
// conditions on key, the (sort name, id) columns of the read, appended to
// args as parameters after those given.
func (p PartnerPage) bounds(key string, args []any) (dir, cond string, _ []any) {
	cmp, until := ">", "<"
	if p.Desc {
		dir, cmp, until = " DESC", "<", ">"
	}
	if p.AfterID > 0 {
		args = append(args, p.AfterName, p.AfterID)
		cond = fmt.Sprintf(" AND (%s) %s ($%d::text, $%d::bigint)", key, cmp, len(args)-1, len(args))
	}
	if p.UntilID > 0 {
		args = append(args, p.UntilName, p.UntilID)
		cond += fmt.Sprintf(" AND (%s) %s ($%d::text, $%d::bigint)", key, until, len(args)-1, len(args))
	}
	return dir, cond, args
}

// Key is a stable text form of the page, for keying loaders.
func (p PartnerPage) Key() string {
	return fmt.Sprintf("%t|%q|%d|%q|%d|%d|%t", p.Desc, p.AfterName, p.AfterID, p.UntilName, p.UntilID, p.Limit, p.Heads)
}

// Named is an entity id with its sort name: a position in a list ordered
// by name; with its head when the page asked for it (PartnerPage.Heads).
type Named struct {
	ID       int64
	SortName string
	Head     *kb.Entity
}

// behindSQL selects the distinct visible partners behind practice
// n.practice (see PracticePartners) as b(partner); $2 are the visible
// statuses, $3 kb.PracticeCaseBackersIn, $4 kb.PracticeCaseBackersOut, $5 the cap on cases.
const behindSQL = `SELECT c.case_id AS partner FROM (` + casesSQL + `) c
	UNION
	SELECT l.from_id FROM (` + casesSQL + `) c JOIN link l ON l.to_id = c.case_id AND l.type = ANY($3)
	UNION
	SELECT l.to_id FROM (` + casesSQL + `) c JOIN link l ON l.from_id = c.case_id AND l.type = ANY($4)`

// casesSQL are the first $5 visible cases of practice n.practice.
const casesSQL = `SELECT d.from_id AS case_id FROM link d JOIN entity c ON c.id = d.from_id AND c.status = ANY($2)
	WHERE d.to_id = n.practice AND d.type = 'DEMONSTRATES' ORDER BY d.id LIMIT $5`

// PracticePartnerPages returns, for each of the good practices ids, one
// page of the partners behind it (as PracticePartners finds them), each
// practice's page cut in SQL. One query for any number of practices.
//
// Anonymous readers get it from practice_partner (migration 00019), the
// set kept by triggers: one index range per practice, where the rule reads
// a practice's first 100 cases and their links (docs/benchmarks.md, "after
// issue 11/13 follow-up"). Staff, who see drafts, get the rule itself.
func (s *Store) PracticePartnerPages(ctx context.Context, vis Visibility, ids []int64, p PartnerPage) (map[int64][]Named, error) {
	if vis.Drafts {
		return s.practicePartnerPagesByRule(ctx, vis, ids, p)
	}
	// With heads, each partner's entity row o, joined by its id.
	heads, join := "", func(string) string { return "" }
	if p.Heads {
		heads = ", " + headColumns("o", "")
		join = func(partner string) string { return " JOIN entity o ON o.id = " + partner }
	}
	if s.serverPlans && !p.Desc && p.AfterID == 0 && p.UntilID == 0 {
		// A first page, planned once per server session (migration 00037);
		// the heads are read beside it, in its order.
		rows, err := s.read(ctx).Query(ctx, `SELECT x.practice, x.partner_id, x.sort_name`+heads+`
			FROM practice_partner_first($1, $2) WITH ORDINALITY AS x(practice, partner_id, sort_name, i)`+join("x.partner_id")+`
			ORDER BY x.i`, ids, p.Limit)
		if err != nil {
			return nil, fmt.Errorf("practice partners: %w", translate(err))
		}
		return collectNamed(rows, len(ids), p.Heads)
	}
	dir, after, args := p.bounds("k.sort_name, k.partner_id", []any{ids, p.Limit})
	rows, err := s.read(ctx).Query(ctx, `
		SELECT n.practice, x.* FROM unnest($1::bigint[]) AS n(practice)
		CROSS JOIN LATERAL (
			SELECT k.partner_id, k.sort_name`+heads+` FROM practice_partner k`+join("k.partner_id")+`
			WHERE k.practice_id = n.practice AND k.published`+after+`
			ORDER BY k.sort_name`+dir+`, k.partner_id`+dir+` LIMIT $2
		) x`, args...)
	if err != nil {
		return nil, fmt.Errorf("practice partners: %w", translate(err))
	}
	return collectNamed(rows, len(ids), p.Heads)
}

// collectNamed reads rows of (practice, id, sort name) into pages per
// practice, and with heads the partner's head after them (headColumns).
func collectNamed(rows pgx.Rows, size int, heads bool) (map[int64][]Named, error) {
	out := make(map[int64][]Named, size)
	var practice int64
	var n Named
	var h head
	dest := []any{&practice, &n.ID, &n.SortName}
	if heads {
		dest = append(dest, h.dest()...)
	}
	_, err := pgx.ForEachRow(rows, dest, func() error {
		n.Head = h.entity(n.ID)
		out[practice] = append(out[practice], n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("practice partners: %w", translate(err))
	}
	return out, nil
}

// practicePartnerPagesByRule is PracticePartnerPages computed by the rule
// from the links: the reader of staff and the reference of the kept set.
func (s *Store) practicePartnerPagesByRule(ctx context.Context, vis Visibility, ids []int64, p PartnerPage) (map[int64][]Named, error) {
	dir, after, args := p.bounds("p.sort_name, p.id",
		[]any{ids, vis.statuses(), strs(kb.PracticeCaseBackersIn), strs(kb.PracticeCaseBackersOut), PracticeCap, p.Limit})
	heads := ""
	if p.Heads {
		heads = ", " + headColumns("p", "")
	}
	rows, err := s.read(ctx).Query(ctx, `
		SELECT n.practice, x.* FROM unnest($1::bigint[]) AS n(practice)
		CROSS JOIN LATERAL (
			SELECT p.id, p.sort_name`+heads+` FROM (`+behindSQL+`) b
			JOIN entity p ON p.id = b.partner AND p.kind = 'PARTNER' AND p.status = ANY($2)`+after+`
			ORDER BY p.sort_name`+dir+`, p.id`+dir+` LIMIT $6
		) x`, args...)
	if err != nil {
		return nil, fmt.Errorf("practice partners: %w", translate(err))
	}
	return collectNamed(rows, len(ids), p.Heads)
}

// CountPracticePartners returns, for each of the good practices ids, how
// many partners are behind it (as PracticePartners finds them, uncapped
// in number but behind its first PracticeCap cases). One query; for
// anonymous readers an index-only count of practice_partner per practice
// (see PracticePartnerPages).
func (s *Store) CountPracticePartners(ctx context.Context, vis Visibility, ids []int64) (map[int64]int, error) {
	if vis.Drafts {
		return s.countPracticePartnersByRule(ctx, vis, ids)
	}
	if s.serverPlans {
		// The same statement, planned once per server session (migration 00037).
		return s.countsByID(ctx, "count practice partners", `SELECT * FROM practice_partner_counts($1)`, ids)
	}
	return s.countsByID(ctx, "count practice partners", `
		SELECT n.practice, (SELECT count(*)::int FROM practice_partner k WHERE k.practice_id = n.practice AND k.published)
		FROM unnest($1::bigint[]) AS n(practice)`, ids)
}

// countPracticePartnersByRule is CountPracticePartners computed by the
// rule from the links: the reader of staff and the reference of the kept
// set.
func (s *Store) countPracticePartnersByRule(ctx context.Context, vis Visibility, ids []int64) (map[int64]int, error) {
	return s.countsByID(ctx, "count practice partners", `
		SELECT n.practice, (
			SELECT count(*)::int FROM (`+behindSQL+`) b
			JOIN entity p ON p.id = b.partner AND p.kind = 'PARTNER' AND p.status = ANY($2))
		FROM unnest($1::bigint[]) AS n(practice)`, ids, vis.statuses(), strs(kb.PracticeCaseBackersIn), strs(kb.PracticeCaseBackersOut), PracticeCap)
}

// SectorCounts returns, for each of the partnerships ids, how many of its
// visible member partners belong to each sector.
func (s *Store) SectorCounts(ctx context.Context, vis Visibility, ids []int64) (map[int64]map[kb.Sector]int, error) {
	rows, err := s.read(ctx).Query(ctx, `
		SELECT l.to_id, p.sector, count(DISTINCT l.from_id)::int
		FROM link l
		JOIN entity m ON m.id = l.from_id AND m.status = ANY($2)
		JOIN partner p ON p.id = l.from_id
		WHERE l.to_id = ANY($1) AND l.type = 'MEMBER_OF'
		GROUP BY l.to_id, p.sector`, ids, vis.statuses())
	if err != nil {
		return nil, fmt.Errorf("sector counts: %w", translate(err))
	}
	out, err := collectSectorCounts(rows, len(ids))
	if err != nil {
		return nil, fmt.Errorf("sector counts: %w", err)
	}
	return out, nil
}

// collectSectorCounts reads rows of (id, sector, count) into counts per id.
func collectSectorCounts(rows pgx.Rows, size int) (map[int64]map[kb.Sector]int, error) {
	out := make(map[int64]map[kb.Sector]int, size)
	var id int64
	var sector kb.Sector
	var n int
	_, err := pgx.ForEachRow(rows, []any{&id, &sector, &n}, func() error {
		if out[id] == nil {
			out[id] = map[kb.Sector]int{}
		}
		out[id][sector] = n
		return nil
	})
	return out, translate(err)
}

package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// EntityCitations returns the citations of each of the entities ids whose
// source is visible under vis, in the order they were recorded.
func (s *Store) EntityCitations(ctx context.Context, vis Visibility, ids []int64) (map[int64][]kb.Citation, error) {
	return s.citations(ctx, vis, "entity_id", ids)
}

// LinkCitations returns the citations of each of the links ids whose source
// is visible under vis, in the order they were recorded.
func (s *Store) LinkCitations(ctx context.Context, vis Visibility, ids []int64) (map[int64][]kb.Citation, error) {
	return s.citations(ctx, vis, "link_id", ids)
}

func (s *Store) citations(ctx context.Context, vis Visibility, subject string, ids []int64) (map[int64][]kb.Citation, error) {
	// subject is one of two constants above, never client input.
	rows, err := s.read(ctx).Query(ctx, `SELECT c.`+subject+`, c.source_id, coalesce(src.key, ''), c.locator, c.quote
		FROM citation c JOIN entity src ON src.id = c.source_id
		WHERE c.`+subject+` = ANY($1) AND src.status = ANY($2)
		ORDER BY c.id`, ids, vis.statuses())
	if err != nil {
		return nil, fmt.Errorf("citations: %w", translate(err))
	}
	out := make(map[int64][]kb.Citation, len(ids))
	var id int64
	var c kb.Citation
	_, err = pgx.ForEachRow(rows, []any{&id, &c.SourceID, &c.SourceKey, &c.Locator, &c.Quote}, func() error {
		out[id] = append(out[id], c)
		return budget.Rows(ctx, 1)
	})
	if err != nil {
		return nil, fmt.Errorf("citations: %w", translate(err))
	}
	return out, nil
}

// Indicators returns the indicators of each of the cooperatives ids, oldest
// first (undated values first), with their citation when the source is
// visible under vis.
func (s *Store) Indicators(ctx context.Context, vis Visibility, ids []int64) (map[int64][]kb.Indicator, error) {
	sql := `SELECT i.id, i.cooperative_id, i.name, i.value::float8, i.unit, i.as_of, i.note,
			src.id, coalesce(src.key, ''), i.locator, i.quote
		FROM indicator i LEFT JOIN entity src ON src.id = i.source_id AND src.status = ANY($2)
		WHERE i.cooperative_id = ANY($1)
		ORDER BY i.cooperative_id, i.as_of NULLS FIRST, i.id`
	if s.serverPlans {
		// The same statement, planned once per server session (migration 00037).
		sql = `SELECT * FROM indicator_rows($1, $2)`
	}
	rows, err := s.read(ctx).Query(ctx, sql, ids, vis.statuses())
	if err != nil {
		return nil, fmt.Errorf("indicators: %w", translate(err))
	}
	out := make(map[int64][]kb.Indicator, len(ids))
	var (
		in       kb.Indicator
		srcID    *int64
		srcKey   string
		loc, quo string
	)
	_, err = pgx.ForEachRow(rows, []any{&in.ID, &in.EntityID, &in.Name, &in.Value, &in.Unit, &in.AsOf, &in.Note,
		&srcID, &srcKey, &loc, &quo}, func() error {
		v := in
		if srcID != nil {
			v.Citation = &kb.Citation{SourceID: *srcID, SourceKey: srcKey, Locator: loc, Quote: quo}
		}
		out[in.EntityID] = append(out[in.EntityID], v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicators: %w", translate(err))
	}
	return out, nil
}

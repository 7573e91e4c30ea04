package store

import (
	"context"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// Translate exposes translate to the tests.
var Translate = translate

// EntityViaView reads entity id through the view entity_full, without
// citations: what EntitiesByID must read.
func (s *Store) EntityViaView(ctx context.Context, id int64) (*kb.Entity, error) {
	return scanEntity(s.pool.QueryRow(ctx, `SELECT `+entityColumns+` FROM entity_full e WHERE e.id = $1`, id))
}

// PracticePartnerPagesByRule exposes the rule that practice_partner
// (migration 00019) keeps the answer of, for the tests that compare them.
func (s *Store) PracticePartnerPagesByRule(ctx context.Context, vis Visibility, ids []int64, p PartnerPage) (map[int64][]Named, error) {
	return s.practicePartnerPagesByRule(ctx, vis, ids, p)
}

// CountPracticePartnersByRule exposes the rule's count for the same tests.
func (s *Store) CountPracticePartnersByRule(ctx context.Context, vis Visibility, ids []int64) (map[int64]int, error) {
	return s.countPracticePartnersByRule(ctx, vis, ids)
}

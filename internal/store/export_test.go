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

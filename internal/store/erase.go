package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// ErasePerson removes the personal data of person id, in one transaction:
// the name becomes "Erased person", the key a neutral one, the summary,
// public role and contact details are cleared, and so are the entry's own
// citations (their quotes may name the person). Its links stay, so the
// graph keeps its shape, but their notes and the quotes of their citations
// are cleared. Every revision that holds the person's data (of the entry,
// of its links, and of links since deleted that named its key) loses its
// before and after states. An "erase" revision by actor records that it
// happened, without data. It returns kb.ErrNotFound, or a
// *kb.ValidationError when id is not a person.
func (s *Store) ErasePerson(ctx context.Context, actor string, id int64) (*kb.Entity, error) {
	var out *kb.Entity
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockEntity(ctx, tx, id); err != nil {
			return err
		}
		cur, err := entityTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Kind != kb.KindPerson {
			return kb.Invalid("id", "%s is not a person", cur)
		}
		newKey := fmt.Sprintf("erased-person-%d", id)
		steps := []struct {
			sql  string
			args []any
		}{
			{`UPDATE entity SET name = 'Erased person', sort_name = 'erased person', summary = '', key = $2,
				version = version + 1, updated_at = now(), updated_by = $3 WHERE id = $1`, []any{id, newKey, actor}},
			{`UPDATE person SET public_role = '', email = '', phone = '' WHERE id = $1`, []any{id}},
			{`DELETE FROM citation WHERE entity_id = $1`, []any{id}},
			{`UPDATE link SET note = '', version = version + 1, updated_at = now(), updated_by = $2
				WHERE from_id = $1 OR to_id = $1`, []any{id, actor}},
			{`UPDATE citation SET quote = '' WHERE link_id IN (SELECT id FROM link WHERE from_id = $1 OR to_id = $1)`, []any{id}},
			{`UPDATE revision SET before = NULL, after = NULL
				WHERE entity_id = $1
				   OR link_id IN (SELECT id FROM link WHERE from_id = $1 OR to_id = $1)
				   OR (link_id IS NOT NULL AND $2 <> '' AND (before->>'from' = $2 OR before->>'to' = $2
				       OR after->>'from' = $2 OR after->>'to' = $2))`, []any{id, cur.Key}},
		}
		for _, st := range steps {
			if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
				return translate(err)
			}
		}
		if out, err = entityTx(ctx, tx, id); err != nil {
			return err
		}
		// The search document held the name and role: index what is left.
		if err := indexEntity(ctx, tx, id, out); err != nil {
			return err
		}
		return writeRevision(ctx, tx, revision{actor: actor, operation: OpErase, entityID: &id, kind: kb.KindPerson})
	})
	if err != nil {
		return nil, fmt.Errorf("erase person %d: %w", id, err)
	}
	return out, nil
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// ErasePerson removes the personal data of person id, in one transaction,
// whether the entry still exists or was deleted (docs/staff.md, "Erasure").
//
// For an existing entry the name becomes "Erased person", the key a
// neutral one, the summary, public role and contact details are cleared,
// and so are the entry's own citations (their quotes may name the person).
// Its links stay, so the graph keeps its shape, but their notes and the
// quotes of their citations are cleared.
//
// Either way, every revision that holds the person's data (of the entry,
// of its links, and of links since deleted that named its key) loses its
// before and after states, so that no revert, history or export can bring
// them back. An ERASE revision by actor records that it happened, without
// data. It returns the erased entry, or nil when it had been deleted;
// kb.ErrNotFound when there never was an entry id, or a
// *kb.ValidationError when it is not a person.
func (s *Store) ErasePerson(ctx context.Context, actor string, id int64) (*kb.Entity, error) {
	var out *kb.Entity
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		key, live, err := personToErase(ctx, tx, id)
		if err != nil {
			return err
		}
		// The revisions that name the person first: the entry's, its live
		// links', and those of links (live or deleted) that named its key,
		// up to its last revision (a key is free for another entry once
		// this one is deleted, and that entry's links are not this
		// person's). Their row locks come before any lock on the entry or
		// its links: a revert takes a revision's lock first too, so the
		// two queue up instead of deadlocking, and a revert that comes
		// second reads the scrubbed revision and is refused.
		_, err = tx.Exec(ctx, `UPDATE revision SET before = NULL, after = NULL
			WHERE (before IS NOT NULL OR after IS NOT NULL) AND (
				entity_id = $1
				OR link_id IN (SELECT id FROM link WHERE from_id = $1 OR to_id = $1)
				OR (link_id IS NOT NULL AND $2 <> '' AND id <= (SELECT max(id) FROM revision WHERE entity_id = $1)
					-- the expressions of the indexes of migration 00013
					AND (coalesce(after->>'from', before->>'from') = $2 OR coalesce(after->>'to', before->>'to') = $2)))`,
			id, key)
		if err != nil {
			return translate(err)
		}
		// A revert of the person's deletion that committed while the
		// UPDATE waited for its lock made the entry again, with revisions
		// this statement did not see: refuse rather than leave them.
		var nowLive bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM entity WHERE id = $1)`, id).Scan(&nowLive); err != nil {
			return translate(err)
		}
		if nowLive != live {
			return fmt.Errorf("%w: the entry was deleted or made again meanwhile; erase it again", kb.ErrConflict)
		}
		if live {
			if out, err = eraseLive(ctx, tx, actor, id); err != nil {
				return err
			}
		}
		_, err = writeRevision(ctx, tx, revision{actor: actor, operation: kb.OpErase, entityID: &id, kind: kb.KindPerson})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("erase person: %w", err)
	}
	return out, nil
}

// personToErase returns the key person id has or had and whether its
// entry still exists. A deleted entry is known by its revisions: the
// newest state they hold says what it was. Kind and key do not change
// (but by erasure), so no lock is needed to read them.
func personToErase(ctx context.Context, tx pgx.Tx, id int64) (key string, live bool, err error) {
	var kind kb.Kind
	err = tx.QueryRow(ctx, `SELECT kind, coalesce(key, '') FROM entity WHERE id = $1`, id).Scan(&kind, &key)
	switch {
	case err == nil:
		live = true
	case errors.Is(err, pgx.ErrNoRows):
		// Gone: the newest state any revision holds says what it was.
		var raw []byte
		err = tx.QueryRow(ctx, `SELECT coalesce(after, before) FROM revision
			WHERE entity_id = $1 AND (before IS NOT NULL OR after IS NOT NULL) ORDER BY id DESC LIMIT 1`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			// Never was, or erased already (its revisions hold nothing).
			var erased bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revision WHERE entity_id = $1 AND operation = $2)`,
				id, opColumn(kb.OpErase)).Scan(&erased); err != nil {
				return "", false, translate(err)
			}
			if erased {
				return "", false, nil // erasing twice changes nothing more
			}
			return "", false, fmt.Errorf("entry: %w", kb.ErrNotFound)
		}
		if err != nil {
			return "", false, translate(err)
		}
		var e kb.Entity
		if err := json.Unmarshal(raw, &e); err != nil {
			return "", false, fmt.Errorf("revision: %w", err)
		}
		kind, key = e.Kind, e.Key
	default:
		return "", false, translate(err)
	}
	if kind != kb.KindPerson {
		return "", false, kb.Invalid("id", "is a %s, not a person", kind.TypeName())
	}
	return key, live, nil
}

// eraseLive clears the personal data of the existing person id and
// returns what is left of the entry.
func eraseLive(ctx context.Context, tx pgx.Tx, actor string, id int64) (*kb.Entity, error) {
	if err := lockEntity(ctx, tx, id); err != nil {
		return nil, err
	}
	steps := []struct {
		sql  string
		args []any
	}{
		{`UPDATE entity SET name = 'Erased person', sort_name = 'erased person', summary = '', key = $2,
			version = version + 1, updated_at = now(), updated_by = $3 WHERE id = $1`, []any{id, fmt.Sprintf("erased-person-%d", id), actor}},
		{`UPDATE person SET public_role = '', email = '', phone = '' WHERE id = $1`, []any{id}},
		{`DELETE FROM citation WHERE entity_id = $1`, []any{id}},
		{`UPDATE link SET note = '', version = version + 1, updated_at = now(), updated_by = $2
			WHERE from_id = $1 OR to_id = $1`, []any{id, actor}},
		{`UPDATE citation SET quote = '' WHERE link_id IN (SELECT id FROM link WHERE from_id = $1 OR to_id = $1)`, []any{id}},
	}
	for _, st := range steps {
		if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
			return nil, translate(err)
		}
	}
	out, err := entityTx(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	// The search document held the name and role: index what is left.
	return out, indexEntity(ctx, tx, id, out)
}

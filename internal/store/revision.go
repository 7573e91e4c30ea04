package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// ChangeChannel is the PostgreSQL NOTIFY channel of the change feed.
const ChangeChannel = "partnergraph_changes"

// Change is one entry of the change feed: a revision, announced to every
// server on the database when its transaction commits.
type Change struct {
	RevisionID int64           `json:"revision"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Operation  string          `json:"op"`
	EntityID   int64           `json:"entity,omitempty"`
	Kind       kb.Kind         `json:"kind,omitempty"`
	LinkID     int64           `json:"link,omitempty"`
	LinkType   kb.RelationType `json:"linkType,omitempty"`
}

// notify queues c on ChangeChannel in tx: PostgreSQL delivers it on commit
// and drops it on rollback, so the feed never shows a change that did not
// happen. The payload stays far below NOTIFY's 8000-byte limit: ids only.
func notify(ctx context.Context, tx pgx.Tx, c Change) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ChangeChannel, string(b))
	return translate(err)
}

// Revision is one entry of the revision log.
type Revision struct {
	ID        int64
	At        time.Time
	Actor     string
	Operation string
	EntityID  int64
	LinkID    int64
	// Before and After are the states as JSON (the data-set shape of
	// kb.Entity or kb.Link); nil where there was or is none, and for an
	// erased person.
	Before, After json.RawMessage
}

// History returns up to first revisions of an entity (entity true) or a
// link, newest first, older than the revision before (0: from the newest),
// and whether there are more.
func (s *Store) History(ctx context.Context, entity bool, id int64, first int, before int64) ([]*Revision, bool, error) {
	col := "link_id"
	if entity {
		col = "entity_id"
	}
	// $2 is cast: beside the literal 0 alone PostgreSQL would type it as
	// integer and refuse any cursor past 2^31 as out of range.
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, operation, coalesce(entity_id, 0), coalesce(link_id, 0), before, after
		FROM revision WHERE `+col+` = $1 AND ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, id, before, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("history: %w", translate(err))
	}
	defer rows.Close()
	var out []*Revision
	for rows.Next() {
		var r Revision
		if err := rows.Scan(&r.ID, &r.At, &r.Actor, &r.Operation, &r.EntityID, &r.LinkID, &r.Before, &r.After); err != nil {
			return nil, false, fmt.Errorf("history: %w", translate(err))
		}
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("history: %w", translate(err))
	}
	more := len(out) > first
	if more {
		out = out[:first]
	}
	return out, more, nil
}

// RevisionByID returns one revision, or kb.ErrNotFound.
func (s *Store) RevisionByID(ctx context.Context, id int64) (*Revision, error) {
	var r Revision
	err := s.pool.QueryRow(ctx, `SELECT id, at, actor, operation, coalesce(entity_id, 0), coalesce(link_id, 0), before, after
		FROM revision WHERE id = $1`, id).Scan(&r.ID, &r.At, &r.Actor, &r.Operation, &r.EntityID, &r.LinkID, &r.Before, &r.After)
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w", id, translate(err))
	}
	return &r, nil
}

// Reverted says what Revert did: which entity or link it restored and the
// revision that records the revert.
type Reverted struct {
	EntityID, LinkID int64
	Deleted          bool
	Revision         *Revision
}

// revertKey marks a context in which the store is reverting: every
// revision written is a "revert", and the id of the last one is recorded.
type revertKey struct{}

func reverting(ctx context.Context) (context.Context, *int64) {
	var id int64
	return context.WithValue(ctx, revertKey{}, &id), &id
}

// Revert undoes revision id by restoring the state before it, exactly
// (fields, publication status, citations, the same ID), in one transaction
// that is itself a revision (operation "revert") by v. Undoing a creation
// deletes the entry or link, which for an entry needs the ADMIN role;
// undoing a deletion makes the entry or link again under its old ID, an
// entry with the links that went with it. It returns kb.ErrNotFound for an
// unknown revision or a subject that is gone, kb.ErrConflict when a
// deleted entry's key or link has been taken since, and a
// *kb.ValidationError for revisions that cannot be undone (indicator
// changes, erasures).
func (s *Store) Revert(ctx context.Context, v kb.Viewer, id int64) (*Reverted, error) {
	rev, err := s.RevisionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	actor := v.Actor()
	ctx, revID := reverting(ctx)
	res := &Reverted{EntityID: rev.EntityID, LinkID: rev.LinkID}
	switch {
	case rev.Before == nil && rev.After == nil, rev.Operation == OpIndicatorCreate, rev.Operation == OpIndicatorUpdate:
		return nil, kb.Invalid("revisionId", "a %s revision cannot be reverted", rev.Operation)
	case rev.LinkID != 0 && rev.Before == nil: // a link was made: unlink it
		if _, err := s.DeleteLink(ctx, actor, rev.LinkID, nil); err != nil {
			return nil, err
		}
		res.Deleted = true
	case rev.LinkID != 0 && rev.After == nil: // a link was deleted: make it again
		var l kb.Link
		if err := json.Unmarshal(rev.Before, &l); err != nil {
			return nil, fmt.Errorf("revision %d: %w", id, err)
		}
		ids, err := s.idsOfKeys(ctx, l.FromKey, l.ToKey)
		if err != nil {
			return nil, err
		}
		l.ID, l.FromID, l.ToID = rev.LinkID, ids[0], ids[1]
		l.Citations = withoutIDs(l.Citations)
		if _, err := s.CreateLink(ctx, actor, &l); err != nil {
			return nil, err
		}
	case rev.LinkID != 0:
		var before kb.Link
		if err := json.Unmarshal(rev.Before, &before); err != nil {
			return nil, fmt.Errorf("revision %d: %w", id, err)
		}
		_, err := s.UpdateLink(ctx, actor, OpRevert, rev.LinkID, nil, func(cur *kb.Link) (*kb.Link, error) {
			next := before
			next.ID, next.FromID, next.ToID, next.Version = cur.ID, cur.FromID, cur.ToID, cur.Version
			next.Citations = withoutIDs(before.Citations)
			return &next, nil
		})
		if err != nil {
			return nil, err
		}
	case rev.Before == nil: // an entry was made: delete it
		if err := v.Require(kb.RoleAdmin); err != nil {
			return nil, fmt.Errorf("undoing a creation deletes the entry: %w", err)
		}
		if _, _, err := s.DeleteEntity(ctx, actor, rev.EntityID, true); err != nil {
			return nil, err
		}
		res.Deleted = true
	case rev.After == nil: // an entry was deleted: make it again, with its links
		if err := s.undelete(ctx, actor, rev); err != nil {
			return nil, err
		}
	default:
		var before kb.Entity
		if err := json.Unmarshal(rev.Before, &before); err != nil {
			return nil, fmt.Errorf("revision %d: %w", id, err)
		}
		_, err := s.UpdateEntity(ctx, actor, OpRevert, rev.EntityID, nil, func(cur *kb.Entity) (*kb.Entity, error) {
			next := before
			next.ID, next.Version = cur.ID, cur.Version
			next.Citations = withoutIDs(before.Citations)
			return &next, nil
		})
		if err != nil {
			return nil, err
		}
	}
	if *revID == 0 {
		// Nothing to change: the subject is as it was before the revision.
		res.Revision = rev
		return res, nil
	}
	if res.Revision, err = s.RevisionByID(ctx, *revID); err != nil {
		return nil, err
	}
	return res, nil
}

// undelete makes the entry of a delete revision again, under its old id,
// with the links deleted in the same transaction (same time and actor).
func (s *Store) undelete(ctx context.Context, actor string, rev *Revision) error {
	var e kb.Entity
	if err := json.Unmarshal(rev.Before, &e); err != nil {
		return fmt.Errorf("revision %d: %w", rev.ID, err)
	}
	if err := e.Validate(); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		cites, err := resolveSources(ctx, tx, withoutIDs(e.Citations))
		if err != nil {
			return err
		}
		id := rev.EntityID
		var key *string
		if e.Key != "" {
			key = &e.Key
		}
		_, err = tx.Exec(ctx, `INSERT INTO entity (id, kind, key, name, sort_name, summary, status, created_by, updated_by)
			OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			id, e.Kind, key, e.Name, kb.Fold(e.Name), e.Summary, e.Status, actor)
		if err != nil {
			return translate(err)
		}
		if err := writeAttrs(ctx, tx, id, &e); err != nil {
			return err
		}
		if err := indexEntity(ctx, tx, id, &e); err != nil {
			return err
		}
		if err := replaceCitations(ctx, tx, "entity_id", id, cites); err != nil {
			return err
		}
		out, err := entityTx(ctx, tx, id)
		if err != nil {
			return err
		}
		// The links that went with it: deleted in the same transaction.
		rows, err := tx.Query(ctx, `SELECT link_id, before FROM revision
			WHERE at = $1 AND actor = $2 AND operation = $3 AND link_id IS NOT NULL AND before IS NOT NULL ORDER BY id`,
			rev.At, rev.Actor, OpDelete)
		if err != nil {
			return translate(err)
		}
		type gone struct {
			id   int64
			link kb.Link
		}
		var links []gone
		var lid int64
		var raw []byte
		if _, err := pgx.ForEachRow(rows, []any{&lid, &raw}, func() error {
			var l kb.Link
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			if l.FromKey == e.Key || l.ToKey == e.Key {
				links = append(links, gone{lid, l})
			}
			return nil
		}); err != nil {
			return translate(err)
		}
		if err := writeRevision(ctx, tx, revision{actor: actor, operation: OpRevert, entityID: &id, after: out}); err != nil {
			return err
		}
		for _, g := range links {
			l := g.link
			l.ID = g.id
			if err := insertLink(ctx, tx, actor, &l); err != nil {
				return fmt.Errorf("link %s: %w", l, err)
			}
			back, err := linkTx(ctx, tx, l.ID, false)
			if err != nil {
				return err
			}
			if err := writeRevision(ctx, tx, revision{actor: actor, operation: OpRevert, linkID: &l.ID, after: back}); err != nil {
				return err
			}
		}
		// The entry's own revision is the one to report.
		if p, ok := ctx.Value(revertKey{}).(*int64); ok {
			return tx.QueryRow(ctx, `SELECT max(id) FROM revision WHERE entity_id = $1`, id).Scan(p)
		}
		return nil
	})
}

// withoutIDs drops the source ids of citations read from a revision, so
// that their keys (stable across a database) name the sources.
func withoutIDs(cs []kb.Citation) []kb.Citation {
	out := make([]kb.Citation, len(cs))
	for i, c := range cs {
		c.SourceID = 0
		out[i] = c
	}
	return out
}

// idsOfKeys returns the ids of the entities with the given keys, in order,
// or kb.ErrNotFound when one is missing.
func (s *Store) idsOfKeys(ctx context.Context, keys ...string) ([]int64, error) {
	out := make([]int64, len(keys))
	for i, k := range keys {
		if err := s.pool.QueryRow(ctx, `SELECT id FROM entity WHERE key = $1`, k).Scan(&out[i]); err != nil {
			if errors.Is(translate(err), kb.ErrNotFound) {
				return nil, fmt.Errorf("entity %q: %w", k, kb.ErrNotFound)
			}
			return nil, translate(err)
		}
	}
	return out, nil
}

// CountHistory returns how many revisions an entity (entity true) or a
// link has.
func (s *Store) CountHistory(ctx context.Context, entity bool, id int64) (int, error) {
	col := "link_id"
	if entity {
		col = "entity_id"
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM revision WHERE `+col+` = $1`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("count history: %w", translate(err))
	}
	return n, nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// lockEntity takes the row lock of entity id for the rest of tx, so that
// concurrent changes of one entry queue up and each sees the version its
// predecessor wrote. It returns kb.ErrNotFound if there is no such entity.
func lockEntity(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM entity WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
		return fmt.Errorf("entry: %w", translate(err))
	}
	return nil
}

// entityTx reads entity id with its citations (source keys filled), its
// original language and its translations in tx.
func entityTx(ctx context.Context, tx pgx.Tx, id int64) (*kb.Entity, error) {
	sql := `SELECT ` + entityColumns + ` FROM entity_full e WHERE e.id = $1 AND e.status = ANY($2)`
	if tx.Conn().Config().DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		// Planned at each execution (behind PgBouncer, as Store.serverPlans):
		// a plan of the view's ten tables takes 2-7 ms to make at 1M
		// entities (more under load), entity_rows' is kept by the server
		// session (docs/scaling.md, "PgBouncer").
		sql = `SELECT ` + entityColumns + ` FROM entity_rows(ARRAY[$1::bigint], $2) e`
	}
	e, err := scanEntity(tx.QueryRow(ctx, sql, id, allStatuses))
	if err != nil {
		return nil, fmt.Errorf("entry: %w", translate(err))
	}
	rows, err := tx.Query(ctx, `SELECT c.source_id, coalesce(s.key, ''), c.locator, c.quote
		FROM citation c JOIN entity s ON s.id = c.source_id WHERE c.entity_id = $1 ORDER BY c.id`, id)
	if err != nil {
		return nil, translate(err)
	}
	var c kb.Citation
	_, err = pgx.ForEachRow(rows, []any{&c.SourceID, &c.SourceKey, &c.Locator, &c.Quote}, func() error {
		e.Citations = append(e.Citations, c)
		return nil
	})
	if err != nil {
		return nil, translate(err)
	}
	// The languages are part of the entry's state: its revisions hold
	// them, and a revert restores them.
	return e, fillTexts(ctx, tx, []*kb.Entity{e})
}

// linkTx reads link id with its citations and the keys of its ends in tx;
// forUpdate also takes its row lock.
func linkTx(ctx context.Context, tx pgx.Tx, id int64, forUpdate bool) (*kb.Link, error) {
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF l"
	}
	var fk, tk string
	l, err := scanLink(tx.QueryRow(ctx, `SELECT `+linkColumns+`, coalesce(f.key, ''), coalesce(t.key, '') FROM link l
		JOIN entity f ON f.id = l.from_id JOIN entity t ON t.id = l.to_id WHERE l.id = $1`+lock, id), &fk, &tk)
	if err != nil {
		return nil, fmt.Errorf("link: %w", translate(err))
	}
	l.FromKey, l.ToKey = fk, tk
	rows, err := tx.Query(ctx, `SELECT c.source_id, coalesce(s.key, ''), c.locator, c.quote
		FROM citation c JOIN entity s ON s.id = c.source_id WHERE c.link_id = $1 ORDER BY c.id`, id)
	if err != nil {
		return nil, translate(err)
	}
	var c kb.Citation
	_, err = pgx.ForEachRow(rows, []any{&c.SourceID, &c.SourceKey, &c.Locator, &c.Quote}, func() error {
		l.Citations = append(l.Citations, c)
		return nil
	})
	return l, translate(err)
}

// resolveSources fills in the id or key of each citation's source, which
// may be given either way, and checks that each is a SOURCE. It returns a
// *kb.ValidationError naming the citation otherwise.
func resolveSources(ctx context.Context, tx pgx.Tx, cs []kb.Citation) ([]kb.Citation, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(cs))
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.SourceID)
		keys = append(keys, c.SourceKey)
	}
	rows, err := tx.Query(ctx, `SELECT id, coalesce(key, ''), kind FROM entity WHERE id = ANY($1) OR key = ANY($2)`, ids, keys)
	if err != nil {
		return nil, translate(err)
	}
	type src struct {
		id   int64
		key  string
		kind kb.Kind
	}
	byID, byKey := map[int64]src{}, map[string]src{}
	var s src
	if _, err := pgx.ForEachRow(rows, []any{&s.id, &s.key, &s.kind}, func() error {
		byID[s.id] = s
		if s.key != "" {
			byKey[s.key] = s
		}
		return nil
	}); err != nil {
		return nil, translate(err)
	}
	out := make([]kb.Citation, len(cs))
	for i, c := range cs {
		found, ok := byID[c.SourceID]
		if c.SourceID == 0 {
			found, ok = byKey[c.SourceKey]
		}
		field := fmt.Sprintf("sources[%d].source", i)
		switch {
		case !ok:
			return nil, kb.Invalid(field, "no such source")
		case found.kind != kb.KindSource:
			return nil, kb.Invalid(field, "cites a %s, not a Source", found.kind.TypeName())
		}
		c.SourceID, c.SourceKey = found.id, found.key
		out[i] = c
	}
	return out, nil
}

// freeKey returns base, or base-2, base-3, ... whichever no entity has.
func freeKey(ctx context.Context, tx pgx.Tx, base string) (string, error) {
	rows, err := tx.Query(ctx, `SELECT key FROM entity WHERE key = $1 OR key LIKE $2`, base, likeEscape(base)+"-%")
	if err != nil {
		return "", translate(err)
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", translate(err)
	}
	set := make(map[string]bool, len(taken))
	for _, k := range taken {
		set[k] = true
	}
	key := base
	for n := 2; set[key]; n++ {
		key = fmt.Sprintf("%s-%d", base, n)
	}
	return key, nil
}

// CreateEntity validates e and stores it as a new DRAFT entry, with its
// citations (by source id or key) and a revision by actor, in one
// transaction. Without a key it gets the slug of its name, made unique. It
// returns the stored entity; a *kb.ValidationError for bad input and
// kb.ErrConflict when the key is taken.
func (s *Store) CreateEntity(ctx context.Context, actor string, e *kb.Entity) (*kb.Entity, error) {
	e.Status = kb.StatusDraft
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var out *kb.Entity
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if e.Key == "" {
			base := kb.Slug(e.Name, strings.ToLower(string(e.Kind)))
			// Two entries of one name created at once would both find the
			// same free key; the lock makes the second wait for the first.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('entity key ' || $1))`, base); err != nil {
				return translate(err)
			}
			key, err := freeKey(ctx, tx, base)
			if err != nil {
				return err
			}
			e.Key = key
		}
		cites, err := resolveSources(ctx, tx, e.Citations)
		if err != nil {
			return err
		}
		e.Citations = cites
		id, err := insertEntity(ctx, tx, actor, e)
		if err != nil {
			return err
		}
		if err := replaceCitations(ctx, tx, "entity_id", id, cites); err != nil {
			return err
		}
		if out, err = entityTx(ctx, tx, id); err != nil {
			return err
		}
		_, err = writeRevision(ctx, tx, revision{actor: actor, operation: kb.OpCreate, entityID: &id, after: out})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", e, err)
	}
	return out, nil
}

// EntityChange changes an entity: it gets the current state and returns
// the new one, or an error that aborts the change.
type EntityChange func(current *kb.Entity) (*kb.Entity, error)

// UpdateEntity changes entity id in one transaction: it locks the row,
// checks expectedVersion (when not nil), applies change, validates the
// result, writes it with its citations, and records a revision of
// operation op by actor with the states before and after. A change that
// alters nothing writes nothing. It returns the entity as stored;
// kb.ErrNotFound, kb.ErrConflict when the version is not expectedVersion,
// or a *kb.ValidationError.
func (s *Store) UpdateEntity(ctx context.Context, actor string, op kb.Operation, id int64, expectedVersion *int, change EntityChange) (*kb.Entity, error) {
	var out *kb.Entity
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, _, err = updateEntityTx(ctx, tx, actor, op, id, expectedVersion, change)
		return err
	})
	return out, err
}

// verb names op in messages: "update", "indicator create".
func verb(op kb.Operation) string {
	return strings.ReplaceAll(strings.ToLower(string(op)), "_", " ")
}

// updateEntityTx is UpdateEntity in tx. It also returns the id of the
// revision it wrote, 0 when the change altered nothing. Its errors name
// the entry by kind and name, never by row id.
func updateEntityTx(ctx context.Context, tx pgx.Tx, actor string, op kb.Operation, id int64, expectedVersion *int, change EntityChange) (out *kb.Entity, revID int64, err error) {
	subject := "entry"
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s %s: %w", verb(op), subject, err)
		}
	}()
	if err := lockEntity(ctx, tx, id); err != nil {
		return nil, 0, errors.Unwrap(err) // "entry: not found" would name the entry twice
	}
	cur, err := entityTx(ctx, tx, id)
	if err != nil {
		return nil, 0, err
	}
	subject = cur.String()
	if expectedVersion != nil && *expectedVersion != cur.Version {
		return nil, 0, fmt.Errorf("%w: it is at version %d, not %d; reload it and apply the change again",
			kb.ErrConflict, cur.Version, *expectedVersion)
	}
	next, err := change(cur)
	if err != nil {
		return nil, 0, err
	}
	if next.Kind != cur.Kind || next.Key != cur.Key {
		return nil, 0, kb.Invalid("key", "the kind and key of an entry do not change")
	}
	if err := next.Validate(); err != nil {
		return nil, 0, err
	}
	if next.Citations, err = resolveSources(ctx, tx, next.Citations); err != nil {
		return nil, 0, err
	}
	if sameEntity(cur, next) {
		return cur, 0, nil
	}
	if err := updateEntity(ctx, tx, actor, id, next); err != nil {
		return nil, 0, err
	}
	if err := replaceCitations(ctx, tx, "entity_id", id, next.Citations); err != nil {
		return nil, 0, err
	}
	if out, err = entityTx(ctx, tx, id); err != nil {
		return nil, 0, err
	}
	revID, err = writeRevision(ctx, tx, revision{actor: actor, operation: op, entityID: &id, before: cur, after: out})
	return out, revID, err
}

// DeleteEntity deletes entity id with its links and citations, when
// confirm is set, recording a revision for it and for each link. It returns
// the number of links that go (or would go) with it and whether it
// deleted. It returns kb.ErrNotFound, or a *kb.ValidationError when the
// entry is a source that is still cited.
func (s *Store) DeleteEntity(ctx context.Context, actor string, id int64, confirm bool) (links int, deleted bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		links, _, err = deleteEntityTx(ctx, tx, actor, kb.OpDelete, id, confirm)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return links, confirm, nil
}

// deleteEntityTx is DeleteEntity in tx, its revisions of operation op. It
// returns the number of links and the id of the entry's revision (0 when
// confirm is false and nothing was deleted).
func deleteEntityTx(ctx context.Context, tx pgx.Tx, actor string, op kb.Operation, id int64, confirm bool) (links int, revID int64, err error) {
	subject := "entry"
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s %s: %w", verb(op), subject, err)
		}
	}()
	if err := lockEntity(ctx, tx, id); err != nil {
		return 0, 0, errors.Unwrap(err)
	}
	cur, err := entityTx(ctx, tx, id)
	if err != nil {
		return 0, 0, err
	}
	subject = cur.String()
	rows, err := tx.Query(ctx, `SELECT id FROM link WHERE from_id = $1 OR to_id = $1 ORDER BY id FOR UPDATE`, id)
	if err != nil {
		return 0, 0, translate(err)
	}
	linkIDs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, 0, translate(err)
	}
	if !confirm {
		return len(linkIDs), 0, nil
	}
	for _, lid := range linkIDs {
		l, err := linkTx(ctx, tx, lid, false)
		if err != nil {
			return 0, 0, err
		}
		if _, err := writeRevision(ctx, tx, revision{actor: actor, operation: op, linkID: &lid, before: l}); err != nil {
			return 0, 0, err
		}
	}
	if revID, err = writeRevision(ctx, tx, revision{actor: actor, operation: op, entityID: &id, before: cur}); err != nil {
		return 0, 0, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM entity WHERE id = $1`, id); err != nil {
		return 0, 0, translate(err)
	}
	return len(linkIDs), revID, nil
}

// CreateLink validates l against the vocabulary and stores it with its
// citations and a revision by actor. It returns the stored link; a
// *kb.ValidationError naming the rule when the types of its ends may not
// be joined by its type or it links an entry to itself, kb.ErrNotFound when
// an end does not exist, kb.ErrConflict when the same link exists.
func (s *Store) CreateLink(ctx context.Context, actor string, l *kb.Link) (*kb.Link, error) {
	if err := kb.ValidateLink(l); err != nil {
		return nil, err
	}
	var out *kb.Link
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, _, err = createLinkTx(ctx, tx, actor, kb.OpCreate, l)
		return err
	})
	return out, err
}

// createLinkTx is CreateLink in tx, its revision of operation op: under
// l.ID when it is set (a revert makes a deleted link again under its old
// id). It returns the link and the id of its revision. Its errors name the
// link by the names of its ends.
func createLinkTx(ctx context.Context, tx pgx.Tx, actor string, op kb.Operation, l *kb.Link) (out *kb.Link, revID int64, err error) {
	var from, to struct {
		kind kb.Kind
		name string
	}
	defer func() {
		if err != nil {
			what := fmt.Sprintf("%s %q -%s-> %s %q", from.kind.TypeName(), from.name, l.Type, to.kind.TypeName(), to.name)
			if from.kind == "" || to.kind == "" {
				what = fmt.Sprintf("a %s link", l.Type)
			}
			err = fmt.Errorf("%s %s: %w", verb(op), what, err)
		}
	}()
	// FOR SHARE keeps the ends from being deleted until the link commits.
	if err := tx.QueryRow(ctx, `SELECT kind, name FROM entity WHERE id = $1 FOR SHARE`, l.FromID).Scan(&from.kind, &from.name); err != nil {
		return nil, 0, fmt.Errorf("from: %w", translate(err))
	}
	if err := tx.QueryRow(ctx, `SELECT kind, name FROM entity WHERE id = $1 FOR SHARE`, l.ToID).Scan(&to.kind, &to.name); err != nil {
		return nil, 0, fmt.Errorf("to: %w", translate(err))
	}
	if err := kb.CheckLink(l.Type, from.kind, to.kind); err != nil {
		return nil, 0, err
	}
	if err := insertLink(ctx, tx, actor, l); err != nil {
		return nil, 0, err
	}
	id := l.ID
	if out, err = linkTx(ctx, tx, id, false); err != nil {
		return nil, 0, err
	}
	revID, err = writeRevision(ctx, tx, revision{actor: actor, operation: op, linkID: &id, after: out})
	return out, revID, err
}

// insertLink resolves l's citations and inserts it with them, under l.ID
// when it is set (a revert makes a deleted link again under its old id),
// else under a new id that it stores in l.ID.
func insertLink(ctx context.Context, tx pgx.Tx, actor string, l *kb.Link) error {
	cites, err := resolveSources(ctx, tx, l.Citations)
	if err != nil {
		return err
	}
	if l.FromID == 0 || l.ToID == 0 {
		ids := []int64{0, 0}
		for i, k := range []string{l.FromKey, l.ToKey} {
			if err := tx.QueryRow(ctx, `SELECT id FROM entity WHERE key = $1`, k).Scan(&ids[i]); err != nil {
				return fmt.Errorf("entry %q: %w", k, translate(err))
			}
		}
		l.FromID, l.ToID = ids[0], ids[1]
	}
	var id *int64
	if l.ID != 0 {
		id = &l.ID
	}
	err = tx.QueryRow(ctx, `INSERT INTO link (id, from_id, to_id, type, role, note, starts_on, ends_on, confidence, created_by, updated_by)
		OVERRIDING SYSTEM VALUE
		VALUES (coalesce($1, nextval(pg_get_serial_sequence('link', 'id'))), $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		id, l.FromID, l.ToID, l.Type, l.Role, l.Note, l.StartsOn, l.EndsOn, l.Confidence, actor).Scan(&l.ID)
	if err != nil {
		return translate(err)
	}
	return replaceCitations(ctx, tx, "link_id", l.ID, cites)
}

// LinkChange changes a link: it gets the current state and returns the new.
type LinkChange func(current *kb.Link) (*kb.Link, error)

// UpdateLink changes link id like UpdateEntity changes an entity: locked,
// version-checked, validated, with a revision of operation op. Its ends
// and type stay.
func (s *Store) UpdateLink(ctx context.Context, actor string, op kb.Operation, id int64, expectedVersion *int, change LinkChange) (*kb.Link, error) {
	var out *kb.Link
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, _, err = updateLinkTx(ctx, tx, actor, op, id, expectedVersion, change)
		return err
	})
	return out, err
}

// updateLinkTx is UpdateLink in tx; it also returns the id of the revision
// it wrote, 0 when the change altered nothing. Its errors name the link by
// the keys of its ends.
func updateLinkTx(ctx context.Context, tx pgx.Tx, actor string, op kb.Operation, id int64, expectedVersion *int, change LinkChange) (out *kb.Link, revID int64, err error) {
	subject := "link"
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s %s: %w", verb(op), subject, err)
		}
	}()
	cur, err := linkTx(ctx, tx, id, true)
	if err != nil {
		return nil, 0, errors.Unwrap(err)
	}
	subject = "link " + cur.String()
	if expectedVersion != nil && *expectedVersion != cur.Version {
		return nil, 0, fmt.Errorf("%w: it is at version %d, not %d", kb.ErrConflict, cur.Version, *expectedVersion)
	}
	next, err := change(cur)
	if err != nil {
		return nil, 0, err
	}
	if err := kb.ValidateLink(next); err != nil {
		return nil, 0, err
	}
	if next.Citations, err = resolveSources(ctx, tx, next.Citations); err != nil {
		return nil, 0, err
	}
	if sameLink(cur, next) {
		return cur, 0, nil
	}
	_, err = tx.Exec(ctx, `UPDATE link SET role = $2, note = $3, starts_on = $4, ends_on = $5, confidence = $6,
			version = version + 1, updated_at = now(), updated_by = $7 WHERE id = $1`,
		id, next.Role, next.Note, next.StartsOn, next.EndsOn, next.Confidence, actor)
	if err != nil {
		return nil, 0, translate(err)
	}
	if err := replaceCitations(ctx, tx, "link_id", id, next.Citations); err != nil {
		return nil, 0, err
	}
	if out, err = linkTx(ctx, tx, id, false); err != nil {
		return nil, 0, err
	}
	revID, err = writeRevision(ctx, tx, revision{actor: actor, operation: op, linkID: &id, before: cur, after: out})
	return out, revID, err
}

// DeleteLink deletes link id with a revision by actor, after checking
// expectedVersion when not nil. It returns the deleted link, kb.ErrNotFound
// or kb.ErrConflict.
func (s *Store) DeleteLink(ctx context.Context, actor string, id int64, expectedVersion *int) (*kb.Link, error) {
	var out *kb.Link
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, _, err = deleteLinkTx(ctx, tx, actor, kb.OpDelete, id, expectedVersion)
		return err
	})
	return out, err
}

// deleteLinkTx is DeleteLink in tx, its revision of operation op; it also
// returns the id of that revision.
func deleteLinkTx(ctx context.Context, tx pgx.Tx, actor string, op kb.Operation, id int64, expectedVersion *int) (cur *kb.Link, revID int64, err error) {
	subject := "link"
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s %s: %w", verb(op), subject, err)
		}
	}()
	if cur, err = linkTx(ctx, tx, id, true); err != nil {
		return nil, 0, errors.Unwrap(err)
	}
	subject = "link " + cur.String()
	if expectedVersion != nil && *expectedVersion != cur.Version {
		return nil, 0, fmt.Errorf("%w: it is at version %d, not %d", kb.ErrConflict, cur.Version, *expectedVersion)
	}
	if revID, err = writeRevision(ctx, tx, revision{actor: actor, operation: op, linkID: &id, before: cur}); err != nil {
		return nil, 0, err
	}
	if _, err = tx.Exec(ctx, `DELETE FROM link WHERE id = $1`, id); err != nil {
		return nil, 0, translate(err)
	}
	return cur, revID, nil
}

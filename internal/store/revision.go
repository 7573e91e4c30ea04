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
	Operation  kb.Operation    `json:"op"`
	EntityID   int64           `json:"entity,omitempty"`
	Kind       kb.Kind         `json:"kind,omitempty"`
	LinkID     int64           `json:"link,omitempty"`
	LinkType   kb.RelationType `json:"linkType,omitempty"`
	// TopicID and TopicSlug name the topic of a change of the vocabulary
	// (kb.Operation.IsTopic); its slug after the change, or before a
	// merge that removed it.
	TopicID   int64  `json:"topic,omitempty"`
	TopicSlug string `json:"topicSlug,omitempty"`
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
	Operation kb.Operation
	EntityID  int64
	LinkID    int64
	TopicID   int64
	// Before and After are the states as JSON (the data-set shape of
	// kb.Entity or kb.Link); nil where there was or is none, and for an
	// erased person.
	Before, After json.RawMessage
}

// revisionColumns are the columns scanRevision reads, from revision r.
const revisionColumns = `r.id, r.at, r.actor, r.operation, coalesce(r.entity_id, 0), coalesce(r.link_id, 0), coalesce(r.topic_id, 0), r.before, r.after`

// scanRevision reads one row of revisionColumns.
func scanRevision(row pgx.Row) (*Revision, error) {
	var r Revision
	var op string
	if err := row.Scan(&r.ID, &r.At, &r.Actor, &op, &r.EntityID, &r.LinkID, &r.TopicID, &r.Before, &r.After); err != nil {
		return nil, err
	}
	r.Operation = opOf(op)
	return &r, nil
}

// HistoryPage is one subject's page of revisions.
type HistoryPage struct {
	Revisions []*Revision // in reading order: newest first, or oldest first (HistorySpec.Oldest)
	More      bool        // more revisions follow in reading order
}

// HistorySpec asks for one page of revision histories, which are shown
// newest first: up to Limit revisions with ids below Below and above
// Above (0: unbounded), read from the newest, or from the oldest with
// Oldest (a Relay `last` page).
type HistorySpec struct {
	Limit  int
	Below  int64
	Above  int64
	Oldest bool
}

// Subject is what a history is of: entries, links or topics.
type Subject int

// The subjects of histories.
const (
	SubjectEntity Subject = iota
	SubjectLink
	SubjectTopic
)

// column is the revision table's column of the subject.
func (s Subject) column() string {
	switch s {
	case SubjectLink:
		return "link_id"
	case SubjectTopic:
		return "topic_id"
	}
	return "entity_id"
}

// Histories returns the revision histories of the entities, links or
// topics ids (of subject), in one statement for any number of them: a page of up to
// sp.Limit revisions each, in reading order (newest first, or oldest first
// with sp.Oldest), within sp's bounds. More says whether revisions follow
// in reading order. A subject without revisions has an empty page.
func (s *Store) Histories(ctx context.Context, subject Subject, ids []int64, sp HistorySpec) (map[int64]*HistoryPage, error) {
	col := subject.column()
	dir := "DESC"
	if sp.Oldest {
		dir = "ASC"
	}
	first := sp.Limit
	// One index range scan of (subject, id) per subject, LIMIT first+1. $2
	// and $3 are cast: beside the literal 0 alone PostgreSQL would type
	// them as integer and refuse any cursor past 2^31 as out of range.
	rows, err := s.read(ctx).Query(ctx, `SELECT n.subject, `+revisionColumns+`
		FROM unnest($1::bigint[]) AS n(subject)
		CROSS JOIN LATERAL (SELECT * FROM revision r WHERE r.`+col+` = n.subject
			AND ($2::bigint = 0 OR r.id < $2) AND ($3::bigint = 0 OR r.id > $3)
			ORDER BY r.id `+dir+` LIMIT $4) r
		ORDER BY n.subject, r.id `+dir, ids, sp.Below, sp.Above, first+1)
	if err != nil {
		return nil, fmt.Errorf("history: %w", translate(err))
	}
	defer rows.Close()
	out := make(map[int64]*HistoryPage, len(ids))
	for _, id := range ids {
		out[id] = &HistoryPage{}
	}
	for rows.Next() {
		var subject int64
		var r Revision
		var op string
		if err := rows.Scan(&subject, &r.ID, &r.At, &r.Actor, &op, &r.EntityID, &r.LinkID, &r.TopicID, &r.Before, &r.After); err != nil {
			return nil, fmt.Errorf("history: %w", translate(err))
		}
		r.Operation = opOf(op)
		p := out[subject]
		if len(p.Revisions) == first {
			p.More = true
			continue
		}
		p.Revisions = append(p.Revisions, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", translate(err))
	}
	return out, nil
}

// RevisionByID returns one revision, or kb.ErrNotFound.
func (s *Store) RevisionByID(ctx context.Context, id int64) (*Revision, error) {
	r, err := scanRevision(s.read(ctx).QueryRow(ctx, `SELECT `+revisionColumns+` FROM revision r WHERE r.id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("revision: %w", translate(err))
	}
	return r, nil
}

// revisionTx reads revision id in tx and takes a share lock on it, so
// that an erasure, which scrubs revisions, waits for a revert that reads
// one, and the other way round.
func revisionTx(ctx context.Context, tx pgx.Tx, id int64) (*Revision, error) {
	r, err := scanRevision(tx.QueryRow(ctx, `SELECT `+revisionColumns+` FROM revision r WHERE r.id = $1 FOR SHARE`, id))
	if err != nil {
		return nil, fmt.Errorf("revision: %w", translate(err))
	}
	return r, nil
}

// Reverted says what Revert did: which entity or link it restored, and
// the revision that records the revert.
type Reverted struct {
	EntityID, LinkID int64
	Deleted          bool
	// RevisionID is the id of Revision.
	RevisionID int64
	// Revision records the revert; it is the reverted revision itself when
	// its subject was already as it was before it, and nothing changed.
	Revision *Revision
}

// Revert undoes revision id by restoring the state before it, exactly
// (fields, publication status, citations, the same ID), in one transaction
// whose revisions are of operation REVERT by actor. Undoing a creation
// deletes the entry or link (kb.RevertRole says who may: the caller
// checks); undoing a deletion makes the entry or link again under its old
// ID, an entry with the links that went with it. Either all of it happens
// or nothing does. It returns kb.ErrNotFound for an unknown revision or a
// subject that is gone, kb.ErrConflict when a deleted entry's key or link
// has been taken since, and a *kb.ValidationError for revisions that
// cannot be undone (kb.HowToRevert).
func (s *Store) Revert(ctx context.Context, actor string, id int64) (*Reverted, error) {
	var res *Reverted
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rev, err := revisionTx(ctx, tx, id)
		if err != nil {
			return err
		}
		res = &Reverted{EntityID: rev.EntityID, LinkID: rev.LinkID}
		var revID int64
		switch step := kb.HowToRevert(rev.Operation, rev.Before != nil, rev.After != nil); {
		case step == kb.RevertNone:
			if rev.Before == nil && rev.After == nil && rev.Operation != kb.OpErase {
				return kb.Invalid("revisionId", "the states of this %s revision were erased; it cannot be reverted", verb(rev.Operation))
			}
			return kb.Invalid("revisionId", "a %s revision cannot be reverted", verb(rev.Operation))
		case rev.LinkID != 0 && step == kb.RevertDelete:
			_, revID, err = deleteLinkTx(ctx, tx, actor, kb.OpRevert, rev.LinkID, nil)
			res.Deleted = true
		case rev.LinkID != 0 && step == kb.RevertRemake:
			revID, err = remakeLinkTx(ctx, tx, actor, rev)
		case rev.LinkID != 0:
			var before kb.Link
			if err := json.Unmarshal(rev.Before, &before); err != nil {
				return fmt.Errorf("revision: %w", err)
			}
			_, revID, err = updateLinkTx(ctx, tx, actor, kb.OpRevert, rev.LinkID, nil, func(cur *kb.Link) (*kb.Link, error) {
				next := before
				next.ID, next.FromID, next.ToID, next.Version = cur.ID, cur.FromID, cur.ToID, cur.Version
				next.Citations = withoutIDs(before.Citations)
				return &next, nil
			})
		case step == kb.RevertDelete:
			_, revID, err = deleteEntityTx(ctx, tx, actor, kb.OpRevert, rev.EntityID, true)
			res.Deleted = true
		case step == kb.RevertRemake:
			revID, err = undeleteTx(ctx, tx, actor, rev)
		default:
			var before kb.Entity
			if err := json.Unmarshal(rev.Before, &before); err != nil {
				return fmt.Errorf("revision: %w", err)
			}
			_, revID, err = updateEntityTx(ctx, tx, actor, kb.OpRevert, rev.EntityID, nil, func(cur *kb.Entity) (*kb.Entity, error) {
				next := before
				next.ID, next.Version = cur.ID, cur.Version
				next.Citations = withoutIDs(before.Citations)
				return &next, nil
			})
		}
		if err != nil {
			return err
		}
		if revID == 0 {
			// Nothing to change: the subject is as it was before the revision.
			res.RevisionID, res.Revision = rev.ID, rev
			return nil
		}
		res.RevisionID = revID
		res.Revision, err = revisionTx(ctx, tx, revID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// remakeLinkTx makes the link of a delete revision again, under its old
// id, and returns the id of the revision that records it.
func remakeLinkTx(ctx context.Context, tx pgx.Tx, actor string, rev *Revision) (int64, error) {
	var l kb.Link
	if err := json.Unmarshal(rev.Before, &l); err != nil {
		return 0, fmt.Errorf("revision: %w", err)
	}
	ids, err := idsOfKeys(ctx, tx, l.FromKey, l.ToKey)
	if err != nil {
		return 0, fmt.Errorf("remake link %s: %w", l, err)
	}
	l.ID, l.FromID, l.ToID = rev.LinkID, ids[0], ids[1]
	l.Citations = withoutIDs(l.Citations)
	if err := kb.ValidateLink(&l); err != nil {
		return 0, err
	}
	_, revID, err := createLinkTx(ctx, tx, actor, kb.OpRevert, &l)
	return revID, err
}

// undeleteTx makes the entry of a delete revision again, under its old
// id, with the links deleted in the same transaction (same time and
// actor), and returns the id of the entry's revision.
func undeleteTx(ctx context.Context, tx pgx.Tx, actor string, rev *Revision) (revID int64, err error) {
	var e kb.Entity
	if err := json.Unmarshal(rev.Before, &e); err != nil {
		return 0, fmt.Errorf("revision: %w", err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("undelete %s: %w", &e, err)
		}
	}()
	if err := e.Validate(); err != nil {
		return 0, err
	}
	cites, err := resolveSources(ctx, tx, withoutIDs(e.Citations))
	if err != nil {
		return 0, err
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
		return 0, translate(err)
	}
	if err := writeAttrs(ctx, tx, actor, id, &e); err != nil {
		return 0, err
	}
	if err := indexEntity(ctx, tx, id, &e); err != nil {
		return 0, err
	}
	if err := replaceCitations(ctx, tx, "entity_id", id, cites); err != nil {
		return 0, err
	}
	out, err := entityTx(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	// The links that went with it: deleted in the same transaction.
	rows, err := tx.Query(ctx, `SELECT link_id, before FROM revision
		WHERE at = $1 AND actor = $2 AND operation = $3 AND link_id IS NOT NULL AND before IS NOT NULL ORDER BY id`,
		rev.At, rev.Actor, opColumn(rev.Operation))
	if err != nil {
		return 0, translate(err)
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
		return 0, translate(err)
	}
	if revID, err = writeRevision(ctx, tx, revision{actor: actor, operation: kb.OpRevert, entityID: &id, after: out}); err != nil {
		return 0, err
	}
	for _, g := range links {
		l := g.link
		l.ID = g.id
		if err := insertLink(ctx, tx, actor, &l); err != nil {
			return 0, fmt.Errorf("link %s: %w", l, err)
		}
		back, err := linkTx(ctx, tx, l.ID, false)
		if err != nil {
			return 0, err
		}
		if _, err := writeRevision(ctx, tx, revision{actor: actor, operation: kb.OpRevert, linkID: &l.ID, after: back}); err != nil {
			return 0, err
		}
	}
	// The entry's own revision is the one to report.
	return revID, nil
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
func idsOfKeys(ctx context.Context, tx pgx.Tx, keys ...string) ([]int64, error) {
	out := make([]int64, len(keys))
	for i, k := range keys {
		if err := tx.QueryRow(ctx, `SELECT id FROM entity WHERE key = $1`, k).Scan(&out[i]); err != nil {
			if errors.Is(translate(err), kb.ErrNotFound) {
				return nil, fmt.Errorf("entry %q: %w", k, kb.ErrNotFound)
			}
			return nil, translate(err)
		}
	}
	return out, nil
}

// CountHistories returns how many revisions each of the entities, links
// or topics ids (of subject) has, in one statement; one without revisions
// is missing from the map.
func (s *Store) CountHistories(ctx context.Context, subject Subject, ids []int64) (map[int64]int, error) {
	col := subject.column()
	return s.countsByID(ctx, "count history", `SELECT `+col+`, count(*)::int FROM revision WHERE `+col+` = ANY($1) GROUP BY `+col, ids)
}

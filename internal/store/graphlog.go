package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// The graph's shape as the in-memory adjacency index reads it: a snapshot
// streamed in one read-only transaction, then the change log from the
// snapshot's version on (migrations/00011_graph_change.sql,
// docs/traversal.md). Kinds, statuses and relation types travel as small
// codes: their positions in kb.Kinds, Statuses and kb.RelationTypes(),
// plus one, so that 0 means none.

// relationTypes are the relation types in the order of their codes.
var relationTypes = kb.RelationTypes()

// Statuses are the publication statuses in the order of their codes.
var Statuses = []kb.PublicationStatus{kb.StatusDraft, kb.StatusPublished, kb.StatusArchived}

// GraphVersion returns the version of the graph's shape: it grows by one
// with every committed statement that changes what a walk may follow.
func (s *Store) GraphVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT version FROM graph_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("graph version: %w", translate(err))
	}
	return v, nil
}

// GraphSize returns PostgreSQL's estimate of the numbers of entities and
// links (pg_class.reltuples; 0 before the tables were first analysed).
func (s *Store) GraphSize(ctx context.Context) (entities, links int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT greatest(0, (SELECT reltuples FROM pg_class WHERE oid = 'entity'::regclass))::bigint,
		greatest(0, (SELECT reltuples FROM pg_class WHERE oid = 'link'::regclass))::bigint`).Scan(&entities, &links)
	if err != nil {
		return 0, 0, fmt.Errorf("graph size: %w", translate(err))
	}
	return entities, links, nil
}

// GraphSink receives a snapshot of the graph's shape, in an order that
// lets it allocate every array once at its final size: the sizes, every
// entity, every link's ends (to count degrees), then every link.
type GraphSink interface {
	// Entities is called first with the number of entities, the largest
	// entity id and the bytes of all their names.
	Entities(n, maxID, nameBytes int64) error
	// Entity is called once per entity, in ascending id order, with the
	// codes of its kind and status and its name (valid during the call
	// only).
	Entity(id int64, kind, status uint8, name []byte)
	// Ends is called once per link, after every entity, with its ends,
	// in no order: a first pass over the links.
	Ends(from, to int64) error
	// Links is called after the last Ends, before the first Link, with
	// the largest link id.
	Links(maxID int64) error
	// Link is called once per link, after every Ends, with its id, the
	// code of its type and its role (valid during the call only).
	Link(id, from, to int64, typ uint8, role []byte) error
}

// StreamGraph reads every entity and link into sink in one repeatable-read
// transaction and returns the version the snapshot is at. It reads rows
// as they arrive, without holding the result in memory; the links are
// read twice (their ends, then all), so that a sink can place each link
// in its final slot as it arrives.
func (s *Store) StreamGraph(ctx context.Context, sink GraphSink) (int64, error) {
	var version int64
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM graph_version`).Scan(&version); err != nil {
			return translate(err)
		}
		var n, maxID, nameBytes int64
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(max(id), 0), coalesce(sum(octet_length(name)), 0)::int8 FROM entity`).
			Scan(&n, &maxID, &nameBytes); err != nil {
			return translate(err)
		}
		if err := sink.Entities(n, maxID, nameBytes); err != nil {
			return err
		}
		// Kinds, statuses and types are mapped to their codes here rather
		// than by array_position in PostgreSQL: that took 3.5 of the 4.5 s
		// of the links' read at 1M.
		kinds, statuses := strs(kb.Kinds), strs(Statuses)
		rows, err := tx.Query(ctx, `SELECT id, kind, status, name FROM entity ORDER BY id`)
		if err != nil {
			return translate(err)
		}
		var id int64
		var kind, status, name rawText
		_, err = pgx.ForEachRow(rows, []any{&id, &kind, &status, &name}, func() error {
			sink.Entity(id, codeOf(kinds, kind), codeOf(statuses, status), name)
			return nil
		})
		if err != nil {
			return translate(err)
		}
		var maxLink int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM link`).Scan(&maxLink); err != nil {
			return translate(err)
		}
		// The ends come as binary COPY, parsed here as they arrive: 5
		// million rows through pgx's row protocol took 3.5 s at 1M.
		ends := &endsCopy{sink: sink.Ends}
		if _, err := tx.Conn().PgConn().CopyTo(ctx, ends, `COPY (SELECT from_id, to_id FROM link) TO STDOUT (FORMAT binary)`); err != nil {
			if ends.err != nil {
				return ends.err
			}
			return translate(err)
		}
		if !ends.done || len(ends.buf) > 0 {
			return errors.New("the links' ends ended early")
		}
		if err := sink.Links(maxLink); err != nil {
			return err
		}
		types := strs(relationTypes)
		rows, err = tx.Query(ctx, `SELECT id, from_id, to_id, type, role FROM link`)
		if err != nil {
			return translate(err)
		}
		var from, to int64
		var typ, role rawText
		_, err = pgx.ForEachRow(rows, []any{&id, &from, &to, &typ, &role}, func() error {
			return sink.Link(id, from, to, codeOf(types, typ), role)
		})
		return translate(err)
	})
	if err != nil {
		return 0, fmt.Errorf("stream graph: %w", err)
	}
	return version, nil
}

// endsCopy parses COPY (SELECT from_id, to_id ...) TO STDOUT (FORMAT
// binary) as it arrives, whatever the chunks, into sink.
type endsCopy struct {
	sink   func(from, to int64) error
	buf    []byte
	header bool
	done   bool
	err    error // the sink's or the format's, which stopped the copy
}

// Write implements io.Writer.
func (e *endsCopy) Write(p []byte) (int, error) {
	e.buf = append(e.buf, p...)
	b := e.buf
	if !e.header {
		// PGCOPY\n\377\r\n\0, the flags, the extension's length and the extension.
		if len(b) < 19 {
			return len(p), nil
		}
		ext := int(binary.BigEndian.Uint32(b[15:19]))
		if len(b) < 19+ext {
			return len(p), nil
		}
		b, e.header = b[19+ext:], true
	}
	for len(b) >= 2 && !e.done {
		switch n := int16(binary.BigEndian.Uint16(b)); {
		case n == -1:
			b, e.done = b[2:], true
			continue
		case n != 2:
			e.err = fmt.Errorf("the links' ends: a row of %d fields", n)
			return 0, e.err
		}
		if len(b) < 26 {
			break
		}
		if binary.BigEndian.Uint32(b[2:]) != 8 || binary.BigEndian.Uint32(b[14:]) != 8 {
			e.err = errors.New("the links' ends: not two bigints")
			return 0, e.err
		}
		if err := e.sink(int64(binary.BigEndian.Uint64(b[6:])), int64(binary.BigEndian.Uint64(b[18:]))); err != nil {
			e.err = err
			return 0, err
		}
		b = b[26:]
	}
	e.buf = append(e.buf[:0], b...)
	return len(p), nil
}

// codeOf returns the code of the name b among names (its position plus
// one), 0 for none, as array_position does.
func codeOf(names []string, b []byte) uint8 {
	for i, n := range names {
		if string(b) == n {
			return uint8(i + 1)
		}
	}
	return 0
}

// rawText scans a text column without a copy (pgtype.BytesScanner): the
// bytes are pgx's, valid until the next row.
type rawText []byte

// ScanBytes implements pgtype.BytesScanner.
func (t *rawText) ScanBytes(v []byte) error {
	*t = v
	return nil
}

// GraphChange is one entry of the change log of the graph's shape.
type GraphChange struct {
	Version int64
	// Entity is set when an entity appeared, went or changed: Kind and
	// Status are its codes, both 0 when it went, and Name its name
	// (HasName false in rows logged before migration 00039).
	Entity       int64
	Kind, Status uint8
	Name         string
	HasName      bool
	// Link changes: From, Type (code), To, and whether it is now Present;
	// LinkID and Role (migration 00039; LinkID 0 before it). A row present
	// for a link already there changes its role.
	From, To int64
	Type     uint8
	Present  bool
	LinkID   int64
	Role     string
	// Reload says the change was too large to log: rebuild.
	Reload bool
}

// GraphChanges returns the logged changes after version after up to and
// including version upto, in version order, and whether the log still
// holds them all (false: some were pruned; rebuild instead).
func (s *Store) GraphChanges(ctx context.Context, after, upto int64) ([]GraphChange, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, coalesce(entity_id, 0),
			coalesce(array_position($3::text[], kind), 0)::int2, coalesce(array_position($4::text[], status), 0)::int2,
			coalesce(from_id, 0), coalesce(to_id, 0), coalesce(array_position($5::text[], type), 0)::int2,
			coalesce(present, false), reload, name, coalesce(link_id, 0), coalesce(role, '')
		FROM graph_change WHERE version > $1 AND version <= $2 ORDER BY version, seq`,
		after, upto, strs(kb.Kinds), strs(Statuses), strs(kb.RelationTypes()))
	if err != nil {
		return nil, false, fmt.Errorf("graph changes: %w", translate(err))
	}
	var out []GraphChange
	var c GraphChange
	var kind, status, typ int16
	var name *string
	_, err = pgx.ForEachRow(rows, []any{&c.Version, &c.Entity, &kind, &status, &c.From, &c.To, &typ, &c.Present, &c.Reload,
		&name, &c.LinkID, &c.Role}, func() error {
		c.Kind, c.Status, c.Type = uint8(kind), uint8(status), uint8(typ)
		c.Name, c.HasName = "", name != nil
		if name != nil {
			c.Name = *name
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("graph changes: %w", translate(err))
	}
	// Every version bumped logs at least one row: a gap means pruned.
	versions := 0
	for i := range out {
		if i == 0 || out[i].Version != out[i-1].Version {
			versions++
		}
	}
	return out, int64(versions) == upto-after, nil
}

// KindCode returns the code of a kind (its position in kb.Kinds plus one),
// 0 for none.
func KindCode(k kb.Kind) uint8 { return uint8(slices.Index(kb.Kinds, k) + 1) }

// StatusCode returns the code of a status (its position in Statuses plus
// one), 0 for none.
func StatusCode(st kb.PublicationStatus) uint8 { return uint8(slices.Index(Statuses, st) + 1) }

// RelationCode returns the code of a relation type (its position in
// kb.RelationTypes() plus one), 0 for an unknown one.
func RelationCode(t kb.RelationType) uint8 { return uint8(slices.Index(relationTypes, t) + 1) }

// RelationOfCode returns the relation type of a code; "" for none.
func RelationOfCode(c uint8) kb.RelationType {
	if c == 0 || int(c) > len(relationTypes) {
		return ""
	}
	return relationTypes[c-1]
}

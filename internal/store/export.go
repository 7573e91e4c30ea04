package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// ExportFilter selects the part of the graph an export holds. Empty fields
// do not restrict. Kinds restricts every entity; each attribute filter
// restricts only the kinds that carry the attribute and lets the others
// through, so filters combine: Kinds {PARTNER, COOPERATIVE} with Sectors
// {PUBLIC} and Country "PL" is the public partners and the cooperatives in
// Poland. Links are exported only between exported entities, citations only
// of exported sources, indicators only of exported cooperatives.
type ExportFilter struct {
	Kinds        []kb.Kind
	Sectors      []kb.Sector      // partners
	PartnerKinds []kb.PartnerKind // partners
	Country      string           // partners, cooperatives, foreign examples, events
	Region       string           // partners, cooperatives, foreign examples, events
	Activities   []kb.Activity    // cooperatives: any of them
	Relations    []kb.RelationType
}

// placed are the kinds that have a place (country, region, city).
var placed = []string{string(kb.KindPartner), string(kb.KindCooperative), string(kb.KindForeignExample), string(kb.KindEvent)}

// exportKey is the SQL expression of the stable key of entity alias x: its
// key, or for an entity without one "<kind>.<id>" in lower case with
// hyphens ("good-practice.17"). Ids are never reused, so the derived key
// stays the same for the life of the entity; the reference data's keys
// carry no dots, so a derived key does not collide with them.
func exportKey(x string) string {
	return fmt.Sprintf(`coalesce(%[1]s.key, replace(lower(%[1]s.kind), '_', '-') || '.' || %[1]s.id)`, x)
}

// cond returns the conditions that entity_full row x must meet to be
// exported under vis and f.
func (f ExportFilter) cond(b *builder, vis Visibility, x string) string {
	c := []string{x + ".status = ANY(" + b.arg(vis.statuses()) + ")"}
	if len(f.Kinds) > 0 {
		c = append(c, x+".kind = ANY("+b.arg(strs(f.Kinds))+")")
	}
	if len(f.Sectors) > 0 {
		c = append(c, fmt.Sprintf("(%[1]s.kind <> 'PARTNER' OR %[1]s.sector = ANY(%[2]s))", x, b.arg(strs(f.Sectors))))
	}
	if len(f.PartnerKinds) > 0 {
		c = append(c, fmt.Sprintf("(%[1]s.kind <> 'PARTNER' OR %[1]s.partner_kind = ANY(%[2]s))", x, b.arg(strs(f.PartnerKinds))))
	}
	if f.Country != "" {
		c = append(c, fmt.Sprintf("(%[1]s.kind <> ALL(%[2]s) OR %[1]s.country = upper(%[3]s))", x, b.arg(placed), b.arg(f.Country)))
	}
	if f.Region != "" {
		c = append(c, fmt.Sprintf("(%[1]s.kind <> ALL(%[2]s) OR lower(unaccent(%[1]s.region)) = lower(unaccent(%[3]s)))", x, b.arg(placed), b.arg(f.Region)))
	}
	if len(f.Activities) > 0 {
		c = append(c, fmt.Sprintf("(%[1]s.kind <> 'COOPERATIVE' OR %[1]s.activities && %[2]s::text[])", x, b.arg(strs(f.Activities))))
	}
	return strings.Join(c, " AND ")
}

// sourceCond returns the conditions on a cited source src (an entity row)
// for its citation to be exported: visible, and of an exported kind.
func (f ExportFilter) sourceCond(b *builder, vis Visibility, src string) string {
	c := src + ".status = ANY(" + b.arg(vis.statuses()) + ")"
	if len(f.Kinds) > 0 {
		c += " AND " + src + ".kind = ANY(" + b.arg(strs(f.Kinds)) + ")"
	}
	return c
}

// citationsJSON returns a subquery that aggregates the exported citations
// of subject (entity_id or link_id) = id as a JSON array of [source key,
// locator, quote], in the order they were recorded: one subquery per row
// keeps the export a single streaming query.
func (f ExportFilter) citationsJSON(b *builder, vis Visibility, subject, id string) string {
	return `(SELECT json_agg(json_build_array(` + exportKey("src") + `, c.locator, c.quote) ORDER BY c.id)
		FROM citation c JOIN entity src ON src.id = c.source_id
		WHERE c.` + subject + ` = ` + id + ` AND ` + f.sourceCond(b, vis, "src") + `)`
}

func decodeCitations(raw []byte) ([]kb.Citation, error) {
	if raw == nil {
		return nil, nil
	}
	var rows [][3]string
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("decode citations: %w", err)
	}
	out := make([]kb.Citation, len(rows))
	for i, r := range rows {
		out[i] = kb.Citation{SourceKey: r[0], Locator: r[1], Quote: r[2]}
	}
	return out, nil
}

// translationsJSON is the translations of entity e as a JSON array of
// [field, lang, text, machine, place]: who wrote each and when is the
// store's record (the revisions), not part of the data set.
const translationsJSON = `(SELECT json_agg(json_build_array(t.field, t.lang, t.text, t.machine, t.place)
		ORDER BY array_position(ARRAY['NAME', 'SUMMARY', 'DESCRIPTION', 'CITY'], t.field), t.place, t.lang)
	FROM translation t WHERE t.entity_id = e.id)`

func decodeTranslations(raw []byte) ([]kb.Translation, error) {
	if raw == nil {
		return nil, nil
	}
	var rows [][5]any
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("decode translations: %w", err)
	}
	out := make([]kb.Translation, len(rows))
	for i, r := range rows {
		f, _ := r[0].(string)
		l, _ := r[1].(string)
		x, _ := r[2].(string)
		m, _ := r[3].(bool)
		p, _ := r[4].(float64)
		out[i] = kb.Translation{Field: kb.TextField(f), Lang: l, Text: x, Machine: m, Place: int(p)}
	}
	return out, nil
}

// Snapshot reads one consistent state of the graph for an export: every
// stream of it sees the same data, whatever is written meanwhile. It is
// valid only inside the function given to Store.Export.
type Snapshot struct {
	tx  pgx.Tx
	vis Visibility
	f   ExportFilter
}

// Export calls fn with a snapshot of the part of the graph that f selects
// under vis, in a read-only repeatable-read transaction. Each stream of the
// snapshot is a single query whose rows are handed over one at a time as
// they arrive, so memory does not grow with the graph. It returns fn's
// error, or a database error wrapped with context.
func (s *Store) Export(ctx context.Context, vis Visibility, f ExportFilter, fn func(*Snapshot) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("export: %w", translate(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only; nothing to keep
	// An export streams for longer than a request may run, under a deadline
	// of its own (its context): lift the API's statement_timeout for it.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return fmt.Errorf("export: %w", translate(err))
	}
	return fn(&Snapshot{tx: tx, vis: vis, f: f})
}

// Entities calls fn for each exported entity, with its citations, in id
// order; kind, unless empty, narrows the stream to one kind. Entities
// without a key get the derived key described at exportKey. fn may keep
// the entity. It stops at and returns fn's first error.
func (sn *Snapshot) Entities(ctx context.Context, kind kb.Kind, fn func(*kb.Entity) error) error {
	b := &builder{}
	where := sn.f.cond(b, sn.vis, "e")
	if kind != "" {
		where += " AND e.kind = " + b.arg(string(kind))
	}
	sql := `SELECT ` + entityColumns + `, ` + exportKey("e") + `, ` + sn.f.citationsJSON(b, sn.vis, "entity_id", "e.id") + `,
			(SELECT o.original_language FROM entity o WHERE o.id = e.id),
			(SELECT coalesce(o.name_language, '') FROM entity o WHERE o.id = e.id), ` + translationsJSON + `
		FROM entity_full e WHERE ` + where + ` ORDER BY e.id`
	rows, err := sn.tx.Query(ctx, sql, b.args...)
	if err != nil {
		return fmt.Errorf("export entities: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var key, orig, nameLang string
		var cites, texts []byte
		e, err := scanEntity(extraRow{rows, []any{&key, &cites, &orig, &nameLang, &texts}})
		if err != nil {
			return fmt.Errorf("export entities: %w", translate(err))
		}
		e.Key = key
		sn.vis.scrub(e) // no contact details in a public export
		if e.Citations, err = decodeCitations(cites); err != nil {
			return fmt.Errorf("export entity %s: %w", key, err)
		}
		e.OriginalLanguage, e.NameLanguage = orig, nameLang
		if e.Translations, err = decodeTranslations(texts); err != nil {
			return fmt.Errorf("export entity %s: %w", key, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export entities: %w", translate(err))
	}
	return nil
}

// extraRow scans the columns of entityColumns and then extra ones, so
// that scanEntity serves rows with more columns than it knows.
type extraRow struct {
	pgx.Row
	extra []any
}

func (r extraRow) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra...)...) }

// Links calls fn for each exported link (both ends exported, of a selected
// relation type) with its ends' keys and its citations, in link order. It
// stops at and returns fn's first error.
func (sn *Snapshot) Links(ctx context.Context, fn func(*kb.Link) error) error {
	b := &builder{}
	where := sn.f.cond(b, sn.vis, "f") + " AND " + sn.f.cond(b, sn.vis, "t")
	if len(sn.f.Relations) > 0 {
		where += " AND l.type = ANY(" + b.arg(strs(sn.f.Relations)) + ")"
	}
	sql := `SELECT ` + linkColumns + `, ` + exportKey("f") + `, ` + exportKey("t") + `, ` +
		sn.f.citationsJSON(b, sn.vis, "link_id", "l.id") + `
		FROM link l JOIN entity_full f ON f.id = l.from_id JOIN entity_full t ON t.id = l.to_id
		WHERE ` + where + ` ORDER BY l.id`
	rows, err := sn.tx.Query(ctx, sql, b.args...)
	if err != nil {
		return fmt.Errorf("export links: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var cites []byte
		var fk, tk string
		l, err := scanLink(rows, &fk, &tk, &cites)
		if err != nil {
			return fmt.Errorf("export links: %w", translate(err))
		}
		l.FromKey, l.ToKey = fk, tk
		if l.Citations, err = decodeCitations(cites); err != nil {
			return fmt.Errorf("export link %s: %w", l, err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export links: %w", translate(err))
	}
	return nil
}

// Indicators calls fn for each indicator of an exported entry (a
// cooperative, project or event), with the entry's key and its citation
// when the source is exported, by entry, oldest first. It stops at and returns fn's first error.
func (sn *Snapshot) Indicators(ctx context.Context, fn func(*kb.Indicator) error) error {
	b := &builder{}
	where := sn.f.cond(b, sn.vis, "c")
	srcCond := sn.f.sourceCond(b, sn.vis, "src")
	sql := `SELECT i.id, ` + exportKey("c") + `, c.kind, i.name, i.value::float8, i.unit, i.as_of, i.note,
			` + exportKey("src") + `, i.locator, i.quote
		FROM indicator i JOIN entity_full c ON c.id = i.cooperative_id
		LEFT JOIN entity src ON src.id = i.source_id AND ` + srcCond + `
		WHERE ` + where + `
		ORDER BY i.cooperative_id, i.as_of NULLS FIRST, i.id`
	rows, err := sn.tx.Query(ctx, sql, b.args...)
	if err != nil {
		return fmt.Errorf("export indicators: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			in       kb.Indicator
			srcKey   *string
			loc, quo string
		)
		var kind kb.Kind
		if err := rows.Scan(&in.ID, &in.EntityKey, &kind, &in.Name, &in.Value, &in.Unit, &in.AsOf, &in.Note,
			&srcKey, &loc, &quo); err != nil {
			return fmt.Errorf("export indicators: %w", translate(err))
		}
		if kind == kb.KindCooperative {
			in.CooperativeKey = in.EntityKey // kb.Indicator says why
		}
		if srcKey != nil {
			in.Citation = &kb.Citation{SourceKey: *srcKey, Locator: loc, Quote: quo}
		}
		if err := fn(&in); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export indicators: %w", translate(err))
	}
	return nil
}

// SubjectCitation is one citation in a flat export: the subject it
// supports (an entity by key, or a link by its ends' keys and type) and
// the citation.
type SubjectCitation struct {
	// Entity is the key of the cited entity; empty for a link's citation.
	Entity string
	// From, Type and To name the cited link; empty for an entity's.
	From, To string
	Type     kb.RelationType
	kb.Citation
}

// Citations calls fn for each exported citation: of exported entities,
// then of exported links, each in recording order. It stops at and
// returns fn's first error.
func (sn *Snapshot) Citations(ctx context.Context, fn func(*SubjectCitation) error) error {
	b := &builder{}
	ent := sn.f.cond(b, sn.vis, "e")
	src1 := sn.f.sourceCond(b, sn.vis, "src")
	linkWhere := sn.f.cond(b, sn.vis, "f") + " AND " + sn.f.cond(b, sn.vis, "t")
	if len(sn.f.Relations) > 0 {
		linkWhere += " AND l.type = ANY(" + b.arg(strs(sn.f.Relations)) + ")"
	}
	src2 := sn.f.sourceCond(b, sn.vis, "src")
	sql := `SELECT * FROM (
		SELECT 0 AS part, c.id, ` + exportKey("e") + `, '', '', '', ` + exportKey("src") + `, c.locator, c.quote
		FROM citation c JOIN entity_full e ON e.id = c.entity_id JOIN entity src ON src.id = c.source_id
		WHERE ` + ent + ` AND ` + src1 + `
		UNION ALL
		SELECT 1, c.id, '', ` + exportKey("f") + `, l.type, ` + exportKey("t") + `, ` + exportKey("src") + `, c.locator, c.quote
		FROM citation c JOIN link l ON l.id = c.link_id
		JOIN entity_full f ON f.id = l.from_id JOIN entity_full t ON t.id = l.to_id
		JOIN entity src ON src.id = c.source_id
		WHERE ` + linkWhere + ` AND ` + src2 + `
	) x ORDER BY part, id`
	rows, err := sn.tx.Query(ctx, sql, b.args...)
	if err != nil {
		return fmt.Errorf("export citations: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			part int
			id   int64
			c    SubjectCitation
		)
		if err := rows.Scan(&part, &id, &c.Entity, &c.From, &c.Type, &c.To, &c.SourceKey, &c.Locator, &c.Quote); err != nil {
			return fmt.Errorf("export citations: %w", translate(err))
		}
		if err := fn(&c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export citations: %w", translate(err))
	}
	return nil
}

// ExportedAt is when the snapshot was taken, by the database's clock.
func (sn *Snapshot) ExportedAt(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := sn.tx.QueryRow(ctx, `SELECT now()`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("export time: %w", translate(err))
	}
	return t, nil
}

// Topics returns the topics that an exported practice carries, in slug
// order, with all their labels.
func (sn *Snapshot) Topics(ctx context.Context) ([]*kb.Topic, error) {
	b := &builder{}
	where := sn.f.cond(b, sn.vis, "e")
	rows, err := sn.tx.Query(ctx, `SELECT `+topicColumns+` FROM topic t WHERE EXISTS (
		SELECT 1 FROM practice_topic pt JOIN entity_full e ON e.id = pt.practice_id
		WHERE pt.topic_id = t.id AND `+where+`) ORDER BY t.slug`, b.args...)
	if err != nil {
		return nil, fmt.Errorf("export topics: %w", translate(err))
	}
	return collectTopics(rows)
}

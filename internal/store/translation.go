package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// writeTexts makes the original language and the translations of entity
// id those of e, in tx. A translation whose text and machine flag stay
// keeps who wrote it and when; a new or changed one is actor's, now. The
// caller writes the revision in the same transaction.
func writeTexts(ctx context.Context, tx pgx.Tx, actor string, id int64, e *kb.Entity) error {
	if _, err := tx.Exec(ctx, `UPDATE entity SET original_language = $2, name_language = nullif($3, $2)
		WHERE id = $1 AND (original_language, name_language) IS DISTINCT FROM ($2, nullif($3, $2))`,
		id, e.OriginalOrDefault(), e.NameOriginal()); err != nil {
		return translate(err)
	}
	fields := make([]string, len(e.Translations))
	langs := make([]string, len(e.Translations))
	texts := make([]string, len(e.Translations))
	machine := make([]bool, len(e.Translations))
	places := make([]int32, len(e.Translations))
	for i, t := range e.Translations {
		fields[i], langs[i], texts[i], machine[i], places[i] = string(t.Field), t.Lang, t.Text, t.Machine, int32(t.Place)
	}
	// One statement removes what is gone, one writes what is new or
	// changed, whatever the number of translations.
	_, err := tx.Exec(ctx, `DELETE FROM translation t WHERE t.entity_id = $1
		AND (t.field, t.place, t.lang) NOT IN (SELECT * FROM unnest($2::text[], $4::smallint[], $3::text[]))`, id, fields, langs, places)
	if err != nil {
		return translate(err)
	}
	if len(e.Translations) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `INSERT INTO translation AS t (entity_id, field, place, lang, text, machine, updated_by)
		SELECT $1, f, p, l, x, m, $6 FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $7::smallint[]) AS n(f, l, x, m, p)
		ON CONFLICT (entity_id, field, place, lang) DO UPDATE SET text = excluded.text, machine = excluded.machine,
			updated_by = excluded.updated_by, updated_at = now()
		WHERE t.text IS DISTINCT FROM excluded.text OR t.machine IS DISTINCT FROM excluded.machine`,
		id, fields, langs, texts, machine, actor, places)
	return translate(err)
}

// readTexts reads the original languages and translations of entities
// ids, with one query: every id that exists has an entry, in field and
// language order. An API read charges its rows to the request's budget
// (charge); a write's or an export's own reads do not.
func readTexts(ctx context.Context, q querier, ids []int64, statuses []string, charge, serverPlans bool) (map[int64]kb.Texts, error) {
	rows, err := q.Query(ctx, textsSQL(serverPlans), ids, statuses)
	if err != nil {
		return nil, translate(err)
	}
	return collectTexts(ctx, rows, len(ids), charge)
}

// textsSQL is the statement of readTexts, with the arguments ids and
// statuses.
func textsSQL(serverPlans bool) string {
	if serverPlans {
		// The same statement, planned once per server session (migration 00037).
		return `SELECT * FROM text_rows($1, $2)`
	}
	return `SELECT e.id, e.original_language, coalesce(e.name_language, ''), t.field, t.lang, t.text, t.machine, t.updated_by, t.updated_at, t.place
		FROM entity e LEFT JOIN translation t ON t.entity_id = e.id
		WHERE e.id = ANY($1) AND e.status = ANY($2)
		ORDER BY e.id, array_position(ARRAY['NAME', 'SUMMARY', 'DESCRIPTION', 'CITY'], t.field), t.place, t.lang`
}

// collectTexts reads the rows of textsSQL, of n entities at most.
func collectTexts(ctx context.Context, rows pgx.Rows, n int, charge bool) (map[int64]kb.Texts, error) {
	out := make(map[int64]kb.Texts, n)
	var (
		id                 int64
		orig, nameLang     string
		field, l, text, by *string
		machine            *bool
		at                 *time.Time
		place              *int16
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &orig, &nameLang, &field, &l, &text, &machine, &by, &at, &place}, func() error {
		t := out[id]
		t.Original, t.Name = orig, nameLang
		if field != nil {
			at := *at
			t.Translations = append(t.Translations, kb.Translation{Field: kb.TextField(*field), Lang: *l, Text: *text,
				Machine: *machine, By: *by, At: &at, Place: int(*place)})
		}
		out[id] = t
		if !charge {
			return nil
		}
		return budget.Rows(ctx, 1)
	})
	if err != nil {
		return nil, fmt.Errorf("translations: %w", translate(err))
	}
	return out, nil
}

// allStatuses are every publication status: what a transaction of staff
// or an export reads.
var allStatuses = []string{string(kb.StatusDraft), string(kb.StatusPublished), string(kb.StatusArchived)}

// fillTexts sets the original language and translations of es, read
// with one query on q.
func fillTexts(ctx context.Context, q querier, es []*kb.Entity) error {
	ids := make([]int64, 0, len(es))
	for _, e := range es {
		if e != nil {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	texts, err := readTexts(ctx, q, ids, allStatuses, false, false)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e != nil {
			t := texts[e.ID]
			e.OriginalLanguage, e.NameLanguage, e.Translations = t.Original, t.Name, t.Translations
		}
	}
	return nil
}

// Texts returns the original languages and translations of entities ids,
// for the loaders; ids that do not exist are missing from the map. The
// callers ask only for entities the viewer has been shown.
func (s *Store) Texts(ctx context.Context, vis Visibility, ids []int64) (map[int64]kb.Texts, error) {
	return readTexts(ctx, s.read(ctx), ids, vis.statuses(), true, s.serverPlans)
}

package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// ApplyReport counts what ApplyDataset did.
type ApplyReport struct {
	EntitiesCreated, EntitiesUpdated, EntitiesUnchanged       int
	LinksCreated, LinksUpdated, LinksUnchanged                int
	IndicatorsCreated, IndicatorsUpdated, IndicatorsUnchanged int
	TopicsCreated, TopicsUpdated, TopicsUnchanged             int
}

// Changed reports whether anything was written.
func (r ApplyReport) Changed() bool {
	return r.EntitiesCreated+r.EntitiesUpdated+r.LinksCreated+r.LinksUpdated+r.IndicatorsCreated+r.IndicatorsUpdated+
		r.TopicsCreated+r.TopicsUpdated > 0
}

// ApplyDataset makes the database hold d: entities are matched by key and
// created or updated, links by (from, type, to), indicators by
// (cooperative, name, date, source). Entries that already hold the same
// values are left alone, so applying the same data twice changes nothing
// the second time. Entries not in d are kept. Every change writes a
// revision by actor. All of it commits together or not at all. It returns a
// *kb.ValidationError naming the record when d refers to an unknown key or
// breaks a rule.
func (s *Store) ApplyDataset(ctx context.Context, actor string, d kb.Dataset) (ApplyReport, error) {
	return s.applyDataset(ctx, actor, d, true)
}

// TryDataset does what ApplyDataset does in a transaction that it then
// rolls back: a dry run that reports what would change, and the first
// record the database refuses, without writing anything.
func (s *Store) TryDataset(ctx context.Context, actor string, d kb.Dataset) (ApplyReport, error) {
	return s.applyDataset(ctx, actor, d, false)
}

var errDryRun = errors.New("dry run")

func (s *Store) applyDataset(ctx context.Context, actor string, d kb.Dataset, commit bool) (ApplyReport, error) {
	var rep ApplyReport
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rep = ApplyReport{}
		// The topics first, so that the practices' labels and slugs
		// name them.
		if err := applyTopics(ctx, tx, actor, d.Topics, &rep); err != nil {
			return err
		}
		ids, kinds, err := applyEntities(ctx, tx, actor, d.Entities, &rep)
		if err != nil {
			return err
		}
		if err := applyLinks(ctx, tx, actor, ids, kinds, d.Links, &rep); err != nil {
			return err
		}
		if err := applyIndicators(ctx, tx, actor, ids, kinds, d.Indicators, &rep); err != nil {
			return err
		}
		if !commit {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return rep, nil
	}
	if err != nil {
		return ApplyReport{}, fmt.Errorf("apply data set: %w", err)
	}
	if rep.Changed() {
		// Fresh statistics right away: a database loaded a moment ago has
		// none until autovacuum comes by, and without them the planner walks
		// links by sequential scans.
		if _, err := s.pool.Exec(ctx, `ANALYZE entity, link, citation, indicator, partner, cooperative,
			partnership, good_practice, foreign_example, project, event, person, source`); err != nil {
			return rep, fmt.Errorf("analyze after loading: %w", translate(err))
		}
	}
	return rep, nil
}

// keyIDs loads the ids and kinds of all keyed entities.
func keyIDs(ctx context.Context, tx pgx.Tx) (map[string]int64, map[int64]kb.Kind, error) {
	rows, err := tx.Query(ctx, `SELECT key, id, kind FROM entity WHERE key IS NOT NULL`)
	if err != nil {
		return nil, nil, translate(err)
	}
	ids := map[string]int64{}
	kinds := map[int64]kb.Kind{}
	var key string
	var id int64
	var kind kb.Kind
	_, err = pgx.ForEachRow(rows, []any{&key, &id, &kind}, func() error {
		ids[key], kinds[id] = id, kind
		return nil
	})
	return ids, kinds, translate(err)
}

// applyEntities writes the entities of a data set and returns the ids and
// kinds of all keyed entities, old and new.
func applyEntities(ctx context.Context, tx pgx.Tx, actor string, es []kb.Entity, rep *ApplyReport) (map[string]int64, map[int64]kb.Kind, error) {
	ids, kinds, err := keyIDs(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	existing, err := entitiesWithCitations(ctx, tx, ids)
	if err != nil {
		return nil, nil, err
	}
	// Entities first, all of them, so that citations may name any source.
	pending := make([]*kb.Entity, len(es))
	for i := range es {
		e := es[i]
		field := fmt.Sprintf("entities[%d]", i)
		if e.Key == "" {
			return nil, nil, kb.Invalid(field+".key", "a data set entry needs a key")
		}
		if err := e.Validate(); err != nil {
			return nil, nil, prefix(field+" ("+e.Key+")", err)
		}
		pending[i] = &e
		if old, ok := existing[e.Key]; ok {
			if old.Kind != e.Kind {
				return nil, nil, kb.Invalid(field+".kind", "key %q is a %s in the database, not a %s", e.Key, old.Kind, e.Kind)
			}
			continue
		}
		id, err := insertEntity(ctx, tx, actor, &e)
		if err != nil {
			return nil, nil, prefix(field+" ("+e.Key+")", err)
		}
		ids[e.Key], kinds[id] = id, e.Kind
	}
	for i, e := range pending {
		field := fmt.Sprintf("entities[%d] (%s)", i, e.Key)
		cites, err := resolveCitations(field, e.Citations, ids)
		if err != nil {
			return nil, nil, err
		}
		e.Citations = cites
		id := ids[e.Key]
		old, ok := existing[e.Key]
		switch {
		case !ok:
			rep.EntitiesCreated++
			if err := replaceCitations(ctx, tx, "entity_id", id, cites); err != nil {
				return nil, nil, prefix(field, err)
			}
			_, err = writeRevision(ctx, tx, revision{actor: actor, operation: kb.OpCreate, entityID: &id, after: e})
		case sameEntity(old, e):
			rep.EntitiesUnchanged++
			continue
		default:
			rep.EntitiesUpdated++
			if err := updateEntity(ctx, tx, actor, id, e); err != nil {
				return nil, nil, prefix(field, err)
			}
			if err := replaceCitations(ctx, tx, "entity_id", id, cites); err != nil {
				return nil, nil, prefix(field, err)
			}
			_, err = writeRevision(ctx, tx, revision{actor: actor, operation: kb.OpUpdate, entityID: &id, before: old, after: e})
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return ids, kinds, nil
}

// entitiesWithCitations loads the keyed entities with their citations.
func entitiesWithCitations(ctx context.Context, tx pgx.Tx, ids map[string]int64) (map[string]*kb.Entity, error) {
	all := make([]int64, 0, len(ids))
	for _, id := range ids {
		all = append(all, id)
	}
	rows, err := tx.Query(ctx, `SELECT `+entityColumns+` FROM entity_full e WHERE e.id = ANY($1)`, all)
	if err != nil {
		return nil, translate(err)
	}
	// An import reads the entries it may change, as many as its data set
	// names: the row budget of an API request's answer does not apply.
	byID, err := collectEntities(context.Background(), rows)
	if err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT c.entity_id, c.source_id, coalesce(s.key, ''), c.locator, c.quote
		FROM citation c JOIN entity s ON s.id = c.source_id WHERE c.entity_id = ANY($1) ORDER BY c.id`, all)
	if err != nil {
		return nil, translate(err)
	}
	var id int64
	var c kb.Citation
	_, err = pgx.ForEachRow(rows, []any{&id, &c.SourceID, &c.SourceKey, &c.Locator, &c.Quote}, func() error {
		byID[id].Citations = append(byID[id].Citations, c)
		return nil
	})
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]*kb.Entity, len(byID))
	es := make([]*kb.Entity, 0, len(byID))
	for _, e := range byID {
		out[e.Key] = e
		es = append(es, e)
	}
	// The languages are part of what a data set sets: compared, and kept
	// in the revision's state before.
	return out, fillTexts(ctx, tx, es)
}

func resolveCitations(field string, cs []kb.Citation, ids map[string]int64) ([]kb.Citation, error) {
	out := make([]kb.Citation, len(cs))
	for i, c := range cs {
		id, ok := ids[c.SourceKey]
		if !ok {
			return nil, kb.Invalid(fmt.Sprintf("%s.sources[%d]", field, i), "no source with key %q", c.SourceKey)
		}
		c.SourceID = id
		out[i] = c
	}
	return out, nil
}

// sameEntity compares what a data set sets: the stored bookkeeping fields
// (id, version, times, authors) do not count.
func sameEntity(old, e *kb.Entity) bool {
	a, b := *old, *e
	for _, x := range []*kb.Entity{&a, &b} {
		x.ID, x.Version, x.CreatedAt, x.UpdatedAt, x.CreatedBy, x.UpdatedBy = 0, 0, time.Time{}, time.Time{}, "", ""
	}
	return reflect.DeepEqual(normalise(a), normalise(b))
}

// normalise makes equal values compare equal: empty and nil slices (the
// store reads an event without further places as an empty list, a file
// leaves it out), and dates in any zone.
func normalise(e kb.Entity) kb.Entity {
	if len(e.Citations) == 0 {
		e.Citations = nil
	}
	// Who wrote a translation and when is the store's record, not part of
	// the text; a file that leaves the original language out means Polish.
	e.OriginalLanguage = e.OriginalOrDefault()
	if e.NameLanguage == e.OriginalLanguage {
		e.NameLanguage = ""
	}
	if len(e.Translations) == 0 {
		e.Translations = nil
	} else {
		ts := make([]kb.Translation, len(e.Translations))
		for i, t := range e.Translations {
			t.By, t.At = "", nil
			ts[i] = t
		}
		slices.SortFunc(ts, func(a, b kb.Translation) int {
			return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Lang, b.Lang))
		})
		e.Translations = ts
	}
	if c := e.Cooperative; c != nil {
		cp := *c
		if len(cp.Activities) == 0 {
			cp.Activities = nil
		}
		cp.FoundedOn = day(cp.FoundedOn)
		e.Cooperative = &cp
	}
	if g := e.GoodPractice; g != nil {
		gp := *g
		if len(gp.Topics) == 0 {
			gp.Topics = nil
		}
		e.GoodPractice = &gp
	}
	if p := e.Partnership; p != nil {
		e.Partnership = &kb.Partnership{StartsOn: day(p.StartsOn), EndsOn: day(p.EndsOn)}
	}
	if p := e.Project; p != nil {
		pp := *p
		pp.StartsOn, pp.EndsOn = day(p.StartsOn), day(p.EndsOn)
		e.Project = &pp
	}
	if ev := e.Event; ev != nil {
		evc := *ev
		evc.StartsOn, evc.EndsOn = day(ev.StartsOn), day(ev.EndsOn)
		if len(evc.OtherPlaces) == 0 {
			evc.OtherPlaces = nil
		}
		e.Event = &evc
	}
	if s := e.Source; s != nil {
		sc := *s
		sc.PublishedOn = day(s.PublishedOn)
		e.Source = &sc
	}
	return e
}

func day(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return &d
}

func prefix(field string, err error) error {
	if v, ok := errors.AsType[*kb.ValidationError](err); ok {
		f := field
		if v.Field != "" {
			f += "." + v.Field
		}
		return &kb.ValidationError{Field: f, Message: v.Message}
	}
	return fmt.Errorf("%s: %w", field, err)
}

type linkKey struct {
	from, to int64
	typ      kb.RelationType
}

func applyLinks(ctx context.Context, tx pgx.Tx, actor string, ids map[string]int64, kinds map[int64]kb.Kind, ls []kb.Link, rep *ApplyReport) error {
	existing, err := keyedLinks(ctx, tx)
	if err != nil {
		return err
	}
	for i := range ls {
		l := ls[i]
		field := fmt.Sprintf("links[%d] (%s)", i, l)
		var ok bool
		if l.FromID, ok = ids[l.FromKey]; !ok {
			return kb.Invalid(field+".from", "no entity with key %q", l.FromKey)
		}
		if l.ToID, ok = ids[l.ToKey]; !ok {
			return kb.Invalid(field+".to", "no entity with key %q", l.ToKey)
		}
		if err := kb.ValidateLink(&l); err != nil {
			return prefix(field, err)
		}
		if err := kb.CheckLink(l.Type, kinds[l.FromID], kinds[l.ToID]); err != nil {
			return prefix(field, err)
		}
		cites, err := resolveCitations(field, l.Citations, ids)
		if err != nil {
			return err
		}
		l.Citations = cites
		k := linkKey{l.FromID, l.ToID, l.Type}
		old, found := existing[k]
		var id int64
		switch {
		case !found:
			err = tx.QueryRow(ctx, `INSERT INTO link (from_id, to_id, type, role, note, starts_on, ends_on, confidence, created_by, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
				l.FromID, l.ToID, l.Type, l.Role, l.Note, l.StartsOn, l.EndsOn, l.Confidence, actor).Scan(&id)
			if err == nil {
				rep.LinksCreated++
				err = replaceCitations(ctx, tx, "link_id", id, cites)
			}
			if err == nil {
				_, err = writeRevision(ctx, tx, revision{actor: actor, operation: kb.OpCreate, linkID: &id, after: l})
			}
		case sameLink(old, &l):
			rep.LinksUnchanged++
			continue
		default:
			id = old.ID
			_, err = tx.Exec(ctx, `UPDATE link SET role = $2, note = $3, starts_on = $4, ends_on = $5, confidence = $6,
					version = version + 1, updated_at = now(), updated_by = $7 WHERE id = $1`,
				id, l.Role, l.Note, l.StartsOn, l.EndsOn, l.Confidence, actor)
			if err == nil {
				rep.LinksUpdated++
				err = replaceCitations(ctx, tx, "link_id", id, cites)
			}
			if err == nil {
				_, err = writeRevision(ctx, tx, revision{actor: actor, operation: kb.OpUpdate, linkID: &id, before: old, after: l})
			}
		}
		if err != nil {
			return prefix(field, translate(err))
		}
		existing[k] = &l
	}
	return nil
}

// keyedLinks loads every link with its citations, keyed by its ends and type.
func keyedLinks(ctx context.Context, tx pgx.Tx) (map[linkKey]*kb.Link, error) {
	rows, err := tx.Query(ctx, `SELECT `+linkColumns+`, coalesce(f.key, ''), coalesce(t.key, '') FROM link l
		JOIN entity f ON f.id = l.from_id JOIN entity t ON t.id = l.to_id
		WHERE f.key IS NOT NULL AND t.key IS NOT NULL`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	byID := map[int64]*kb.Link{}
	out := map[linkKey]*kb.Link{}
	for rows.Next() {
		var fk, tk string
		l, err := scanLink(rows, &fk, &tk)
		if err != nil {
			return nil, err
		}
		l.FromKey, l.ToKey = fk, tk
		byID[l.ID] = l
		out[linkKey{l.FromID, l.ToID, l.Type}] = l
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	rows, err = tx.Query(ctx, `SELECT c.link_id, c.source_id, coalesce(s.key, ''), c.locator, c.quote
		FROM citation c JOIN entity s ON s.id = c.source_id WHERE c.link_id IS NOT NULL ORDER BY c.id`)
	if err != nil {
		return nil, translate(err)
	}
	var id int64
	var c kb.Citation
	_, err = pgx.ForEachRow(rows, []any{&id, &c.SourceID, &c.SourceKey, &c.Locator, &c.Quote}, func() error {
		if l := byID[id]; l != nil {
			l.Citations = append(l.Citations, c)
		}
		return nil
	})
	return out, translate(err)
}

func sameLink(old, l *kb.Link) bool {
	return old.Role == l.Role && old.Note == l.Note && reflect.DeepEqual(old.Confidence, l.Confidence) &&
		reflect.DeepEqual(day(old.StartsOn), day(l.StartsOn)) && reflect.DeepEqual(day(old.EndsOn), day(l.EndsOn)) &&
		(len(old.Citations) == 0 && len(l.Citations) == 0 || reflect.DeepEqual(old.Citations, l.Citations))
}

func applyIndicators(ctx context.Context, tx pgx.Tx, actor string, ids map[string]int64, kinds map[int64]kb.Kind, ins []kb.Indicator, rep *ApplyReport) error {
	for i := range ins {
		in := ins[i]
		field := fmt.Sprintf("indicators[%d] (%s %s)", i, in.Subject(), in.Name)
		id, ok := ids[in.Subject()]
		if !ok {
			return kb.Invalid(field+"."+in.SubjectField(), "no entity with key %q", in.Subject())
		}
		if err := kb.ValidateIndicator(&in); err != nil {
			return prefix(field, err)
		}
		if err := kb.CheckIndicatorKind(&in, kinds[id]); err != nil {
			return prefix(field, err)
		}
		// The revision holds the file's newer shape: entity, and
		// cooperative beside it for a cooperative (kb.Indicator).
		in.EntityKey, in.CooperativeKey = in.Subject(), ""
		if kinds[id] == kb.KindCooperative {
			in.CooperativeKey = in.EntityKey
		}
		var srcID *int64
		var loc, quote string
		if c := in.Citation; c != nil {
			sid, ok := ids[c.SourceKey]
			if !ok {
				return kb.Invalid(field+".citation.source", "no source with key %q", c.SourceKey)
			}
			srcID, loc, quote = &sid, c.Locator, c.Quote
		}
		// xmax = 0 tells an inserted row from an updated one; the WHERE
		// clause leaves identical rows alone, which then return nothing.
		var inserted bool
		// cooperative_id is the column's name from when only cooperatives
		// had indicators: it holds the entry measured, of any kind.
		err := tx.QueryRow(ctx, `INSERT INTO indicator (cooperative_id, name, value, unit, as_of, note, source_id, locator, quote)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (cooperative_id, name, as_of, source_id) DO UPDATE
				SET value = EXCLUDED.value, unit = EXCLUDED.unit, note = EXCLUDED.note,
					locator = EXCLUDED.locator, quote = EXCLUDED.quote
				WHERE (indicator.value, indicator.unit, indicator.note, indicator.locator, indicator.quote)
					IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.unit, EXCLUDED.note, EXCLUDED.locator, EXCLUDED.quote)
			RETURNING xmax = 0`, id, in.Name, in.Value, in.Unit, in.AsOf, in.Note, srcID, loc, quote).Scan(&inserted)
		op := kb.OpIndicatorUpdate
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			rep.IndicatorsUnchanged++
			continue
		case err != nil:
			return prefix(field, translate(err))
		case inserted:
			rep.IndicatorsCreated++
			op = kb.OpIndicatorCreate
		default:
			rep.IndicatorsUpdated++
		}
		if _, err := writeRevision(ctx, tx, revision{actor: actor, operation: op, entityID: &id, after: in}); err != nil {
			return prefix(field, err)
		}
	}
	return nil
}

// KeyKinds returns the kind of every keyed entity, by key: what an import
// may refer to besides its own records.
func (s *Store) KeyKinds(ctx context.Context) (map[string]kb.Kind, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, kind FROM entity WHERE key IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", translate(err))
	}
	out := map[string]kb.Kind{}
	var key string
	var kind kb.Kind
	_, err = pgx.ForEachRow(rows, []any{&key, &kind}, func() error { out[key] = kind; return nil })
	if err != nil {
		return nil, fmt.Errorf("keys: %w", translate(err))
	}
	return out, nil
}

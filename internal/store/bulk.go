package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// BulkSource is a large data set generated on the fly, loaded by BulkLoad.
// Entities are numbered 0..Len()-1; links, citations and indicators refer
// to entities by these numbers (in FromID, ToID, SourceID and
// EntityID), not by database ids. Every method must give the same
// answer each time it is called: BulkLoad reads entities more than once.
type BulkSource interface {
	// Len is the number of entities.
	Len() int
	// Kind returns the kind of entity i, cheaply.
	Kind(i int) kb.Kind
	// Entity fills e with entity i, its attributes and citations.
	Entity(i int, e *kb.Entity)
	// Links yields every link once, with its citations; no two with the same
	// (from, type, to), none from an entity to itself.
	Links(yield func(l *kb.Link) bool)
	// Indicators yields the indicators of cooperatives, projects and
	// events (EntityID is the entry's number), each with a citation.
	Indicators(yield func(in *kb.Indicator) bool)
}

// BulkReport counts what BulkLoad wrote and how long each step took.
type BulkReport struct {
	Entities, Links, Citations, Indicators int64
	Steps                                  []BulkStep
}

// BulkStep is one timed step of a bulk load.
type BulkStep struct {
	Name string
	Took time.Duration
}

// bulkTables are the tables whose secondary indexes BulkLoad drops and
// rebuilds: building an index once over the loaded rows is many times
// faster than updating it row by row.
var bulkTables = []string{"entity", "link", "citation", "indicator", "partner", "cooperative", "good_practice", "entity_place"}

// BulkLoad appends src to the database through COPY, in one transaction:
// the secondary indexes of the big tables are dropped first and rebuilt at
// the end (in the same transaction, so a failure leaves the schema as it
// was), and foreign-key triggers are skipped when the role may do so
// (session_replication_role; src is trusted to refer to its own entities,
// and sources to its own sources). Then it runs VACUUM ANALYZE, so that the
// planner has statistics and index-only scans their visibility map.
// Concurrent writers wait for it. progress, if not nil, hears of each step.
func (s *Store) BulkLoad(ctx context.Context, actor string, src BulkSource, progress func(BulkStep)) (*BulkReport, error) {
	rep := &BulkReport{}
	step := func(name string, fn func() error) error {
		start := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		st := BulkStep{name, time.Since(start)}
		rep.Steps = append(rep.Steps, st)
		if progress != nil {
			progress(st)
		}
		return nil
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '512MB'`); err != nil {
			return translate(err)
		}
		// partnergraph.bulk tells the triggers of the practices' facets
		// (migration 00016) that the load refreshes them at its end.
		if _, err := tx.Exec(ctx, `SET LOCAL partnergraph.bulk = 'on'`); err != nil {
			return translate(err)
		}
		// Skipping foreign-key triggers needs superuser; without it the load
		// is slower but the same.
		if _, err := tx.Exec(ctx, `SAVEPOINT srr`); err != nil {
			return translate(err)
		}
		triggersOff := true
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			triggersOff = false
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT srr`); err != nil {
				return translate(err)
			}
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE entity, link, citation, indicator IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return translate(err)
		}
		var rebuild []string
		if err := step("drop secondary indexes", func() (err error) {
			rebuild, err = dropSecondaryIndexes(ctx, tx)
			return err
		}); err != nil {
			return err
		}
		var base, linkBase int64
		if err := step("copy entities", func() (err error) {
			base, err = copyEntities(ctx, tx, actor, src, rep)
			return err
		}); err != nil {
			return err
		}
		if err := step("copy attributes", func() error { return copyAttrs(ctx, tx, src, base) }); err != nil {
			return err
		}
		// The trigger that keeps a partner's sector on its entity does not
		// fire under session_replication_role = replica.
		if err := step("partners' sectors", func() error {
			_, err := tx.Exec(ctx, `UPDATE entity e SET sector = p.sector FROM partner p WHERE p.id = e.id AND e.sector IS NULL`)
			return translate(err)
		}); err != nil {
			return err
		}
		// Nor do those that keep a partner's and an event's kind on its
		// entity (migration 00030).
		if err := step("partners' and events' kinds", func() error {
			_, err := tx.Exec(ctx, `UPDATE entity e SET partner_kind = x.partner_kind, event_kind = x.event_kind
				FROM (SELECT id, partner_kind, NULL::text AS event_kind FROM partner
				      UNION ALL SELECT id, NULL, event_kind FROM event) x
				WHERE x.id = e.id AND e.partner_kind IS NULL AND e.event_kind IS NULL`)
			return translate(err)
		}); err != nil {
			return err
		}
		// Nor does the one that keeps an event's date sort key on its
		// entity (migration 00015).
		if err := step("events' dates", func() error {
			_, err := tx.Exec(ctx, `UPDATE entity e SET when_sort = ev.when_sort FROM event ev
				WHERE ev.id = e.id AND ev.when_sort IS NOT NULL AND e.when_sort IS NULL`)
			return translate(err)
		}); err != nil {
			return err
		}
		// Nor does the one that keeps an entry's country on its entity
		// (migration 00023), which orders lists by country.
		if err := step("countries", func() error {
			_, err := tx.Exec(ctx, `SELECT entity_country_refresh()`)
			return translate(err)
		}); err != nil {
			return err
		}
		// Nor does the one that keeps entity_place, the points the map
		// filters (near, within) read (migrations 00015, 00023): without
		// this step a bulk-loaded entry with coordinates is never on a map.
		if triggersOff {
			if err := step("places", func() error { return fillPlaces(ctx, tx, base) }); err != nil {
				return err
			}
		}
		// The counters of the root lists (migration 00009) are kept by
		// triggers that do not fire under session_replication_role =
		// replica either; recounting once is faster than the triggers'
		// work per COPY anyway.
		if err := step("recount entities", func() error {
			_, err := tx.Exec(ctx, `SELECT entity_count_rebuild()`)
			return translate(err)
		}); err != nil {
			return err
		}
		if err := step("copy links", func() (err error) {
			linkBase, err = copyLinks(ctx, tx, actor, src, base, rep)
			return err
		}); err != nil {
			return err
		}
		// The triggers that keep link_tally (migration 00008) do not fire
		// under session_replication_role = replica: the new links are
		// tallied here, all at once.
		if triggersOff {
			if err := step("tally links", func() error { return tallyLinks(ctx, tx, linkBase) }); err != nil {
				return err
			}
		}
		if err := step("copy citations", func() error { return copyCitations(ctx, tx, src, base, linkBase, rep) }); err != nil {
			return err
		}
		if err := step("copy indicators", func() error { return copyIndicators(ctx, tx, src, base, rep) }); err != nil {
			return err
		}
		if err := step("rebuild indexes", func() error {
			for _, sql := range rebuild {
				if _, err := tx.Exec(ctx, sql); err != nil {
					return fmt.Errorf("%s: %w", sql, translate(err))
				}
			}
			return nil
		}); err != nil {
			return err
		}
		// The facets of the practices (migration 00016), whose triggers
		// stand aside during a bulk load: once, with the indexes back, not
		// per COPY with the link indexes dropped.
		if err := step("practice facets", func() error {
			// Then their counters (migration 00046) and the sectors of the
			// partnerships' members (00047) and of the partners around
			// cooperatives (00050), whose triggers stand aside too, and
			// the counters of those sets (00053).
			for _, sql := range []string{`SELECT practice_facet_refresh(NULL)`,
				`SELECT practice_facet_count_rebuild()`, `SELECT partnership_mix_refresh(NULL)`,
				`SELECT cooperative_mix_refresh(NULL)`, `SELECT mix_count_rebuild()`} {
				if _, err := tx.Exec(ctx, sql); err != nil {
					return translate(err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		// The trigger that links practices to their topics (migration
		// 00026) stands aside during a bulk load too: the new practices
		// are linked here, set-based, making the topics they need.
		if err := step("practices' topics", func() error {
			_, err := tx.Exec(ctx, `SELECT practice_topic_fill($1, $2)`, base, actor)
			return translate(err)
		}); err != nil {
			return err
		}
		// Nor do the triggers that keep practice_partner (migration
		// 00019): the practices the new links touch are refreshed here,
		// once the link indexes are back.
		if !triggersOff {
			return nil
		}
		return step("practices' partners", func() error { return refreshPracticePartners(ctx, tx, linkBase) })
	})
	if err != nil {
		return nil, fmt.Errorf("bulk load: %w", err)
	}
	err = step("vacuum analyze", func() error {
		_, err := s.pool.Exec(ctx, `VACUUM (ANALYZE) entity, link, citation, indicator, partner, cooperative,
			partnership, good_practice, foreign_example, project, event, person, source`)
		return translate(err)
	})
	return rep, err
}

// dropSecondaryIndexes drops the indexes of bulkTables other than primary
// keys and returns the statements that rebuild them, constraints as
// constraints.
func dropSecondaryIndexes(ctx context.Context, tx pgx.Tx) ([]string, error) {
	return dropIndexesOf(ctx, tx, bulkTables)
}

// dropIndexesOf is dropSecondaryIndexes for the given tables.
func dropIndexesOf(ctx context.Context, tx pgx.Tx, tables []string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid),
			coalesce(c.conname, ''), coalesce(pg_get_constraintdef(c.oid), '')
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
		WHERE t.relname = ANY($1) AND t.relnamespace = current_schema()::regnamespace AND NOT x.indisprimary
		ORDER BY t.relname, i.relname`, tables)
	if err != nil {
		return nil, translate(err)
	}
	var drops, rebuild []string
	var table, index, indexDef, con, conDef string
	_, err = pgx.ForEachRow(rows, []any{&table, &index, &indexDef, &con, &conDef}, func() error {
		if con != "" {
			drops = append(drops, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %s`, pgx.Identifier{table}.Sanitize(), pgx.Identifier{con}.Sanitize()))
			rebuild = append(rebuild, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, pgx.Identifier{table}.Sanitize(), pgx.Identifier{con}.Sanitize(), conDef))
		} else {
			drops = append(drops, `DROP INDEX `+pgx.Identifier{index}.Sanitize())
			rebuild = append(rebuild, indexDef)
		}
		return nil
	})
	if err != nil {
		return nil, translate(err)
	}
	for _, sql := range drops {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return nil, fmt.Errorf("%s: %w", sql, translate(err))
		}
	}
	return rebuild, nil
}

// tallyLinks adds the links after linkBase to link_tally, at both ends.
func tallyLinks(ctx context.Context, tx pgx.Tx, linkBase int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO link_tally (entity_id, type, outgoing, other_kind, other_status, n)
		SELECT node, type, outgoing, kind, status, count(*) FROM (
			SELECT l.from_id AS node, l.type, true AS outgoing, o.kind, o.status FROM link l JOIN entity o ON o.id = l.to_id WHERE l.id > $1
			UNION ALL
			SELECT l.to_id, l.type, false, o.kind, o.status FROM link l JOIN entity o ON o.id = l.from_id WHERE l.id > $1
		) x GROUP BY 1, 2, 3, 4, 5
		ON CONFLICT (entity_id, type, outgoing, other_kind, other_status) DO UPDATE SET n = link_tally.n + EXCLUDED.n`, linkBase)
	return translate(err)
}

// reserve returns the last id the identity of table has handed out; rows
// COPYed next get the following ones, in order. The table is locked
// against concurrent inserts, and the caller checks the count afterwards.
func reserve(ctx context.Context, tx pgx.Tx, table string) (int64, error) {
	var last int64
	err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id'))`, table).Scan(&last)
	return last, translate(err)
}

// checkReserved verifies that the n rows just copied into table took the
// ids after base.
func checkReserved(ctx context.Context, tx pgx.Tx, table string, base, n int64) error {
	var last int64
	if err := tx.QueryRow(ctx, `SELECT pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass)`, table).Scan(&last); err != nil {
		return translate(err)
	}
	if last != base+n {
		return fmt.Errorf("%s ids run to %d, want %d: another writer took ids meanwhile", table, last, base+n)
	}
	return nil
}

func copyEntities(ctx context.Context, tx pgx.Tx, actor string, src BulkSource, rep *BulkReport) (int64, error) {
	base, err := reserve(ctx, tx, "entity")
	if err != nil {
		return 0, err
	}
	n := src.Len()
	i := 0
	var e kb.Entity
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= n {
			return nil, nil
		}
		e = kb.Entity{}
		src.Entity(i, &e)
		i++
		var key any
		if e.Key != "" {
			key = e.Key
		}
		return []any{string(e.Kind), key, e.Name, kb.Fold(e.Name), e.Summary, string(e.Status), actor, actor}, nil
	})
	copied, err := tx.CopyFrom(ctx, pgx.Identifier{"entity"},
		[]string{"kind", "key", "name", "sort_name", "summary", "status", "created_by", "updated_by"}, rows)
	if err != nil {
		return 0, translate(err)
	}
	rep.Entities = copied
	return base, checkReserved(ctx, tx, "entity", base, copied)
}

// attrColumns are the columns of each kind's table, in attrValues' order.
var attrColumns = map[kb.Kind][]string{
	kb.KindPartner:        {"id", "sector", "partner_kind", "legal_form", "country", "region", "city", "website", "registration_number", "address", "latitude", "longitude", "logo_url"},
	kb.KindCooperative:    {"id", "coop_status", "activities", "country", "region", "city", "founded_on", "website", "registration_number", "address", "latitude", "longitude", "logo_url"},
	kb.KindPartnership:    {"id", "starts_on", "ends_on"},
	kb.KindGoodPractice:   {"id", "description", "topics", "target_group", "resources_needed", "evidence", "difficulties", "lessons", "transfer_potential", "recognition"},
	kb.KindForeignExample: {"id", "country", "region", "city", "model", "target_group", "lessons_for_poland", "home_analogue", "website", "address", "latitude", "longitude", "logo_url"},
	kb.KindProject:        {"id", "starts_on", "ends_on", "funding", "website", "logo_url"},
	kb.KindEvent:          {"id", "event_kind", "event_status", "starts_on", "ends_on", "country", "region", "city", "venue", "address", "latitude", "longitude", "when_edtf", "when_sort", "other_places"},
	kb.KindPerson:         {"id", "public_role"},
	kb.KindSource:         {"id", "source_kind", "publisher", "published_on", "url", "language", "published_edtf"},
}

// attrValues returns the row of e's kind table, as writeAttrs writes it.
func attrValues(id int64, e *kb.Entity) []any {
	switch e.Kind {
	case kb.KindPartner:
		a := e.Partner
		return []any{id, string(a.Sector), string(a.PartnerKind), a.LegalForm, a.Country, a.Region, a.City, a.Website, a.RegistrationNumber,
			a.Address, a.Latitude, a.Longitude, a.LogoURL}
	case kb.KindCooperative:
		a := e.Cooperative
		return []any{id, string(a.CoopStatus), strs(a.Activities), a.Country, a.Region, a.City, a.FoundedOn, a.Website, a.RegistrationNumber,
			a.Address, a.Latitude, a.Longitude, a.LogoURL}
	case kb.KindPartnership:
		return []any{id, e.Partnership.StartsOn, e.Partnership.EndsOn}
	case kb.KindGoodPractice:
		a := e.GoodPractice
		topics := a.Topics
		if topics == nil {
			topics = []string{}
		}
		return []any{id, a.Description, topics, a.TargetGroup, a.ResourcesNeeded, a.Evidence, a.Difficulties, a.Lessons, a.TransferPotential, a.Recognition}
	case kb.KindForeignExample:
		a := e.ForeignExample
		return []any{id, a.Country, a.Region, a.City, a.Model, a.TargetGroup, a.LessonsForPoland, a.HomeAnalogue, a.Website,
			a.Address, a.Latitude, a.Longitude, a.LogoURL}
	case kb.KindProject:
		a := e.Project
		return []any{id, a.StartsOn, a.EndsOn, a.Funding, a.Website, a.LogoURL}
	case kb.KindEvent:
		a := e.Event
		when, sort := edtfColumns(a.When)
		return []any{id, string(a.EventKind), string(a.EventStatus), a.StartsOn, a.EndsOn, a.Country, a.Region, a.City, a.Venue,
			a.Address, a.Latitude, a.Longitude, when, sort, placesJSON(a.OtherPlaces)}
	case kb.KindPerson:
		return []any{id, e.Person.PublicRole}
	case kb.KindSource:
		a := e.Source
		published, _ := edtfColumns(a.Published)
		return []any{id, string(a.SourceKind), a.Publisher, a.PublishedOn, a.URL, a.Language, published}
	}
	return nil
}

var kindTables = map[kb.Kind]string{
	kb.KindPartner: "partner", kb.KindCooperative: "cooperative", kb.KindPartnership: "partnership",
	kb.KindGoodPractice: "good_practice", kb.KindForeignExample: "foreign_example", kb.KindProject: "project",
	kb.KindEvent: "event", kb.KindPerson: "person", kb.KindSource: "source",
}

// copyAttrs copies the kind-specific rows, one COPY per kind.
func copyAttrs(ctx context.Context, tx pgx.Tx, src BulkSource, base int64) error {
	n := src.Len()
	for _, kind := range kb.Kinds {
		i := 0
		var e kb.Entity
		rows := pgx.CopyFromFunc(func() ([]any, error) {
			for ; i < n; i++ {
				if src.Kind(i) != kind {
					continue
				}
				e = kb.Entity{}
				src.Entity(i, &e)
				id := base + 1 + int64(i)
				i++
				return attrValues(id, &e), nil
			}
			return nil, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{kindTables[kind]}, attrColumns[kind], rows); err != nil {
			return fmt.Errorf("%s: %w", kind, translate(err))
		}
	}
	return nil
}

func copyLinks(ctx context.Context, tx pgx.Tx, actor string, src BulkSource, base int64, rep *BulkReport) (int64, error) {
	linkBase, err := reserve(ctx, tx, "link")
	if err != nil {
		return 0, err
	}
	next, stop := pullLinks(src)
	defer stop()
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		l, ok := next()
		if !ok {
			return nil, nil
		}
		return []any{base + 1 + l.FromID, base + 1 + l.ToID, string(l.Type), l.Role, l.Note, l.StartsOn, l.EndsOn, actor, actor}, nil
	})
	copied, err := tx.CopyFrom(ctx, pgx.Identifier{"link"},
		[]string{"from_id", "to_id", "type", "role", "note", "starts_on", "ends_on", "created_by", "updated_by"}, rows)
	if err != nil {
		return 0, translate(err)
	}
	rep.Links = copied
	return linkBase, checkReserved(ctx, tx, "link", linkBase, copied)
}

// pullLinks turns src.Links into a pull iterator.
func pullLinks(src BulkSource) (func() (*kb.Link, bool), func()) {
	ch := make(chan *kb.Link, 1024)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		src.Links(func(l *kb.Link) bool {
			c := *l
			select {
			case ch <- &c:
				return true
			case <-done:
				return false
			}
		})
	}()
	var once bool
	return func() (*kb.Link, bool) {
			l, ok := <-ch
			return l, ok
		}, func() {
			if !once {
				once = true
				close(done)
				for range ch {
				}
			}
		}
}

// copyCitations copies the citations of entities, then of links (the n-th
// link yielded has id linkBase+1+n).
func copyCitations(ctx context.Context, tx pgx.Tx, src BulkSource, base, linkBase int64, rep *BulkReport) error {
	n := src.Len()
	i := 0
	var pending [][]any
	var e kb.Entity
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		for len(pending) == 0 {
			if i >= n {
				return nil, nil
			}
			e = kb.Entity{}
			src.Entity(i, &e)
			for _, c := range e.Citations {
				pending = append(pending, []any{base + 1 + int64(i), nil, base + 1 + c.SourceID, c.Locator, c.Quote})
			}
			i++
		}
		row := pending[0]
		pending = pending[1:]
		return row, nil
	})
	cols := []string{"entity_id", "link_id", "source_id", "locator", "quote"}
	copied, err := tx.CopyFrom(ctx, pgx.Identifier{"citation"}, cols, rows)
	if err != nil {
		return translate(err)
	}
	rep.Citations = copied
	next, stop := pullLinks(src)
	defer stop()
	var seq int64
	rows = pgx.CopyFromFunc(func() ([]any, error) {
		for len(pending) == 0 {
			l, ok := next()
			if !ok {
				return nil, nil
			}
			seq++
			for _, c := range l.Citations {
				pending = append(pending, []any{nil, linkBase + seq, base + 1 + c.SourceID, c.Locator, c.Quote})
			}
		}
		row := pending[0]
		pending = pending[1:]
		return row, nil
	})
	copied, err = tx.CopyFrom(ctx, pgx.Identifier{"citation"}, cols, rows)
	if err != nil {
		return translate(err)
	}
	rep.Citations += copied
	return nil
}

func copyIndicators(ctx context.Context, tx pgx.Tx, src BulkSource, base int64, rep *BulkReport) error {
	ch := make(chan *kb.Indicator, 1024)
	done := make(chan struct{})
	defer func() {
		close(done)
		for range ch {
		}
	}()
	go func() {
		defer close(ch)
		src.Indicators(func(in *kb.Indicator) bool {
			c := *in
			select {
			case ch <- &c:
				return true
			case <-done:
				return false
			}
		})
	}()
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		in, ok := <-ch
		if !ok {
			return nil, nil
		}
		var source any
		locator, quote := "", ""
		if c := in.Citation; c != nil {
			source, locator, quote = base+1+c.SourceID, c.Locator, c.Quote
		}
		return []any{base + 1 + in.EntityID, string(in.Name), in.Value, in.Unit, in.AsOf, in.Note, source, locator, quote}, nil
	})
	copied, err := tx.CopyFrom(ctx, pgx.Identifier{"indicator"},
		[]string{"cooperative_id", "name", "value", "unit", "as_of", "note", "source_id", "locator", "quote"}, rows)
	if err != nil {
		return translate(err)
	}
	rep.Indicators = copied
	return nil
}

// bulkSummary is a one-line account of a report, for logs.
func (r *BulkReport) String() string {
	var steps []string
	for _, s := range r.Steps {
		steps = append(steps, fmt.Sprintf("%s %s", s.Name, s.Took.Round(time.Millisecond)))
	}
	return fmt.Sprintf("%d entities, %d links, %d citations, %d indicators (%s)",
		r.Entities, r.Links, r.Citations, r.Indicators, strings.Join(steps, ", "))
}

// refreshPracticePartners recomputes practice_partner for the practices
// that the links after linkBase touch: those they demonstrate, and those
// whose cases they back (as the triggers of migration 00019 do).
func refreshPracticePartners(ctx context.Context, tx pgx.Tx, linkBase int64) error {
	_, err := tx.Exec(ctx, `SELECT practice_partner_refresh(ARRAY(
		SELECT to_id FROM link WHERE id > $1 AND type = 'DEMONSTRATES'
		UNION
		SELECT d.to_id FROM link r JOIN practice_backer b ON b.type = r.type
			JOIN link d ON d.from_id = CASE WHEN b.outgoing THEN r.from_id ELSE r.to_id END AND d.type = 'DEMONSTRATES'
		WHERE r.id > $1))`, linkBase)
	return translate(err)
}

// fillPlaces writes the points of the entities after base into
// entity_place, set-based, exactly as the trigger entity_place_follow
// (migration 00023) writes them row by row: position 0 for the point of a
// partner, cooperative, foreign example or event, positions 1.. for the
// other places of an event that carry both coordinates, the kind in
// upper case, and the entity's status and sector as the trigger of
// migration 00048 copies them; pt is generated by PostgreSQL.
func fillPlaces(ctx context.Context, tx pgx.Tx, base int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO entity_place (entity_id, position, latitude, longitude, kind, status, sector)
		SELECT x.id, x.position, x.latitude, x.longitude, x.kind, e.status, e.sector FROM (
		SELECT id, 0 AS position, latitude, longitude, 'PARTNER' AS kind FROM partner
			WHERE id > $1 AND latitude IS NOT NULL AND longitude IS NOT NULL
		UNION ALL SELECT id, 0, latitude, longitude, 'COOPERATIVE' FROM cooperative
			WHERE id > $1 AND latitude IS NOT NULL AND longitude IS NOT NULL
		UNION ALL SELECT id, 0, latitude, longitude, 'FOREIGN_EXAMPLE' FROM foreign_example
			WHERE id > $1 AND latitude IS NOT NULL AND longitude IS NOT NULL
		UNION ALL SELECT id, 0, latitude, longitude, 'EVENT' FROM event
			WHERE id > $1 AND latitude IS NOT NULL AND longitude IS NOT NULL
		UNION ALL SELECT ev.id, o.n::integer, (o.p->>'latitude')::double precision, (o.p->>'longitude')::double precision, 'EVENT'
			FROM event ev, jsonb_array_elements(ev.other_places) WITH ORDINALITY AS o(p, n)
			WHERE ev.id > $1 AND o.p ? 'latitude' AND o.p ? 'longitude') x
		JOIN entity e ON e.id = x.id`, base)
	return translate(err)
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// opColumn is how the revision table spells op: "update",
// "indicator.update". The log kept these spellings before operations were
// typed, so old and new rows read alike.
func opColumn(op kb.Operation) string {
	return strings.ReplaceAll(strings.ToLower(string(op)), "_", ".")
}

// opOf reads an operation as the revision table spells it.
func opOf(s string) kb.Operation {
	return kb.Operation(strings.ReplaceAll(strings.ToUpper(s), ".", "_"))
}

// insertEntity inserts e with its kind's attributes and its search document
// and returns its id.
func insertEntity(ctx context.Context, tx pgx.Tx, actor string, e *kb.Entity) (int64, error) {
	var key *string
	if e.Key != "" {
		key = &e.Key
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO entity (kind, key, name, sort_name, summary, status, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
		e.Kind, key, e.Name, kb.Fold(e.Name), e.Summary, e.Status, actor).Scan(&id)
	if err != nil {
		return 0, translate(err)
	}
	// The texts first: the trigger of migration 00026 makes a practice's
	// new topics in its original language.
	if err := writeTexts(ctx, tx, actor, id, e); err != nil {
		return 0, err
	}
	if err := writeAttrs(ctx, tx, actor, id, e); err != nil {
		return 0, err
	}
	return id, indexEntity(ctx, tx, id, e)
}

// updateEntity overwrites the entity id with e's fields, attributes and
// search document and increments its version.
func updateEntity(ctx context.Context, tx pgx.Tx, actor string, id int64, e *kb.Entity) error {
	tag, err := tx.Exec(ctx, `UPDATE entity SET name = $2, sort_name = $3, summary = $4, status = $5,
			version = version + 1, updated_at = now(), updated_by = $6
		WHERE id = $1`, id, e.Name, kb.Fold(e.Name), e.Summary, e.Status, actor)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return kb.ErrNotFound
	}
	if err := writeTexts(ctx, tx, actor, id, e); err != nil {
		return err
	}
	if err := writeAttrs(ctx, tx, actor, id, e); err != nil {
		return err
	}
	return indexEntity(ctx, tx, id, e)
}

// writeAttrs inserts or replaces the kind-specific row of entity id. A
// practice's topics come back as the trigger of migration 00026 stores
// them (each a topic of the vocabulary, as its label, once) and are set
// in e, so that the revision and the answer hold what is stored; actor is
// the author of the topics the trigger makes.
func writeAttrs(ctx context.Context, tx pgx.Tx, actor string, id int64, e *kb.Entity) error {
	var (
		sql  string
		args []any
	)
	switch e.Kind {
	case kb.KindPartner:
		a := e.Partner
		sql = `INSERT INTO partner (id, sector, partner_kind, legal_form, country, region, city, website, registration_number,
				address, latitude, longitude, logo_url)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (id) DO UPDATE SET sector = $2, partner_kind = $3, legal_form = $4, country = $5,
				region = $6, city = $7, website = $8, registration_number = $9,
				address = $10, latitude = $11, longitude = $12, logo_url = $13`
		args = []any{a.Sector, a.PartnerKind, a.LegalForm, a.Country, a.Region, a.City, a.Website, a.RegistrationNumber,
			a.Address, a.Latitude, a.Longitude, a.LogoURL}
	case kb.KindCooperative:
		a := e.Cooperative
		sql = `INSERT INTO cooperative (id, coop_status, activities, country, region, city, founded_on, website, registration_number,
				address, latitude, longitude, logo_url)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (id) DO UPDATE SET coop_status = $2, activities = $3, country = $4, region = $5,
				city = $6, founded_on = $7, website = $8, registration_number = $9,
				address = $10, latitude = $11, longitude = $12, logo_url = $13`
		args = []any{a.CoopStatus, strs(a.Activities), a.Country, a.Region, a.City, a.FoundedOn, a.Website, a.RegistrationNumber,
			a.Address, a.Latitude, a.Longitude, a.LogoURL}
	case kb.KindPartnership:
		a := e.Partnership
		sql = `INSERT INTO partnership (id, starts_on, ends_on) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET starts_on = $2, ends_on = $3`
		args = []any{a.StartsOn, a.EndsOn}
	case kb.KindGoodPractice:
		a := e.GoodPractice
		topics := a.Topics
		if topics == nil {
			topics = []string{}
		}
		sql = `INSERT INTO good_practice (id, description, topics, target_group, resources_needed, evidence,
				difficulties, lessons, transfer_potential, recognition)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO UPDATE SET description = $2, topics = $3, target_group = $4, resources_needed = $5,
				evidence = $6, difficulties = $7, lessons = $8, transfer_potential = $9, recognition = $10`
		args = []any{a.Description, topics, a.TargetGroup, a.ResourcesNeeded, a.Evidence, a.Difficulties,
			a.Lessons, a.TransferPotential, a.Recognition}
	case kb.KindForeignExample:
		a := e.ForeignExample
		sql = `INSERT INTO foreign_example (id, country, region, city, model, target_group, lessons_for_poland, home_analogue, website,
				address, latitude, longitude, logo_url)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (id) DO UPDATE SET country = $2, region = $3, city = $4, model = $5, target_group = $6,
				lessons_for_poland = $7, home_analogue = $8, website = $9,
				address = $10, latitude = $11, longitude = $12, logo_url = $13`
		args = []any{a.Country, a.Region, a.City, a.Model, a.TargetGroup, a.LessonsForPoland, a.HomeAnalogue, a.Website,
			a.Address, a.Latitude, a.Longitude, a.LogoURL}
	case kb.KindProject:
		a := e.Project
		sql = `INSERT INTO project (id, starts_on, ends_on, funding, website, logo_url) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO UPDATE SET starts_on = $2, ends_on = $3, funding = $4, website = $5, logo_url = $6`
		args = []any{a.StartsOn, a.EndsOn, a.Funding, a.Website, a.LogoURL}
	case kb.KindEvent:
		a := e.Event
		sql = `INSERT INTO event (id, event_kind, event_status, starts_on, ends_on, country, region, city, venue,
				address, latitude, longitude, when_edtf, when_sort, other_places)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (id) DO UPDATE SET event_kind = $2, event_status = $3, starts_on = $4, ends_on = $5,
				country = $6, region = $7, city = $8, venue = $9,
				address = $10, latitude = $11, longitude = $12, when_edtf = $13, when_sort = $14, other_places = $15`
		when, sort := edtfColumns(a.When)
		args = []any{a.EventKind, a.EventStatus, a.StartsOn, a.EndsOn, a.Country, a.Region, a.City, a.Venue,
			a.Address, a.Latitude, a.Longitude, when, sort, placesJSON(a.OtherPlaces)}
	case kb.KindPerson:
		sql = `INSERT INTO person (id, public_role, email, phone) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET public_role = $2, email = $3, phone = $4`
		args = []any{e.Person.PublicRole, e.Person.Email, e.Person.Phone}
	case kb.KindSource:
		a := e.Source
		sql = `INSERT INTO source (id, source_kind, publisher, published_on, url, language, published_edtf)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET source_kind = $2, publisher = $3, published_on = $4, url = $5, language = $6,
				published_edtf = $7`
		published, _ := edtfColumns(a.Published)
		args = []any{a.SourceKind, a.Publisher, a.PublishedOn, a.URL, a.Language, published}
	default:
		return kb.Invalid("kind", "unknown entity kind %q", e.Kind)
	}
	if e.Kind == kb.KindGoodPractice {
		if _, err := tx.Exec(ctx, `SELECT set_config('partnergraph.actor', $1, true)`, actor); err != nil {
			return translate(err)
		}
		var topics []string
		if err := tx.QueryRow(ctx, sql+` RETURNING topics`, append([]any{id}, args...)...).Scan(&topics); err != nil {
			return translate(err)
		}
		if len(topics) == 0 {
			topics = nil
		}
		e.GoodPractice.Topics = topics
		return nil
	}
	_, err := tx.Exec(ctx, sql, append([]any{id}, args...)...)
	return translate(err)
}

// edtfColumns are the stored forms of a fuzzy date: its EDTF string ("" for
// none) and its sort key (NULL for none), migration 00015.
func edtfColumns(d *kb.FuzzyDate) (string, *string) {
	if d == nil {
		return "", nil
	}
	k := d.SortKey()
	return d.String(), &k
}

// placesJSON is the stored form of an event's further places, a JSON
// array (never NULL).
func placesJSON(ps []kb.Place) []byte {
	if len(ps) == 0 {
		return []byte("[]")
	}
	b, err := json.Marshal(ps)
	if err != nil {
		// kb.Place is strings and finite floats (Validate checks the
		// ranges): it always marshals.
		panic(fmt.Sprintf("marshal places: %v", err))
	}
	return b
}

// replaceCitations makes the citations of one entity or link exactly cs.
// subject is "entity_id" or "link_id".
func replaceCitations(ctx context.Context, tx pgx.Tx, subject string, id int64, cs []kb.Citation) error {
	if _, err := tx.Exec(ctx, `DELETE FROM citation WHERE `+subject+` = $1`, id); err != nil {
		return translate(err)
	}
	for _, c := range cs {
		_, err := tx.Exec(ctx, `INSERT INTO citation (`+subject+`, source_id, locator, quote) VALUES ($1, $2, $3, $4)`,
			id, c.SourceID, c.Locator, c.Quote)
		if err != nil {
			return translate(err)
		}
	}
	return nil
}

// revision is one row of the revision log.
type revision struct {
	actor     string
	operation kb.Operation
	entityID  *int64
	linkID    *int64
	before    any
	after     any
	kind      kb.Kind // for the change feed when before and after do not say
}

// writeRevision appends r to the revision log in tx and announces it on
// the change feed channel (pg_notify), which delivers only when tx commits.
// It returns the id of the revision.
func writeRevision(ctx context.Context, tx pgx.Tx, r revision) (int64, error) {
	before, err := jsonOrNil(r.before)
	if err != nil {
		return 0, err
	}
	after, err := jsonOrNil(r.after)
	if err != nil {
		return 0, err
	}
	c := Change{Operation: r.operation, Actor: r.actor, Kind: r.kind}
	if r.entityID != nil {
		c.EntityID = *r.entityID
	}
	if r.linkID != nil {
		c.LinkID = *r.linkID
	}
	for _, v := range []any{r.after, r.before} {
		switch x := v.(type) {
		case *kb.Entity:
			c.Kind = x.Kind
		case *kb.Link:
			c.LinkType = x.Type
		case kb.Link:
			c.LinkType = x.Type
		case kb.Indicator:
			c.Kind = kb.KindCooperative
		}
	}
	err = tx.QueryRow(ctx, `INSERT INTO revision (actor, operation, entity_id, link_id, before, after)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, at`, r.actor, opColumn(r.operation), r.entityID, r.linkID, before, after).
		Scan(&c.RevisionID, &c.At)
	if err != nil {
		return 0, translate(err)
	}
	return c.RevisionID, notify(ctx, tx, c)
}

func jsonOrNil(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("revision: %w", err)
	}
	return b, nil
}

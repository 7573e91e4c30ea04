package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// entityColumns are the columns of entity_full in the order scanEntity reads.
const entityColumns = `e.id, e.kind, coalesce(e.key, ''), e.name, e.summary, e.status, e.version,
	e.created_at, e.updated_at, e.created_by, e.updated_by,
	coalesce(e.sector, ''), coalesce(e.partner_kind, ''), e.legal_form, e.country, e.region, e.city,
	e.website, e.registration_number, coalesce(e.coop_status, ''), e.activities, e.founded_on,
	e.starts_on, e.ends_on, e.description, e.topics, e.target_group, e.resources_needed, e.evidence,
	e.difficulties, e.lessons, e.transfer_potential, e.recognition, e.model, e.lessons_for_poland,
	e.home_analogue, e.funding, coalesce(e.event_kind, ''), coalesce(e.event_status, ''), e.venue,
	e.public_role, coalesce(e.source_kind, ''), e.publisher, e.published_on, e.url, e.language,
	e.email, e.phone, e.address, e.latitude, e.longitude, e.logo_url, e.when_edtf, e.other_places,
	e.published_edtf`

// scanEntity reads one row of entityColumns into a domain entity with the
// attributes of its kind.
func scanEntity(row pgx.Row) (*kb.Entity, error) { return newEntityScan().scan(row) }

// entityScan holds what a row of entityColumns is scanned into, and the
// scan's destinations: one allocation for all of them, made once for all
// the rows of a read (collectEntities). Each its own variable, they cost
// an allocation each, about 50 a row (a search page's 20 entities: about
// 1,000, a quarter of the allocations of a search request).
type entityScan struct {
	e                                               kb.Entity
	sector, partnerKind, legalForm, country, region string
	city, website, regNo, coopStatus                string
	activities, topics                              []string
	foundedOn, startsOn, endsOn, publishedOn        *time.Time
	description, targetGroup, resources, evidence   string
	difficulties, lessons, transfer, recognition    string
	model, lessonsPL, analogue, funding             string
	eventKind, eventStatus, venue, publicRole       string
	sourceKind, publisher, url, language            string
	email, phone                                    string
	address, logoURL, whenEDTF, publishedEDTF       string
	latitude, longitude                             *float64
	otherPlaces                                     []byte
	dest                                            []any
}

func newEntityScan() *entityScan {
	r := &entityScan{}
	e := &r.e
	r.dest = []any{&e.ID, &e.Kind, &e.Key, &e.Name, &e.Summary, &e.Status, &e.Version,
		&e.CreatedAt, &e.UpdatedAt, &e.CreatedBy, &e.UpdatedBy,
		&r.sector, &r.partnerKind, &r.legalForm, &r.country, &r.region, &r.city,
		&r.website, &r.regNo, &r.coopStatus, &r.activities, &r.foundedOn,
		&r.startsOn, &r.endsOn, &r.description, &r.topics, &r.targetGroup, &r.resources, &r.evidence,
		&r.difficulties, &r.lessons, &r.transfer, &r.recognition, &r.model, &r.lessonsPL,
		&r.analogue, &r.funding, &r.eventKind, &r.eventStatus, &r.venue,
		&r.publicRole, &r.sourceKind, &r.publisher, &r.publishedOn, &r.url, &r.language,
		&r.email, &r.phone, &r.address, &r.latitude, &r.longitude, &r.logoURL, &r.whenEDTF, &r.otherPlaces,
		&r.publishedEDTF}
	return r
}

// scan reads row into a new entity. r starts each row empty, so that
// nothing of the previous row (a slice pgx might append to) is kept.
func (r *entityScan) scan(row pgx.Row) (*kb.Entity, error) {
	r.reset()
	if err := row.Scan(r.dest...); err != nil {
		return nil, err
	}
	return r.entity()
}

// reset empties r for the next row, keeping its destinations.
func (r *entityScan) reset() {
	dest := r.dest
	*r = entityScan{dest: dest}
}

// entity returns a new entity of what r's destinations hold, a row of
// entityColumns scanned into them.
func (r *entityScan) entity() (*kb.Entity, error) {
	e := new(kb.Entity)
	*e = r.e
	var err error
	sector, partnerKind, legalForm, country, region := r.sector, r.partnerKind, r.legalForm, r.country, r.region
	city, website, regNo, coopStatus := r.city, r.website, r.regNo, r.coopStatus
	activities, topics := r.activities, r.topics
	foundedOn, startsOn, endsOn, publishedOn := r.foundedOn, r.startsOn, r.endsOn, r.publishedOn
	description, targetGroup, resources, evidence := r.description, r.targetGroup, r.resources, r.evidence
	difficulties, lessons, transfer, recognition := r.difficulties, r.lessons, r.transfer, r.recognition
	model, lessonsPL, analogue, funding := r.model, r.lessonsPL, r.analogue, r.funding
	eventKind, eventStatus, venue, publicRole := r.eventKind, r.eventStatus, r.venue, r.publicRole
	sourceKind, publisher, url, language := r.sourceKind, r.publisher, r.url, r.language
	email, phone := r.email, r.phone
	address, logoURL, whenEDTF, publishedEDTF := r.address, r.logoURL, r.whenEDTF, r.publishedEDTF
	latitude, longitude := r.latitude, r.longitude
	otherPlaces := r.otherPlaces
	place := kb.Place{Country: country, Region: region, City: city, Address: address, Latitude: latitude, Longitude: longitude}
	switch e.Kind {
	case kb.KindPartner:
		e.Partner = &kb.Partner{Sector: kb.Sector(sector), PartnerKind: kb.PartnerKind(partnerKind), LegalForm: legalForm,
			Place: place, Website: website, LogoURL: logoURL, RegistrationNumber: regNo}
	case kb.KindCooperative:
		acts := make([]kb.Activity, len(activities))
		for i, a := range activities {
			acts[i] = kb.Activity(a)
		}
		e.Cooperative = &kb.Cooperative{CoopStatus: kb.CooperativeStatus(coopStatus), Activities: acts, Place: place,
			FoundedOn: foundedOn, Website: website, LogoURL: logoURL, RegistrationNumber: regNo}
	case kb.KindPartnership:
		e.Partnership = &kb.Partnership{StartsOn: startsOn, EndsOn: endsOn}
	case kb.KindGoodPractice:
		e.GoodPractice = &kb.GoodPractice{Description: description, Topics: topics, TargetGroup: targetGroup,
			ResourcesNeeded: resources, Evidence: evidence, Difficulties: difficulties, Lessons: lessons,
			TransferPotential: transfer, Recognition: recognition}
	case kb.KindForeignExample:
		e.ForeignExample = &kb.ForeignExample{Place: place, Model: model, TargetGroup: targetGroup,
			LessonsForPoland: lessonsPL, HomeAnalogue: analogue, Website: website, LogoURL: logoURL}
	case kb.KindProject:
		e.Project = &kb.Project{StartsOn: startsOn, EndsOn: endsOn, Funding: funding, Website: website, LogoURL: logoURL}
	case kb.KindEvent:
		e.Event = &kb.Event{EventKind: kb.EventKind(eventKind), EventStatus: kb.EventStatus(eventStatus),
			StartsOn: startsOn, EndsOn: endsOn, Place: place, Venue: venue}
		if e.Event.When, err = storedDate(whenEDTF); err != nil {
			return nil, fmt.Errorf("event %q: %w", e.Key, err)
		}
		if len(otherPlaces) > 0 {
			if err := json.Unmarshal(otherPlaces, &e.Event.OtherPlaces); err != nil {
				return nil, fmt.Errorf("event %q: other places: %w", e.Key, err)
			}
		}
	case kb.KindPerson:
		e.Person = &kb.Person{PublicRole: publicRole, Email: email, Phone: phone}
	case kb.KindSource:
		e.Source = &kb.Source{SourceKind: kb.SourceKind(sourceKind), Publisher: publisher, PublishedOn: publishedOn,
			URL: url, Language: language}
		if e.Source.Published, err = storedDate(publishedEDTF); err != nil {
			return nil, fmt.Errorf("source %q: %w", e.Key, err)
		}
	default:
		return nil, fmt.Errorf("entry %q has unknown kind %q", e.Key, e.Kind)
	}
	return e, nil
}

// storedDate reads an EDTF column: nil when empty.
func storedDate(edtf string) (*kb.FuzzyDate, error) {
	if edtf == "" {
		return nil, nil
	}
	d, err := kb.ParseFuzzyDate("date", edtf)
	if err != nil {
		return nil, fmt.Errorf("stored date: %w", err)
	}
	return &d, nil
}

// entityFullSelect is the select list of the view entity_full (migration
// 00007, with the types of empty arrays and dates spelt out for the
// branches where they are NULL), over entity e and the kinds' tables p, c, ps, g, f, pr, ev, pe
// and s. TestEntitiesByIDReadsAsTheView keeps the two in step.
const entityFullSelect = `e.id, e.kind, e.key, e.name, e.sort_name, e.summary, e.status, e.version,
       e.created_at, e.updated_at, e.created_by, e.updated_by,
       e.sector, p.partner_kind AS partner_kind,
       coalesce(p.legal_form, '') AS legal_form,
       coalesce(p.country, c.country, f.country, ev.country, '') AS country,
       coalesce(p.region, c.region, f.region, ev.region, '') AS region,
       coalesce(p.city, c.city, f.city, ev.city, '') AS city,
       coalesce(p.website, c.website, f.website, pr.website, '') AS website,
       coalesce(p.registration_number, c.registration_number, '') AS registration_number,
       c.coop_status AS coop_status, coalesce(c.activities, '{}'::text[]) AS activities, c.founded_on::date AS founded_on,
       coalesce(ps.starts_on, pr.starts_on, ev.starts_on)::date AS starts_on,
       coalesce(ps.ends_on, pr.ends_on, ev.ends_on)::date AS ends_on,
       coalesce(g.description, '') AS description, coalesce(g.topics, '{}'::text[]) AS topics,
       coalesce(g.target_group, f.target_group, '') AS target_group,
       coalesce(g.resources_needed, '') AS resources_needed, coalesce(g.evidence, '') AS evidence,
       coalesce(g.difficulties, '') AS difficulties, coalesce(g.lessons, '') AS lessons,
       coalesce(g.transfer_potential, '') AS transfer_potential, coalesce(g.recognition, '') AS recognition,
       coalesce(f.model, '') AS model, coalesce(f.lessons_for_poland, '') AS lessons_for_poland,
       coalesce(f.home_analogue, '') AS home_analogue,
       coalesce(pr.funding, '') AS funding,
       ev.event_kind AS event_kind, ev.event_status AS event_status, coalesce(ev.venue, '') AS venue,
       coalesce(pe.public_role, '') AS public_role,
       s.source_kind AS source_kind, coalesce(s.publisher, '') AS publisher, s.published_on::date AS published_on,
       coalesce(s.url, '') AS url, coalesce(s.language, '') AS language,
       coalesce(pe.email, '') AS email, coalesce(pe.phone, '') AS phone,
       coalesce(p.address, c.address, f.address, ev.address, '') AS address,
       coalesce(p.latitude, c.latitude, f.latitude, ev.latitude) AS latitude,
       coalesce(p.longitude, c.longitude, f.longitude, ev.longitude) AS longitude,
       coalesce(p.logo_url, c.logo_url, f.logo_url, pr.logo_url, '') AS logo_url,
       coalesce(ev.when_edtf, '') AS when_edtf, e.when_sort,
       coalesce(ev.other_places, '[]'::jsonb) AS other_places,
       coalesce(s.published_edtf, '') AS published_edtf`

// entitiesByIDSQL reads entities by id as entity_full does, but joins
// each entity only to its own kind's table: the view left-joins all nine
// to every row, nine nested-loop probes a row, which was most of reading
// the thousands of entities of a front page of the million-entity graph;
// reading the entity rows once (materialized) and each kind's rows from
// its own table took about half the time (docs/benchmarks.md,
// "Measurements behind the code").
var entitiesByIDSQL = `WITH b AS MATERIALIZED (SELECT * FROM entity WHERE id = ANY($1) AND status = ANY($2))
		SELECT ` + entityColumns + ` FROM (` + entitiesOfB + `) e`

// pageRowsSQL reads, in one statement, the rows of the page whose ids the
// statement ids reads (in the page's order, one past its end), for the
// statuses argument statuses: ids is planned as a statement of its own
// would be (an ARRAY sublink, its ORDER BY and LIMIT its own), and the
// rows are read as entitiesByIDSQL reads them, in the order of the ids.
// One round trip instead of two (the ids, then entitiesByIDSQL): behind
// PgBouncer every round trip costs it, the API and PostgreSQL a message
// each way (docs/scaling.md, "Round trips"). Planning it adds the union's
// nine two-table joins to the ids' plan (about 1 ms, once per statement
// and connection), not the view's eleven relations.
func pageRowsSQL(ids, statuses string) string {
	return `WITH p AS MATERIALIZED (SELECT ARRAY(` + ids + `) AS ids),
		b AS MATERIALIZED (SELECT * FROM entity WHERE id = ANY((SELECT ids FROM p)::bigint[]) AND status = ANY(` + statuses + `))
		SELECT ` + entityColumns + ` FROM (` + entitiesOfB + `) e ORDER BY array_position((SELECT ids FROM p), e.id)`
}

// entityKindTables are the kinds' own tables, in the order of the
// branches of entitiesOfB.
var entityKindTables = []struct{ kind, table, alias string }{
	{"PARTNER", "partner", "p"}, {"COOPERATIVE", "cooperative", "c"}, {"PARTNERSHIP", "partnership", "ps"},
	{"GOOD_PRACTICE", "good_practice", "g"}, {"FOREIGN_EXAMPLE", "foreign_example", "f"}, {"PROJECT", "project", "pr"},
	{"EVENT", "event", "ev"}, {"PERSON", "person", "pe"}, {"SOURCE", "source", "s"},
}

// entityKindBranches are the branches of entitiesOfB, one a kind in the
// order of entityKindTables: the rows of the entities of the CTE b of
// that kind, joined to its own table, with the columns of entity_full.
var entityKindBranches = kindBranches("")

// kindBranches returns entityKindBranches with the select list extra
// after each branch's columns: more columns of b, which carries them.
func kindBranches(extra string) []string {
	kinds := entityKindTables
	branches := make([]string, len(kinds))
	for i, k := range kinds {
		sel := entityFullSelect
		for _, other := range kinds {
			if other.alias != k.alias {
				sel = regexp.MustCompile(`\b`+other.alias+`\.[a-z_]+`).ReplaceAllString(sel, "NULL")
			}
		}
		// A coalesce of nothing but NULLs would be text; a bare NULL takes
		// the type of the other branches.
		sel = regexp.MustCompile(`coalesce\(NULL(, NULL)*\)`).ReplaceAllString(sel, "NULL")
		branches[i] = "SELECT " + sel + extra + " FROM b e JOIN " + k.table + " " + k.alias + " ON " + k.alias + ".id = e.id WHERE e.kind = '" + k.kind + "'"
	}
	return branches
}

// entitiesOfB is the union of entitiesByIDSQL: the rows of the entities
// of the CTE b, each joined to its own kind's table, with the columns of
// entity_full.
var entitiesOfB = strings.Join(entityKindBranches, "\n\t\tUNION ALL ")

// entitiesOfKindsSQL memoizes entitiesOfKinds by its set of kinds (a bit
// a kind of entityKindTables).
var entitiesOfKindsSQL sync.Map

// entitiesOfKinds returns entitiesByIDSQL with the branches of the given
// kinds only, for a read that knows the kinds of its ids (a search page
// reads them with its hits): starting a branch costs PostgreSQL its
// nested loop, index scan and projection whether or not the branch has a
// row, and the nine of entitiesByIDSQL cost a search page about as much
// as reading its rows (docs/search.md, "Less work a candidate"). Its
// columns have the types of entitiesByIDSQL's. A kind it does not know
// makes it read them all.
func entitiesOfKinds(kinds map[kb.Kind]bool) string {
	var set uint16
	for k := range kinds {
		bit, ok := kindBit(k)
		if !ok {
			return entitiesByIDSQL
		}
		set |= bit
	}
	if sql, ok := entitiesOfKindsSQL.Load(set); ok {
		return sql.(string)
	}
	sql := `WITH b AS MATERIALIZED (SELECT * FROM entity WHERE id = ANY($1) AND status = ANY($2))
		SELECT ` + entityColumns + ` FROM (` + entityBranches(set) + `) e`
	entitiesOfKindsSQL.Store(set, sql)
	return sql
}

// kindSet returns the set of kinds (a bit a kind of entityKindTables)
// that entityBranches reads; all of them when kinds is empty or holds
// one it does not know.
func kindSet(kinds []kb.Kind) uint16 {
	all := uint16(1)<<len(entityKindTables) - 1
	var set uint16
	for _, k := range kinds {
		bit, ok := kindBit(k)
		if !ok {
			return all
		}
		set |= bit
	}
	if set == 0 {
		return all
	}
	return set
}

// kindBit returns the bit of kind k in a set of kinds of
// entityKindTables; false for a kind it does not know.
func kindBit(k kb.Kind) (uint16, bool) {
	i := slices.IndexFunc(entityKindTables, func(t struct{ kind, table, alias string }) bool { return t.kind == string(k) })
	return 1 << max(i, 0), i >= 0
}

// entityBranches returns the branches of entitiesOfB of the kinds in set
// (a bit a kind of entityKindTables), as one union over the CTE b.
//
// A union types its columns from its first branches: where the first two
// give a column no type (a bare NULL in both), it is text, and a later
// branch of another type fails. The first two branches of entitiesByIDSQL
// (partners, cooperatives) are always there, as empty branches (a qual
// false, which the planner makes a Result of no scan) when their kinds
// are not asked for, so that every column has the type it has in
// entitiesByIDSQL.
func entityBranches(set uint16) string { return branchesOf(entityKindBranches, set) }

// branchesOf returns the union of the branches of kindBranches in set, as
// entityBranches.
func branchesOf(all []string, set uint16) string {
	var branches []string
	for i, b := range all {
		switch {
		case set&(1<<i) != 0:
			branches = append(branches, b)
		case i < 2:
			branches = append(branches, b+" AND false")
		}
	}
	return strings.Join(branches, "\n\t\tUNION ALL ")
}

// entityRowsSQL reads entities by id through the function entity_rows
// (migration 00021), which runs entitiesByIDSQL's union in PL/pgSQL, in
// the order of $1. A PL/pgSQL function keeps the plans of its statements
// per server session, whatever the client's protocol: behind PgBouncer in
// transaction mode, where the pool cannot keep prepared statements and
// every statement is planned at each execution, planning the union of
// nine joins cost several times reading a page (docs/scaling.md,
// "PgBouncer"). Where the pool keeps prepared statements, the union
// itself is cheaper: no function call, no tuplestore between the two.
const entityRowsSQL = `SELECT ` + entityColumns + ` FROM entity_rows($1, $2) e`

// EntitiesByID returns the entities with the given ids in the order of ids,
// with nil where an entity does not exist or is not visible under vis.
func (s *Store) EntitiesByID(ctx context.Context, vis Visibility, ids []int64) ([]*kb.Entity, error) {
	rows, err := s.read(ctx).Query(ctx, s.entitiesSQL(), ids, vis.statuses())
	if err != nil {
		return nil, fmt.Errorf("entities by id: %w", translate(err))
	}
	return entitiesInOrder(ctx, vis, rows, ids)
}

// entitiesSQL is the statement of EntitiesByID, with the arguments ids
// and statuses.
func (s *Store) entitiesSQL() string {
	if s.serverPlans {
		return entityRowsSQL
	}
	return entitiesByIDSQL
}

// entitiesInOrder reads the rows of entitiesSQL and returns the entities
// in the order of ids, as EntitiesByID.
func entitiesInOrder(ctx context.Context, vis Visibility, rows pgx.Rows, ids []int64) ([]*kb.Entity, error) {
	byID, err := collectEntities(ctx, rows)
	if err != nil {
		return nil, fmt.Errorf("entities by id: %w", err)
	}
	out := make([]*kb.Entity, len(ids))
	for i, id := range ids {
		out[i] = vis.scrub(byID[id])
	}
	return out, nil
}

// EntityByKey returns the entity with the stable key. It returns
// kb.ErrNotFound if there is none visible under vis.
func (s *Store) EntityByKey(ctx context.Context, vis Visibility, key string) (*kb.Entity, error) {
	sql := `SELECT ` + entityColumns + ` FROM entity_full e WHERE e.key = $1 AND e.status = ANY($2)`
	if s.serverPlans {
		// Planned at each execution: the view's plan takes 2-7 ms to make
		// at 1M entities (more under load), entity_rows' is kept by the
		// server session.
		sql = `SELECT ` + entityColumns + ` FROM entity_rows(ARRAY(SELECT id FROM entity WHERE key = $1), $2) e`
	}
	e, err := scanEntity(s.read(ctx).QueryRow(ctx, sql, key, vis.statuses()))
	if err != nil {
		return nil, fmt.Errorf("entity %q: %w", key, translate(err))
	}
	return vis.scrub(e), nil
}

// collectEntities reads rows of entityColumns, charging each to the
// request's row budget (budget.Rows), which stops the request past it.
func collectEntities(ctx context.Context, rows pgx.Rows) (map[int64]*kb.Entity, error) {
	defer rows.Close()
	out := map[int64]*kb.Entity{}
	sc := newEntityScan()
	for rows.Next() {
		if err := budget.Rows(ctx, 1); err != nil {
			return nil, err
		}
		e, err := sc.scan(rows)
		if err != nil {
			return nil, err
		}
		out[e.ID] = e
	}
	return out, translate(rows.Err())
}

// Filter restricts a list of entities of one kind. Empty fields do not
// restrict; all set fields must hold.
type Filter struct {
	Kind          kb.Kind
	Name          string // contained in the name, ignoring case and diacritics
	Sectors       []kb.Sector
	PartnerKinds  []kb.PartnerKind
	Country       string
	Region        string
	City          string
	CoopStatuses  []kb.CooperativeStatus
	Activities    []kb.Activity
	Topics        []string
	EventKinds    []kb.EventKind
	EventStatuses []kb.EventStatus
	SourceKinds   []kb.SourceKind
	Language      string
	// Near keeps the entities with a place within a distance of a point,
	// Within those with a place inside a box (any of an event's places
	// counts; migration 00015's entity_place).
	Near   *kb.Circle
	Within *kb.BBox
	// StartsAfter and StartsBefore keep the events whose first possible
	// day (kb.FuzzyDate.Earliest) is on or after, or on or before, the
	// day: an event whose year is unknown cannot be placed and matches
	// neither.
	StartsAfter  *kb.Date
	StartsBefore *kb.Date
	// SectorMix restricts partnerships by the sectors of their members and
	// cooperatives by those of the partners around them (see
	// kb.CooperativePartnersIn); other kinds do not match a non-empty one.
	SectorMix kb.MixFilter
	// PracticeCountries and PracticeSectors restrict good practices to
	// those with a case or a partner behind them in one of these countries,
	// and with a partner behind them of one of these sectors (the facets
	// of migration 00016, taken from the published cases and partners
	// that GoodPractice.partners lists); other kinds do not match.
	PracticeCountries []string
	PracticeSectors   []kb.Sector
	// CreatedSince and UpdatedSince keep the entities created or last
	// changed at or after the time, for a client that syncs.
	CreatedSince *time.Time
	UpdatedSince *time.Time
	// placeIDs, when not nil, are the entities whose points Near and
	// Within match, read beforehand; placeWide says that they are too many
	// to read, and each entity is probed instead (Store.placePlan).
	placeIDs  []int64
	placeWide bool
	// facetIDs, when not nil, are the practices PracticeCountries and
	// PracticeSectors match, read beforehand through the GIN indexes of
	// their facets, for values few practices have; see Store.facetPlan.
	facetIDs []int64
	// topicIDs, when not nil, are the topics Topics names, and
	// topicPractices, when not nil, the practices that carry them, both
	// read beforehand (Store.topicPlan).
	topicIDs       []int64
	topicPractices []int64
	// countryIDs, when not nil, are the entities of the kind in Country,
	// read beforehand through the index of the country kept on entity,
	// for a country few of them have; see Store.counterPlan.
	countryIDs []int64
	// attrIDs, when not nil, are the entities of the kind whose own
	// region, city and activities match f's, read beforehand through the
	// indexes of the kind's table; attrWide says that they are too many to
	// read, and the list walks; see Store.attrPlan.
	attrIDs  []int64
	attrWide bool
	// splitVals, when not nil, are the values of the kind's split column
	// (splitColumns) of the entities that match f, as the counters give
	// them; see Filter.splitWalk.
	splitVals []string
	// And, Or and Not compose filters of the same kind: every filter of
	// And holds, at least one of Or does (none when Or is empty but not
	// nil), Not does not. See CheckFilterShape for their bounds.
	And []Filter
	Or  []Filter
	Not *Filter
}

// The bounds of a composed filter: how deep and/or/not may nest, and how
// many filters one may hold in all. Each part is a condition on every row
// a list reads, so they are bounded like the size of a page, and counted in
// the cost of a query (docs/api.md, "Filters").
const (
	MaxFilterDepth = 4
	MaxFilterParts = 32
)

// CheckFilterShape checks that f nests and/or/not at most MaxFilterDepth
// deep and holds at most MaxFilterParts filters in all; field names the
// argument in the error.
func CheckFilterShape(field string, f Filter) error {
	n, d := f.shape()
	if d > MaxFilterDepth {
		return kb.Invalid(field, "and/or/not nest %d deep, at most %d", d, MaxFilterDepth)
	}
	if n > MaxFilterParts {
		return kb.Invalid(field, "holds %d filters in and/or/not, at most %d", n, MaxFilterParts)
	}
	return nil
}

// shape returns how many filters f holds (itself included) and how deep
// and/or/not nest in it (0: not at all).
func (f Filter) shape() (parts, depth int) {
	parts = 1
	sub := func(g Filter) {
		n, d := g.shape()
		parts += n
		depth = max(depth, d+1)
	}
	for _, g := range f.And {
		sub(g)
	}
	for _, g := range f.Or {
		sub(g)
	}
	if f.Not != nil {
		sub(*f.Not)
	}
	return parts, depth
}

// limit returns the LIMIT n of a statement of f, written into it: a
// generic plan takes LIMIT $n for a tenth of the rows, and with that
// estimate it chose JIT compilation (30 ms for 0.2 ms of work for the
// facets of practices at 1M; 126 ms for the points of 50 km around
// Poznań) and parallel workers (a Gather Merge whose start took 37 of the
// 54 ms of 20 partners by UPDATED_AT at 1M, for 1.6 ms of work). A page
// size is one of a hundred, so the pool's plans stay few.
func (f Filter) limit(n int) string {
	return strconv.Itoa(n)
}

// hasName reports whether f or a filter inside it filters on a part of the
// name.
func (f Filter) hasName() bool {
	if f.Name != "" {
		return true
	}
	for _, g := range append(append([]Filter{}, f.And...), f.Or...) {
		if g.hasName() {
			return true
		}
	}
	return f.Not != nil && f.Not.hasName()
}

// execMode prepends to args, for a filter on a part of the name, the exec
// mode that plans the statement with its arguments every time (the simple
// protocol, which sends them in the statement): the pool's
// generic plans (DefaultPlanCacheMode) do not know how selective a
// pattern is, and walked a kind's name index bitmap by bitmap, ten times
// slower than a plan made with the pattern (docs/benchmarks.md,
// "Measurements behind the code").
//
// A NUL byte or invalid UTF-8 stays with the extended protocol, where
// PostgreSQL refuses it with an error translate names (pgx's client-side
// quoting would fail without a code).
func (f Filter) execMode(args []any) []any {
	if !f.simpleProtocol(args) {
		return args
	}
	return append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
}

// simpleProtocol reports whether execMode sends f's statement with args
// by the simple protocol.
func (f Filter) simpleProtocol(args []any) bool {
	return f.hasName() && storable(args)
}

// storable reports whether the text arguments hold no NUL byte and are
// valid UTF-8.
func storable(args []any) bool {
	ok := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	for _, a := range args {
		switch v := a.(type) {
		case string:
			if !ok(v) {
				return false
			}
		case []string:
			for _, s := range v {
				if !ok(s) {
					return false
				}
			}
		}
	}
	return true
}

// OrderField is a field a list can be ordered by.
type OrderField string

// The order fields.
const (
	OrderName      OrderField = "NAME"
	OrderCreatedAt OrderField = "CREATED_AT"
	OrderUpdatedAt OrderField = "UPDATED_AT"
	// OrderWhen orders events by kb.FuzzyDate.SortKey: known years by day,
	// then unknown years by month and day, then events without a date.
	OrderWhen OrderField = "WHEN"
)

// noDate is the sort key of an entity without a date: after every key of
// kb.FuzzyDate.SortKey in the C collation.
const noDate = "~"

// whenKey is the date sort key of an entity as the index
// entity_kind_when_idx (migration 00015) has it.
const whenKey = `(coalesce(e.when_sort, '` + noDate + `') COLLATE "C")`

// OrderCountry orders by the country (ISO 3166-1 alpha-2) of the entries
// that have one, then the entries without one; it reads the country kept
// on entity (migration 00023) so that a kind's list by country and name is
// one walk of the index entity_kind_country_name_idx.
const OrderCountry OrderField = "COUNTRY"

// noCountry is the sort key of an entity without a country: after every
// country code in the C collation, as noDate is after every date.
const noCountry = "~"

// countryKey is the country sort key of an entity as the index
// entity_kind_country_name_idx (migration 00023) has it, on the entity
// row o that ListEntities joins for it.
const countryKey = `(coalesce(o.country, '` + noCountry + `') COLLATE "C")`

// MaxOrderKeys bounds how many keys one order may have: each adds a column
// to every row comparison of a keyset page, and no index holds more.
const MaxOrderKeys = 3

// OrderKey is one key of an order: a field and its direction.
type OrderKey struct {
	Field OrderField
	Desc  bool
}

// Order is the order of a list: by Field, then by each key of Then; ties
// are broken by id, in the direction of the last key.
type Order struct {
	Field OrderField
	Desc  bool
	// Then are the further keys, for an order by several fields
	// (orderBy: [{field: COUNTRY}, {field: NAME}]).
	Then []OrderKey
}

// Keys returns every key of o, the first one first.
func (o Order) Keys() []OrderKey {
	return append([]OrderKey{{Field: o.Field, Desc: o.Desc}}, o.Then...)
}

// OrderOf returns the order of keys, which must be at least one.
func OrderOf(keys []OrderKey) Order {
	o := Order{Field: keys[0].Field, Desc: keys[0].Desc}
	if len(keys) > 1 {
		o.Then = keys[1:]
	}
	return o
}

// Key names the ordering, for cursors: "NAME_ASC", "COUNTRY_ASC,NAME_DESC".
// An order of one key keeps the name it had before orders of several keys,
// so that cursors handed out then stay valid.
func (o Order) Key() string {
	parts := make([]string, 0, 1+len(o.Then))
	for _, k := range o.Keys() {
		if k.Field == "" {
			k.Field = OrderName
		}
		if k.Desc {
			parts = append(parts, string(k.Field)+"_DESC")
		} else {
			parts = append(parts, string(k.Field)+"_ASC")
		}
	}
	return strings.Join(parts, ",")
}

// Check checks that o has at most MaxOrderKeys keys, each field at most
// once and known; field names the argument in the error.
func (o Order) Check(field string) error {
	keys := o.Keys()
	if len(keys) > MaxOrderKeys {
		return kb.Invalid(field, "has %d keys, at most %d", len(keys), MaxOrderKeys)
	}
	seen := map[OrderField]bool{}
	for i, k := range keys {
		if k.Field == "" {
			k.Field = OrderName
		}
		if _, err := k.column(); err != nil {
			return kb.Invalid(fmt.Sprintf("%s[%d].field", field, i), "cannot order by %q", k.Field)
		}
		if seen[k.Field] {
			return kb.Invalid(fmt.Sprintf("%s[%d].field", field, i), "orders by %s twice", k.Field)
		}
		seen[k.Field] = true
	}
	return nil
}

// needsEntity reports whether o orders by a column ListEntities reads from
// the entity row o rather than from the view (the country).
func (o Order) needsEntity() bool {
	for _, k := range o.Keys() {
		if k.Field == OrderCountry {
			return true
		}
	}
	return false
}

func (k OrderKey) column() (string, error) {
	switch k.Field {
	case OrderName, "":
		return "e.sort_name", nil
	case OrderCreatedAt:
		return "e.created_at", nil
	case OrderUpdatedAt:
		return "e.updated_at", nil
	case OrderWhen:
		return whenKey, nil
	case OrderCountry:
		return countryKey, nil
	}
	return "", kb.Invalid("orderBy.field", "cannot order by %q", k.Field)
}

// cast returns the SQL of a cursor's value v (an argument) as the type and
// collation of the key's column.
func (k OrderKey) cast(v string) string {
	switch k.Field {
	case OrderCreatedAt, OrderUpdatedAt:
		return v + "::timestamptz"
	case OrderWhen, OrderCountry:
		return "(" + v + ` COLLATE "C")`
	}
	return v
}

// Position is a keyset position in an ordered list: the first order key's
// value, as text, the values of the further keys (Order.Then), and the id.
type Position struct {
	Value string
	More  []string
	ID    int64
}

// Page asks for one page of a list: of the items after After (when given)
// and before Before (when given), the first First, or the last Last.
// Exactly one of First and Last is positive.
type Page struct {
	First  int
	After  *Position
	Last   int
	Before *Position
}

// EntityPage is one page of a list of entities.
type EntityPage struct {
	Entities  []*kb.Entity
	Positions []Position // the position of each entity, for its cursor
	HasNext   bool
	HasPrev   bool
}

// builder appends SQL conditions with their $N arguments.
type builder struct {
	where []string
	args  []any
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) cond(format string, v any) {
	b.where = append(b.where, strings.ReplaceAll(format, "?", b.arg(v)))
}

// anyOf adds the condition that col is one of vals; none when vals is
// empty (the filter is not set).
func (b *builder) anyOf(col string, vals []string) {
	if len(vals) > 0 {
		b.cond(col+" = ANY(?)", vals)
	}
}

// eqOrAny adds the condition that col is one of vals, as an equality when
// vals is one value (which an index on the column and the order serves in
// order); none when vals is empty.
func eqOrAny(b *builder, col string, vals []string) {
	if len(vals) == 1 {
		b.cond(col+" = ?", vals[0])
		return
	}
	b.anyOf(col, vals)
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func (f Filter) build(vis Visibility) *builder {
	b := &builder{}
	if f.Kind != "" {
		b.cond("e.kind = ?", string(f.Kind))
	}
	b.cond("e.status = ANY(?)", vis.statuses())
	b.where = append(b.where, f.conds(b, vis)...)
	return b
}

// conds returns the conditions of f's fields and of its and/or/not, their
// arguments added to b. The kind and the visibility are the caller's.
func (f Filter) conds(b *builder, vis Visibility) []string {
	outer := b.where
	b.where = nil
	defer func() { b.where = outer }()
	if n := kb.Fold(f.Name); n != "" {
		b.cond(`e.sort_name LIKE '%' || ? || '%'`, likeEscape(n))
	}
	switch len(f.Sectors) {
	case 0:
	case 1:
		// Equality, not ANY: the index on (kind, sector, sort_name, id)
		// then yields one sector's partners in name order, and a page stops
		// after its first rows instead of sorting the whole sector.
		b.cond("e.sector = ?", string(f.Sectors[0]))
	default:
		b.cond("e.sector = ANY(?)", strs(f.Sectors))
	}
	// One kind by equality, as the sector: the index on (kind,
	// partner_kind, sort_name, id) (migration 00030) yields its page.
	eqOrAny(b, "e.partner_kind", strs(f.PartnerKinds))
	switch {
	case f.countryIDs != nil:
		b.cond("e.id = ANY(?::bigint[])", f.countryIDs)
	case f.Country != "":
		b.cond("e.country = upper(?)", f.Country)
	}
	activities := f.Activities
	switch {
	case f.attrIDs != nil:
		// Read beforehand (Store.attrPlan): they stand for the region, the
		// city and a cooperative's activities.
		b.cond("e.id = ANY(?::bigint[])", f.attrIDs)
		activities = nil
	case f.attrWide:
		// Many match: the walk probes the row of the kind's table by its
		// key, where entity_full's region and city are a coalesce of four
		// tables' that joined each entity walked to all four (1,257
		// partners walked, 5 probes each, for 20 in Poznań at 1M).
		x := &builder{args: b.args}
		conds := f.attrConds(x)
		b.args = x.args
		// OFFSET 0 keeps it a probe: as a semi-join the plan read every
		// cooperative of a common activity through the GIN index first
		// (137-141 ms against 34-38 ms for the walk through the view).
		b.where = append(b.where, "EXISTS (SELECT 1 FROM "+attrTables[f.Kind]+" x WHERE x.id = e.id AND "+strings.Join(conds, " AND ")+" OFFSET 0)")
		activities = nil
	default:
		// The argument folded once (attrConds says why).
		if f.Region != "" {
			b.cond("lower(unaccent(e.region)) = (SELECT lower(unaccent(?)))", f.Region)
		}
		if f.City != "" {
			b.cond("lower(unaccent(e.city)) = (SELECT lower(unaccent(?)))", f.City)
		}
	}
	b.anyOf("e.coop_status", strs(f.CoopStatuses))
	if len(activities) > 0 {
		b.cond("e.activities && ?::text[]", strs(activities))
	}
	if len(f.Topics) > 0 {
		b.where = append(b.where, f.topicCond(b))
	}
	eqOrAny(b, "e.event_kind", strs(f.EventKinds))
	b.anyOf("e.event_status", strs(f.EventStatuses))
	b.anyOf("e.source_kind", strs(f.SourceKinds))
	if f.Language != "" {
		b.cond("e.language = lower(?)", f.Language)
	}
	// The map filters (near, within). Read through entity_full as a
	// semi-join (e.id IN (...)), past the planner's collapse limit, the
	// planner hashed every entity of the kind first (1.2-4.3 s for 5 km
	// around Poznan at 1M); the points are therefore either read first
	// (placePlan: narrow areas, an array of ids that probes entity by its
	// key) or probed entity by entity as the list walks its order (wide
	// areas, and inside and/or/not) (docs/benchmarks.md, "Measurements
	// behind the code"). A point must be in every area f gives.
	switch {
	case f.placeIDs != nil:
		b.cond("e.id = ANY(?::bigint[])", f.placeIDs)
	case f.Near != nil || f.Within != nil:
		// A wide area (placeWide), or one inside and/or/not: each entity's
		// points probed by its key. OFFSET 0 keeps the probe a probe: as
		// a semi-join the planner, which cannot estimate a box, read every
		// point of the area first (940 ms for 50 km around Poznań at 1M).
		// The kind is left out: the entity has it, and with it the planner
		// took the kind's GiST index for the probe and filtered the
		// area's points by the id (1.5 s for a page of events in Poland
		// by date at 1M, 49 ms a probe). Inside a not, the points of the
		// area read into an array (as they were) were scanned row by row
		// (515 ms for the count of partners not within 50 km of Poznań).
		g := f
		g.Kind = ""
		b.where = append(b.where, "EXISTS (SELECT 1 FROM entity_place pl WHERE pl.entity_id = e.id AND "+g.placeCond(b)+" OFFSET 0)")
	}
	// The date filters compare sort keys (kb.FuzzyDate.SortKey), the
	// expression of the index entity_kind_when_idx (migration 00015): a
	// key's first possible day is on or after a day exactly when the key
	// is at least the day's lowest key ("2019-09-00" for 1 September), and
	// on or before it when the key is at most the day; keys of unknown
	// years ("XXXX…") and of no date ("~") sort after every digit.
	if f.StartsAfter != nil || f.StartsBefore != nil {
		lo, hi := "0", "9999-99-99"
		if f.StartsAfter != nil {
			lo = kb.LowestSortKey(*f.StartsAfter)
		}
		if f.StartsBefore != nil {
			hi = f.StartsBefore.Format("2006-01-02")
		}
		b.where = append(b.where, fmt.Sprintf(`%s BETWEEN %s AND %s`, whenKey, b.arg(lo), b.arg(hi)))
	}
	if !f.SectorMix.Empty() {
		var sectors string
		switch f.Kind {
		case kb.KindPartnership:
			sectors = partnershipSectors(vis)
		case kb.KindCooperative:
			sectors = cooperativeSectors(vis)
		default:
			sectors = `CASE e.kind WHEN 'PARTNERSHIP' THEN ` + partnershipSectors(vis) +
				` WHEN 'COOPERATIVE' THEN ` + cooperativeSectors(vis) + ` END`
			b.where = append(b.where, "e.kind IN ('PARTNERSHIP', 'COOPERATIVE')")
		}
		mixCond(b, sectors, f.SectorMix)
	}
	switch {
	case f.facetIDs != nil:
		// The matching practices, read beforehand (Store.facetPlan): a
		// generic plan of "id IN (the GIN probe)" took the probe for a
		// hundredth of the practices and, for a country none has, walked
		// them all by name (100 ms at 1M).
		b.cond("e.id = ANY(?::bigint[])", f.facetIDs)
	case len(f.PracticeCountries) > 0 || len(f.PracticeSectors) > 0:
		// The statements are planned once, generically, by the pool
		// (execMode): a generic plan cannot know how common the values are
		// and, for practices "in PL with a private partner" (23,781 of
		// 40,000 at 1M), read every match through the GIN indexes and
		// sorted them (500 ms), where walking the names and probing each
		// practice's facets stops after a page (0.2 ms). Rare values take
		// the GIN indexes beforehand (Store.facetPlan), common ones this
		// walk.
		pf := f.ownFacetConds(b)
		b.where = append(b.where, "coalesce((SELECT "+strings.Join(pf, " AND ")+" FROM practice_facet pf WHERE pf.id = e.id), false)")
	}
	if f.CreatedSince != nil {
		b.cond("e.created_at >= ?", *f.CreatedSince)
	}
	if f.UpdatedSince != nil {
		b.cond("e.updated_at >= ?", *f.UpdatedSince)
	}
	for _, g := range f.And {
		g.Kind = f.Kind
		b.where = append(b.where, g.conds(b, vis)...)
	}
	if f.Or != nil {
		alts := make([]string, 0, len(f.Or))
		for _, g := range f.Or {
			g.Kind = f.Kind
			alts = append(alts, and(g.conds(b, vis)))
		}
		if len(alts) == 0 {
			alts = append(alts, "false") // or: [] holds for nothing
		}
		b.where = append(b.where, "("+strings.Join(alts, " OR ")+")")
	}
	if f.Not != nil {
		g := *f.Not
		g.Kind = f.Kind
		// coalesce: a condition on a column the kind lacks is null, and
		// "not null" would keep nothing; such a condition does not hold,
		// so its negation does.
		b.where = append(b.where, "NOT coalesce("+and(g.conds(b, vis))+", false)")
	}
	return b.where
}

// and joins conditions into one; no conditions hold always.
func and(conds []string) string {
	if len(conds) == 0 {
		return "true"
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}

// entityOwnColumns are the columns of entity_full that are entity's own,
// under the same names and with the same values.
var entityOwnColumns = map[string]bool{"id": true, "kind": true, "key": true, "name": true, "sort_name": true,
	"summary": true, "status": true, "version": true, "created_at": true, "updated_at": true,
	"created_by": true, "updated_by": true, "sector": true, "when_sort": true}

var viewColumn = regexp.MustCompile(`\be\.(\*|[a-z_]+)`)

// onEntityAlone reports whether the SQL fragments, written over entity_full
// e, read only entity's own columns of e, so that they may read entity e
// instead. Where every statement is planned at each execution (behind
// PgBouncer, s.serverPlans), naming the view costs its expansion into ten
// tables before the planner drops the nine that are not read: a page of
// ids read from entity took two thirds of the time of the same page from
// entity_full (docs/scaling.md, "PgBouncer").
func onEntityAlone(fragments ...string) bool {
	for _, f := range fragments {
		for _, m := range viewColumn.FindAllStringSubmatch(f, -1) {
			if !entityOwnColumns[m[1]] {
				return false
			}
		}
	}
	return true
}

// ListEntities returns one page of the entities that match f under vis, in
// order o, by keyset pagination.
func (s *Store) ListEntities(ctx context.Context, vis Visibility, f Filter, o Order, p Page) (*EntityPage, error) {
	if err := o.Check("orderBy"); err != nil {
		return nil, err
	}
	keys := o.Keys()
	cols := make([]string, len(keys))
	for i, k := range keys {
		cols[i], _ = k.column() // Check has checked them
	}
	f, some, err := s.counterPlan(ctx, vis, f)
	if err != nil {
		return nil, err
	}
	if !some {
		// The counters say that nothing matches: the page is empty.
		return &EntityPage{Positions: []Position{}, HasPrev: p.Last == 0 && p.After != nil, HasNext: p.Last > 0 && p.Before != nil}, nil
	}
	if f, err = s.facetPlan(ctx, f); err != nil {
		return nil, fmt.Errorf("list %s: %w", f.Kind, err)
	}
	if f, err = s.topicPlan(ctx, f); err != nil {
		return nil, fmt.Errorf("list %s: %w", f.Kind, err)
	}
	if f, err = s.placePlan(ctx, f); err != nil {
		return nil, fmt.Errorf("list %s: %w", f.Kind, err)
	}
	if f, err = s.attrPlan(ctx, f); err != nil {
		return nil, err
	}
	if f.matchesNothing() {
		return &EntityPage{Positions: []Position{}, HasPrev: p.Last == 0 && p.After != nil, HasNext: p.Last > 0 && p.Before != nil}, nil
	}
	b := f.build(vis)
	backward := p.Last > 0
	limit := p.First
	if backward {
		limit = p.Last
	}
	from := "entity_full e"
	idCol := "e.id"
	if o.needsEntity() {
		// The country is read from the entity row (migration 00023), and
		// the name and id with it, so that the index on (kind, country,
		// sort_name, id) yields the rows in the order of the page.
		from = "entity_full e JOIN entity o ON o.id = e.id"
		idCol = "o.id"
		for i, k := range keys {
			if k.Field == OrderName || k.Field == "" {
				cols[i] = "o.sort_name"
			}
		}
		if f.Kind != "" {
			b.cond("o.kind = ?", string(f.Kind))
		}
	}
	// Ties are broken by id, in the direction of the last key.
	keys = append(keys, OrderKey{Field: "id", Desc: keys[len(keys)-1].Desc})
	cols = append(cols, idCol)
	// Both cursors bound the list in its own order, whichever end is read.
	for _, bound := range []struct {
		at     *Position
		before bool
	}{{p.After, false}, {p.Before, true}} {
		if bound.at == nil {
			continue
		}
		if len(bound.at.More) != len(o.Then) {
			return nil, kb.Invalid("orderBy", "the cursor has %d keys, the order %d", 1+len(bound.at.More), len(keys)-1)
		}
		vals := make([]string, len(keys))
		vals[0] = keys[0].cast(b.arg(bound.at.Value))
		for i, v := range bound.at.More {
			vals[i+1] = keys[i+1].cast(b.arg(v))
		}
		vals[len(vals)-1] = b.arg(bound.at.ID)
		b.where = append(b.where, keysetCond(keys, cols, vals, bound.before))
	}
	order := make([]string, len(keys))
	for i, k := range keys {
		// Reading backwards flips every direction.
		dir := "ASC"
		if k.Desc != backward {
			dir = "DESC"
		}
		order[i] = cols[i] + " " + dir
	}
	split := f.splitWalk(o)
	// The page's ids first, then their rows (entitiesByIDSQL): with every
	// column of entity_full, the join to entity o made eleven relations,
	// past the planner's join collapse limit, and the plan walked the view
	// before the index (8.8-15.5 s for 20 partners by country and name at
	// 1M, against 0.5 ms for the ids alone).
	//
	// A list of ids read beforehand (a narrow map area, a rare country or
	// facet: up to 2,000 of them) reads its page's ids first too: with
	// every column of the view, each of the ids' rows was joined to the
	// kind's tables before the sort (17 ms for 1,500 partners within 5 km
	// of Poznań at 1M).
	//
	// Every other page reads its ids first as well: the page size is
	// written into the statement (Filter.limit), so each size is a
	// statement of its own, which every connection of the pool plans once,
	// and a generic plan of the whole view (eleven relations) took 17-57
	// ms to make at 1M, for 0.3 ms of work; the ids' statement, whose
	// view joins the planner drops, 1 ms, and the rows' (entitiesByIDSQL)
	// is one statement whatever the size. A client that asked for pages
	// of sizes the pool had not seen so took a core of PostgreSQL's for
	// tens of milliseconds per page and connection, from the clients
	// beside it (issue 11's fan-out set: docs/benchmarks.md, "Demoted
	// queries and the plans of new page sizes").
	//
	// The ids and the rows go in one statement (pageRowsSQL, one round
	// trip): the ids' part plans as it did alone, on entity without the
	// view's joins, the rows' as entitiesByIDSQL's union of two-table
	// joins, so a new page size costs a plan of a few milliseconds, not
	// the view's eleven relations (docs/scaling.md, "Round trips").
	if s.serverPlans && !o.needsEntity() && onEntityAlone(append(append([]string(nil), b.where...), order...)...) {
		from = "entity e"
	}
	sql := fmt.Sprintf(`SELECT e.id FROM %s WHERE %s ORDER BY %s LIMIT %s`,
		from, strings.Join(b.where, " AND "), strings.Join(order, ", "), f.limit(limit+1))
	mixed := !sameDirection(keys) && !split && f.placeIDs == nil && f.countryIDs == nil && f.facetIDs == nil &&
		f.attrIDs == nil && f.topicPractices == nil
	if mixed {
		// Keys in mixed directions: no index yields the order, and the
		// statement sorted every match (1-3 s for [COUNTRY, NAME DESC] or
		// [UPDATED_AT DESC, NAME] of partners at 1M, where all are in PL
		// and were written at one time). The first key's value t of the
		// page's last row is read first, in the order of the first key
		// alone, which its index yields; the page is then the few rows
		// before t, sorted, and the rows at t in the order of the other
		// keys, which the index of (kind, first key, second key, id) or
		// of the second key yields when t is shared by many.
		var t any
		err := s.read(ctx).QueryRow(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT 1 OFFSET %s`,
			cols[0], from, strings.Join(b.where, " AND "), order[0], f.limit(limit)), f.execMode(b.args)...).Scan(&t)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// No more than a page matches: sorted at once.
		case err != nil:
			return nil, fmt.Errorf("list %s: %w", f.Kind, translate(err))
		default:
			at := keys[0].cast(b.arg(t))
			before := "<"
			if strings.HasSuffix(order[0], "DESC") {
				before = ">"
			}
			sel := make([]string, len(keys))
			outer := make([]string, len(keys))
			for i := range keys {
				sel[i] = fmt.Sprintf("%s AS k%d", cols[i], i)
				outer[i] = fmt.Sprintf("u.k%d %s", i, order[i][strings.LastIndexByte(order[i], ' ')+1:])
			}
			where := strings.Join(b.where, " AND ")
			sql = fmt.Sprintf(`SELECT u.k%d FROM ((SELECT %s FROM %s WHERE %s AND %s %s %s ORDER BY %s LIMIT %s)
				UNION ALL (SELECT %s FROM %s WHERE %s AND %s = %s ORDER BY %s LIMIT %s)) u ORDER BY %s LIMIT %s`,
				len(keys)-1, strings.Join(sel, ", "), from, where, cols[0], before, at, order[0], f.limit(limit+1),
				strings.Join(sel, ", "), from, where, cols[0], at, strings.Join(order[1:], ", "), f.limit(limit+1),
				strings.Join(outer, ", "), f.limit(limit+1))
		}
	}
	if split {
		// One walk of the index of the kind's column and the name per
		// value the counters say matches (splitWalk), their pages merged.
		col := splitColumns[f.Kind]
		branches := make([]string, len(f.splitVals))
		for i, v := range f.splitVals {
			branches[i] = fmt.Sprintf(`(SELECT e.id, e.sort_name FROM %s WHERE %s AND e.%s = %s ORDER BY %s LIMIT %s)`,
				from, strings.Join(b.where, " AND "), col, b.arg(v), strings.Join(order, ", "), f.limit(limit+1))
		}
		sql = fmt.Sprintf(`SELECT e.id FROM (%s) e ORDER BY %s LIMIT %s`,
			strings.Join(branches, " UNION ALL "), strings.Join(order, ", "), f.limit(limit+1))
	}
	if s.serverPlans {
		// Planned at every execution (behind PgBouncer): the page's ids
		// come from the view, the rows from entity_rows, in one statement.
		// The planner drops the view's joins that the conditions and the
		// order do not read, and entity_rows' plan is kept by the server
		// session, where a generic plan of the whole view took 6-16 ms to
		// make on the reference data (docs/scaling.md, "PgBouncer").
		ids := "ARRAY(" + sql + ")"
		if sector, ok := f.namePage(o, p); ok {
			// The commonest page, a kind's first by name (of a sector),
			// has its ids' statement kept by the server session too
			// (entity_name_page, migration 00037).
			b = &builder{}
			arg := "NULL"
			if sector != "" {
				arg = b.arg(sector) + "::text"
			}
			ids = fmt.Sprintf("entity_name_page(%s, %s, %s, %s)", b.arg(string(f.Kind)), b.arg(vis.statuses()), arg, f.limit(limit+1))
		}
		sql = `SELECT ` + entityColumns + ` FROM entity_rows(` + ids + `, ` + b.arg(vis.statuses()) + `) e ORDER BY e.ord`
	}
	page := &EntityPage{}
	simple := f.simpleProtocol(b.args)
	if !s.serverPlans && !simple {
		// The ids and their rows in one statement (pageRowsSQL), prepared
		// and planned once per connection as the ids' statement was.
		sql = pageRowsSQL(sql, b.arg(vis.statuses()))
	}
	if !s.serverPlans && simple {
		// A name filter goes by the simple protocol, planned for its
		// arguments at every execution (Filter.execMode): its ids alone,
		// so that the rows' union is not planned each time too, but kept
		// with entitiesByIDSQL's prepared statement.
		rows, err := s.read(ctx).Query(ctx, sql, f.execMode(b.args)...)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", f.Kind, translate(err))
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", f.Kind, translate(err))
		}
		rows, err = s.read(ctx).Query(ctx, entitiesByIDSQL, ids, vis.statuses())
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", f.Kind, translate(err))
		}
		byID, err := collectEntities(ctx, rows)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", f.Kind, err)
		}
		for _, id := range ids {
			if e := byID[id]; e != nil {
				page.Entities = append(page.Entities, vis.scrub(e))
			}
		}
	} else {
		rows, err := s.read(ctx).Query(ctx, sql, f.execMode(b.args)...)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", f.Kind, translate(err))
		}
		defer rows.Close()
		for rows.Next() {
			if err := budget.Rows(ctx, 1); err != nil {
				return nil, fmt.Errorf("list %s: %w", f.Kind, err)
			}
			e, err := scanEntity(rows)
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", f.Kind, err)
			}
			page.Entities = append(page.Entities, vis.scrub(e))
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list %s: %w", f.Kind, translate(err))
		}
	}
	more := len(page.Entities) > limit
	if more {
		page.Entities = page.Entities[:limit]
	}
	if backward {
		for i, j := 0, len(page.Entities)-1; i < j; i, j = i+1, j-1 {
			page.Entities[i], page.Entities[j] = page.Entities[j], page.Entities[i]
		}
		page.HasPrev, page.HasNext = more, p.Before != nil
	} else {
		page.HasNext, page.HasPrev = more, p.After != nil
	}
	page.Positions = make([]Position, len(page.Entities))
	for i, e := range page.Entities {
		page.Positions[i] = position(e, o)
	}
	return page, nil
}

func position(e *kb.Entity, o Order) Position {
	pos := Position{Value: keyValue(e, o.Field), ID: e.ID}
	for _, k := range o.Then {
		pos.More = append(pos.More, keyValue(e, k.Field))
	}
	return pos
}

// keyValue is the value of the order key field of e, as text, as the
// key's column orders it.
func keyValue(e *kb.Entity, field OrderField) string {
	switch field {
	case OrderCreatedAt:
		return e.CreatedAt.UTC().Format(time.RFC3339Nano)
	case OrderUpdatedAt:
		return e.UpdatedAt.UTC().Format(time.RFC3339Nano)
	case OrderWhen:
		if e.Event != nil && e.Event.When != nil {
			return e.Event.When.SortKey()
		}
		return noDate
	case OrderCountry:
		if c := e.Country(); c != "" {
			return c
		}
		return noCountry
	}
	return kb.Fold(e.Name)
}

// keysetCond is the condition that a row comes after the position vals
// (before it, when before is set) in the order of keys, whose columns are
// cols and whose last key is the id. When every key goes the same way it
// is one row comparison, which an index on the columns serves as a range;
// keys in mixed directions need the expanded form: the first key beyond,
// or equal and the second beyond, and so on.
func keysetCond(keys []OrderKey, cols, vals []string, before bool) string {
	same := sameDirection(keys)
	cmp := func(k OrderKey) string {
		if k.Desc != before {
			return "<"
		}
		return ">"
	}
	if same {
		return fmt.Sprintf("(%s) %s (%s)", strings.Join(cols, ", "), cmp(keys[0]), strings.Join(vals, ", "))
	}
	alts := make([]string, len(keys))
	for i := range keys {
		conds := make([]string, 0, i+1)
		for j := 0; j < i; j++ {
			conds = append(conds, cols[j]+" = "+vals[j])
		}
		conds = append(conds, cols[i]+" "+cmp(keys[i])+" "+vals[i])
		alts[i] = "(" + strings.Join(conds, " AND ") + ")"
	}
	// The first key's bound, implied by every alternative, lets its
	// index start at the position rather than at the list's start.
	return "(" + cols[0] + " " + cmp(keys[0]) + "= " + vals[0] + " AND (" + strings.Join(alts, " OR ") + "))"
}

// sameDirection reports whether every key goes the way of the first.
func sameDirection(keys []OrderKey) bool {
	for _, k := range keys[1:] {
		if k.Desc != keys[0].Desc {
			return false
		}
	}
	return true
}

// namePage reports whether a page of f in order o is one that
// entity_name_page reads (migration 00037): the first page of a kind in
// name order, of one sector (returned) or of any (""), with no other
// condition. It decides from the filter, the order and the page, as
// kindCount does, not from the statement built for them.
func (f Filter) namePage(o Order, p Page) (sector string, ok bool) {
	if f.Kind == "" || len(f.Sectors) > 1 || (o.Field != OrderName && o.Field != "") || o.Desc || len(o.Then) > 0 ||
		p.After != nil || p.Before != nil || p.Last > 0 {
		return "", false
	}
	// The values of the kind's column that the counters found (splitVals)
	// change nothing unless the walk is split by them; any other field,
	// the plans' unexported ones too (empty reads them), is a condition.
	g := f
	g.Kind, g.Sectors, g.splitVals = "", nil, nil
	if f.splitWalk(o) || !g.empty() {
		return "", false
	}
	if len(f.Sectors) == 1 {
		sector = string(f.Sectors[0])
	}
	return sector, true
}

// headFields are the columns of an entity row that a head holds, but its
// id, in the order head.dest scans them; %[1]s is the entity's alias.
var headFields = []string{"%[1]s.kind", "coalesce(%[1]s.key, '')", "%[1]s.name", "%[1]s.summary", "%[1]s.status",
	"%[1]s.version", "%[1]s.created_at", "%[1]s.updated_at", "%[1]s.created_by", "%[1]s.updated_by", "coalesce(%[1]s.sector, '')"}

// headNames name headFields in a subquery whose columns headColumns
// named with a prefix.
var headNames = []string{"kind", "key", "name", "summary", "status", "version", "created_at", "updated_at", "created_by", "updated_by", "sector"}

// headColumns returns the select list of the head of the entity aliased
// alias, each column named prefix + its name when prefix is not empty.
func headColumns(alias, prefix string) string {
	cols := make([]string, len(headFields))
	for i, f := range headFields {
		cols[i] = fmt.Sprintf(f, alias)
		if prefix != "" {
			cols[i] += " AS " + prefix + headNames[i]
		}
	}
	return strings.Join(cols, ", ")
}

// headRefs returns the select list of the head columns that headColumns
// named with prefix, in a subquery aliased alias.
func headRefs(alias, prefix string) string {
	cols := make([]string, len(headNames))
	for i, n := range headNames {
		cols[i] = alias + "." + prefix + n
	}
	return strings.Join(cols, ", ")
}

// headNulls stands for headColumns in a row that carries no head.
const headNulls = `NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, NULL::timestamptz, NULL::timestamptz, NULL::text, NULL::text, NULL::text`

// head scans headColumns, or headNulls.
type head struct {
	kind, key, name, summary, status, createdBy, updatedBy, sector *string
	version                                                        *int
	createdAt, updatedAt                                           *time.Time
}

// dest returns the scan destinations of headColumns' columns.
func (h *head) dest() []any {
	return []any{&h.kind, &h.key, &h.name, &h.summary, &h.status, &h.version, &h.createdAt, &h.updatedAt,
		&h.createdBy, &h.updatedBy, &h.sector}
}

// entity returns the head scanned as entity id, as EntityHeads returns
// it; nil when the row carried none.
func (h *head) entity(id int64) *kb.Entity {
	if h.kind == nil {
		return nil
	}
	e := &kb.Entity{ID: id, Kind: kb.Kind(*h.kind), Key: *h.key, Name: *h.name, Summary: *h.summary,
		Status: kb.PublicationStatus(*h.status), Version: *h.version, CreatedAt: *h.createdAt, UpdatedAt: *h.updatedAt,
		CreatedBy: *h.createdBy, UpdatedBy: *h.updatedBy}
	e.EmptyAttributes()
	if e.Partner != nil {
		e.Partner.Sector = kb.Sector(*h.sector)
	}
	return e
}

// EntityHeads returns the entities with the given ids in the order of ids,
// as EntitiesByID does, but with only what the entity row holds: id, key,
// kind, name, summary, status, version, times and a partner's sector. The
// other attributes of its kind are zero (the kind's struct is there,
// empty), and citations are not read. It serves lists that show a handful of fields of many entities (a
// neighbourhood's or a path's nodes): one index probe per entity, where
// EntitiesByID joins each to its kind's table and reads ~40 columns
// (docs/traversal.md, "Reading the nodes"). The caller must know that no
// other field is asked for.
func (s *Store) EntityHeads(ctx context.Context, vis Visibility, ids []int64) ([]*kb.Entity, error) {
	sql := `SELECT id, kind, coalesce(key, ''), name, summary, status, version,
		created_at, updated_at, created_by, updated_by, coalesce(sector, '')
		FROM entity WHERE id = ANY($1) AND status = ANY($2)`
	if s.serverPlans {
		// The same statement, planned once per server session (migration 00037).
		sql = `SELECT * FROM entity_heads($1, $2)`
	}
	rows, err := s.read(ctx).Query(ctx, sql, ids, vis.statuses())
	if err != nil {
		return nil, fmt.Errorf("entity heads: %w", translate(err))
	}
	defer rows.Close()
	byID := make(map[int64]*kb.Entity, len(ids))
	for rows.Next() {
		if err := budget.Rows(ctx, 1); err != nil {
			return nil, fmt.Errorf("entity heads: %w", err)
		}
		e := &kb.Entity{}
		var sector kb.Sector
		if err := rows.Scan(&e.ID, &e.Kind, &e.Key, &e.Name, &e.Summary, &e.Status, &e.Version,
			&e.CreatedAt, &e.UpdatedAt, &e.CreatedBy, &e.UpdatedBy, &sector); err != nil {
			return nil, fmt.Errorf("entity heads: %w", translate(err))
		}
		e.EmptyAttributes()
		if e.Partner != nil {
			e.Partner.Sector = sector
		}
		byID[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("entity heads: %w", translate(err))
	}
	out := make([]*kb.Entity, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

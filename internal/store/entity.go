package store

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/textsearch"
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
func scanEntity(row pgx.Row) (*kb.Entity, error) {
	var (
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
	)
	err := row.Scan(&e.ID, &e.Kind, &e.Key, &e.Name, &e.Summary, &e.Status, &e.Version,
		&e.CreatedAt, &e.UpdatedAt, &e.CreatedBy, &e.UpdatedBy,
		&sector, &partnerKind, &legalForm, &country, &region, &city,
		&website, &regNo, &coopStatus, &activities, &foundedOn,
		&startsOn, &endsOn, &description, &topics, &targetGroup, &resources, &evidence,
		&difficulties, &lessons, &transfer, &recognition, &model, &lessonsPL,
		&analogue, &funding, &eventKind, &eventStatus, &venue,
		&publicRole, &sourceKind, &publisher, &publishedOn, &url, &language,
		&email, &phone, &address, &latitude, &longitude, &logoURL, &whenEDTF, &otherPlaces,
		&publishedEDTF)
	if err != nil {
		return nil, err
	}
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
	return &e, nil
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
var entitiesByIDSQL = func() string {
	kinds := []struct{ kind, table, alias string }{
		{"PARTNER", "partner", "p"}, {"COOPERATIVE", "cooperative", "c"}, {"PARTNERSHIP", "partnership", "ps"},
		{"GOOD_PRACTICE", "good_practice", "g"}, {"FOREIGN_EXAMPLE", "foreign_example", "f"}, {"PROJECT", "project", "pr"},
		{"EVENT", "event", "ev"}, {"PERSON", "person", "pe"}, {"SOURCE", "source", "s"},
	}
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
		branches[i] = "SELECT " + sel + " FROM b e JOIN " + k.table + " " + k.alias + " ON " + k.alias + ".id = e.id WHERE e.kind = '" + k.kind + "'"
	}
	return `WITH b AS MATERIALIZED (SELECT * FROM entity WHERE id = ANY($1) AND status = ANY($2))
		SELECT ` + entityColumns + ` FROM (` + strings.Join(branches, "\n\t\tUNION ALL ") + `) e`
}()

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
	sql := entitiesByIDSQL
	if s.serverPlans {
		sql = entityRowsSQL
	}
	rows, err := s.read(ctx).Query(ctx, sql, ids, vis.statuses())
	if err != nil {
		return nil, fmt.Errorf("entities by id: %w", translate(err))
	}
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
	e, err := scanEntity(s.read(ctx).QueryRow(ctx, `SELECT `+entityColumns+` FROM entity_full e
		WHERE e.key = $1 AND e.status = ANY($2)`, key, vis.statuses()))
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
	for rows.Next() {
		if err := budget.Rows(ctx, 1); err != nil {
			return nil, err
		}
		e, err := scanEntity(rows)
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
	// facetIDs, when not nil, are the practices PracticeCountries and
	// PracticeSectors match, read beforehand through the GIN indexes of
	// their facets, for values few practices have; see Store.facetPlan.
	facetIDs []int64
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

// limit returns the LIMIT n of a statement of f: an argument, or, when f
// probes the facets of practices row by row, the number itself. A generic
// plan takes LIMIT $n for a tenth of the rows; with the probes' estimate
// over a kind's 100,000 entities that came to JIT compilation of every
// page (30 ms, for 0.2 ms of work, at 1M). A page size is one of a
// hundred, so the pool's plans stay few.
func (f Filter) limit(b *builder, n int) string {
	if f.hasFacets() {
		return strconv.Itoa(n)
	}
	return b.arg(n)
}

// hasFacets reports whether f or a filter inside it filters on the facets
// of practices.
func (f Filter) hasFacets() bool {
	if len(f.PracticeCountries) > 0 || len(f.PracticeSectors) > 0 {
		return true
	}
	for _, g := range append(append([]Filter{}, f.And...), f.Or...) {
		if g.hasFacets() {
			return true
		}
	}
	return f.Not != nil && f.Not.hasFacets()
}

// composed reports whether f uses and/or/not.
func (f Filter) composed() bool { return f.And != nil || f.Or != nil || f.Not != nil }

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
	if !f.hasName() || !storable(args) {
		return args
	}
	return append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
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

// Order is the order of a list; ties are broken by id, in the same direction.
type Order struct {
	Field OrderField
	Desc  bool
}

// Key names the ordering, for cursors: "NAME_ASC".
func (o Order) Key() string {
	if o.Desc {
		return string(o.Field) + "_DESC"
	}
	return string(o.Field) + "_ASC"
}

func (o Order) column() (string, error) {
	switch o.Field {
	case OrderName, "":
		return "e.sort_name", nil
	case OrderCreatedAt:
		return "e.created_at", nil
	case OrderUpdatedAt:
		return "e.updated_at", nil
	case OrderWhen:
		return whenKey, nil
	}
	return "", kb.Invalid("orderBy.field", "cannot order by %q", o.Field)
}

// Position is a keyset position in an ordered list: the order key's value,
// as text, and the id.
type Position struct {
	Value string
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
	b.anyOf("e.partner_kind", strs(f.PartnerKinds))
	if f.Country != "" {
		b.cond("e.country = upper(?)", f.Country)
	}
	if f.Region != "" {
		b.cond("lower(unaccent(e.region)) = lower(unaccent(?))", f.Region)
	}
	if f.City != "" {
		b.cond("lower(unaccent(e.city)) = lower(unaccent(?))", f.City)
	}
	b.anyOf("e.coop_status", strs(f.CoopStatuses))
	if len(f.Activities) > 0 {
		b.cond("e.activities && ?::text[]", strs(f.Activities))
	}
	if len(f.Topics) > 0 {
		b.where = append(b.where, topicCond(b, f.Topics))
	}
	b.anyOf("e.event_kind", strs(f.EventKinds))
	b.anyOf("e.event_status", strs(f.EventStatuses))
	b.anyOf("e.source_kind", strs(f.SourceKinds))
	if f.Language != "" {
		b.cond("e.language = lower(?)", f.Language)
	}
	// The places are read first, into an array of ids that probes entity
	// by its key: as a semi-join (e.id IN (...)) over entity_full's nine
	// joins, past the planner's collapse limit, the planner hashed every
	// entity of the kind first, 1.2-4.3 s for 5 km around Poznan with
	// 460,000 points on a copy of the generated graph, against 4 ms
	// (docs/benchmarks.md, "Measurements behind the code").
	if c := f.Near; c != nil {
		// The box around the circle narrows the index range scan; the
		// great-circle distance (haversine, mean earth radius) decides.
		box := c.Box()
		pts := fmt.Sprintf(`e.id = ANY(ARRAY(SELECT pl.entity_id FROM entity_place pl WHERE %s
			AND 2 * 6371.0088 * asin(sqrt(least(1, power(sin(radians(pl.latitude - %s) / 2), 2)
				+ cos(radians(%s)) * cos(radians(pl.latitude)) * power(sin(radians(pl.longitude - %s) / 2), 2)))) <= %s))`,
			boxCond(b, box), b.arg(c.Lat), b.arg(c.Lat), b.arg(c.Lon), b.arg(c.RadiusKm))
		b.where = append(b.where, pts)
	}
	if box := f.Within; box != nil {
		b.where = append(b.where, `e.id = ANY(ARRAY(SELECT pl.entity_id FROM entity_place pl WHERE `+boxCond(b, *box)+`))`)
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
		v := b.arg(vis.statuses())
		var sectors string
		switch f.Kind {
		case kb.KindPartnership:
			sectors = partnershipSectors(v)
		case kb.KindCooperative:
			sectors = cooperativeSectors(b, v)
		default:
			sectors = `CASE e.kind WHEN 'PARTNERSHIP' THEN ` + partnershipSectors(v) +
				` WHEN 'COOPERATIVE' THEN ` + cooperativeSectors(b, v) + ` END`
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
		var pf []string
		if len(f.PracticeCountries) > 0 {
			cs := make([]string, len(f.PracticeCountries))
			for i, c := range f.PracticeCountries {
				cs[i] = strings.ToUpper(c)
			}
			pf = append(pf, "pf.countries && "+b.arg(cs)+"::text[]")
		}
		if len(f.PracticeSectors) > 0 {
			pf = append(pf, "pf.sectors && "+b.arg(strs(f.PracticeSectors))+"::text[]")
		}
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

// boxCond is the condition that entity_place pl lies in box: a range of
// latitudes and one of longitudes, or two when the box crosses the
// antimeridian (West > East).
func boxCond(b *builder, box kb.BBox) string {
	lat := fmt.Sprintf("pl.latitude BETWEEN %s AND %s", b.arg(box.South), b.arg(box.North))
	if box.West <= box.East {
		return fmt.Sprintf("%s AND pl.longitude BETWEEN %s AND %s", lat, b.arg(box.West), b.arg(box.East))
	}
	return fmt.Sprintf("%s AND (pl.longitude >= %s OR pl.longitude <= %s)", lat, b.arg(box.West), b.arg(box.East))
}

// ListEntities returns one page of the entities that match f under vis, in
// order o, by keyset pagination.
func (s *Store) ListEntities(ctx context.Context, vis Visibility, f Filter, o Order, p Page) (*EntityPage, error) {
	col, err := o.column()
	if err != nil {
		return nil, err
	}
	if f, err = s.facetPlan(ctx, f); err != nil {
		return nil, fmt.Errorf("list %s: %w", f.Kind, err)
	}
	b := f.build(vis)
	backward := p.Last > 0
	desc := o.Desc != backward // reading backwards flips the direction
	limit := p.First
	if backward {
		limit = p.Last
	}
	// Both cursors bound the list in its own order, whichever end is read.
	gt, lt := ">", "<"
	if o.Desc {
		gt, lt = lt, gt
	}
	for _, bound := range []struct {
		at  *Position
		cmp string
	}{{p.After, gt}, {p.Before, lt}} {
		if bound.at == nil {
			continue
		}
		val := b.arg(bound.at.Value)
		switch o.Field {
		case OrderCreatedAt, OrderUpdatedAt:
			val += "::timestamptz"
		case OrderWhen:
			val = "(" + val + ` COLLATE "C")`
		}
		b.where = append(b.where, fmt.Sprintf("(%s, e.id) %s (%s, %s)", col, bound.cmp, val, b.arg(bound.at.ID)))
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	cols := entityColumns
	if s.serverPlans {
		cols = "e.id"
	}
	sql := fmt.Sprintf(`SELECT %s FROM entity_full e WHERE %s ORDER BY %s %s, e.id %s LIMIT %s`,
		cols, strings.Join(b.where, " AND "), col, dir, dir, f.limit(b, limit+1))
	if s.serverPlans {
		// Planned at every execution (behind PgBouncer): the page's ids
		// come from the view, the rows from entity_rows. The planner drops
		// the view's joins that the conditions and the order do not read,
		// and entity_rows' plan is kept by the server session, where a
		// generic plan of the whole view took 6-16 ms to make on the
		// reference data (docs/scaling.md, "PgBouncer").
		sql = `SELECT ` + entityColumns + ` FROM entity_rows(ARRAY(` + sql + `), ` + b.arg(vis.statuses()) + `) e ORDER BY e.ord`
	}
	rows, err := s.read(ctx).Query(ctx, sql, f.execMode(b.args)...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", f.Kind, translate(err))
	}
	defer rows.Close()
	page := &EntityPage{}
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
	switch o.Field {
	case OrderCreatedAt:
		return Position{Value: e.CreatedAt.UTC().Format(time.RFC3339Nano), ID: e.ID}
	case OrderUpdatedAt:
		return Position{Value: e.UpdatedAt.UTC().Format(time.RFC3339Nano), ID: e.ID}
	case OrderWhen:
		if e.Event != nil && e.Event.When != nil {
			return Position{Value: e.Event.When.SortKey(), ID: e.ID}
		}
		return Position{Value: noDate, ID: e.ID}
	}
	return Position{Value: kb.Fold(e.Name), ID: e.ID}
}

// topicCond is the condition that a practice has a topic matching one of
// topics. A topic matches when each word of the query starts a word of it,
// ignoring case and diacritics, stemmed: "spółdzielnie" finds "spółdzielnie
// socjalne", and so do "spółdzielnia" and "Spoldzielni" (the query word's
// Polish, Swedish and English stems, textsearch.Lexemes, each may start the
// topic's word). A query of no words matches no topic.
func topicCond(b *builder, topics []string) string {
	var alts []string
	for _, t := range topics {
		words := textsearch.Words(t)
		if len(words) == 0 {
			continue
		}
		conds := make([]string, len(words))
		for i, w := range words {
			stems := textsearch.Lexemes(w)
			for j, st := range stems {
				stems[j] = regexp.QuoteMeta(st)
			}
			// Words as textsearch.Tokenize splits them: runs of letters
			// and digits, here after unaccent and lower.
			conds[i] = "lower(unaccent(t)) ~ " + b.arg(`(^|[^[:alnum:]])(`+strings.Join(stems, "|")+`)`)
		}
		alts = append(alts, "("+strings.Join(conds, " AND ")+")")
	}
	if len(alts) == 0 {
		return "false"
	}
	return "EXISTS (SELECT 1 FROM unnest(e.topics) t WHERE " + strings.Join(alts, " OR ") + ")"
}

// EntityHeads returns the entities with the given ids in the order of ids,
// as EntitiesByID does, but with only what the entity row holds: id, key,
// kind, name, summary, status, version and times. The attributes of its
// kind are zero (the kind's struct is there, empty), and citations are not
// read. It serves lists that show a handful of fields of many entities (a
// neighbourhood's or a path's nodes): one index probe per entity, where
// EntitiesByID joins each to its kind's table and reads ~40 columns
// (docs/traversal.md, "Reading the nodes"). The caller must know that no
// other field is asked for.
func (s *Store) EntityHeads(ctx context.Context, vis Visibility, ids []int64) ([]*kb.Entity, error) {
	rows, err := s.read(ctx).Query(ctx, `SELECT id, kind, coalesce(key, ''), name, summary, status, version,
		created_at, updated_at, created_by, updated_by
		FROM entity WHERE id = ANY($1) AND status = ANY($2)`, ids, vis.statuses())
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
		if err := rows.Scan(&e.ID, &e.Kind, &e.Key, &e.Name, &e.Summary, &e.Status, &e.Version,
			&e.CreatedAt, &e.UpdatedAt, &e.CreatedBy, &e.UpdatedBy); err != nil {
			return nil, fmt.Errorf("entity heads: %w", translate(err))
		}
		e.EmptyAttributes()
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

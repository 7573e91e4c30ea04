package store

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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
	e.email, e.phone`

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
	)
	err := row.Scan(&e.ID, &e.Kind, &e.Key, &e.Name, &e.Summary, &e.Status, &e.Version,
		&e.CreatedAt, &e.UpdatedAt, &e.CreatedBy, &e.UpdatedBy,
		&sector, &partnerKind, &legalForm, &country, &region, &city,
		&website, &regNo, &coopStatus, &activities, &foundedOn,
		&startsOn, &endsOn, &description, &topics, &targetGroup, &resources, &evidence,
		&difficulties, &lessons, &transfer, &recognition, &model, &lessonsPL,
		&analogue, &funding, &eventKind, &eventStatus, &venue,
		&publicRole, &sourceKind, &publisher, &publishedOn, &url, &language,
		&email, &phone)
	if err != nil {
		return nil, err
	}
	place := kb.Place{Country: country, Region: region, City: city}
	switch e.Kind {
	case kb.KindPartner:
		e.Partner = &kb.Partner{Sector: kb.Sector(sector), PartnerKind: kb.PartnerKind(partnerKind), LegalForm: legalForm,
			Place: place, Website: website, RegistrationNumber: regNo}
	case kb.KindCooperative:
		acts := make([]kb.Activity, len(activities))
		for i, a := range activities {
			acts[i] = kb.Activity(a)
		}
		e.Cooperative = &kb.Cooperative{CoopStatus: kb.CooperativeStatus(coopStatus), Activities: acts, Place: place,
			FoundedOn: foundedOn, Website: website, RegistrationNumber: regNo}
	case kb.KindPartnership:
		e.Partnership = &kb.Partnership{StartsOn: startsOn, EndsOn: endsOn}
	case kb.KindGoodPractice:
		e.GoodPractice = &kb.GoodPractice{Description: description, Topics: topics, TargetGroup: targetGroup,
			ResourcesNeeded: resources, Evidence: evidence, Difficulties: difficulties, Lessons: lessons,
			TransferPotential: transfer, Recognition: recognition}
	case kb.KindForeignExample:
		e.ForeignExample = &kb.ForeignExample{Place: place, Model: model, TargetGroup: targetGroup,
			LessonsForPoland: lessonsPL, HomeAnalogue: analogue, Website: website}
	case kb.KindProject:
		e.Project = &kb.Project{StartsOn: startsOn, EndsOn: endsOn, Funding: funding, Website: website}
	case kb.KindEvent:
		e.Event = &kb.Event{EventKind: kb.EventKind(eventKind), EventStatus: kb.EventStatus(eventStatus),
			StartsOn: startsOn, EndsOn: endsOn, Place: place, Venue: venue}
	case kb.KindPerson:
		e.Person = &kb.Person{PublicRole: publicRole, Email: email, Phone: phone}
	case kb.KindSource:
		e.Source = &kb.Source{SourceKind: kb.SourceKind(sourceKind), Publisher: publisher, PublishedOn: publishedOn,
			URL: url, Language: language}
	default:
		return nil, fmt.Errorf("entry %q has unknown kind %q", e.Key, e.Kind)
	}
	return &e, nil
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
       coalesce(pe.email, '') AS email, coalesce(pe.phone, '') AS phone`

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

// EntitiesByID returns the entities with the given ids in the order of ids,
// with nil where an entity does not exist or is not visible under vis.
func (s *Store) EntitiesByID(ctx context.Context, vis Visibility, ids []int64) ([]*kb.Entity, error) {
	rows, err := s.read(ctx).Query(ctx, entitiesByIDSQL, ids, vis.statuses())
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
	// SectorMix restricts partnerships by the sectors of their members and
	// cooperatives by those of the partners around them (see
	// kb.CooperativePartnersIn); other kinds do not match a non-empty one.
	SectorMix kb.MixFilter
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
	if f.Name == "" || !storable(args) {
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
)

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
	}
	return "", kb.Invalid("orderBy.field", "cannot order by %q", o.Field)
}

// Position is a keyset position in an ordered list: the order key's value,
// as text, and the id.
type Position struct {
	Value string
	ID    int64
}

// Page asks for one page of a list: the first First items after After, or
// the last Last items before Before. Exactly one of First and Last is
// positive.
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
		b.cond(`EXISTS (SELECT 1 FROM unnest(e.topics) t, unnest(?::text[]) q
			WHERE lower(unaccent(t)) = lower(unaccent(q)))`, f.Topics)
	}
	b.anyOf("e.event_kind", strs(f.EventKinds))
	b.anyOf("e.event_status", strs(f.EventStatuses))
	b.anyOf("e.source_kind", strs(f.SourceKinds))
	if f.Language != "" {
		b.cond("e.language = lower(?)", f.Language)
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
	return b
}

// ListEntities returns one page of the entities that match f under vis, in
// order o, by keyset pagination.
func (s *Store) ListEntities(ctx context.Context, vis Visibility, f Filter, o Order, p Page) (*EntityPage, error) {
	col, err := o.column()
	if err != nil {
		return nil, err
	}
	b := f.build(vis)
	backward := p.Last > 0
	desc := o.Desc != backward // reading backwards flips the direction
	limit, cursor := p.First, p.After
	if backward {
		limit, cursor = p.Last, p.Before
	}
	if cursor != nil {
		cmp := ">"
		if desc {
			cmp = "<"
		}
		val := b.arg(cursor.Value)
		if col != "e.sort_name" {
			val += "::timestamptz"
		}
		b.where = append(b.where, fmt.Sprintf("(%s, e.id) %s (%s, %s)", col, cmp, val, b.arg(cursor.ID)))
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	sql := fmt.Sprintf(`SELECT %s FROM entity_full e WHERE %s ORDER BY %s %s, e.id %s LIMIT %s`,
		entityColumns, strings.Join(b.where, " AND "), col, dir, dir, b.arg(limit+1))
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
	}
	return Position{Value: kb.Fold(e.Name), ID: e.ID}
}

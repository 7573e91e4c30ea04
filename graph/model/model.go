// Package model holds the GraphQL models: the Go types that gqlgen binds to
// schema/*.graphqls. They are built from domain values (internal/kb) by the
// mapping functions in this package and carry database IDs, not loaded
// relations: field resolvers fetch relations through per-request loaders.
package model

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/relay"
)

// CountFunc counts the whole result of a list; a connection calls it only
// when a client asks for totalCount.
type CountFunc func(ctx context.Context) (int, error)

// ExactFunc says whether the count of a list is exact (false: it stopped
// at its bound and is a lower bound); a connection calls it only when a
// client asks for totalCountIsExact.
type ExactFunc func(ctx context.Context) (bool, error)

// Exact calls f; a nil f stands for an exact count, as that of a related
// list (a connection type serves root and related lists alike).
func (f ExactFunc) Exact(ctx context.Context) (bool, error) {
	if f == nil {
		return true, nil
	}
	return f(ctx)
}

// EntityBase carries the fields every entity type shares.
type EntityBase struct {
	RowID             int64
	Key               *string
	Kind              kb.Kind
	Name              string
	Summary           string
	PublicationStatus kb.PublicationStatus
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// Served says which language the text fields were served in, when
	// the request asked for one (graph/languages.go); nil otherwise.
	Served *kb.Served
}

// ID returns the global ID of the entity.
func (b *EntityBase) ID() string { return relay.ID(b.Kind.TypeName(), b.RowID) }

// IsNode marks entity types as implementing Node.
func (*EntityBase) IsNode() {}

// IsEntity marks entity types as implementing Entity.
func (*EntityBase) IsEntity() {}

// EntityRowID returns the database id of the entity.
func (b *EntityBase) EntityRowID() int64 { return b.RowID }

// Base returns the fields every entity type shares.
func (b *EntityBase) Base() *EntityBase { return b }

// Partner is the GraphQL Partner type.
type Partner struct {
	EntityBase
	Sector             kb.Sector
	PartnerKind        kb.PartnerKind
	LegalForm          *string
	Country            *string
	Region             *string
	City               *string
	Website            *string
	RegistrationNumber *string
	LogoURL            *string
	Address            *string
	Point              *GeoPoint
	Place              *Place
}

// Cooperative is the GraphQL Cooperative type.
type Cooperative struct {
	EntityBase
	Status             kb.CooperativeStatus
	Activities         []kb.Activity
	Country            *string
	Region             *string
	City               *string
	FoundedOn          *time.Time
	Website            *string
	RegistrationNumber *string
	LogoURL            *string
	Address            *string
	Point              *GeoPoint
	Place              *Place
}

// Partnership is the GraphQL Partnership type.
type Partnership struct {
	EntityBase
	StartsOn *time.Time
	EndsOn   *time.Time
}

// GoodPractice is the GraphQL GoodPractice type.
type GoodPractice struct {
	EntityBase
	Description       *string
	Topics            []string
	TargetGroup       *string
	ResourcesNeeded   *string
	Evidence          *string
	Difficulties      *string
	Lessons           *string
	TransferPotential *string
	Recognition       *string
}

// ForeignExample is the GraphQL ForeignExample type.
type ForeignExample struct {
	EntityBase
	Country          *string
	Region           *string
	City             *string
	Model            *string
	TargetGroup      *string
	LessonsForPoland *string
	HomeAnalogue     *string
	Website          *string
	LogoURL          *string
	Address          *string
	Point            *GeoPoint
	Place            *Place
}

// Project is the GraphQL Project type.
type Project struct {
	EntityBase
	StartsOn *time.Time
	EndsOn   *time.Time
	Funding  *string
	Website  *string
	LogoURL  *string
}

// Event is the GraphQL Event type.
type Event struct {
	EntityBase
	EventKind   kb.EventKind
	EventStatus kb.EventStatus
	StartsOn    *time.Time
	EndsOn      *time.Time
	Country     *string
	Region      *string
	City        *string
	Venue       *string
	When        *FuzzyDate
	Places      []*Place
	Address     *string
	Point       *GeoPoint
}

// Person is the GraphQL Person type.
type Person struct {
	EntityBase
	PublicRole *string
	// Email and Phone are personal data; the schema lets staff only read them.
	Email *string
	Phone *string
}

// Source is the GraphQL Source type.
type Source struct {
	EntityBase
	SourceKind  kb.SourceKind
	Publisher   *string
	PublishedOn *time.Time
	Published   *FuzzyDate
	URL         *string
	Language    *string
}

// FuzzyDate is the GraphQL FuzzyDate type: a kb.FuzzyDate as a frontend
// reads it.
type FuzzyDate struct {
	EDTF      string
	Precision kb.DatePrecision
	YearKnown bool
	Year      *int
	Month     *int
	Day       *int
	Earliest  *time.Time
	Latest    *time.Time
	End       *FuzzyDate
}

// GeoPoint is the GraphQL GeoPoint type.
type GeoPoint struct {
	Latitude  float64
	Longitude float64
}

// Place is the GraphQL Place type; Name is the city or village.
type Place struct {
	Name    *string
	Region  *string
	Country *string
	Address *string
	Point   *GeoPoint
}

// Link is the GraphQL Link type: a link as read from the entity ViewedFrom.
type Link struct {
	RowID      int64
	FromID     int64
	ToID       int64
	ViewedFrom int64
	Type       kb.RelationType
	Role       *string
	Note       *string
	StartsOn   *time.Time
	EndsOn     *time.Time
	CreatedAt  time.Time
	CreatedBy  string
	Confidence *float64
	Version    int
}

// ID returns the global ID of the link.
func (l *Link) ID() string { return relay.ID("Link", l.RowID) }

// IsNode marks Link as implementing Node.
func (*Link) IsNode() {}

// Outgoing reports whether the link points away from the entity it was
// read from.
func (l *Link) Outgoing() bool { return l.ViewedFrom != l.ToID }

// Direction returns OUTGOING or INCOMING as seen from ViewedFrom.
func (l *Link) Direction() LinkDirection {
	if l.Outgoing() {
		return LinkDirectionOutgoing
	}
	return LinkDirectionIncoming
}

// Label returns the relation's label in the direction it is read.
func (l *Link) Label() string {
	r, _ := kb.Lookup(l.Type)
	if l.Outgoing() {
		return r.Label
	}
	return r.InverseLabel
}

// OtherID returns the database id of the entity at the other end.
func (l *Link) OtherID() int64 {
	if l.Outgoing() {
		return l.ToID
	}
	return l.FromID
}

// Citation is the GraphQL Citation type; the source is resolved by id.
type Citation struct {
	SourceID int64
	Locator  *string
	Quote    *string
}

// Membership is the GraphQL Membership type: a MEMBER_OF link.
type Membership struct {
	LinkID        int64
	MemberID      int64
	PartnershipID int64
	Role          *kb.MemberRole
	Sector        *kb.Sector
	StartsOn      *time.Time
	EndsOn        *time.Time
	// Loaded is the member as its page read it, in the request's language
	// (whole, or its head when that is all the selection asks of it); nil:
	// the member field loads it.
	Loaded *kb.Entity
}

// Indicator is the GraphQL Indicator type.
type Indicator struct {
	Name   kb.IndicatorName
	Value  float64
	Unit   *string
	AsOf   *time.Time
	Note   *string
	Source *Citation
}

// PageInfo is the Relay page information of a connection.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// MarshalDate writes a calendar date as "2006-01-02".
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.Format(time.DateOnly)))
	})
}

// UnmarshalDate reads a calendar date written "2006-01-02", of a year from
// 1 to 9999. Anything else, a date that does not exist ("2020-02-30") or a
// number (20200101), is a *kb.ValidationError, so that it reaches the
// client as BAD_USER_INPUT (the error presenter names the field from the
// error's path), never as INTERNAL or as a database error.
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, kb.Invalid("", "a Date must be a string like 2026-11-28, not %s", jsonKind(v))
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1 {
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return time.Time{}, kb.Invalid("", "%q is not a date like 2026-11-28", s)
	}
	return t, nil
}

// jsonKind names the JSON kind of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a number"
}

// Neighborhood is the GraphQL Neighborhood type; its entities are resolved
// by id through the request's loader. Its nodes and links are written by
// Lists (package graph), not element by element by gqlgen.
type Neighborhood struct {
	CenterID  int64
	NodeIDs   []int64
	LinkList  []*Link
	Truncated bool
	Lists     WalkLists
	Held      Held
}

// Held is what the traversal index held of a walk's answer (store.Held):
// the nodes' heads (ID, Kind, Status and Name only; nil: not held), and
// whether the links hold only RowID, FromID, ToID, ViewedFrom, Type and
// Role.
type Held struct {
	Heads     []*kb.Entity
	LinksHeld bool
}

// Nodes resolves the nodes field.
func (n *Neighborhood) Nodes(ctx context.Context) (*WalkList, error) {
	return n.Lists.Nodes(ctx, n.NodeIDs, n.Held.Heads)
}

// Links resolves the links field.
func (n *Neighborhood) Links(ctx context.Context) (*WalkList, error) {
	return n.Lists.Links(ctx, n.LinkList, n.Held.LinksHeld)
}

// Path is the GraphQL Path type; its entities are resolved by id, and its
// nodes and links written by Lists, as a Neighborhood's.
type Path struct {
	NodeIDs  []int64
	LinkList []*Link
	Length   int
	Lists    WalkLists
	Held     Held
}

// Nodes resolves the nodes field.
func (p *Path) Nodes(ctx context.Context) (*WalkList, error) {
	return p.Lists.Nodes(ctx, p.NodeIDs, p.Held.Heads)
}

// Links resolves the links field.
func (p *Path) Links(ctx context.Context) (*WalkList, error) {
	return p.Lists.Links(ctx, p.LinkList, p.Held.LinksHeld)
}

// WalkLists resolves the lists of a walk's answer, the nodes and links of
// a neighbourhood or a path, for the selection of the field in ctx.
// Package graph implements it (graph/walklist.go): a list of hundreds of
// elements that ask for plain fields only is written in one pass, without
// gqlgen's goroutine and field context per element (docs/traversal.md,
// "Writing the answer"). heads and held are what the traversal index held
// of them (Held): the lists use them when the selection asks for no more.
type WalkLists interface {
	Nodes(ctx context.Context, ids []int64, heads []*kb.Entity) (*WalkList, error)
	Links(ctx context.Context, links []*Link, held bool) (*WalkList, error)
}

// WalkList is a list of a walk's answer, resolved: it writes itself. gqlgen
// binds the nodes and links fields of Neighborhood and Path to it (through
// the methods above) and calls MarshalGQLContext when it writes the answer.
type WalkList struct {
	// JSON is the list as written, when it was written in one pass.
	JSON []byte
	// Value is the list resolved by gqlgen's generic code otherwise.
	Value graphql.Marshaler
}

// MarshalGQLContext writes the list.
func (l *WalkList) MarshalGQLContext(_ context.Context, w io.Writer) error {
	if l.Value != nil {
		l.Value.MarshalGQL(w)
		return nil
	}
	_, err := w.Write(l.JSON)
	return err
}

// UnmarshalGQLContext is never called: the type is output only.
func (*WalkList) UnmarshalGQLContext(context.Context, any) error {
	return errors.New("a walk's list is not an input")
}

// AnswerSize is the bytes the list adds to the answer when it was written
// in one pass, for the second wall's budget (internal/server, wall.go);
// the generic code charges its fields one by one itself.
func (l *WalkList) AnswerSize() int {
	if l == nil {
		return 0
	}
	return len(l.JSON)
}

// Degree is the GraphQL Degree type: an entity, by id, with its degree.
type Degree struct {
	NodeID int64
	Degree int
}

package model

import (
	"github.com/partnergraph/partnergraph/internal/kb"
)

// Str returns a pointer to s, or nil for the empty string: empty text
// fields are null in the API.
func Str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func base(e *kb.Entity) EntityBase {
	return EntityBase{
		RowID:             e.ID,
		Key:               Str(e.Key),
		Kind:              e.Kind,
		Name:              e.Name,
		Summary:           e.Summary,
		PublicationStatus: e.Status,
		Version:           e.Version,
		CreatedAt:         e.CreatedAt,
		UpdatedAt:         e.UpdatedAt,
		Served:            e.Served,
	}
}

// FromEntity returns the GraphQL model of e: a *Partner, *Cooperative, ...
// according to its kind, as an Entity. It returns nil for an entity whose
// attributes do not match its kind, which the store never produces.
func FromEntity(e *kb.Entity) Entity {
	switch e.Kind {
	case kb.KindPartner:
		return PartnerFrom(e)
	case kb.KindCooperative:
		return CooperativeFrom(e)
	case kb.KindPartnership:
		return PartnershipFrom(e)
	case kb.KindGoodPractice:
		return GoodPracticeFrom(e)
	case kb.KindForeignExample:
		return ForeignExampleFrom(e)
	case kb.KindProject:
		return ProjectFrom(e)
	case kb.KindEvent:
		return EventFrom(e)
	case kb.KindPerson:
		return PersonFrom(e)
	case kb.KindSource:
		return SourceFrom(e)
	}
	return nil
}

// PartnerFrom maps a partner entity; nil if e is not one.
func PartnerFrom(e *kb.Entity) *Partner {
	a := e.Partner
	if a == nil {
		return nil
	}
	return &Partner{
		EntityBase: base(e), Sector: a.Sector, PartnerKind: a.PartnerKind, LegalForm: Str(a.LegalForm),
		Country: Str(a.Country), Region: Str(a.Region), City: Str(a.City),
		Website: Str(a.Website), RegistrationNumber: Str(a.RegistrationNumber),
		LogoURL: Str(a.LogoURL), Address: Str(a.Address), Point: PointFrom(a.Place), Place: PlaceFrom(a.Place),
	}
}

// CooperativeFrom maps a cooperative entity; nil if e is not one.
func CooperativeFrom(e *kb.Entity) *Cooperative {
	a := e.Cooperative
	if a == nil {
		return nil
	}
	acts := a.Activities
	if acts == nil {
		acts = []kb.Activity{}
	}
	return &Cooperative{
		EntityBase: base(e), Status: a.CoopStatus, Activities: acts,
		Country: Str(a.Country), Region: Str(a.Region), City: Str(a.City), FoundedOn: a.FoundedOn,
		Website: Str(a.Website), RegistrationNumber: Str(a.RegistrationNumber),
		LogoURL: Str(a.LogoURL), Address: Str(a.Address), Point: PointFrom(a.Place), Place: PlaceFrom(a.Place),
	}
}

// PartnershipFrom maps a partnership entity; nil if e is not one.
func PartnershipFrom(e *kb.Entity) *Partnership {
	a := e.Partnership
	if a == nil {
		return nil
	}
	return &Partnership{EntityBase: base(e), StartsOn: a.StartsOn, EndsOn: a.EndsOn}
}

// GoodPracticeFrom maps a good practice entity; nil if e is not one.
func GoodPracticeFrom(e *kb.Entity) *GoodPractice {
	a := e.GoodPractice
	if a == nil {
		return nil
	}
	topics := a.Topics
	if topics == nil {
		topics = []string{}
	}
	return &GoodPractice{
		EntityBase: base(e), Description: Str(a.Description), Topics: topics,
		TargetGroup: Str(a.TargetGroup), ResourcesNeeded: Str(a.ResourcesNeeded), Evidence: Str(a.Evidence),
		Difficulties: Str(a.Difficulties), Lessons: Str(a.Lessons),
		TransferPotential: Str(a.TransferPotential), Recognition: Str(a.Recognition),
	}
}

// ForeignExampleFrom maps a foreign example entity; nil if e is not one.
func ForeignExampleFrom(e *kb.Entity) *ForeignExample {
	a := e.ForeignExample
	if a == nil {
		return nil
	}
	return &ForeignExample{
		EntityBase: base(e), Country: Str(a.Country), Region: Str(a.Region), City: Str(a.City),
		Model: Str(a.Model), TargetGroup: Str(a.TargetGroup), LessonsForPoland: Str(a.LessonsForPoland),
		HomeAnalogue: Str(a.HomeAnalogue), Website: Str(a.Website),
		LogoURL: Str(a.LogoURL), Address: Str(a.Address), Point: PointFrom(a.Place), Place: PlaceFrom(a.Place),
	}
}

// ProjectFrom maps a project entity; nil if e is not one.
func ProjectFrom(e *kb.Entity) *Project {
	a := e.Project
	if a == nil {
		return nil
	}
	return &Project{EntityBase: base(e), StartsOn: a.StartsOn, EndsOn: a.EndsOn, Funding: Str(a.Funding), Website: Str(a.Website),
		LogoURL: Str(a.LogoURL)}
}

// EventFrom maps an event entity; nil if e is not one.
func EventFrom(e *kb.Entity) *Event {
	a := e.Event
	if a == nil {
		return nil
	}
	ev := &Event{
		EntityBase: base(e), EventKind: a.EventKind, EventStatus: a.EventStatus, StartsOn: a.StartsOn, EndsOn: a.EndsOn,
		Country: Str(a.Country), Region: Str(a.Region), City: Str(a.City), Venue: Str(a.Venue),
		When: FuzzyDateFrom(a.When), Places: []*Place{}, Address: Str(a.Address), Point: PointFrom(a.Place),
	}
	for _, p := range a.Places() {
		ev.Places = append(ev.Places, PlaceFrom(p))
	}
	return ev
}

// FuzzyDateFrom maps a fuzzy date; nil for none.
func FuzzyDateFrom(d *kb.FuzzyDate) *FuzzyDate {
	if d == nil {
		return nil
	}
	out := pointFrom(d.Start)
	out.EDTF, out.Precision, out.Latest = d.String(), d.Precision(), d.Latest()
	if d.End != nil {
		out.End = pointFrom(*d.End)
	}
	return out
}

func pointFrom(p kb.DatePoint) *FuzzyDate {
	opt := func(v int) *int {
		if v == 0 {
			return nil
		}
		return &v
	}
	out := &FuzzyDate{EDTF: p.String(), Precision: p.Precision(), YearKnown: p.HasYear,
		Month: opt(p.Month), Day: opt(p.Day), Earliest: p.Earliest(), Latest: p.Latest()}
	if p.HasYear {
		out.Year = &p.Year
	}
	return out
}

// PointFrom maps the point of a place; nil when it has none.
func PointFrom(p kb.Place) *GeoPoint {
	if !p.HasPoint() {
		return nil
	}
	return &GeoPoint{Latitude: *p.Latitude, Longitude: *p.Longitude}
}

// PlaceFrom maps a place; nil when nothing of it is known.
func PlaceFrom(p kb.Place) *Place {
	if p == (kb.Place{}) {
		return nil
	}
	return &Place{Name: Str(p.City), Region: Str(p.Region), Country: Str(p.Country), Address: Str(p.Address), Point: PointFrom(p)}
}

// PersonFrom maps a person entity; nil if e is not one.
func PersonFrom(e *kb.Entity) *Person {
	a := e.Person
	if a == nil {
		return nil
	}
	return &Person{EntityBase: base(e), PublicRole: Str(a.PublicRole), Email: Str(a.Email), Phone: Str(a.Phone)}
}

// SourceFrom maps a source entity; nil if e is not one.
func SourceFrom(e *kb.Entity) *Source {
	a := e.Source
	if a == nil {
		return nil
	}
	return &Source{
		EntityBase: base(e), SourceKind: a.SourceKind, Publisher: Str(a.Publisher), PublishedOn: a.PublishedOn,
		Published: FuzzyDateFrom(a.Published),
		URL:       Str(a.URL), Language: Str(a.Language),
	}
}

// LinkFrom maps a link as read from the entity viewedFrom.
func LinkFrom(l *kb.Link, viewedFrom int64) *Link {
	return &Link{
		RowID: l.ID, FromID: l.FromID, ToID: l.ToID, ViewedFrom: viewedFrom, Type: l.Type,
		Role: Str(l.Role), Note: Str(l.Note), StartsOn: l.StartsOn, EndsOn: l.EndsOn,
		CreatedAt: l.CreatedAt, CreatedBy: l.CreatedBy, Confidence: l.Confidence, Version: l.Version,
	}
}

// CitationFrom maps a citation.
func CitationFrom(c kb.Citation) *Citation {
	return &Citation{SourceID: c.SourceID, Locator: Str(c.Locator), Quote: Str(c.Quote)}
}

// IndicatorFrom maps an indicator.
func IndicatorFrom(in kb.Indicator) *Indicator {
	m := &Indicator{Name: in.Name, Value: in.Value, Unit: Str(in.Unit), AsOf: in.AsOf, Note: Str(in.Note)}
	if in.Citation != nil {
		m.Source = CitationFrom(*in.Citation)
	}
	return m
}

// SectorMixFrom maps member counts per sector to the sector mix.
func SectorMixFrom(counts map[kb.Sector]int) *SectorMix {
	mix := kb.MixOf(counts)
	m := &SectorMix{Sectors: mix.Present, Missing: mix.Missing, IsFull: mix.Full()}
	for _, s := range kb.Sectors {
		m.Counts = append(m.Counts, &SectorCount{Sector: s, Count: mix.Counts[s]})
	}
	return m
}

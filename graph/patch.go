package graph

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// The create and update inputs of the API are typed structs (gqlgen.yml):
// this file maps them onto kb's entries and links. The API's names stay
// here (a cooperative's `status` is kb's CoopStatus); kb knows nothing of
// them. In an update input every field is graphql.Omittable: absent keeps
// the entry's value, null clears it, a value sets it.

// patch applies o to *dst: absent keeps it, null clears it, a value sets it.
func patch[T any](dst *T, o graphql.Omittable[*T]) {
	v, ok := o.ValueOK()
	switch {
	case !ok:
	case v == nil:
		var zero T
		*dst = zero
	default:
		*dst = *v
	}
}

// patchPtr is patch for a field kb keeps as a pointer (a date).
func patchPtr[T any](dst **T, o graphql.Omittable[*T]) {
	v, ok := o.ValueOK()
	switch {
	case !ok:
	case v == nil:
		*dst = nil
	default:
		c := *v
		*dst = &c
	}
}

// patchList is patch for a list: null and [] both clear it.
func patchList[T any](dst *[]T, o graphql.Omittable[[]T]) {
	if v, ok := o.ValueOK(); ok {
		*dst = v
	}
}

// required is patch for a field that cannot be cleared: null is a
// *kb.ValidationError naming field.
func required[T any](field string, dst *T, o graphql.Omittable[*T]) error {
	if v, ok := o.ValueOK(); ok && v == nil {
		return kb.Invalid(field, "is required and cannot be cleared")
	}
	patch(dst, o)
	return nil
}

// str is the value of an optional string input, "" when not given.
func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// fuzzyInput parses an EDTF date input; nil when not given.
func fuzzyInput(field string, s *string) (*kb.FuzzyDate, error) {
	if s == nil {
		return nil, nil
	}
	d, err := kb.ParseFuzzyDate(field, *s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// patchFuzzy is patch for an EDTF date input. It reports whether the
// input was given (a value or null).
func patchFuzzy(field string, dst **kb.FuzzyDate, o graphql.Omittable[*string]) (bool, error) {
	v, ok := o.ValueOK()
	if !ok {
		return false, nil
	}
	d, err := fuzzyInput(field, v)
	if err != nil {
		return true, err
	}
	*dst = d
	return true, nil
}

// setPoint sets the point of a place from an input; nil clears it.
func setPoint(p *kb.Place, in *model.GeoPointInput) {
	p.Latitude, p.Longitude = nil, nil
	if in != nil {
		lat, lon := in.Latitude, in.Longitude
		p.Latitude, p.Longitude = &lat, &lon
	}
}

// patchPoint is patch for the point of a place.
func patchPoint(p *kb.Place, o graphql.Omittable[*model.GeoPointInput]) {
	if v, ok := o.ValueOK(); ok {
		setPoint(p, v)
	}
}

// placeInputs maps an event's further places.
func placeInputs(in []*model.PlaceInput) []kb.Place {
	var out []kb.Place
	for _, p := range in {
		if p == nil {
			continue
		}
		pl := kb.Place{City: str(p.Name), Region: str(p.Region), Country: str(p.Country), Address: str(p.Address)}
		setPoint(&pl, p.Point)
		out = append(out, pl)
	}
	return out
}

// orgPlace is the place of an organisation's create input.
func orgPlace(country, region, city, address *string, point *model.GeoPointInput) kb.Place {
	p := kb.Place{Country: str(country), Region: str(region), City: str(city), Address: str(address)}
	setPoint(&p, point)
	return p
}

// newEntity starts an entry of kind from the fields every create input
// has; the caller sets the attributes of its kind.
func newEntity(kind kb.Kind, key *string, name string, summary *string, sources []*model.CitationInput) (*kb.Entity, error) {
	cites, err := citationInputs(sources)
	if err != nil {
		return nil, err
	}
	if len(cites) == 0 {
		cites = nil
	}
	return &kb.Entity{Kind: kind, Key: str(key), Name: name, Summary: str(summary), Citations: cites}, nil
}

// entityUpdate is what every update input has besides the attributes of
// its kind.
type entityUpdate struct {
	name, summary graphql.Omittable[*string]
	sources       graphql.Omittable[[]*model.CitationInput]
}

// entityPatch is a parsed update input: the changes of the fields every
// entry has, the citations when given, and the change of the attributes.
type entityPatch struct {
	common     entityUpdate
	cites      []kb.Citation
	citesGiven bool
	attrs      func(next *kb.Entity) error
}

// newPatch parses the citations of u (their IDs can be wrong before any
// entry is read) and returns the patch with attrs.
func newPatch(u entityUpdate, attrs func(next *kb.Entity) error) (*entityPatch, error) {
	p := &entityPatch{common: u, attrs: attrs}
	if list, ok := u.sources.ValueOK(); ok {
		cites, err := citationInputs(list)
		if err != nil {
			return nil, err
		}
		if len(cites) == 0 {
			cites = nil
		}
		p.cites, p.citesGiven = cites, true
	}
	return p, nil
}

// apply returns a copy of cur with p applied; cur is not changed. The
// attributes are copied before they change, so cur keeps its own.
func (p *entityPatch) apply(cur *kb.Entity) (*kb.Entity, error) {
	next := *cur
	if err := required("name", &next.Name, p.common.name); err != nil {
		return nil, err
	}
	patch(&next.Summary, p.common.summary)
	if p.citesGiven {
		next.Citations = p.cites
	}
	copyAttrs(&next)
	if err := p.attrs(&next); err != nil {
		return nil, err
	}
	return &next, nil
}

// copyAttrs gives e its own copy of its kind's attributes, so that a patch
// does not write through to the entry it was copied from.
func copyAttrs(e *kb.Entity) {
	switch {
	case e.Partner != nil:
		a := *e.Partner
		e.Partner = &a
	case e.Cooperative != nil:
		a := *e.Cooperative
		e.Cooperative = &a
	case e.Partnership != nil:
		a := *e.Partnership
		e.Partnership = &a
	case e.GoodPractice != nil:
		a := *e.GoodPractice
		e.GoodPractice = &a
	case e.ForeignExample != nil:
		a := *e.ForeignExample
		e.ForeignExample = &a
	case e.Project != nil:
		a := *e.Project
		e.Project = &a
	case e.Event != nil:
		a := *e.Event
		e.Event = &a
	case e.Person != nil:
		a := *e.Person
		e.Person = &a
	case e.Source != nil:
		a := *e.Source
		e.Source = &a
	}
}

// attrsOf returns the attributes of kind in e, made when missing: a
// patch of a partner's sector needs e.Partner.
func attrsOf[T any](p **T) *T {
	if *p == nil {
		*p = new(T)
	}
	return *p
}

func partnerFromInput(in model.CreatePartnerInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindPartner, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	e.Partner = &kb.Partner{Sector: in.Sector, PartnerKind: in.PartnerKind, LegalForm: str(in.LegalForm),
		Place:   orgPlace(in.Country, in.Region, in.City, in.Address, in.Point),
		Website: str(in.Website), LogoURL: str(in.LogoURL), RegistrationNumber: str(in.RegistrationNumber)}
	return e, nil
}

func partnerPatch(in model.UpdatePartnerInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.Partner)
		if err := required("sector", &a.Sector, in.Sector); err != nil {
			return err
		}
		if err := required("partnerKind", &a.PartnerKind, in.PartnerKind); err != nil {
			return err
		}
		patch(&a.LegalForm, in.LegalForm)
		patch(&a.Country, in.Country)
		patch(&a.Region, in.Region)
		patch(&a.City, in.City)
		patch(&a.Website, in.Website)
		patch(&a.LogoURL, in.LogoURL)
		patch(&a.Address, in.Address)
		patchPoint(&a.Place, in.Point)
		patch(&a.RegistrationNumber, in.RegistrationNumber)
		return nil
	})
}

func cooperativeFromInput(in model.CreateCooperativeInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindCooperative, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	e.Cooperative = &kb.Cooperative{CoopStatus: in.Status, Activities: in.Activities,
		Place:     orgPlace(in.Country, in.Region, in.City, in.Address, in.Point),
		FoundedOn: in.FoundedOn, Website: str(in.Website), LogoURL: str(in.LogoURL), RegistrationNumber: str(in.RegistrationNumber)}
	return e, nil
}

func cooperativePatch(in model.UpdateCooperativeInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.Cooperative)
		// The API calls a cooperative's life stage `status`.
		if err := required("status", &a.CoopStatus, in.Status); err != nil {
			return err
		}
		patchList(&a.Activities, in.Activities)
		patch(&a.Country, in.Country)
		patch(&a.Region, in.Region)
		patch(&a.City, in.City)
		patchPtr(&a.FoundedOn, in.FoundedOn)
		patch(&a.Website, in.Website)
		patch(&a.LogoURL, in.LogoURL)
		patch(&a.Address, in.Address)
		patchPoint(&a.Place, in.Point)
		patch(&a.RegistrationNumber, in.RegistrationNumber)
		return nil
	})
}

func partnershipFromInput(in model.CreatePartnershipInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindPartnership, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	e.Partnership = &kb.Partnership{StartsOn: in.StartsOn, EndsOn: in.EndsOn}
	return e, nil
}

func partnershipPatch(in model.UpdatePartnershipInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.Partnership)
		patchPtr(&a.StartsOn, in.StartsOn)
		patchPtr(&a.EndsOn, in.EndsOn)
		return nil
	})
}

func goodPracticeFromInput(in model.CreateGoodPracticeInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindGoodPractice, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	e.GoodPractice = &kb.GoodPractice{Description: str(in.Description), Topics: in.Topics, TargetGroup: str(in.TargetGroup),
		ResourcesNeeded: str(in.ResourcesNeeded), Evidence: str(in.Evidence), Difficulties: str(in.Difficulties),
		Lessons: str(in.Lessons), TransferPotential: str(in.TransferPotential), Recognition: str(in.Recognition)}
	return e, nil
}

func goodPracticePatch(in model.UpdateGoodPracticeInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.GoodPractice)
		patch(&a.Description, in.Description)
		patchList(&a.Topics, in.Topics)
		patch(&a.TargetGroup, in.TargetGroup)
		patch(&a.ResourcesNeeded, in.ResourcesNeeded)
		patch(&a.Evidence, in.Evidence)
		patch(&a.Difficulties, in.Difficulties)
		patch(&a.Lessons, in.Lessons)
		patch(&a.TransferPotential, in.TransferPotential)
		patch(&a.Recognition, in.Recognition)
		return nil
	})
}

func foreignExampleFromInput(in model.CreateForeignExampleInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindForeignExample, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	e.ForeignExample = &kb.ForeignExample{Place: orgPlace(in.Country, in.Region, in.City, in.Address, in.Point),
		Model: str(in.Model), TargetGroup: str(in.TargetGroup), LessonsForPoland: str(in.LessonsForPoland),
		HomeAnalogue: str(in.HomeAnalogue), Website: str(in.Website), LogoURL: str(in.LogoURL)}
	return e, nil
}

func foreignExamplePatch(in model.UpdateForeignExampleInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.ForeignExample)
		patch(&a.Country, in.Country)
		patch(&a.Region, in.Region)
		patch(&a.City, in.City)
		patch(&a.Model, in.Model)
		patch(&a.TargetGroup, in.TargetGroup)
		patch(&a.LessonsForPoland, in.LessonsForPoland)
		patch(&a.HomeAnalogue, in.HomeAnalogue)
		patch(&a.Website, in.Website)
		patch(&a.LogoURL, in.LogoURL)
		patch(&a.Address, in.Address)
		patchPoint(&a.Place, in.Point)
		return nil
	})
}

func projectFromInput(in model.CreateProjectInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindProject, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	e.Project = &kb.Project{StartsOn: in.StartsOn, EndsOn: in.EndsOn, Funding: str(in.Funding), Website: str(in.Website),
		LogoURL: str(in.LogoURL)}
	return e, nil
}

func projectPatch(in model.UpdateProjectInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.Project)
		patchPtr(&a.StartsOn, in.StartsOn)
		patchPtr(&a.EndsOn, in.EndsOn)
		patch(&a.Funding, in.Funding)
		patch(&a.Website, in.Website)
		patch(&a.LogoURL, in.LogoURL)
		return nil
	})
}

func eventFromInput(in model.CreateEventInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindEvent, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	when, err := fuzzyInput("when", in.When)
	if err != nil {
		return nil, err
	}
	if when != nil && (in.StartsOn != nil || in.EndsOn != nil) {
		return nil, kb.Invalid("when", "give either when or startsOn and endsOn, not both")
	}
	e.Event = &kb.Event{EventKind: in.EventKind, EventStatus: in.EventStatus, When: when, StartsOn: in.StartsOn, EndsOn: in.EndsOn,
		Place: orgPlace(in.Country, in.Region, in.City, in.Address, in.Point), Venue: str(in.Venue),
		OtherPlaces: placeInputs(in.OtherPlaces)}
	return e, nil
}

func eventPatch(in model.UpdateEventInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.Event)
		if err := required("eventKind", &a.EventKind, in.EventKind); err != nil {
			return err
		}
		if err := required("eventStatus", &a.EventStatus, in.EventStatus); err != nil {
			return err
		}
		whenGiven, err := patchFuzzy("when", &a.When, in.When)
		if err != nil {
			return err
		}
		_, startGiven := in.StartsOn.ValueOK()
		_, endGiven := in.EndsOn.ValueOK()
		switch {
		case whenGiven && (startGiven || endGiven):
			return kb.Invalid("when", "give either when or startsOn and endsOn, not both")
		case whenGiven:
			// The plain dates follow from when (kb's Validate).
			a.StartsOn, a.EndsOn = nil, nil
		case startGiven || endGiven:
			// The fuzzy date follows from the plain dates.
			a.When = nil
			patchPtr(&a.StartsOn, in.StartsOn)
			patchPtr(&a.EndsOn, in.EndsOn)
		}
		patch(&a.Country, in.Country)
		patch(&a.Region, in.Region)
		patch(&a.City, in.City)
		patch(&a.Venue, in.Venue)
		patch(&a.Address, in.Address)
		patchPoint(&a.Place, in.Point)
		if v, ok := in.OtherPlaces.ValueOK(); ok {
			a.OtherPlaces = placeInputs(v)
		}
		return nil
	})
}

func personFromInput(in model.CreatePersonInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindPerson, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	e.Person = &kb.Person{PublicRole: str(in.PublicRole), Email: str(in.Email), Phone: str(in.Phone)}
	return e, nil
}

func personPatch(in model.UpdatePersonInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.Person)
		patch(&a.PublicRole, in.PublicRole)
		patch(&a.Email, in.Email)
		patch(&a.Phone, in.Phone)
		return nil
	})
}

func sourceFromInput(in model.CreateSourceInput) (*kb.Entity, error) {
	e, err := newEntity(kb.KindSource, in.Key, in.Name, in.Summary, in.Sources)
	if err != nil {
		return nil, err
	}
	published, err := fuzzyInput("published", in.Published)
	if err != nil {
		return nil, err
	}
	if published != nil && in.PublishedOn != nil {
		return nil, kb.Invalid("published", "give either published or publishedOn, not both")
	}
	e.Source = &kb.Source{SourceKind: in.SourceKind, Publisher: str(in.Publisher), PublishedOn: in.PublishedOn,
		Published: published, URL: str(in.URL), Language: str(in.Language)}
	return e, nil
}

func sourcePatch(in model.UpdateSourceInput) (*entityPatch, error) {
	return newPatch(entityUpdate{in.Name, in.Summary, in.Sources}, func(e *kb.Entity) error {
		a := attrsOf(&e.Source)
		if err := required("sourceKind", &a.SourceKind, in.SourceKind); err != nil {
			return err
		}
		patch(&a.Publisher, in.Publisher)
		given, err := patchFuzzy("published", &a.Published, in.Published)
		if err != nil {
			return err
		}
		_, dayGiven := in.PublishedOn.ValueOK()
		switch {
		case given && dayGiven:
			return kb.Invalid("published", "give either published or publishedOn, not both")
		case given:
			a.PublishedOn = nil
		case dayGiven:
			a.Published = nil
			patchPtr(&a.PublishedOn, in.PublishedOn)
		}
		patch(&a.URL, in.URL)
		patch(&a.Language, in.Language)
		return nil
	})
}

// linkPatch returns the change of a link that an update input makes; its
// ends and type stay.
func linkPatch(in model.UpdateLinkInput) (func(cur *kb.Link) (*kb.Link, error), error) {
	var cites []kb.Citation
	list, citesGiven := in.Sources.ValueOK()
	if citesGiven {
		var err error
		if cites, err = citationInputs(list); err != nil {
			return nil, err
		}
		if len(cites) == 0 {
			cites = nil
		}
	}
	return func(cur *kb.Link) (*kb.Link, error) {
		next := *cur
		patch(&next.Role, in.Role)
		patch(&next.Note, in.Note)
		patchPtr(&next.StartsOn, in.StartsOn)
		patchPtr(&next.EndsOn, in.EndsOn)
		patchPtr(&next.Confidence, in.Confidence)
		if citesGiven {
			next.Citations = cites
		}
		return &next, nil
	}, nil
}

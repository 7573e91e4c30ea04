package kb

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Field length limits, in characters.
const (
	MaxNameLen = 300
	MaxTextLen = 20000
	MaxKeyLen  = 120
)

var (
	keyPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
	emailPattern   = regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$`)
	phonePattern   = regexp.MustCompile(`^\+?[0-9 ()-]{3,30}$`)
)

// ValidateKey checks an entity's stable external key: lower-case letters,
// digits, '.', '_' and '-', starting with a letter or digit.
func ValidateKey(field, key string) error {
	if key == "" {
		return nil
	}
	if len(key) > MaxKeyLen || !keyPattern.MatchString(key) {
		return Invalid(field, "key %q must be at most %d characters of a-z, 0-9, '.', '_' or '-'", key, MaxKeyLen)
	}
	return nil
}

// Validate checks e against the domain rules and returns the first
// *ValidationError found, or nil. It fills defaults (publication status
// DRAFT) but changes nothing else.
func (e *Entity) Validate() error {
	if !e.Kind.Valid() {
		return Invalid("kind", "unknown entity kind %q", e.Kind)
	}
	if err := ValidateKey("key", e.Key); err != nil {
		return err
	}
	if err := checkText("name", e.Name, MaxNameLen, true); err != nil {
		return err
	}
	if err := checkText("summary", e.Summary, MaxTextLen, false); err != nil {
		return err
	}
	if err := e.validateTranslations(); err != nil {
		return err
	}
	if e.Status == "" {
		e.Status = StatusDraft
	}
	if !e.Status.Valid() {
		return Invalid("status", "unknown publication status %q", e.Status)
	}
	if n := e.attrCount(); n != 1 || !e.hasAttrsOf(e.Kind) {
		return Invalid(attrField(e.Kind), "a %s needs its %s attributes and no others", e.Kind.TypeName(), attrField(e.Kind))
	}
	switch e.Kind {
	case KindPartner:
		p := e.Partner
		if !p.Sector.Valid() {
			return Invalid("partner.sector", "sector must be PUBLIC, SOCIAL or PRIVATE, not %q", p.Sector)
		}
		if !p.PartnerKind.Valid() {
			return Invalid("partner.partnerKind", "unknown partner kind %q", p.PartnerKind)
		}
		return firstErr(checkPlace("partner", p.Place), checkURL("partner.website", p.Website), checkURL("partner.logoUrl", p.LogoURL))
	case KindCooperative:
		c := e.Cooperative
		if !c.CoopStatus.Valid() {
			return Invalid("cooperative.coopStatus", "unknown cooperative status %q", c.CoopStatus)
		}
		for _, a := range c.Activities {
			if !a.Valid() {
				return Invalid("cooperative.activities", "unknown activity %q", a)
			}
		}
		return firstErr(checkPlace("cooperative", c.Place), checkURL("cooperative.website", c.Website), checkURL("cooperative.logoUrl", c.LogoURL))
	case KindPartnership:
		return checkPeriod("partnership", e.Partnership.StartsOn, e.Partnership.EndsOn)
	case KindGoodPractice:
		g := e.GoodPractice
		for _, f := range []struct{ name, v string }{
			{"description", g.Description}, {"targetGroup", g.TargetGroup}, {"resourcesNeeded", g.ResourcesNeeded},
			{"evidence", g.Evidence}, {"difficulties", g.Difficulties}, {"lessons", g.Lessons},
			{"transferPotential", g.TransferPotential}, {"recognition", g.Recognition},
		} {
			if err := checkText("goodPractice."+f.name, f.v, MaxTextLen, false); err != nil {
				return err
			}
		}
		for _, t := range g.Topics {
			if err := checkText("goodPractice.topics", t, MaxTopicLabelLen, true); err != nil {
				return err
			}
		}
		return nil
	case KindForeignExample:
		f := e.ForeignExample
		return firstErr(checkPlace("foreignExample", f.Place), checkURL("foreignExample.website", f.Website), checkURL("foreignExample.logoUrl", f.LogoURL))
	case KindProject:
		p := e.Project
		return firstErr(checkPeriod("project", p.StartsOn, p.EndsOn), checkURL("project.website", p.Website), checkURL("project.logoUrl", p.LogoURL))
	case KindEvent:
		ev := e.Event
		if !ev.EventKind.Valid() {
			return Invalid("event.eventKind", "unknown event kind %q", ev.EventKind)
		}
		if !ev.EventStatus.Valid() {
			return Invalid("event.eventStatus", "unknown event status %q", ev.EventStatus)
		}
		if len(ev.OtherPlaces) > MaxPlaces-1 {
			return Invalid("event.places", "an event has at most %d places, not %d", MaxPlaces, len(ev.OtherPlaces)+1)
		}
		for _, p := range ev.OtherPlaces {
			if err := checkPlace("event.places", p); err != nil {
				return err
			}
		}
		if err := checkPeriod("event", ev.StartsOn, ev.EndsOn); err != nil {
			return err
		}
		ev.When, ev.StartsOn, ev.EndsOn = inStep(ev.When, ev.StartsOn, ev.EndsOn)
		return checkPlace("event", ev.Place)
	case KindPerson:
		p := e.Person
		if p.Email != "" && !emailPattern.MatchString(p.Email) {
			return Invalid("person.email", "%q is not an e-mail address", p.Email)
		}
		if p.Phone != "" && !phonePattern.MatchString(p.Phone) {
			return Invalid("person.phone", "a phone number has digits, spaces and + ( ) - only, not %q", p.Phone)
		}
		return checkText("person.publicRole", p.PublicRole, MaxNameLen, false)
	case KindSource:
		s := e.Source
		if !s.SourceKind.Valid() {
			return Invalid("source.sourceKind", "unknown source kind %q", s.SourceKind)
		}
		var end *Date
		s.Published, s.PublishedOn, end = inStep(s.Published, s.PublishedOn, nil)
		if end != nil && s.PublishedOn != nil && !end.Equal(*s.PublishedOn) {
			// A month or a year: no single day of publication.
			s.PublishedOn = nil
		}
		return checkURL("source.url", s.URL)
	}
	return nil
}

func (e *Entity) attrCount() int {
	n := 0
	for _, set := range []bool{
		e.Partner != nil, e.Cooperative != nil, e.Partnership != nil, e.GoodPractice != nil,
		e.ForeignExample != nil, e.Project != nil, e.Event != nil, e.Person != nil, e.Source != nil,
	} {
		if set {
			n++
		}
	}
	return n
}

func (e *Entity) hasAttrsOf(k Kind) bool {
	switch k {
	case KindPartner:
		return e.Partner != nil
	case KindCooperative:
		return e.Cooperative != nil
	case KindPartnership:
		return e.Partnership != nil
	case KindGoodPractice:
		return e.GoodPractice != nil
	case KindForeignExample:
		return e.ForeignExample != nil
	case KindProject:
		return e.Project != nil
	case KindEvent:
		return e.Event != nil
	case KindPerson:
		return e.Person != nil
	case KindSource:
		return e.Source != nil
	}
	return false
}

func attrField(k Kind) string {
	n := k.TypeName()
	if n == "" {
		return "attributes"
	}
	return strings.ToLower(n[:1]) + n[1:]
}

// ValidateLink checks a link's own fields; the kind rule is CheckLink's.
func ValidateLink(l *Link) error {
	if !l.Type.Valid() {
		return Invalid("type", "unknown relation type %q", l.Type)
	}
	if l.FromID != 0 && l.FromID == l.ToID || l.FromKey != "" && l.FromKey == l.ToKey {
		return Invalid("to", "an entity cannot link to itself")
	}
	if l.Type == RelMemberOf && l.Role != "" && !MemberRole(l.Role).Valid() {
		return Invalid("role", "a MEMBER_OF role must be one of LEADER, FOUNDER, PUBLIC_PARTNER, SOCIAL_PARTNER, BUSINESS_PARTNER, SUPPORTER, not %q", l.Role)
	}
	if c := l.Confidence; c != nil && (*c < 0 || *c > 1) {
		return Invalid("confidence", "confidence is between 0 and 1, not %v", *c)
	}
	return firstErr(
		checkText("role", l.Role, MaxNameLen, false),
		checkText("note", l.Note, MaxTextLen, false),
		checkPeriod("link", l.StartsOn, l.EndsOn),
	)
}

// ValidateIndicator checks an indicator's fields.
func ValidateIndicator(in *Indicator) error {
	if !in.Name.Valid() {
		return Invalid("name", "unknown indicator %q", in.Name)
	}
	if in.Value < 0 {
		return Invalid("value", "an indicator value cannot be negative, got %v", in.Value)
	}
	if in.EntityKey != "" && in.CooperativeKey != "" && in.EntityKey != in.CooperativeKey {
		return Invalid("entity", "entity %q and cooperative %q name two entries; give entity only", in.EntityKey, in.CooperativeKey)
	}
	return checkText("note", in.Note, MaxTextLen, false)
}

// CheckIndicatorKind checks that in's name applies to an entry of kind k,
// the kind of the entry it names: a cooperative's jobs, a project's
// cooperatives, an event's participants (IndicatorKinds).
func CheckIndicatorKind(in *Indicator, k Kind) error {
	if in.CooperativeKey != "" && in.EntityKey == "" && k != KindCooperative {
		return Invalid("cooperative", "%q is a %s, not a Cooperative (name other entries in entity)", in.CooperativeKey, k.TypeName())
	}
	if !in.Name.Measures(k) {
		var types []string
		for _, m := range IndicatorKinds[in.Name] {
			types = append(types, m.TypeName())
		}
		return Invalid(in.SubjectField(), "%s measures a %s, not a %s like %q", in.Name, strings.Join(types, " or "), k.TypeName(), in.Subject())
	}
	return nil
}

func checkText(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return Invalid(field, "must not be empty")
	}
	if !utf8.ValidString(v) {
		return Invalid(field, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return Invalid(field, "is %d characters long, at most %d allowed", n, max)
	}
	return nil
}

func checkPlace(prefix string, p Place) error {
	if p.Country != "" && !countryPattern.MatchString(p.Country) {
		return Invalid(prefix+".country", "country must be an ISO 3166-1 alpha-2 code such as PL or SE, not %q", p.Country)
	}
	if (p.Latitude == nil) != (p.Longitude == nil) {
		return Invalid(prefix+".latitude", "a point needs both latitude and longitude")
	}
	if p.Latitude != nil && !(*p.Latitude >= -90 && *p.Latitude <= 90) {
		return Invalid(prefix+".latitude", "latitude must be between -90 and 90 degrees (WGS 84), not %v", *p.Latitude)
	}
	if p.Longitude != nil && !(*p.Longitude >= -180 && *p.Longitude <= 180) {
		return Invalid(prefix+".longitude", "longitude must be between -180 and 180 degrees (WGS 84), not %v", *p.Longitude)
	}
	return firstErr(checkText(prefix+".region", p.Region, MaxNameLen, false), checkText(prefix+".city", p.City, MaxNameLen, false),
		checkText(prefix+".address", p.Address, MaxNameLen, false))
}

// MaxPlaces is the most places an event may have.
const MaxPlaces = 20

// FuzzyDateOf is the fuzzy date of plain dates: a day, or an interval of
// days; nil without a start.
func FuzzyDateOf(start, end *Date) *FuzzyDate {
	d, _, _ := inStep(nil, start, end)
	return d
}

// inStep keeps a fuzzy date and the plain dates that follow from it in
// step: with a fuzzy date, the plain dates are its earliest and latest day
// when its year is known, nil when not; without one, it is made from the
// plain dates (a day, or an interval of days).
func inStep(when *FuzzyDate, start, end *Date) (*FuzzyDate, *Date, *Date) {
	if when != nil {
		return when, when.Earliest(), when.Latest()
	}
	if start == nil {
		return nil, nil, end
	}
	day := func(t *Date) DatePoint {
		return DatePoint{HasYear: true, Year: t.Year(), Month: int(t.Month()), Day: t.Day()}
	}
	d := FuzzyDate{Start: day(start)}
	if end != nil && !end.Equal(*start) {
		e := day(end)
		d.End = &e
	}
	return &d, start, end
}

func checkURL(field, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalid(field, "must be an absolute http(s) URL, not %q", v)
	}
	return nil
}

func checkPeriod(prefix string, start, end *Date) error {
	if start != nil && end != nil && end.Before(*start) {
		return Invalid(prefix+".endsOn", "ends on %s, before it starts on %s", end.Format("2006-01-02"), start.Format("2006-01-02"))
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

package kb

import (
	"slices"
	"time"
)

// Kind is the kind of an entity: every node of the graph has exactly one.
type Kind string

// The entity kinds. The string values are the GraphQL enum values and the
// values stored in entity.kind.
const (
	KindPartner        Kind = "PARTNER"
	KindCooperative    Kind = "COOPERATIVE"
	KindPartnership    Kind = "PARTNERSHIP"
	KindGoodPractice   Kind = "GOOD_PRACTICE"
	KindForeignExample Kind = "FOREIGN_EXAMPLE"
	KindProject        Kind = "PROJECT"
	KindEvent          Kind = "EVENT"
	KindPerson         Kind = "PERSON"
	KindSource         Kind = "SOURCE"
)

// Kinds lists every entity kind in a stable order.
var Kinds = []Kind{
	KindPartner, KindCooperative, KindPartnership, KindGoodPractice,
	KindForeignExample, KindProject, KindEvent, KindPerson, KindSource,
}

var typeNames = map[Kind]string{
	KindPartner:        "Partner",
	KindCooperative:    "Cooperative",
	KindPartnership:    "Partnership",
	KindGoodPractice:   "GoodPractice",
	KindForeignExample: "ForeignExample",
	KindProject:        "Project",
	KindEvent:          "Event",
	KindPerson:         "Person",
	KindSource:         "Source",
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := typeNames[k]; return ok }

// TypeName returns the GraphQL object type name of k ("GoodPractice"), or ""
// for an unknown kind.
func (k Kind) TypeName() string { return typeNames[k] }

// KindOfTypeName returns the kind whose GraphQL type name is name.
func KindOfTypeName(name string) (Kind, bool) {
	for k, n := range typeNames {
		if n == name {
			return k, true
		}
	}
	return "", false
}

// Sector is the sector of the economy a partner belongs to.
type Sector string

// The three sectors of a public-social-private partnership.
const (
	SectorPublic  Sector = "PUBLIC"
	SectorSocial  Sector = "SOCIAL"
	SectorPrivate Sector = "PRIVATE"
)

// Sectors lists the sectors in their canonical order.
var Sectors = []Sector{SectorPublic, SectorSocial, SectorPrivate}

// Valid reports whether s is a known sector.
func (s Sector) Valid() bool { return slices.Contains(Sectors, s) }

// PublicationStatus says who may see an entity: only PUBLISHED entities are
// shown to anonymous readers.
type PublicationStatus string

// The publication statuses.
const (
	StatusDraft     PublicationStatus = "DRAFT"
	StatusPublished PublicationStatus = "PUBLISHED"
	StatusArchived  PublicationStatus = "ARCHIVED"
)

// PublicationStatuses lists the publication statuses.
var PublicationStatuses = []PublicationStatus{StatusDraft, StatusPublished, StatusArchived}

// Valid reports whether s is a known publication status.
func (s PublicationStatus) Valid() bool { return slices.Contains(PublicationStatuses, s) }

// PartnerKind is the kind of organisation a partner is.
type PartnerKind string

// Partner kinds, grouped by the sector they usually belong to.
const (
	PartnerMunicipality   PartnerKind = "MUNICIPALITY"
	PartnerCounty         PartnerKind = "COUNTY"
	PartnerRegionalCenter PartnerKind = "REGIONAL_CENTER"
	PartnerMinistry       PartnerKind = "MINISTRY"
	PartnerPublicAgency   PartnerKind = "PUBLIC_AGENCY"
	PartnerAssociation    PartnerKind = "ASSOCIATION"
	PartnerFoundation     PartnerKind = "FOUNDATION"
	PartnerFederation     PartnerKind = "FEDERATION"
	PartnerWorkshop       PartnerKind = "OCCUPATIONAL_THERAPY_WORKSHOP"
	PartnerSupportCenter  PartnerKind = "SUPPORT_CENTER"
	PartnerCompany        PartnerKind = "COMPANY"
	PartnerOther          PartnerKind = "OTHER"
)

// PartnerKinds lists the partner kinds.
var PartnerKinds = []PartnerKind{
	PartnerMunicipality, PartnerCounty, PartnerRegionalCenter, PartnerMinistry, PartnerPublicAgency,
	PartnerAssociation, PartnerFoundation, PartnerFederation, PartnerWorkshop, PartnerSupportCenter,
	PartnerCompany, PartnerOther,
}

// Valid reports whether k is a known partner kind.
func (k PartnerKind) Valid() bool { return slices.Contains(PartnerKinds, k) }

// CooperativeStatus is the life stage of a social cooperative.
type CooperativeStatus string

// Cooperative statuses, in life order.
const (
	CoopInitiativeGroup CooperativeStatus = "INITIATIVE_GROUP"
	CoopRegistered      CooperativeStatus = "REGISTERED"
	CoopOperating       CooperativeStatus = "OPERATING"
	CoopClosed          CooperativeStatus = "CLOSED"
)

// CooperativeStatuses lists the cooperative statuses.
var CooperativeStatuses = []CooperativeStatus{CoopInitiativeGroup, CoopRegistered, CoopOperating, CoopClosed}

// Valid reports whether s is a known cooperative status.
func (s CooperativeStatus) Valid() bool { return slices.Contains(CooperativeStatuses, s) }

// Activity is a line of business of a cooperative.
type Activity string

// Activities named by the source articles, and OTHER.
const (
	ActivityCeramics   Activity = "CERAMICS"
	ActivitySoapMaking Activity = "SOAP_MAKING"
	ActivityRestaurant Activity = "RESTAURANT"
	ActivityCafe       Activity = "CAFE"
	ActivityGardening  Activity = "GARDENING"
	ActivityPackaging  Activity = "PACKAGING"
	ActivityCoPacking  Activity = "CO_PACKING"
	ActivityLaundry    Activity = "LAUNDRY"
	ActivityCatering   Activity = "CATERING"
	ActivityCleaning   Activity = "CLEANING"
	ActivityCrafts     Activity = "CRAFTS"
	ActivityOther      Activity = "OTHER"
)

// Activities lists the activities.
var Activities = []Activity{
	ActivityCeramics, ActivitySoapMaking, ActivityRestaurant, ActivityCafe, ActivityGardening,
	ActivityPackaging, ActivityCoPacking, ActivityLaundry, ActivityCatering, ActivityCleaning,
	ActivityCrafts, ActivityOther,
}

// Valid reports whether a is a known activity.
func (a Activity) Valid() bool { return slices.Contains(Activities, a) }

// EventKind is the kind of an event.
type EventKind string

// Event kinds.
const (
	EventForum      EventKind = "FORUM"
	EventStudyVisit EventKind = "STUDY_VISIT"
	EventTraining   EventKind = "TRAINING"
	EventConference EventKind = "CONFERENCE"
	EventMeeting    EventKind = "MEETING"
)

// EventKinds lists the event kinds.
var EventKinds = []EventKind{EventForum, EventStudyVisit, EventTraining, EventConference, EventMeeting}

// Valid reports whether k is a known event kind.
func (k EventKind) Valid() bool { return slices.Contains(EventKinds, k) }

// EventStatus says whether an event is still to come or has taken place.
type EventStatus string

// Event statuses.
const (
	EventPlanned   EventStatus = "PLANNED"
	EventHeld      EventStatus = "HELD"
	EventCancelled EventStatus = "CANCELLED"
)

// EventStatuses lists the event statuses.
var EventStatuses = []EventStatus{EventPlanned, EventHeld, EventCancelled}

// Valid reports whether s is a known event status.
func (s EventStatus) Valid() bool { return slices.Contains(EventStatuses, s) }

// SourceKind is the kind of a cited source.
type SourceKind string

// Source kinds.
const (
	SourceArticle   SourceKind = "ARTICLE"
	SourceReport    SourceKind = "REPORT"
	SourceProgramme SourceKind = "PROGRAMME"
	SourceWebsite   SourceKind = "WEBSITE"
	SourceOther     SourceKind = "OTHER"
)

// SourceKinds lists the source kinds.
var SourceKinds = []SourceKind{SourceArticle, SourceReport, SourceProgramme, SourceWebsite, SourceOther}

// Valid reports whether k is a known source kind.
func (k SourceKind) Valid() bool { return slices.Contains(SourceKinds, k) }

// IndicatorName names a measured quantity of a cooperative, a project or
// an event; IndicatorKinds says which it applies to.
type IndicatorName string

// Indicator names.
const (
	IndicatorJobsPlanned    IndicatorName = "JOBS_PLANNED"
	IndicatorJobsActual     IndicatorName = "JOBS_ACTUAL"
	IndicatorWTZJobsPlanned IndicatorName = "WTZ_JOBS_PLANNED"
	IndicatorWTZJobsActual  IndicatorName = "WTZ_JOBS_ACTUAL"
	IndicatorMembers        IndicatorName = "MEMBERS"
	// IndicatorCooperativesPlanned counts the cooperatives a project sets
	// up ("ośmiu powstających spółdzielni").
	IndicatorCooperativesPlanned IndicatorName = "COOPERATIVES_PLANNED"
	// IndicatorWorkshopsRepresented counts the occupational therapy
	// workshops (WTZ) whose people took part in an event or a project.
	IndicatorWorkshopsRepresented IndicatorName = "WORKSHOPS_REPRESENTED"
	// IndicatorParticipants counts the people who took part.
	IndicatorParticipants IndicatorName = "PARTICIPANTS"
	// IndicatorParticipantGroups counts the groups an event was held in.
	IndicatorParticipantGroups IndicatorName = "PARTICIPANT_GROUPS"
	// IndicatorDurationDays is how many days an event (or each of its
	// sessions) lasted, where the source gives that and not the dates.
	IndicatorDurationDays IndicatorName = "DURATION_DAYS"
)

// IndicatorNames lists the indicator names.
var IndicatorNames = []IndicatorName{
	IndicatorJobsPlanned, IndicatorJobsActual, IndicatorWTZJobsPlanned, IndicatorWTZJobsActual, IndicatorMembers,
	IndicatorCooperativesPlanned, IndicatorWorkshopsRepresented, IndicatorParticipants, IndicatorParticipantGroups,
	IndicatorDurationDays,
}

// IndicatorKinds are the kinds of entry each indicator measures: a
// cooperative's jobs, a project's cooperatives, an event's participants.
var IndicatorKinds = map[IndicatorName][]Kind{
	IndicatorJobsPlanned:          {KindCooperative},
	IndicatorJobsActual:           {KindCooperative},
	IndicatorWTZJobsPlanned:       {KindCooperative},
	IndicatorWTZJobsActual:        {KindCooperative},
	IndicatorMembers:              {KindCooperative},
	IndicatorCooperativesPlanned:  {KindProject},
	IndicatorWorkshopsRepresented: {KindProject, KindEvent},
	IndicatorParticipants:         {KindProject, KindEvent},
	IndicatorParticipantGroups:    {KindEvent},
	IndicatorDurationDays:         {KindEvent},
}

// Valid reports whether n is a known indicator name.
func (n IndicatorName) Valid() bool { return slices.Contains(IndicatorNames, n) }

// Measures reports whether n applies to entries of kind k.
func (n IndicatorName) Measures(k Kind) bool { return slices.Contains(IndicatorKinds[n], k) }

// MemberRole is the role of a member of a partnership (the role of a
// MEMBER_OF link).
type MemberRole string

// Member roles.
const (
	RoleLeader          MemberRole = "LEADER"
	RoleFounder         MemberRole = "FOUNDER"
	RolePublicPartner   MemberRole = "PUBLIC_PARTNER"
	RoleSocialPartner   MemberRole = "SOCIAL_PARTNER"
	RoleBusinessPartner MemberRole = "BUSINESS_PARTNER"
	RoleSupporter       MemberRole = "SUPPORTER"
)

// MemberRoles lists the member roles.
var MemberRoles = []MemberRole{RoleLeader, RoleFounder, RolePublicPartner, RoleSocialPartner, RoleBusinessPartner, RoleSupporter}

// Valid reports whether r is a known member role.
func (r MemberRole) Valid() bool { return slices.Contains(MemberRoles, r) }

// Date is a calendar date without time or zone, written "2006-01-02".
type Date = time.Time

// Entity is a node of the graph. Exactly one of the kind-specific attribute
// pointers is set, the one that matches Kind.
type Entity struct {
	ID        int64             `json:"-"`
	Key       string            `json:"key"`
	Kind      Kind              `json:"kind"`
	Name      string            `json:"name"`
	Summary   string            `json:"summary,omitempty"`
	Status    PublicationStatus `json:"status,omitempty"`
	Version   int               `json:"-"`
	CreatedAt time.Time         `json:"-"`
	UpdatedAt time.Time         `json:"-"`
	CreatedBy string            `json:"-"`
	UpdatedBy string            `json:"-"`
	// Citations are the sources that support the entry as a whole.
	Citations []Citation `json:"sources,omitempty"`
	// OriginalLanguage is the language of Name, Summary and the other text
	// fields, a supported base tag (lang.Supported); "" reads as Polish.
	OriginalLanguage string `json:"originalLanguage,omitempty"`
	// NameLanguage is the language of Name when it is not OriginalLanguage:
	// a Swedish organisation's own name in an entry written in Polish.
	NameLanguage string `json:"nameLanguage,omitempty"`
	// Translations are the text fields in other languages (translation.go).
	Translations []Translation `json:"translations,omitempty"`
	// Served says which language each text field holds after Localize;
	// nil for an entry as stored, whose text is in OriginalLanguage.
	Served *Served `json:"-"`

	Partner        *Partner        `json:"partner,omitempty"`
	Cooperative    *Cooperative    `json:"cooperative,omitempty"`
	Partnership    *Partnership    `json:"partnership,omitempty"`
	GoodPractice   *GoodPractice   `json:"goodPractice,omitempty"`
	ForeignExample *ForeignExample `json:"foreignExample,omitempty"`
	Project        *Project        `json:"project,omitempty"`
	Event          *Event          `json:"event,omitempty"`
	Person         *Person         `json:"person,omitempty"`
	Source         *Source         `json:"source,omitempty"`
}

// Place is where an organisation or event is: country as ISO 3166-1
// alpha-2, region (voivodeship, län), city, an optional postal address and
// the point on a map (WGS 84 degrees; both or neither), whose source the
// entry cites like any other fact (docs/api.md, "Places").
type Place struct {
	Country   string   `json:"country,omitempty"`
	Region    string   `json:"region,omitempty"`
	City      string   `json:"city,omitempty"`
	Address   string   `json:"address,omitempty"`
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
}

// HasPoint reports whether the place has coordinates.
func (p Place) HasPoint() bool { return p.Latitude != nil && p.Longitude != nil }

// Partner holds the attributes of an organisation of one sector.
type Partner struct {
	Sector      Sector      `json:"sector"`
	PartnerKind PartnerKind `json:"partnerKind"`
	LegalForm   string      `json:"legalForm,omitempty"`
	Place
	Website            string `json:"website,omitempty"`
	LogoURL            string `json:"logoUrl,omitempty"`
	RegistrationNumber string `json:"registrationNumber,omitempty"`
}

// Cooperative holds the attributes of a social cooperative.
type Cooperative struct {
	CoopStatus CooperativeStatus `json:"coopStatus"`
	Activities []Activity        `json:"activities,omitempty"`
	Place
	FoundedOn          *Date  `json:"foundedOn,omitempty"`
	Website            string `json:"website,omitempty"`
	LogoURL            string `json:"logoUrl,omitempty"`
	RegistrationNumber string `json:"registrationNumber,omitempty"`
}

// Partnership holds the attributes of a public-social-private partnership.
// Its members are MEMBER_OF links; its sector mix is derived from them.
type Partnership struct {
	StartsOn *Date `json:"startsOn,omitempty"`
	EndsOn   *Date `json:"endsOn,omitempty"`
}

// GoodPractice holds the attributes of a documented good practice.
type GoodPractice struct {
	Description       string   `json:"description,omitempty"`
	Topics            []string `json:"topics,omitempty"`
	TargetGroup       string   `json:"targetGroup,omitempty"`
	ResourcesNeeded   string   `json:"resourcesNeeded,omitempty"`
	Evidence          string   `json:"evidence,omitempty"`
	Difficulties      string   `json:"difficulties,omitempty"`
	Lessons           string   `json:"lessons,omitempty"`
	TransferPotential string   `json:"transferPotential,omitempty"`
	Recognition       string   `json:"recognition,omitempty"`
	// TopicLabels are, by language, the labels of the practice's topics in
	// the languages other than each topic's original one (whose label is
	// in Topics), in the practice's order: what search indexes beside
	// Topics, so that a Swedish or English label finds the practice. Read
	// from the vocabulary when a search document is made; never stored
	// with the practice nor written to revisions or files.
	TopicLabels map[string][]string `json:"-"`
}

// ForeignExample holds the attributes of an organisation abroad studied as
// an example.
type ForeignExample struct {
	Place
	Model            string `json:"model,omitempty"`
	TargetGroup      string `json:"targetGroup,omitempty"`
	LessonsForPoland string `json:"lessonsForPoland,omitempty"`
	HomeAnalogue     string `json:"homeAnalogue,omitempty"`
	Website          string `json:"website,omitempty"`
	LogoURL          string `json:"logoUrl,omitempty"`
}

// Project holds the attributes of a project.
type Project struct {
	StartsOn *Date  `json:"startsOn,omitempty"`
	EndsOn   *Date  `json:"endsOn,omitempty"`
	Funding  string `json:"funding,omitempty"`
	Website  string `json:"website,omitempty"`
	LogoURL  string `json:"logoUrl,omitempty"`
}

// Event holds the attributes of a forum, study visit, training or meeting.
//
// When is the date or interval as precise as it is known (EDTF); StartsOn
// and EndsOn follow from it when its year is known (Validate keeps them in
// step), and are nil when it is not.
type Event struct {
	EventKind   EventKind   `json:"eventKind"`
	EventStatus EventStatus `json:"eventStatus"`
	When        *FuzzyDate  `json:"when,omitempty"`
	StartsOn    *Date       `json:"startsOn,omitempty"`
	EndsOn      *Date       `json:"endsOn,omitempty"`
	Place
	// OtherPlaces are the further places of an event held in several (the
	// study visit in Stockholm and Rimbo); Place is the first.
	OtherPlaces []Place `json:"otherPlaces,omitempty"`
	Venue       string  `json:"venue,omitempty"`
}

// Places lists every place of the event, the main one first; none when the
// event has no place at all.
func (ev *Event) Places() []Place {
	if ev.Place == (Place{}) && len(ev.OtherPlaces) == 0 {
		return nil
	}
	return append([]Place{ev.Place}, ev.OtherPlaces...)
}

// Person holds the public role of a person and the contact details. The
// contact details are personal data: the API shows them to staff only, and
// ErasePerson removes them, from the revision log too.
type Person struct {
	PublicRole string `json:"publicRole,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// Source holds the bibliographic attributes of a cited source.
type Source struct {
	SourceKind SourceKind `json:"sourceKind"`
	Publisher  string     `json:"publisher,omitempty"`
	// Published is the publication date as precise as it is known (EDTF);
	// PublishedOn follows from it when it is a day of a known year.
	Published   *FuzzyDate `json:"published,omitempty"`
	PublishedOn *Date      `json:"publishedOn,omitempty"`
	URL         string     `json:"url,omitempty"`
	Language    string     `json:"language,omitempty"`
}

// Citation ties a claim (an entity, a link or an indicator) to the source
// that supports it, with a locator (page, paragraph) and an optional quote.
type Citation struct {
	SourceID  int64  `json:"-"`
	SourceKey string `json:"source"`
	Locator   string `json:"locator,omitempty"`
	Quote     string `json:"quote,omitempty"`
}

// Indicator is a dated, sourced measurement of a cooperative, a project or
// an event (IndicatorKinds).
type Indicator struct {
	ID int64 `json:"-"`
	// EntityID is the entry measured.
	EntityID int64 `json:"-"`
	// EntityKey names the entry measured in data files.
	EntityKey string `json:"entity,omitempty"`
	// CooperativeKey is the data files' older name of EntityKey, from when
	// only cooperatives had indicators: still read, and still written
	// beside EntityKey for a cooperative's indicators, so that readers of
	// older files keep working.
	CooperativeKey string        `json:"cooperative,omitempty"`
	Name           IndicatorName `json:"name"`
	Value          float64       `json:"value"`
	Unit           string        `json:"unit,omitempty"`
	AsOf           *Date         `json:"asOf,omitempty"`
	Note           string        `json:"note,omitempty"`
	Citation       *Citation     `json:"citation,omitempty"`
}

// Subject is the key of the entry measured: EntityKey, or CooperativeKey
// in a file of the older shape.
func (in *Indicator) Subject() string {
	if in.EntityKey != "" {
		return in.EntityKey
	}
	return in.CooperativeKey
}

// SubjectField is the file's field that names the entry measured, for
// errors: "entity", or "cooperative" in a file of the older shape.
func (in *Indicator) SubjectField() string {
	if in.EntityKey == "" && in.CooperativeKey != "" {
		return "cooperative"
	}
	return "entity"
}

// EmptyAttributes gives e an empty struct of its kind's attributes if it
// has none: an entity read without them (store.EntityHeads) still maps to
// its kind's type.
func (e *Entity) EmptyAttributes() {
	switch e.Kind {
	case KindPartner:
		if e.Partner == nil {
			e.Partner = &Partner{}
		}
	case KindCooperative:
		if e.Cooperative == nil {
			e.Cooperative = &Cooperative{}
		}
	case KindPartnership:
		if e.Partnership == nil {
			e.Partnership = &Partnership{}
		}
	case KindGoodPractice:
		if e.GoodPractice == nil {
			e.GoodPractice = &GoodPractice{}
		}
	case KindForeignExample:
		if e.ForeignExample == nil {
			e.ForeignExample = &ForeignExample{}
		}
	case KindProject:
		if e.Project == nil {
			e.Project = &Project{}
		}
	case KindEvent:
		if e.Event == nil {
			e.Event = &Event{}
		}
	case KindPerson:
		if e.Person == nil {
			e.Person = &Person{}
		}
	case KindSource:
		if e.Source == nil {
			e.Source = &Source{}
		}
	}
}

// Place returns the place of the entry (the first of an event's), or nil
// for a kind without one.
func (e *Entity) Place() *Place {
	switch {
	case e.Partner != nil:
		return &e.Partner.Place
	case e.Cooperative != nil:
		return &e.Cooperative.Place
	case e.ForeignExample != nil:
		return &e.ForeignExample.Place
	case e.Event != nil:
		return &e.Event.Place
	}
	return nil
}

// Country returns the country of the entry's place (ISO 3166-1 alpha-2),
// empty for a kind without a place or an entry without a country.
func (e *Entity) Country() string {
	if p := e.Place(); p != nil {
		return p.Country
	}
	return ""
}

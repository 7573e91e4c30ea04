package kb

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// RelationType is the type of a directed link between two entities.
type RelationType string

// The controlled vocabulary of relation types. See Relations for the rules.
const (
	RelMemberOf              RelationType = "MEMBER_OF"
	RelFounded               RelationType = "FOUNDED"
	RelRuns                  RelationType = "RUNS"
	RelEmploysParticipantsOf RelationType = "EMPLOYS_PARTICIPANTS_OF"
	RelLeads                 RelationType = "LEADS"
	RelPartnerIn             RelationType = "PARTNER_IN"
	RelFunds                 RelationType = "FUNDS"
	RelSupports              RelationType = "SUPPORTS"
	RelOrganized             RelationType = "ORGANIZED"
	RelParticipatedIn        RelationType = "PARTICIPATED_IN"
	RelVisited               RelationType = "VISITED"
	RelPresented             RelationType = "PRESENTED"
	RelDemonstrates          RelationType = "DEMONSTRATES"
	RelInspired              RelationType = "INSPIRED"
	RelRecognizedIn          RelationType = "RECOGNIZED_IN"
	RelAffiliatedWith        RelationType = "AFFILIATED_WITH"
	RelComparableTo          RelationType = "COMPARABLE_TO"
	RelFormedAround          RelationType = "FORMED_AROUND"
	RelPartOf                RelationType = "PART_OF"
	RelPublished             RelationType = "PUBLISHED"
)

// Relation is one entry of the vocabulary: a type, how it reads in each
// direction, and which kinds of entity it may join.
type Relation struct {
	Type         RelationType
	Label        string // reads from the source: "Partner founded Cooperative"
	InverseLabel string // reads from the target: "Cooperative founded by Partner"
	Description  string
	From         []Kind
	To           []Kind
}

var (
	organisations = []Kind{KindPartner, KindCooperative, KindForeignExample}
	cases         = []Kind{KindPartner, KindCooperative, KindPartnership, KindProject, KindForeignExample, KindEvent}
)

// Relations is the relation vocabulary, in a stable order.
var Relations = []Relation{
	{RelMemberOf, "member of", "has member", "An organisation is a member of a partnership; the link's role says which (LEADER, PUBLIC_PARTNER, BUSINESS_PARTNER, ...).",
		organisations, []Kind{KindPartnership}},
	{RelFounded, "founded", "founded by", "An organisation or a person founded a cooperative, partnership, project or organisation.",
		[]Kind{KindPartner, KindPerson, KindCooperative, KindForeignExample}, []Kind{KindCooperative, KindPartnership, KindProject, KindPartner}},
	{RelRuns, "runs", "run by", "An organisation runs (operates) another organisation, a cooperative or a project.",
		organisations, []Kind{KindPartner, KindCooperative, KindProject, KindForeignExample}},
	{RelEmploysParticipantsOf, "employs participants of", "participants employed by", "A cooperative employs participants of an occupational therapy workshop (WTZ).",
		[]Kind{KindCooperative, KindForeignExample}, []Kind{KindPartner}},
	{RelLeads, "leads", "led by", "An organisation leads a project or a partnership.",
		[]Kind{KindPartner}, []Kind{KindProject, KindPartnership}},
	{RelPartnerIn, "partner in", "has partner", "An organisation is a partner in a project.",
		organisations, []Kind{KindProject}},
	{RelFunds, "funds", "funded by", "An organisation funds a project, cooperative or event.",
		[]Kind{KindPartner}, []Kind{KindProject, KindCooperative, KindEvent, KindPartnership}},
	{RelSupports, "supports", "supported by", "An organisation, project or partnership supports a cooperative, project or organisation.",
		[]Kind{KindPartner, KindProject, KindPartnership, KindForeignExample}, []Kind{KindCooperative, KindProject, KindPartner}},
	{RelOrganized, "organized", "organized by", "An organisation or project organised an event.",
		[]Kind{KindPartner, KindProject}, []Kind{KindEvent}},
	{RelParticipatedIn, "participated in", "had participant", "An organisation, cooperative or person took part in an event or project.",
		[]Kind{KindPartner, KindCooperative, KindPerson}, []Kind{KindEvent, KindProject}},
	{RelVisited, "visited", "visited on", "A study visit (event) visited an organisation.",
		[]Kind{KindEvent}, organisations},
	{RelPresented, "presented at", "had presentation by", "A person or organisation presented at an event, or a project's results were presented there; the note says what was presented.",
		[]Kind{KindPerson, KindPartner, KindForeignExample, KindProject}, []Kind{KindEvent}},
	{RelDemonstrates, "demonstrates", "demonstrated by", "A case (cooperative, project, partnership, organisation, event) shows a good practice.",
		cases, []Kind{KindGoodPractice}},
	{RelInspired, "inspired", "inspired by", "A foreign example or event inspired a good practice, cooperative or project.",
		[]Kind{KindForeignExample, KindEvent}, []Kind{KindGoodPractice, KindCooperative, KindProject}},
	{RelRecognizedIn, "recognized in", "recognizes", "A practice, project or cooperative is recognised in a source (a programme, a report); the citation locates it.",
		[]Kind{KindGoodPractice, KindProject, KindCooperative, KindPartner}, []Kind{KindSource}},
	{RelAffiliatedWith, "affiliated with", "has affiliated person", "A person holds a public role in an organisation or project; the role says which.",
		[]Kind{KindPerson}, []Kind{KindPartner, KindCooperative, KindForeignExample, KindProject}},
	{RelComparableTo, "comparable to", "comparable to", "An organisation abroad is comparable to a kind of organisation at home (a Swedish social work cooperative ≈ a Polish social cooperative).",
		organisations, organisations},
	{RelFormedAround, "formed around", "has partnership", "A partnership is formed around a cooperative or a project.",
		[]Kind{KindPartnership}, []Kind{KindCooperative, KindProject}},
	{RelPartOf, "part of", "includes", "An event is part of a project.",
		[]Kind{KindEvent}, []Kind{KindProject}},
	{RelPublished, "published", "published by", "An organisation published a source (an article, report or programme).",
		organisations, []Kind{KindSource}},
}

// RelationTypes lists the relation types in vocabulary order.
func RelationTypes() []RelationType {
	out := make([]RelationType, len(Relations))
	for i, r := range Relations {
		out[i] = r.Type
	}
	return out
}

// Lookup returns the vocabulary entry of t.
func Lookup(t RelationType) (Relation, bool) {
	for _, r := range Relations {
		if r.Type == t {
			return r, true
		}
	}
	return Relation{}, false
}

// Valid reports whether t is in the vocabulary.
func (t RelationType) Valid() bool { _, ok := Lookup(t); return ok }

// CheckLink checks that a link of type t may join an entity of kind from to
// one of kind to. It returns a *ValidationError naming the rule otherwise.
func CheckLink(t RelationType, from, to Kind) error {
	r, ok := Lookup(t)
	if !ok {
		return Invalid("type", "unknown relation type %q", t)
	}
	if !slices.Contains(r.From, from) || !slices.Contains(r.To, to) {
		return Invalid("type", "%s may join %s to %s, not %s to %s",
			t, kindList(r.From), kindList(r.To), from.TypeName(), to.TypeName())
	}
	return nil
}

func kindList(ks []Kind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.TypeName()
	}
	return strings.Join(names, "|")
}

// Link is a typed, directed edge between two entities with its properties
// and provenance.
type Link struct {
	ID        int64        `json:"-"`
	FromID    int64        `json:"-"`
	ToID      int64        `json:"-"`
	FromKey   string       `json:"from"`
	ToKey     string       `json:"to"`
	Type      RelationType `json:"type"`
	Role      string       `json:"role,omitempty"`
	Note      string       `json:"note,omitempty"`
	StartsOn  *Date        `json:"startsOn,omitempty"`
	EndsOn    *Date        `json:"endsOn,omitempty"`
	Citations []Citation   `json:"sources,omitempty"`
	// Confidence is how sure the linker is, from 0 to 1, where sources
	// disagree; nil when nobody has said.
	Confidence *float64  `json:"confidence,omitempty"`
	Version    int       `json:"-"`
	CreatedAt  time.Time `json:"-"`
	CreatedBy  string    `json:"-"`
}

// String returns a short human description used in error messages.
func (l Link) String() string {
	return fmt.Sprintf("%s -%s-> %s", l.FromKey, l.Type, l.ToKey)
}

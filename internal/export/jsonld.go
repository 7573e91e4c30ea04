package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// The vocabularies of the JSON-LD export. ESSGlobal's namespace is the one
// its vocabulary file declares (vann:preferredNamespaceUri).
const (
	NSSchema    = "https://schema.org/"
	NSOrg       = "http://www.w3.org/ns/org#"
	NSProv      = "http://www.w3.org/ns/prov#"
	NSESSGlobal = "http://purl.org/essglobal/vocab/"
	NSTime      = "http://www.w3.org/2006/time#"
	NSRDFS      = "http://www.w3.org/2000/01/rdf-schema#"
	NSXSD       = "http://www.w3.org/2001/XMLSchema#"
	NSSKOS      = "http://www.w3.org/2004/02/skos/core#"
	NSDCTerms   = "http://purl.org/dc/terms/"
)

// TopicIRI is the IRI of a topic of the vocabulary (a skos:Concept), and
// TopicSchemeIRI that of the vocabulary (its skos:ConceptScheme).
func TopicIRI(base, slug string) string { return base + "topics/" + slug }

// TopicSchemeIRI is the IRI of the topic vocabulary.
func TopicSchemeIRI(base string) string { return base + "topics" }

// topicNode is a topic as a skos:Concept: its slug as skos:notation, a
// language-tagged skos:prefLabel per language.
func topicNode(t *kb.Topic, base string) node {
	var labels []node
	for _, l := range t.Record().Labels {
		labels = append(labels, node{"@value": l.Label, "@language": l.Lang})
	}
	return node{
		"@id":            TopicIRI(base, t.Slug),
		"@type":          "skos:Concept",
		"skos:notation":  t.Slug,
		"skos:prefLabel": labels,
		"skos:inScheme":  ref(TopicSchemeIRI(base)),
	}
}

// VocabIRI returns the namespace of partnergraph's own terms (relation
// types, sectors, kinds) under base: base + "vocab#". A key cannot hold
// "#", so it never clashes with an entity's IRI.
func VocabIRI(base string) string { return base + "vocab#" }

// jsonldContext is the @context, inline so that a processor needs no
// network: prefixes only, every value written in expanded form.
func jsonldContext(base string) map[string]string {
	return map[string]string{
		"schema":    NSSchema,
		"org":       NSOrg,
		"prov":      NSProv,
		"essglobal": NSESSGlobal,
		"time":      NSTime,
		"rdfs":      NSRDFS,
		"xsd":       NSXSD,
		"skos":      NSSKOS,
		"dcterms":   NSDCTerms,
		"pg":        VocabIRI(base),
	}
}

type node = map[string]any

func ref(iri string) node { return node{"@id": iri} }

func typed(v, t string) node { return node{"@value": v, "@type": t} }

// setStr sets property p to s unless s is empty.
func setStr(n node, p, s string) {
	if s != "" {
		n[p] = s
	}
}

func setDate(n node, p string, d *kb.Date) {
	if d != nil {
		n[p] = typed(date(d), "xsd:date")
	}
}

func setURL(n node, p, s string) {
	switch {
	case s == "":
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		n[p] = ref(s)
	default:
		n[p] = s
	}
}

// tagged is a text property in every language it is held in: the entry's
// own text tagged with its language, then each translation of field f
// (JSON-LD language-tagged strings, "@language"); nil when there is none.
func tagged(own, ownLang string, f kb.TextField, ts []kb.Translation) any {
	var vals []any
	if own != "" {
		vals = append(vals, node{"@value": own, "@language": ownLang})
	}
	for _, t := range ts {
		if t.Field == f {
			vals = append(vals, node{"@value": t.Text, "@language": t.Lang})
		}
	}
	switch len(vals) {
	case 0:
		return nil
	case 1:
		return vals[0]
	}
	return vals
}

// localities adds the names of an entry's city in other languages to its
// address: the local name stays a plain string (a place's own name has no
// one language), each translation is tagged with its own. place picks the
// translations of one place: 0 the entry's own, n an event's n-th further
// place.
func localities(n node, ts []kb.Translation, place int) {
	a, ok := n["schema:address"].(node)
	if !ok {
		return
	}
	local, ok := a["schema:addressLocality"]
	if !ok {
		return
	}
	vals := []any{local}
	for _, t := range ts {
		if t.Field == kb.FieldCity && t.Place == place {
			vals = append(vals, node{"@value": t.Text, "@language": t.Lang})
		}
	}
	if len(vals) > 1 {
		a["schema:addressLocality"] = vals
	}
}

func address(n node, p kb.Place) {
	if p == (kb.Place{}) {
		return
	}
	a := node{"@type": "schema:PostalAddress"}
	setStr(a, "schema:addressCountry", p.Country)
	setStr(a, "schema:addressRegion", p.Region)
	setStr(a, "schema:addressLocality", p.City)
	setStr(a, "schema:streetAddress", p.Address)
	n["schema:address"] = a
	if p.HasPoint() {
		n["schema:geo"] = node{"@type": "schema:GeoCoordinates",
			"schema:latitude":  typed(strconv.FormatFloat(*p.Latitude, 'f', -1, 64), "xsd:decimal"),
			"schema:longitude": typed(strconv.FormatFloat(*p.Longitude, 'f', -1, 64), "xsd:decimal")}
	}
}

// setFuzzy sets a date as precise as it is known: start (and end, for an
// interval) as the XML Schema type of its precision (xsd:date,
// xsd:gYearMonth, xsd:gYear, or xsd:gMonthDay and xsd:gMonth for an
// unknown year), and the whole as EDTF in pg:edtf on the node.
func setFuzzy(n node, start, end string, d *kb.FuzzyDate) {
	v, t := d.Start.XSD()
	n[start] = typed(v, t)
	if d.End != nil && end != "" {
		v, t := d.End.XSD()
		n[end] = typed(v, t)
	}
	n["pg:edtf"] = d.String()
}

// lowerCamel turns MEMBER_OF into memberOf.
func lowerCamel(s string) string {
	parts := strings.Split(strings.ToLower(s), "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// provenance adds prov:wasDerivedFrom (the cited sources) and one
// prov:qualifiedDerivation per citation with its locator and quote.
func provenance(n node, base string, cs []kb.Citation) {
	if len(cs) == 0 {
		return
	}
	var from []any
	var seen []string
	quals := make([]any, 0, len(cs))
	for _, c := range cs {
		iri := base + c.SourceKey
		if !slices.Contains(seen, iri) {
			seen = append(seen, iri)
			from = append(from, ref(iri))
		}
		q := node{"@type": "prov:Derivation", "prov:entity": ref(iri)}
		setStr(q, "pg:locator", c.Locator)
		setStr(q, "pg:quote", c.Quote)
		quals = append(quals, q)
	}
	n["prov:wasDerivedFrom"] = from
	n["prov:qualifiedDerivation"] = quals
}

// entityNode maps an entity to a JSON-LD node: schema.org types and
// properties first, the W3C Organization ontology for organisations and
// partnerships, ESSGlobal for the social and solidarity economy, PROV-O
// for its sources, and pg: terms for what none of them says.
func entityNode(e *kb.Entity, base string) node {
	n := node{
		"@id":                 base + e.Key,
		"schema:name":         tagged(e.Name, e.NameOriginal(), kb.FieldName, e.Translations),
		"schema:identifier":   e.Key,
		"pg:kind":             ref("pg:" + e.Kind.TypeName()),
		"schema:dateCreated":  typed(e.CreatedAt.UTC().Format(time.RFC3339), "xsd:dateTime"),
		"schema:dateModified": typed(e.UpdatedAt.UTC().Format(time.RFC3339), "xsd:dateTime"),
	}
	if v := tagged(e.Summary, e.OriginalOrDefault(), kb.FieldSummary, e.Translations); v != nil {
		n["schema:description"] = v
	}
	var types []string
	// Once the address is set, whichever kind set it.
	defer localities(n, e.Translations, 0)
	switch {
	case e.Partner != nil:
		p := e.Partner
		types = []string{"schema:Organization", "org:FormalOrganization"}
		switch p.Sector {
		case kb.SectorPublic:
			types = append(types, "schema:GovernmentOrganization")
		case kb.SectorSocial:
			if p.PartnerKind == kb.PartnerAssociation || p.PartnerKind == kb.PartnerFoundation || p.PartnerKind == kb.PartnerFederation {
				types = append(types, "schema:NGO")
			}
			types = append(types, "essglobal:SSEInitiative")
		case kb.SectorPrivate:
			if p.PartnerKind == kb.PartnerCompany {
				types = append(types, "schema:Corporation")
			}
		}
		n["pg:sector"] = ref("pg:" + string(p.Sector))
		n["pg:partnerKind"] = string(p.PartnerKind)
		setStr(n, "essglobal:legalForm", p.LegalForm)
		address(n, p.Place)
		setURL(n, "schema:url", p.Website)
		setURL(n, "schema:logo", p.LogoURL)
		setStr(n, "pg:registrationNumber", p.RegistrationNumber)
	case e.Cooperative != nil:
		c := e.Cooperative
		types = []string{"schema:Organization", "org:FormalOrganization", "essglobal:SSEInitiative"}
		n["schema:additionalType"] = ref("pg:SocialCooperative")
		n["pg:coopStatus"] = string(c.CoopStatus)
		if len(c.Activities) > 0 {
			acts := make([]any, len(c.Activities))
			for i, a := range c.Activities {
				acts[i] = string(a)
			}
			n["pg:activity"] = acts
		}
		address(n, c.Place)
		setDate(n, "schema:foundingDate", c.FoundedOn)
		setURL(n, "schema:url", c.Website)
		setURL(n, "schema:logo", c.LogoURL)
		setStr(n, "pg:registrationNumber", c.RegistrationNumber)
	case e.Partnership != nil:
		types = []string{"org:OrganizationalCollaboration", "essglobal:Network"}
		n["schema:additionalType"] = ref("pg:PublicSocialPrivatePartnership")
		setDate(n, "schema:startDate", e.Partnership.StartsOn)
		setDate(n, "schema:endDate", e.Partnership.EndsOn)
	case e.GoodPractice != nil:
		g := e.GoodPractice
		types = []string{"schema:CreativeWork"}
		n["schema:additionalType"] = ref("pg:GoodPractice")
		if v := tagged(g.Description, e.OriginalOrDefault(), kb.FieldDescription, e.Translations); v != nil {
			n["schema:text"] = v
		}
		if len(g.Topics) > 0 {
			n["schema:keywords"] = strings.Join(g.Topics, ", ")
		}
		if g.TargetGroup != "" {
			n["schema:audience"] = node{"@type": "schema:Audience", "schema:audienceType": g.TargetGroup}
		}
		setStr(n, "pg:resourcesNeeded", g.ResourcesNeeded)
		setStr(n, "pg:evidence", g.Evidence)
		setStr(n, "pg:difficulties", g.Difficulties)
		setStr(n, "pg:lessons", g.Lessons)
		setStr(n, "pg:transferPotential", g.TransferPotential)
		setStr(n, "pg:recognition", g.Recognition)
	case e.ForeignExample != nil:
		f := e.ForeignExample
		types = []string{"schema:Organization", "org:FormalOrganization", "essglobal:SSEInitiative"}
		n["schema:additionalType"] = ref("pg:ForeignExample")
		address(n, f.Place)
		setStr(n, "pg:model", f.Model)
		setStr(n, "pg:targetGroup", f.TargetGroup)
		setStr(n, "pg:lessonsForPoland", f.LessonsForPoland)
		setStr(n, "pg:homeAnalogue", f.HomeAnalogue)
		setURL(n, "schema:url", f.Website)
		setURL(n, "schema:logo", f.LogoURL)
	case e.Project != nil:
		p := e.Project
		types = []string{"schema:Project"}
		setDate(n, "schema:foundingDate", p.StartsOn)
		setDate(n, "schema:dissolutionDate", p.EndsOn)
		setStr(n, "pg:funding", p.Funding)
		setURL(n, "schema:url", p.Website)
		setURL(n, "schema:logo", p.LogoURL)
	case e.Event != nil:
		ev := e.Event
		types = []string{"schema:Event"}
		if ev.When != nil {
			setFuzzy(n, "schema:startDate", "schema:endDate", ev.When)
		} else {
			setDate(n, "schema:startDate", ev.StartsOn)
			setDate(n, "schema:endDate", ev.EndsOn)
		}
		var locs []any
		for i, p := range ev.Places() {
			loc := node{"@type": "schema:Place"}
			if i == 0 {
				setStr(loc, "schema:name", ev.Venue)
			}
			address(loc, p)
			localities(loc, e.Translations, i)
			locs = append(locs, loc)
		}
		switch {
		case len(locs) > 1:
			n["schema:location"] = locs
		case len(locs) == 1:
			n["schema:location"] = locs[0]
		case ev.Venue != "":
			n["schema:location"] = node{"@type": "schema:Place", "schema:name": ev.Venue}
		}
		status := "schema:EventScheduled"
		if ev.EventStatus == kb.EventCancelled {
			status = "schema:EventCancelled"
		}
		n["schema:eventStatus"] = ref(status)
		n["pg:eventKind"] = string(ev.EventKind)
		n["pg:eventStatus"] = string(ev.EventStatus)
	case e.Person != nil:
		types = []string{"schema:Person"}
		setStr(n, "schema:jobTitle", e.Person.PublicRole)
	case e.Source != nil:
		s := e.Source
		types = []string{"schema:CreativeWork", "prov:Entity"}
		switch s.SourceKind {
		case kb.SourceArticle:
			types = append(types, "schema:Article")
		case kb.SourceReport:
			types = append(types, "schema:Report")
		case kb.SourceWebsite:
			types = append(types, "schema:WebSite")
		}
		n["pg:sourceKind"] = string(s.SourceKind)
		if s.Publisher != "" {
			n["schema:publisher"] = node{"@type": "schema:Organization", "schema:name": s.Publisher}
		}
		if s.Published != nil {
			setFuzzy(n, "schema:datePublished", "", s.Published)
		} else {
			setDate(n, "schema:datePublished", s.PublishedOn)
		}
		setURL(n, "schema:url", s.URL)
		setStr(n, "schema:inLanguage", s.Language)
	}
	n["@type"] = types
	provenance(n, base, e.Citations)
	return n
}

// LinkIRI returns the IRI of the link from → to of type t under base: a
// link has no key of its own, but its ends and type identify it.
func LinkIRI(base, from string, t kb.RelationType, to string) string {
	return base + "link/" + from + "/" + string(t) + "/" + to
}

// schemaInverse maps relation types onto the schema.org property that
// states them from the target's side ("Cooperative schema:founder Partner").
var schemaInverse = map[kb.RelationType]string{
	kb.RelFounded:      "schema:founder",
	kb.RelOrganized:    "schema:organizer",
	kb.RelFunds:        "schema:funder",
	kb.RelPublished:    "schema:publisher",
	kb.RelRecognizedIn: "schema:mentions",
}

// linkNodes maps a link to JSON-LD nodes: a direct triple (from pg:<type>
// to) for tools that walk the graph; the link itself as a node with its
// properties and sources, an org:Membership (org:member, org:organization,
// org:role, org:memberDuring) for MEMBER_OF and AFFILIATED_WITH; and the
// schema.org property where one states the same relation.
func linkNodes(l *kb.Link, base string) []node {
	from, to := base+l.FromKey, base+l.ToKey
	rel := "pg:" + lowerCamel(string(l.Type))
	out := []node{{"@id": from, rel: ref(to)}}
	q := node{
		"@id":         LinkIRI(base, l.FromKey, l.Type, l.ToKey),
		"pg:from":     ref(from),
		"pg:to":       ref(to),
		"pg:relation": ref(rel),
	}
	types := []string{"pg:Link"}
	if l.Type == kb.RelMemberOf || l.Type == kb.RelAffiliatedWith {
		types = append(types, "org:Membership")
		q["org:member"] = ref(from)
		q["org:organization"] = ref(to)
		switch {
		case kb.MemberRole(l.Role).Valid():
			// A role of the vocabulary has an IRI, so that memberships group by it.
			q["org:role"] = node{"@id": "pg:" + l.Role, "@type": "org:Role", "rdfs:label": l.Role}
		case l.Role != "":
			q["org:role"] = node{"@type": "org:Role", "rdfs:label": l.Role}
		}
		if l.StartsOn != nil || l.EndsOn != nil {
			iv := node{"@type": "time:Interval"}
			if l.StartsOn != nil {
				iv["time:hasBeginning"] = node{"@type": "time:Instant", "time:inXSDDate": typed(date(l.StartsOn), "xsd:date")}
			}
			if l.EndsOn != nil {
				iv["time:hasEnd"] = node{"@type": "time:Instant", "time:inXSDDate": typed(date(l.EndsOn), "xsd:date")}
			}
			q["org:memberDuring"] = iv
		}
	}
	q["@type"] = types
	setStr(q, "pg:role", l.Role)
	setStr(q, "pg:note", l.Note)
	setDate(q, "schema:startDate", l.StartsOn)
	setDate(q, "schema:endDate", l.EndsOn)
	provenance(q, base, l.Citations)
	out = append(out, q)
	if p, ok := schemaInverse[l.Type]; ok {
		out = append(out, node{"@id": to, p: ref(from)})
	}
	if l.Type == kb.RelAffiliatedWith {
		out = append(out, node{"@id": from, "schema:affiliation": ref(to)})
	}
	return out
}

// indicatorNode attaches an indicator to its entry (a cooperative, project
// or event) as a schema:PropertyValue.
func indicatorNode(in *kb.Indicator, base string) node {
	pv := node{
		"@type":        "schema:PropertyValue",
		"schema:name":  string(in.Name),
		"schema:value": typed(strconv.FormatFloat(in.Value, 'f', -1, 64), "xsd:decimal"),
	}
	setStr(pv, "schema:unitText", in.Unit)
	setStr(pv, "schema:description", in.Note)
	setDate(pv, "pg:asOf", in.AsOf)
	if in.Citation != nil {
		provenance(pv, base, []kb.Citation{*in.Citation})
	}
	return node{"@id": base + in.Subject(), "schema:additionalProperty": pv}
}

func writeJSONLD(ctx context.Context, sn *store.Snapshot, opts Options, w *bufio.Writer) error {
	base := opts.base()
	var werr error
	first := true
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	emit := func(n node) error {
		buf.Reset()
		if err := enc.Encode(n); err != nil {
			return err
		}
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if werr == nil {
			if first {
				first = false
				_, werr = w.WriteString("\n")
			} else {
				_, werr = w.WriteString(",\n")
			}
		}
		if werr == nil {
			_, werr = w.Write(b)
		}
		return werr
	}
	ctxJSON, err := json.Marshal(jsonldContext(base))
	if err != nil {
		return err
	}
	if _, err := w.WriteString(`{"@context":` + string(ctxJSON) + `,"@graph":[`); err != nil {
		return err
	}
	at, err := sn.ExportedAt(ctx)
	if err != nil {
		return err
	}
	err = emit(node{
		"@type":                []string{"schema:Dataset", "prov:Entity"},
		"schema:name":          "partnergraph export",
		"schema:dateCreated":   typed(at.UTC().Format(time.RFC3339), "xsd:dateTime"),
		"prov:generatedAtTime": typed(at.UTC().Format(time.RFC3339), "xsd:dateTime"),
	})
	if err != nil {
		return err
	}
	// The topics the practices carry: skos:Concepts of one scheme, each
	// practice's dcterms:subject (its topics by their labels in the
	// original language, as stored).
	topics, err := sn.Topics(ctx)
	if err != nil {
		return err
	}
	bySlugLabel := map[string]string{}
	if len(topics) > 0 {
		err = emit(node{"@id": TopicSchemeIRI(base), "@type": "skos:ConceptScheme",
			"skos:prefLabel": []node{{"@value": "Tematy dobrych praktyk", "@language": "pl"}, {"@value": "Topics of good practices", "@language": "en"}}})
		if err != nil {
			return err
		}
	}
	for _, t := range topics {
		for _, l := range t.Labels {
			bySlugLabel[kb.Fold(l)] = t.Slug
		}
		if err := emit(topicNode(t, base)); err != nil {
			return err
		}
	}
	err = sn.Entities(ctx, "", func(e *kb.Entity) error {
		n := entityNode(e, base)
		if e.GoodPractice != nil {
			var subjects []node
			for _, l := range e.GoodPractice.Topics {
				if slug, ok := bySlugLabel[kb.Fold(l)]; ok {
					subjects = append(subjects, ref(TopicIRI(base, slug)))
				}
			}
			if len(subjects) > 0 {
				n["dcterms:subject"] = subjects
			}
		}
		return emit(n)
	})
	if err != nil {
		return err
	}
	err = sn.Links(ctx, func(l *kb.Link) error {
		for _, n := range linkNodes(l, base) {
			if err := emit(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = sn.Indicators(ctx, func(in *kb.Indicator) error { return emit(indicatorNode(in, base)) })
	if err != nil {
		return err
	}
	if werr == nil {
		_, werr = w.WriteString("\n]}\n")
	}
	return werr
}

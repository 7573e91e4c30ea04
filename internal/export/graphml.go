package export

import (
	"bufio"
	"context"
	"encoding/xml"
	"slices"
	"strconv"
	"strings"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/partnergraph/partnergraph/internal/store"
)

// graphKey is a GraphML attribute declared with <key>.
type graphKey struct {
	id, forWhat, name string
}

// The node attributes. "label" is what Gephi shows; Cytoscape shows "name".
var nodeKeys = []graphKey{
	{"label", "node", "label"},
	{"name", "node", "name"},
	{"type", "node", "type"},
	{"kind", "node", "kind"},
	{"sector", "node", "sector"},
	{"partnerKind", "node", "partnerKind"},
	{"coopStatus", "node", "coopStatus"},
	{"activities", "node", "activities"},
	{"eventKind", "node", "eventKind"},
	{"country", "node", "country"},
	{"region", "node", "region"},
	{"city", "node", "city"},
	{"latitude", "node", "latitude"},
	{"longitude", "node", "longitude"},
	{"when", "node", "when"},
	{"otherPlaces", "node", "otherPlaces"},
	{"summary", "node", "summary"},
	{"sources", "node", "sources"},
	{"topics", "node", "topics"},
	{"slug", "node", "slug"},
}

// The edge attributes: the relation type, its label as read from the
// source, the role and the rest of the link's properties.
var edgeKeys = []graphKey{
	{"relation", "edge", "relation"},
	{"elabel", "edge", "label"},
	{"role", "edge", "role"},
	{"note", "edge", "note"},
	{"startsOn", "edge", "startsOn"},
	{"endsOn", "edge", "endsOn"},
	{"esources", "edge", "sources"},
}

// graphWriter writes GraphML with escaped text; the first write error
// sticks and is returned by err.
type graphWriter struct {
	w   *bufio.Writer
	err error
}

func (g *graphWriter) raw(s string) {
	if g.err == nil {
		_, g.err = g.w.WriteString(s)
	}
}

func (g *graphWriter) text(s string) {
	if g.err == nil {
		g.err = xml.EscapeText(g.w, []byte(s))
	}
}

// data writes <data key="k">v</data>, or nothing when v is empty.
func (g *graphWriter) data(k, v string) {
	if v == "" {
		return
	}
	g.raw(`<data key="` + k + `">`)
	g.text(v)
	g.raw("</data>")
}

func (g *graphWriter) attr(name, v string) {
	g.raw(" " + name + `="`)
	g.text(v)
	g.raw(`"`)
}

func citedSources(cs []kb.Citation) string {
	var keys []string
	for _, c := range cs {
		if !slices.Contains(keys, c.SourceKey) {
			keys = append(keys, c.SourceKey)
		}
	}
	return strings.Join(keys, listSep)
}

// topicNodeID is the GraphML id of a topic's node: the path of its IRI
// under the base in JSON-LD; entries' keys hold no slash.
func topicNodeID(slug string) string { return "topics/" + slug }

func writeGraphML(ctx context.Context, sn *store.Snapshot, opts Options, w *bufio.Writer) error {
	g := &graphWriter{w: w}
	g.raw(xml.Header)
	g.raw(`<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
		` xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">` + "\n")
	for _, k := range slices.Concat(nodeKeys, translationKeys(), edgeKeys) {
		g.raw(`  <key id="` + k.id + `" for="` + k.forWhat + `" attr.name="` + k.name + `" attr.type="string"/>` + "\n")
	}
	g.raw(`  <graph id="partnergraph" edgedefault="directed">` + "\n")
	// The topics the exported practices carry, as JSON-LD's skos:Concepts
	// <base>topics/<slug>: a node each (type Topic, its slug, its label in
	// its original language as label and name, every label as name_<lang>),
	// written first, and a HAS_TOPIC edge from each practice to each of its
	// topics (dcterms:subject), written after the practice's node; the
	// practice's topics attribute names them by slug.
	topics, err := sn.Topics(ctx)
	if err != nil {
		return err
	}
	slugOf := slugsByLabel(topics)
	for _, t := range topics {
		label, _ := t.Label(t.OriginalLanguage)
		g.raw("    <node")
		g.attr("id", topicNodeID(t.Slug))
		g.raw(">")
		g.data("label", label)
		g.data("name", label)
		g.data("type", "Topic")
		g.data("kind", "TOPIC")
		g.data("slug", t.Slug)
		g.data("originalLanguage", t.OriginalLanguage)
		for _, l := range lang.Supported {
			if l != t.OriginalLanguage {
				g.data(textKey(kb.FieldName, l), t.Labels[l])
			}
		}
		g.raw("</node>\n")
	}
	n := 0
	err = sn.Entities(ctx, "", func(e *kb.Entity) error {
		g.raw("    <node")
		g.attr("id", e.Key)
		g.raw(">")
		g.data("label", e.Name)
		g.data("name", e.Name)
		g.data("type", e.Kind.TypeName())
		g.data("kind", string(e.Kind))
		if p := e.Partner; p != nil {
			g.data("sector", string(p.Sector))
			g.data("partnerKind", string(p.PartnerKind))
		}
		if c := e.Cooperative; c != nil {
			g.data("coopStatus", string(c.CoopStatus))
			g.data("activities", join(c.Activities))
		}
		if ev := e.Event; ev != nil {
			g.data("eventKind", string(ev.EventKind))
		}
		var p kb.Place
		if pp := e.Place(); pp != nil {
			p = *pp
		}
		g.data("country", p.Country)
		g.data("region", p.Region)
		g.data("city", p.City)
		// Gephi's and Cytoscape's map layouts read latitude and longitude.
		g.data("latitude", coord(p.Latitude))
		g.data("longitude", coord(p.Longitude))
		if ev := e.Event; ev != nil {
			g.data("when", edtf(ev.When))
			g.data("otherPlaces", otherPlaces(ev.OtherPlaces))
		}
		g.data("summary", e.Summary)
		g.data("sources", citedSources(e.Citations))
		var slugs []string
		if gp := e.GoodPractice; gp != nil {
			for _, l := range gp.Topics {
				if s, ok := slugOf[kb.Fold(l)]; ok && !slices.Contains(slugs, s) {
					slugs = append(slugs, s)
				}
			}
			g.data("topics", join(slugs))
		}
		g.data("originalLanguage", e.OriginalOrDefault())
		g.data("nameLanguage", nameLanguage(e))
		for _, f := range kb.FieldsOf(e.Kind) {
			for _, l := range lang.Supported {
				g.data(textKey(f, l), translationOf(e, f, l))
			}
		}
		for _, l := range lang.Supported {
			g.data(otherPlacesKey("otherPlaces", l), otherPlacesIn(e, l))
		}
		g.raw("</node>\n")
		for _, s := range slugs {
			n++
			g.raw(`    <edge id="e` + strconv.Itoa(n) + `"`)
			g.attr("source", e.Key)
			g.attr("target", topicNodeID(s))
			g.raw(">")
			g.data("relation", "HAS_TOPIC")
			g.data("elabel", "has topic")
			g.raw("</edge>\n")
		}
		return g.err
	})
	if err != nil {
		return err
	}
	err = sn.Links(ctx, func(l *kb.Link) error {
		n++
		g.raw(`    <edge id="e` + strconv.Itoa(n) + `"`)
		g.attr("source", l.FromKey)
		g.attr("target", l.ToKey)
		g.raw(">")
		g.data("relation", string(l.Type))
		if r, ok := kb.Lookup(l.Type); ok {
			g.data("elabel", r.Label)
		}
		g.data("role", l.Role)
		g.data("note", l.Note)
		g.data("startsOn", date(l.StartsOn))
		g.data("endsOn", date(l.EndsOn))
		g.data("esources", citedSources(l.Citations))
		g.raw("</edge>\n")
		return g.err
	})
	if err != nil {
		return err
	}
	g.raw("  </graph>\n</graphml>\n")
	return g.err
}

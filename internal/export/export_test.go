package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/export"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
	"github.com/piprate/json-gold/ld"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, storetest.Reference)
}

// open returns a store on a fresh database cloned from template, and its pool.
func open(t testing.TB, template string) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewDB(t, template))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return store.New(pool), pool
}

func write(t *testing.T, st *store.Store, opts export.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := export.Write(t.Context(), st, opts, &buf); err != nil {
		t.Fatalf("export %s: %v", opts.Format, err)
	}
	return buf.Bytes()
}

func reference(t *testing.T) *kb.Dataset {
	t.Helper()
	ds, err := seed.Reference()
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func countLinks(ds *kb.Dataset, types ...kb.RelationType) int {
	n := 0
	for _, l := range ds.Links {
		if len(types) == 0 || slices.Contains(types, l.Type) {
			n++
		}
	}
	return n
}

// offline is a JSON-LD document loader that refuses every fetch: the
// export must carry its context inline.
type offline struct{}

func (offline) LoadDocument(u string) (*ld.RemoteDocument, error) {
	return nil, errors.New("no network: tried to load " + u)
}

func TestJSONLDExpandsOfflineWithTheVocabularies(t *testing.T) {
	st, _ := open(t, "reference")
	base := "https://example.org/id/"
	out := write(t, st, export.Options{Format: export.JSONLD, BaseIRI: base})
	var doc any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("JSON-LD is not JSON: %v", err)
	}
	proc := ld.NewJsonLdProcessor()
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = offline{}
	expanded, err := proc.Expand(doc, opts)
	if err != nil {
		t.Fatalf("expand: %v", err)
	}
	if len(expanded) == 0 {
		t.Fatal("expanded to nothing")
	}
	opts.Format = "application/n-quads"
	nq, err := proc.ToRDF(doc, opts)
	if err != nil {
		t.Fatalf("to RDF: %v", err)
	}
	quads := nq.(string)
	ds := reference(t)
	count := func(s string) int { return strings.Count(quads, s) }
	const rdfType = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
	for _, tc := range []struct {
		what string
		got  int
		want int
	}{
		{"partnerships typed org:OrganizationalCollaboration", count(rdfType + "<http://www.w3.org/ns/org#OrganizationalCollaboration>"), 1},
		{"memberships (MEMBER_OF and AFFILIATED_WITH links)", count(rdfType + "<http://www.w3.org/ns/org#Membership>"),
			countLinks(ds, kb.RelMemberOf, kb.RelAffiliatedWith)},
		{"org:member", count("<http://www.w3.org/ns/org#member> "), countLinks(ds, kb.RelMemberOf, kb.RelAffiliatedWith)},
		{"org:organization", count("<http://www.w3.org/ns/org#organization> "), countLinks(ds, kb.RelMemberOf, kb.RelAffiliatedWith)},
		{"people typed schema:Person", count(rdfType + "<https://schema.org/Person>"), 5},
		{"projects typed schema:Project", count(rdfType + "<https://schema.org/Project>"), 1},
		{"events typed schema:Event", count(rdfType + "<https://schema.org/Event>"), 4},
		{"sources typed prov:Entity", count(rdfType + "<http://www.w3.org/ns/prov#Entity>"), 11 + 1}, // and the data set
		// Dates as precise as known: the Scotland visit starts on 20
		// October of an unknown year, the trainings end on 19 September.
		{"an unknown year's day as xsd:gMonthDay", count(`<https://schema.org/startDate> "--10-20"^^<http://www.w3.org/2001/XMLSchema#gMonthDay>`), 1},
		{"an interval's end as xsd:gMonthDay", count(`<https://schema.org/endDate> "--09-19"^^<http://www.w3.org/2001/XMLSchema#gMonthDay>`), 1},
		{"an unknown year's month as xsd:gMonth", count(`<https://schema.org/datePublished> "--09"^^<http://www.w3.org/2001/XMLSchema#gMonth>`), 1},
		// Points: 2 partners in Poznań, 7 foreign examples, the two places
		// of the Swedish visit, Łężeczki.
		{"points as schema:GeoCoordinates", count(rdfType + "<https://schema.org/GeoCoordinates>"), 2 + 7 + 2 + 1},
		{"the cooperative as ESSGlobal SSE initiative", count("<https://example.org/id/spoldzielnia-socjalna-rowne-szanse> " + rdfType + "<http://purl.org/essglobal/vocab/SSEInitiative>"), 1},
		{"links as pg:Link", count(rdfType + "<https://example.org/id/vocab#Link>"), len(ds.Links)},
		// The cooperative's 2, the project's 1, the trainings' 3.
		{"indicators as schema:PropertyValue", count(rdfType + "<https://schema.org/PropertyValue>"), 2 + 1 + 3},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.what, tc.got, tc.want)
		}
	}
	if count("<http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/id/artykul-iii-wielkopolskie-forum-wtz>") == 0 {
		t.Error("no prov:wasDerivedFrom of the forum article")
	}
	if count("<http://www.w3.org/ns/org#role> ") == 0 {
		t.Error("no org:role on memberships")
	}
	if count("<http://www.w3.org/ns/org#role> <https://example.org/id/vocab#LEADER>") == 0 {
		t.Error("the LEADER role has no IRI of its own")
	}
	organisations := count(rdfType + "<https://schema.org/Organization>")
	if want := 7 + 1 + 7 + 11; organisations != want { // partners, the cooperative, foreign examples, publishers of sources
		t.Errorf("schema:Organization: got %d, want %d", organisations, want)
	}
}

// graphML is what the tests read of a GraphML file.
type graphML struct {
	Keys []struct {
		ID   string `xml:"id,attr"`
		For  string `xml:"for,attr"`
		Name string `xml:"attr.name,attr"`
	} `xml:"key"`
	Graph struct {
		EdgeDefault string `xml:"edgedefault,attr"`
		Nodes       []struct {
			ID   string      `xml:"id,attr"`
			Data []graphData `xml:"data"`
		} `xml:"node"`
		Edges []struct {
			Source string      `xml:"source,attr"`
			Target string      `xml:"target,attr"`
			Data   []graphData `xml:"data"`
		} `xml:"edge"`
	} `xml:"graph"`
}

type graphData struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

func value(ds []graphData, key string) string {
	for _, d := range ds {
		if d.Key == key {
			return d.Value
		}
	}
	return ""
}

func parseGraphML(t *testing.T, b []byte) graphML {
	t.Helper()
	var g graphML
	if err := xml.Unmarshal(b, &g); err != nil {
		t.Fatalf("GraphML does not parse: %v", err)
	}
	return g
}

func TestGraphMLParsesWithTheReferenceCounts(t *testing.T) {
	st, _ := open(t, "reference")
	g := parseGraphML(t, write(t, st, export.Options{Format: export.GraphML}))
	ds := reference(t)
	// A node per entry and per topic the practices carry, an edge per link
	// and per topic of a practice (HAS_TOPIC, JSON-LD's dcterms:subject).
	practiceTopics := 0
	for _, e := range ds.Entities {
		if e.GoodPractice != nil {
			practiceTopics += len(e.GoodPractice.Topics)
		}
	}
	if len(g.Graph.Nodes) != len(ds.Entities)+len(ds.Topics) || len(g.Graph.Edges) != len(ds.Links)+practiceTopics {
		t.Fatalf("nodes %d, edges %d; want %d+%d and %d+%d", len(g.Graph.Nodes), len(g.Graph.Edges), len(ds.Entities), len(ds.Topics),
			len(ds.Links), practiceTopics)
	}
	if g.Graph.EdgeDefault != "directed" {
		t.Errorf("edgedefault %q, want directed", g.Graph.EdgeDefault)
	}
	declared := map[string]string{}
	for _, k := range g.Keys {
		declared[k.ID] = k.For
	}
	ids := map[string]bool{}
	for _, n := range g.Graph.Nodes {
		ids[n.ID] = true
		for _, d := range n.Data {
			if declared[d.Key] != "node" {
				t.Errorf("node %s: data key %q is not declared for nodes", n.ID, d.Key)
			}
		}
		if n.ID == "rops-poznan" && (value(n.Data, "sector") != "PUBLIC" || value(n.Data, "type") != "Partner" || value(n.Data, "country") != "PL") {
			t.Errorf("ROPS Poznań: %+v, want a PUBLIC Partner in PL", n.Data)
		}
		// The translations as name_<lang>, city_<lang>..., beside the
		// original language; a topic's labels likewise.
		switch n.ID {
		case "model-aktywizacji-zawodowej-uczestnikow-wtz":
			if value(n.Data, "originalLanguage") != "pl" || !strings.HasPrefix(value(n.Data, "name_en"), "Model of vocational activation") ||
				!strings.HasPrefix(value(n.Data, "name_sv"), "Modell för") || value(n.Data, "name_pl") != "" || value(n.Data, "topics") == "" {
				t.Errorf("the practice's languages and topics: %+v", n.Data)
			}
		case "kooperativet-kos":
			if value(n.Data, "city") != "Stockholm" || value(n.Data, "city_pl") != "Sztokholm" || value(n.Data, "nameLanguage") != "sv" {
				t.Errorf("KOS: city %q, city_pl %q, nameLanguage %q", value(n.Data, "city"), value(n.Data, "city_pl"), value(n.Data, "nameLanguage"))
			}
		case "topics/spoldzielnie-socjalne":
			if value(n.Data, "type") != "Topic" || value(n.Data, "label") != "spółdzielnie socjalne" || value(n.Data, "slug") != "spoldzielnie-socjalne" ||
				value(n.Data, "name_en") != "social cooperatives" || value(n.Data, "name_sv") != "sociala kooperativ" {
				t.Errorf("the topic's node: %+v", n.Data)
			}
		}
	}
	roles, subjects := 0, 0
	for _, e := range g.Graph.Edges {
		if value(e.Data, "relation") == "HAS_TOPIC" && strings.HasPrefix(e.Target, "topics/") {
			subjects++
		}
		if !ids[e.Source] || !ids[e.Target] {
			t.Errorf("edge %s -> %s has an end that is not a node", e.Source, e.Target)
		}
		for _, d := range e.Data {
			if declared[d.Key] != "edge" {
				t.Errorf("edge: data key %q is not declared for edges", d.Key)
			}
		}
		if value(e.Data, "relation") == "" {
			t.Errorf("edge %s -> %s without a relation", e.Source, e.Target)
		}
		if value(e.Data, "role") != "" {
			roles++
		}
	}
	if roles == 0 {
		t.Error("no edge carries a role")
	}
	if subjects != practiceTopics {
		t.Errorf("%d HAS_TOPIC edges to topics, want %d", subjects, practiceTopics)
	}
}

func readZip(t *testing.T, b []byte) map[string][][]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string][][]string{}
	var order []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(rc).ReadAll()
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = recs
		order = append(order, f.Name)
	}
	out["\x00order"] = [][]string{order}
	return out
}

func TestCSVZipHasAFilePerKindWithTheRowCounts(t *testing.T) {
	st, _ := open(t, "reference")
	files := readZip(t, write(t, st, export.Options{Format: export.CSV}))
	if got, want := files["\x00order"][0], export.CSVFiles(store.ExportFilter{}); !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	ds := reference(t)
	perKind := map[string]int{}
	for _, e := range ds.Entities {
		perKind[e.Kind.TypeName()]++
	}
	for _, tc := range []struct {
		file string
		rows int
	}{
		{"partners.csv", 7}, {"cooperatives.csv", 1}, {"partnerships.csv", 1}, {"good_practices.csv", 6},
		{"foreign_examples.csv", 7}, {"projects.csv", 1}, {"events.csv", 4}, {"people.csv", 5}, {"sources.csv", 11},
		{"links.csv", len(ds.Links)}, {"indicators.csv", len(ds.Indicators)}, {"topics.csv", len(ds.Topics)},
	} {
		if got := len(files[tc.file]) - 1; got != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.file, got, tc.rows)
		}
	}
	cites := 0
	for _, e := range ds.Entities {
		cites += len(e.Citations)
	}
	for _, l := range ds.Links {
		cites += len(l.Citations)
	}
	// Each practice's topics by slug, in the last column, as topics.csv
	// names them.
	gp := files["good_practices.csv"]
	slugs := slices.Index(gp[0], "topic_slugs")
	if slugs < 0 {
		t.Fatalf("good_practices.csv has no topic_slugs: %v", gp[0])
	}
	for _, row := range gp[1:] {
		if row[slugs] == "" {
			t.Errorf("practice %s has no topic slugs", row[0])
		}
	}
	// The languages come last, after topic_slugs: the original language,
	// the name's, and a column per field and language.
	if got, want := gp[0][slugs+1:], []string{"original_language", "name_language", "name_pl", "name_sv", "name_en", "summary_pl", "summary_sv", "summary_en",
		"description_pl", "description_sv", "description_en"}; !slices.Equal(got, want) {
		t.Errorf("good_practices.csv's language columns: %v, want %v", got, want)
	}
	nameEN := slices.Index(gp[0], "name_en")
	for _, row := range gp[1:] {
		if row[0] == "model-aktywizacji-zawodowej-uczestnikow-wtz" && (row[slugs+1] != "pl" || !strings.HasPrefix(row[nameEN], "Model of vocational")) {
			t.Errorf("the practice's languages: %v", row[slugs+1:])
		}
	}
	fe := files["foreign_examples.csv"]
	cityPL, nameLang := slices.Index(fe[0], "city_pl"), slices.Index(fe[0], "name_language")
	for _, row := range fe[1:] {
		if row[0] == "kooperativet-kos" && (cityPL < 0 || row[cityPL] != "Sztokholm" || row[nameLang] != "sv") {
			t.Errorf("KOS's languages: %v (%v)", row, fe[0])
		}
	}
	if got := files["topics.csv"][1]; !slices.Equal(got, []string{"aktywizacja-zawodowa", "pl", "aktywizacja zawodowa", "yrkesinriktad aktivering", "vocational activation"}) {
		t.Errorf("topics.csv's first row: %q", got)
	}
	if got := len(files["citations.csv"]) - 1; got != cites {
		t.Errorf("citations.csv: %d rows, want %d", got, cites)
	}
	p := files["partners.csv"]
	col := slices.Index(p[0], "sector")
	if col < 0 {
		t.Fatalf("partners.csv has no sector column: %v", p[0])
	}
	for _, r := range p[1:] {
		if r[0] == "konimpex" && r[col] != "PRIVATE" {
			t.Errorf("Konimpex sector %q, want PRIVATE", r[col])
		}
	}
	// The facts of issue 17: an event's date as EDTF and its further
	// places, a partner's point.
	ev := files["events.csv"]
	when, other := slices.Index(ev[0], "when"), slices.Index(ev[0], "other_places")
	if when < 0 || other < 0 {
		t.Fatalf("events.csv has no when or other_places column: %v", ev[0])
	}
	var dated, rimbo bool
	for _, r := range ev[1:] {
		dated = dated || (r[0] == "szkolenia-integracyjne-lezeczki" && r[when] == "XXXX-09/XXXX-09-19")
		rimbo = rimbo || (r[0] == "warsztaty-wymiany-doswiadczen-szwecja" && strings.HasPrefix(r[other], "Rimbo ("))
	}
	if !dated || !rimbo {
		t.Errorf("events.csv: the trainings dated XXXX-09/XXXX-09-19: %v; the Swedish visit also in Rimbo: %v", dated, rimbo)
	}
	lat := slices.Index(p[0], "latitude")
	for _, r := range p[1:] {
		if r[0] == "rops-poznan" && (lat < 0 || r[lat] != "52.41") {
			t.Errorf("ROPS Poznań: latitude column %d, row %v, want 52.41", lat, r)
		}
	}
}

func TestJSONRoundTripsThroughTheDataSetShape(t *testing.T) {
	st, _ := open(t, "reference")
	first := write(t, st, export.Options{Format: export.JSON})
	ds, err := seed.Parse(bytes.NewReader(first))
	if err != nil {
		t.Fatalf("the JSON export is not a valid data set: %v", err)
	}
	ref := reference(t)
	if len(ds.Entities) != len(ref.Entities) || len(ds.Links) != len(ref.Links) || len(ds.Indicators) != len(ref.Indicators) {
		t.Fatalf("entities %d, links %d, indicators %d; want %d, %d, %d", len(ds.Entities), len(ds.Links), len(ds.Indicators),
			len(ref.Entities), len(ref.Links), len(ref.Indicators))
	}
	// Loaded into an empty database and exported again, it is the same file.
	empty, _ := open(t, "migrated")
	if _, err := empty.ApplyDataset(t.Context(), "import", *ds); err != nil {
		t.Fatalf("load the export: %v", err)
	}
	if second := write(t, empty, export.Options{Format: export.JSON}); !bytes.Equal(first, second) {
		t.Errorf("export → load → export differs:\n%.2000s\n---\n%.2000s", first, second)
	}
}

func TestOnlyPublishedEntriesAreExportedAndKeylessOnesGetADerivedKey(t *testing.T) {
	st, pool := open(t, "reference")
	ctx := t.Context()
	draft := kb.Entity{Key: "draft-partner", Kind: kb.KindPartner, Name: "Szkic", Status: kb.StatusDraft,
		Partner: &kb.Partner{Sector: kb.SectorPrivate, PartnerKind: kb.PartnerCompany}}
	if _, err := st.ApplyDataset(ctx, "test", kb.Dataset{
		Entities: []kb.Entity{draft},
		Links:    []kb.Link{{FromKey: "draft-partner", ToKey: "rops-poznan", Type: kb.RelSupports}},
	}); err != nil {
		t.Fatal(err)
	}
	var id int64
	err := pool.QueryRow(ctx, `WITH e AS (INSERT INTO entity (kind, name, sort_name, status, created_by, updated_by)
		VALUES ('PERSON', 'Anna Bez Klucza', 'anna bez klucza', 'PUBLISHED', 'test', 'test') RETURNING id)
		INSERT INTO person (id, public_role) SELECT id, 'wolontariuszka' FROM e RETURNING id`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := seed.Parse(bytes.NewReader(write(t, st, export.Options{Format: export.JSON})))
	if err != nil {
		t.Fatal(err)
	}
	want := "person." + strconv.FormatInt(id, 10)
	var found bool
	for _, e := range ds.Entities {
		if e.Key == "draft-partner" {
			t.Error("a draft entity was exported")
		}
		if e.Key == want {
			found = true
		}
	}
	if !found {
		t.Errorf("no entity with the derived key %q", want)
	}
	for _, l := range ds.Links {
		if l.FromKey == "draft-partner" {
			t.Error("a link of a draft entity was exported")
		}
	}
}

func TestFiltersRestrictEntitiesAndLinks(t *testing.T) {
	st, _ := open(t, "reference")
	dataset := func(q string) *kb.Dataset {
		t.Helper()
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		f, err := export.ParseFilter(v)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var buf bytes.Buffer
		if err := export.Write(t.Context(), st, export.Options{Format: export.JSON, Filter: f}, &buf); err != nil {
			t.Fatal(err)
		}
		var ds kb.Dataset
		if err := json.Unmarshal(buf.Bytes(), &ds); err != nil {
			t.Fatal(err)
		}
		if err := ds.Validate(); err != nil {
			t.Errorf("%s: the filtered export is not a self-contained data set: %v", q, err)
		}
		return &ds
	}
	keys := func(ds *kb.Dataset) []string {
		var out []string
		for _, e := range ds.Entities {
			out = append(out, e.Key)
		}
		slices.Sort(out)
		return out
	}

	pub := dataset("kind=partner&sector=PUBLIC")
	if got, want := keys(pub), []string{"ministerstwo-pracy-i-polityki-spolecznej", "rops-poznan"}; !slices.Equal(got, want) {
		t.Errorf("public partners: %v, want %v", got, want)
	}
	if len(pub.Links) != 0 || len(pub.Indicators) != 0 {
		t.Errorf("public partners alone: %d links, %d indicators; want none", len(pub.Links), len(pub.Indicators))
	}

	orgs := dataset("kind=Partner,PARTNERSHIP,source")
	for _, e := range orgs.Entities {
		if e.Kind != kb.KindPartner && e.Kind != kb.KindPartnership && e.Kind != kb.KindSource {
			t.Errorf("kind filter let through %s %s", e.Kind, e.Key)
		}
	}
	members := 0
	for _, l := range orgs.Links {
		if l.Type == kb.RelMemberOf {
			members++
		}
	}
	if members == 0 {
		t.Error("partners and partnerships: no MEMBER_OF links")
	}

	se := dataset("country=se&kind=FOREIGN_EXAMPLE,PARTNER")
	if len(se.Entities) != 7 {
		t.Errorf("Swedish organisations: %d, want the 7 foreign examples: %v", len(se.Entities), keys(se))
	}

	rel := dataset("relation=MEMBER_OF")
	if len(rel.Links) != countLinks(reference(t), kb.RelMemberOf) || len(rel.Entities) != len(reference(t).Entities) {
		t.Errorf("relation filter: %d links of %d entities", len(rel.Links), len(rel.Entities))
	}

	// Citations name only exported sources.
	noSources := dataset("kind=PARTNER")
	for _, e := range noSources.Entities {
		if len(e.Citations) > 0 {
			t.Errorf("%s cites %v though no source is exported", e.Key, e.Citations)
		}
	}
}

func TestParseFilterNamesTheBadParameter(t *testing.T) {
	for _, tc := range []struct {
		query, field string
	}{
		{"kind=PLANET", "kind"},
		{"sector=NONPROFIT", "sector"},
		{"partnerKind=CLUB", "partnerKind"},
		{"activity=MINING", "activity"},
		{"relation=LOVES", "relation"},
		{"country=Poland", "country"},
		{"country=PL&country=SE", "country"},
		{"colour=red", "colour"},
	} {
		v, _ := url.ParseQuery(tc.query)
		_, err := export.ParseFilter(v)
		var ve *kb.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: error %v, want a validation error of field %s", tc.query, err, tc.field)
		}
	}
	if _, err := export.ParseFormat("xlsx"); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("format xlsx: error %v, want one naming format", err)
	}
	f, err := export.ParseFilter(url.Values{"kind": {"good-practice,GoodPractice"}, "country": {"pl"}, "format": {"csv"}}, "format")
	if err != nil || !slices.Equal(f.Kinds, []kb.Kind{kb.KindGoodPractice}) || f.Country != "PL" {
		t.Errorf("filter %+v, %v; want GOOD_PRACTICE once and PL", f, err)
	}
}

// The names of an event's further places in other languages travel in
// CSV (other_places_<lang>) and GraphML (otherPlaces, otherPlaces_<lang>)
// as its first place's do in city_<lang>: one entry per further place, in
// their order, empty for a place without a name in the language.
func TestFurtherPlacesTravelInEveryLanguage(t *testing.T) {
	st, _ := open(t, "reference")
	lat, lon := 59.74, 18.37
	ev := kb.Entity{Key: "wizyta-trzy-miasta", Kind: kb.KindEvent, Name: "Wizyta w trzech miastach", Status: kb.StatusPublished,
		Event: &kb.Event{EventKind: kb.EventStudyVisit, EventStatus: kb.EventHeld,
			Place: kb.Place{Country: "SE", City: "Stockholm"},
			OtherPlaces: []kb.Place{
				{Country: "SE", City: "Rimbo", Latitude: &lat, Longitude: &lon},
				{Country: "SE", City: "Göteborg"},
				{Country: "DK", City: "København"},
			}},
		Translations: []kb.Translation{
			{Field: kb.FieldCity, Lang: "pl", Text: "Sztokholm"},
			{Field: kb.FieldCity, Lang: "pl", Text: "Geteborg", Place: 2},
			{Field: kb.FieldCity, Lang: "pl", Text: "Kopenhaga", Place: 3},
			{Field: kb.FieldCity, Lang: "en", Text: "Gothenburg", Place: 2},
		}}
	if _, err := st.ApplyDataset(t.Context(), "test", kb.Dataset{Entities: []kb.Entity{ev}}); err != nil {
		t.Fatal(err)
	}
	evs := readZip(t, write(t, st, export.Options{Format: export.CSV}))["events.csv"]
	col := func(name string) int {
		i := slices.Index(evs[0], name)
		if i < 0 {
			t.Fatalf("events.csv has no %s column: %v", name, evs[0])
		}
		return i
	}
	var row []string
	for _, r := range evs[1:] {
		if r[0] == "wizyta-trzy-miasta" {
			row = r
		}
	}
	if row == nil {
		t.Fatal("the event is not in events.csv")
	}
	for name, want := range map[string]string{
		"other_places":    "Rimbo (59.74 18.37)|Göteborg|København",
		"city_pl":         "Sztokholm",
		"other_places_pl": "|Geteborg|Kopenhaga",
		"other_places_en": "|Gothenburg|",
		"other_places_sv": "",
	} {
		if got := row[col(name)]; got != want {
			t.Errorf("events.csv %s = %q, want %q", name, got, want)
		}
	}
	g := parseGraphML(t, write(t, st, export.Options{Format: export.GraphML}))
	declared := map[string]bool{}
	for _, k := range g.Keys {
		declared[k.ID] = true
	}
	for _, n := range g.Graph.Nodes {
		if n.ID != "wizyta-trzy-miasta" {
			continue
		}
		for key, want := range map[string]string{
			"otherPlaces": "Rimbo (59.74 18.37)|Göteborg|København", "city_pl": "Sztokholm",
			"otherPlaces_pl": "|Geteborg|Kopenhaga", "otherPlaces_en": "|Gothenburg|", "otherPlaces_sv": "",
		} {
			if got := value(n.Data, key); got != want || (want != "" && !declared[key]) {
				t.Errorf("GraphML %s = %q (declared %v), want %q", key, got, declared[key], want)
			}
		}
		return
	}
	t.Error("the event is not in the GraphML")
}

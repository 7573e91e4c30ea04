// Package export writes the published part of the knowledge graph, or a
// filtered part of it, in formats for researchers' own tools: CSV (one file
// per entity type plus links, indicators and citations, zipped or in a
// directory), JSON-LD (schema.org, the W3C Organization ontology, ESSGlobal
// and PROV-O), GraphML (Gephi, Cytoscape) and JSON in the data-set shape of
// the reference data.
//
// Every format streams: it reads the graph through store.Snapshot, one row
// at a time from one query per stream, and writes each record as it comes,
// so memory stays flat however large the graph is. Only published entries
// are exported (store.Public).
package export

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Format is an export format.
type Format string

// The export formats.
const (
	CSV     Format = "csv"
	JSONLD  Format = "jsonld"
	GraphML Format = "graphml"
	JSON    Format = "json"
)

// Formats lists the export formats.
var Formats = []Format{CSV, JSONLD, GraphML, JSON}

// ParseFormat returns the format named s ("csv", "jsonld", "graphml",
// "json"; case does not matter, "json-ld" is accepted too). It returns a
// *kb.ValidationError for field "format" naming the formats otherwise.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if f == "json-ld" {
		f = JSONLD
	}
	if slices.Contains(Formats, f) {
		return f, nil
	}
	if s == "" {
		return "", kb.Invalid("format", "is required: one of csv, jsonld, graphml, json")
	}
	return "", kb.Invalid("format", "unknown format %q: one of csv, jsonld, graphml, json", s)
}

// ContentType returns the media type of an export in format f (a zip
// archive for CSV).
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "application/zip"
	case JSONLD:
		return "application/ld+json"
	case GraphML:
		return "application/graphml+xml"
	}
	return "application/json"
}

// FileName returns the file name of an export in format f.
func (f Format) FileName() string {
	switch f {
	case CSV:
		return "partnergraph-csv.zip"
	case JSONLD:
		return "partnergraph.jsonld"
	case GraphML:
		return "partnergraph.graphml"
	}
	return "partnergraph.json"
}

// DefaultBaseIRI is the base of the IRIs of exported nodes when none is
// configured. The .invalid domain is reserved: it never resolves, which
// says plainly that a deployment should set its own.
const DefaultBaseIRI = "https://partnergraph.invalid/id/"

// Options says what to export and how.
type Options struct {
	Format Format
	Filter store.ExportFilter
	// BaseIRI is prefixed to an entity's key to make its IRI in JSON-LD
	// ("https://example.org/id/" + "wtz-gebice"); default DefaultBaseIRI.
	BaseIRI string
}

func (o Options) base() string {
	if o.BaseIRI == "" {
		return DefaultBaseIRI
	}
	return o.BaseIRI
}

// Source is where an export reads the graph; *store.Store is one.
type Source interface {
	Export(ctx context.Context, vis store.Visibility, f store.ExportFilter, fn func(*store.Snapshot) error) error
}

// Write writes the published entries that opts.Filter selects to w in
// opts.Format (CSV as a zip archive). It returns a *kb.ValidationError for
// an unknown format, a database error or the first error writing to w,
// each wrapped with context.
func Write(ctx context.Context, src Source, opts Options, w io.Writer) error {
	if _, err := ParseFormat(string(opts.Format)); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	err := src.Export(ctx, store.Public, opts.Filter, func(sn *store.Snapshot) error {
		switch opts.Format {
		case CSV:
			return writeCSVZip(ctx, sn, opts, bw)
		case JSONLD:
			return writeJSONLD(ctx, sn, opts, bw)
		case GraphML:
			return writeGraphML(ctx, sn, opts, bw)
		}
		return writeDataset(ctx, sn, opts, bw)
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", opts.Format, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %s: %w", opts.Format, err)
	}
	return nil
}

// Filter query parameters, comma-separated or repeated: kind, sector,
// partnerKind, country, region, activity, relation.
var filterParams = []string{"kind", "sector", "partnerKind", "country", "region", "activity", "relation"}

// ParseFilter reads an export filter from query parameters (or flags
// gathered in the same form): kind, sector, partnerKind, activity and
// relation take enumeration values, comma-separated or repeated, in any
// case ("kind=partner,cooperative"; a kind may also be given by its
// GraphQL type name, "GoodPractice"); country is an ISO 3166-1 alpha-2
// code; region a name. Parameters in skip (such as "format") are ignored.
// It returns a *kb.ValidationError naming the parameter for an unknown
// parameter or value.
func ParseFilter(q url.Values, skip ...string) (store.ExportFilter, error) {
	var f store.ExportFilter
	for name := range q {
		if !slices.Contains(filterParams, name) && !slices.Contains(skip, name) {
			return f, kb.Invalid(name, "unknown filter %q: filters are %s", name, strings.Join(filterParams, ", "))
		}
	}
	var err error
	if f.Kinds, err = enumList(q, "kind", kb.Kinds, kb.KindOfTypeName); err != nil {
		return f, err
	}
	if f.Sectors, err = enumList(q, "sector", kb.Sectors, nil); err != nil {
		return f, err
	}
	if f.PartnerKinds, err = enumList(q, "partnerKind", kb.PartnerKinds, nil); err != nil {
		return f, err
	}
	if f.Activities, err = enumList(q, "activity", kb.Activities, nil); err != nil {
		return f, err
	}
	if f.Relations, err = enumList(q, "relation", kb.RelationTypes(), nil); err != nil {
		return f, err
	}
	if f.Country, err = single(q, "country"); err != nil {
		return f, err
	}
	if f.Country != "" {
		if len(f.Country) != 2 || strings.Trim(strings.ToUpper(f.Country), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return f, kb.Invalid("country", "%q is not an ISO 3166-1 alpha-2 code such as PL or SE", f.Country)
		}
		f.Country = strings.ToUpper(f.Country)
	}
	if f.Region, err = single(q, "region"); err != nil {
		return f, err
	}
	return f, nil
}

func single(q url.Values, name string) (string, error) {
	vs := q[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", kb.Invalid(name, "give one value, not %d", len(vs))
	}
	return strings.TrimSpace(vs[0]), nil
}

// enumList reads the values of parameter name, normalised to the
// enumeration's upper-case form ("good-practice" → "GOOD_PRACTICE"), and
// checks that each is one of values, or else that alt knows it.
func enumList[T ~string](q url.Values, name string, values []T, alt func(string) (T, bool)) ([]T, error) {
	unknown := func(s string) error {
		return kb.Invalid(name, "unknown value %q: one of %s", s, strings.ReplaceAll(join(values), listSep, ", "))
	}
	var out []T
	for _, v := range q[name] {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			t := T(strings.ToUpper(strings.ReplaceAll(s, "-", "_")))
			if !slices.Contains(values, t) {
				var ok bool
				if alt == nil {
					return nil, unknown(s)
				}
				if t, ok = alt(s); !ok {
					return nil, unknown(s)
				}
			}
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// exportedKinds returns the kinds an export under f holds, in kb order.
func exportedKinds(f store.ExportFilter) []kb.Kind {
	if len(f.Kinds) == 0 {
		return kb.Kinds
	}
	var out []kb.Kind
	for _, k := range kb.Kinds {
		if slices.Contains(f.Kinds, k) {
			out = append(out, k)
		}
	}
	return out
}

func date(t *kb.Date) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02")
}

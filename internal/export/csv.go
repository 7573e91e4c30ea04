package export

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// column is one column of an entity CSV file.
type column struct {
	name string
	get  func(*kb.Entity) string
}

// listSep joins the values of list attributes (activities, topics) in one
// CSV cell.
const listSep = "|"

func join[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, listSep)
}

var commonColumns = []column{
	{"key", func(e *kb.Entity) string { return e.Key }},
	{"name", func(e *kb.Entity) string { return e.Name }},
	{"summary", func(e *kb.Entity) string { return e.Summary }},
	{"created_at", func(e *kb.Entity) string { return e.CreatedAt.UTC().Format(time.RFC3339) }},
	{"updated_at", func(e *kb.Entity) string { return e.UpdatedAt.UTC().Format(time.RFC3339) }},
}

func placeColumns(p func(*kb.Entity) kb.Place) []column {
	return []column{
		{"country", func(e *kb.Entity) string { return p(e).Country }},
		{"region", func(e *kb.Entity) string { return p(e).Region }},
		{"city", func(e *kb.Entity) string { return p(e).City }},
		{"address", func(e *kb.Entity) string { return p(e).Address }},
		{"latitude", func(e *kb.Entity) string { return coord(p(e).Latitude) }},
		{"longitude", func(e *kb.Entity) string { return coord(p(e).Longitude) }},
	}
}

// coord writes a coordinate in degrees, "" when unknown.
func coord(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// edtf writes a fuzzy date in EDTF, "" when unknown.
func edtf(d *kb.FuzzyDate) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// otherPlaces writes an event's further places, "city (lat lon)" each,
// joined like every list.
func otherPlaces(ps []kb.Place) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.City
		if p.HasPoint() {
			out[i] += " (" + coord(p.Latitude) + " " + coord(p.Longitude) + ")"
		}
	}
	return strings.Join(out, listSep)
}

func cols(groups ...[]column) []column {
	var out []column
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// csvFiles names the CSV file of each kind.
var csvFiles = map[kb.Kind]string{
	kb.KindPartner:        "partners.csv",
	kb.KindCooperative:    "cooperatives.csv",
	kb.KindPartnership:    "partnerships.csv",
	kb.KindGoodPractice:   "good_practices.csv",
	kb.KindForeignExample: "foreign_examples.csv",
	kb.KindProject:        "projects.csv",
	kb.KindEvent:          "events.csv",
	kb.KindPerson:         "people.csv",
	kb.KindSource:         "sources.csv",
}

// csvColumns are the columns of each kind's file: the common ones, then
// the kind's attributes.
var csvColumns = map[kb.Kind][]column{
	kb.KindPartner: cols(commonColumns, []column{
		{"sector", func(e *kb.Entity) string { return string(e.Partner.Sector) }},
		{"partner_kind", func(e *kb.Entity) string { return string(e.Partner.PartnerKind) }},
		{"legal_form", func(e *kb.Entity) string { return e.Partner.LegalForm }},
	}, placeColumns(func(e *kb.Entity) kb.Place { return e.Partner.Place }), []column{
		{"website", func(e *kb.Entity) string { return e.Partner.Website }},
		{"logo_url", func(e *kb.Entity) string { return e.Partner.LogoURL }},
		{"registration_number", func(e *kb.Entity) string { return e.Partner.RegistrationNumber }},
	}),
	kb.KindCooperative: cols(commonColumns, []column{
		{"coop_status", func(e *kb.Entity) string { return string(e.Cooperative.CoopStatus) }},
		{"activities", func(e *kb.Entity) string { return join(e.Cooperative.Activities) }},
	}, placeColumns(func(e *kb.Entity) kb.Place { return e.Cooperative.Place }), []column{
		{"founded_on", func(e *kb.Entity) string { return date(e.Cooperative.FoundedOn) }},
		{"website", func(e *kb.Entity) string { return e.Cooperative.Website }},
		{"logo_url", func(e *kb.Entity) string { return e.Cooperative.LogoURL }},
		{"registration_number", func(e *kb.Entity) string { return e.Cooperative.RegistrationNumber }},
	}),
	kb.KindPartnership: cols(commonColumns, []column{
		{"starts_on", func(e *kb.Entity) string { return date(e.Partnership.StartsOn) }},
		{"ends_on", func(e *kb.Entity) string { return date(e.Partnership.EndsOn) }},
	}),
	kb.KindGoodPractice: cols(commonColumns, []column{
		{"description", func(e *kb.Entity) string { return e.GoodPractice.Description }},
		{"topics", func(e *kb.Entity) string { return join(e.GoodPractice.Topics) }},
		{"target_group", func(e *kb.Entity) string { return e.GoodPractice.TargetGroup }},
		{"resources_needed", func(e *kb.Entity) string { return e.GoodPractice.ResourcesNeeded }},
		{"evidence", func(e *kb.Entity) string { return e.GoodPractice.Evidence }},
		{"difficulties", func(e *kb.Entity) string { return e.GoodPractice.Difficulties }},
		{"lessons", func(e *kb.Entity) string { return e.GoodPractice.Lessons }},
		{"transfer_potential", func(e *kb.Entity) string { return e.GoodPractice.TransferPotential }},
		{"recognition", func(e *kb.Entity) string { return e.GoodPractice.Recognition }},
	}),
	kb.KindForeignExample: cols(commonColumns, placeColumns(func(e *kb.Entity) kb.Place { return e.ForeignExample.Place }), []column{
		{"model", func(e *kb.Entity) string { return e.ForeignExample.Model }},
		{"target_group", func(e *kb.Entity) string { return e.ForeignExample.TargetGroup }},
		{"lessons_for_poland", func(e *kb.Entity) string { return e.ForeignExample.LessonsForPoland }},
		{"home_analogue", func(e *kb.Entity) string { return e.ForeignExample.HomeAnalogue }},
		{"website", func(e *kb.Entity) string { return e.ForeignExample.Website }},
		{"logo_url", func(e *kb.Entity) string { return e.ForeignExample.LogoURL }},
	}),
	kb.KindProject: cols(commonColumns, []column{
		{"starts_on", func(e *kb.Entity) string { return date(e.Project.StartsOn) }},
		{"ends_on", func(e *kb.Entity) string { return date(e.Project.EndsOn) }},
		{"funding", func(e *kb.Entity) string { return e.Project.Funding }},
		{"website", func(e *kb.Entity) string { return e.Project.Website }},
		{"logo_url", func(e *kb.Entity) string { return e.Project.LogoURL }},
	}),
	kb.KindEvent: cols(commonColumns, []column{
		{"event_kind", func(e *kb.Entity) string { return string(e.Event.EventKind) }},
		{"event_status", func(e *kb.Entity) string { return string(e.Event.EventStatus) }},
		{"starts_on", func(e *kb.Entity) string { return date(e.Event.StartsOn) }},
		{"ends_on", func(e *kb.Entity) string { return date(e.Event.EndsOn) }},
		{"when", func(e *kb.Entity) string { return edtf(e.Event.When) }},
	}, placeColumns(func(e *kb.Entity) kb.Place { return e.Event.Place }), []column{
		{"venue", func(e *kb.Entity) string { return e.Event.Venue }},
		{"other_places", func(e *kb.Entity) string { return otherPlaces(e.Event.OtherPlaces) }},
	}),
	kb.KindPerson: cols(commonColumns, []column{
		{"public_role", func(e *kb.Entity) string { return e.Person.PublicRole }},
	}),
	kb.KindSource: cols(commonColumns, []column{
		{"source_kind", func(e *kb.Entity) string { return string(e.Source.SourceKind) }},
		{"publisher", func(e *kb.Entity) string { return e.Source.Publisher }},
		{"published_on", func(e *kb.Entity) string { return date(e.Source.PublishedOn) }},
		{"published", func(e *kb.Entity) string { return edtf(e.Source.Published) }},
		{"url", func(e *kb.Entity) string { return e.Source.URL }},
		{"language", func(e *kb.Entity) string { return e.Source.Language }},
	}),
}

// The CSV files beside the entity files, and their columns.
var (
	linksHeader      = []string{"from", "type", "to", "role", "note", "starts_on", "ends_on"}
	indicatorsHeader = []string{"entity", "name", "value", "unit", "as_of", "note", "source", "locator", "quote"}
	citationsHeader  = []string{"entity", "link_from", "link_type", "link_to", "source", "locator", "quote"}
)

// CSVFiles returns the names of the files of a CSV export under f, in the
// order they are written: one per exported entity kind, then links.csv,
// indicators.csv and citations.csv.
func CSVFiles(f store.ExportFilter) []string {
	var out []string
	for _, k := range exportedKinds(f) {
		out = append(out, csvFiles[k])
	}
	return append(out, "links.csv", "indicators.csv", "citations.csv", "topics.csv")
}

// fileSink creates the files of a CSV export one after the other; a file
// is complete when the next is created or the sink is closed.
type fileSink interface {
	create(name string) (io.Writer, error)
	close() error
}

type zipSink struct{ zw *zip.Writer }

func (z zipSink) create(name string) (io.Writer, error) {
	return z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now().UTC()})
}
func (z zipSink) close() error { return z.zw.Close() }

type dirSink struct {
	dir string
	f   *os.File
}

func (d *dirSink) create(name string) (io.Writer, error) {
	if err := d.close(); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(d.dir, name))
	if err != nil {
		return nil, err
	}
	d.f = f
	return f, nil
}

func (d *dirSink) close() error {
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

func writeCSVZip(ctx context.Context, sn *store.Snapshot, opts Options, w io.Writer) error {
	return writeCSV(ctx, sn, opts, zipSink{zip.NewWriter(w)})
}

// WriteCSVDir writes a CSV export into directory dir, which it creates if
// needed: the files that CSVFiles names. It returns a database or file
// error wrapped with context.
func WriteCSVDir(ctx context.Context, src Source, opts Options, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export csv: %w", err)
	}
	sink := &dirSink{dir: dir}
	err := src.Export(ctx, store.Public, opts.Filter, func(sn *store.Snapshot) error {
		return writeCSV(ctx, sn, opts, sink)
	})
	if cerr := sink.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export csv: %w", err)
	}
	return nil
}

func writeCSV(ctx context.Context, sn *store.Snapshot, opts Options, sink fileSink) error {
	file := func(name string, header []string, fill func(cw *csv.Writer) error) error {
		w, err := sink.create(name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := fill(cw); err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	// The topics the exported practices carry (migration 00026): in
	// topics.csv with their labels, and by slug in good_practices.csv.
	topics, err := sn.Topics(ctx)
	if err != nil {
		return err
	}
	slugOf := slugsByLabel(topics)
	for _, k := range exportedKinds(opts.Filter) {
		columns := csvColumns[k]
		if k == kb.KindGoodPractice {
			columns = append(columns[:len(columns):len(columns)], column{"topic_slugs", func(e *kb.Entity) string {
				slugs := make([]string, 0, len(e.GoodPractice.Topics))
				for _, l := range e.GoodPractice.Topics {
					if s, ok := slugOf[kb.Fold(l)]; ok {
						slugs = append(slugs, s)
					}
				}
				return join(slugs)
			}})
		}
		// The languages last, after every other column (topic_slugs too),
		// so that the columns before keep their places.
		columns = append(columns[:len(columns):len(columns)], translationColumns(k)...)
		header := make([]string, len(columns))
		for i, c := range columns {
			header[i] = c.name
		}
		record := make([]string, len(columns))
		err := file(csvFiles[k], header, func(cw *csv.Writer) error {
			return sn.Entities(ctx, k, func(e *kb.Entity) error {
				for i, c := range columns {
					record[i] = c.get(e)
				}
				return cw.Write(record)
			})
		})
		if err != nil {
			return err
		}
	}
	err = file("links.csv", linksHeader, func(cw *csv.Writer) error {
		return sn.Links(ctx, func(l *kb.Link) error {
			return cw.Write([]string{l.FromKey, string(l.Type), l.ToKey, l.Role, l.Note, date(l.StartsOn), date(l.EndsOn)})
		})
	})
	if err != nil {
		return err
	}
	err = file("indicators.csv", indicatorsHeader, func(cw *csv.Writer) error {
		return sn.Indicators(ctx, func(in *kb.Indicator) error {
			var c kb.Citation
			if in.Citation != nil {
				c = *in.Citation
			}
			return cw.Write([]string{in.Subject(), string(in.Name), strconv.FormatFloat(in.Value, 'f', -1, 64),
				in.Unit, date(in.AsOf), in.Note, c.SourceKey, c.Locator, c.Quote})
		})
	})
	if err != nil {
		return err
	}
	err = file("citations.csv", citationsHeader, func(cw *csv.Writer) error {
		return sn.Citations(ctx, func(c *store.SubjectCitation) error {
			return cw.Write([]string{c.Entity, c.From, string(c.Type), c.To, c.SourceKey, c.Locator, c.Quote})
		})
	})
	if err != nil {
		return err
	}
	err = file("topics.csv", []string{"slug", "original_language", "label_pl", "label_sv", "label_en"}, func(cw *csv.Writer) error {
		for _, t := range topics {
			if err := cw.Write([]string{t.Slug, t.OriginalLanguage, t.Labels["pl"], t.Labels["sv"], t.Labels["en"]}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return sink.close()
}

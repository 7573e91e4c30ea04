package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/partnergraph/partnergraph/internal/export"
	"github.com/partnergraph/partnergraph/internal/progress"
)

// exportFlags are the flags of the export subcommand: the format, where to
// write, and the filters of export.ParseFilter.
type exportFlags struct {
	format, out string
	filters     map[string]*string
}

// exportFilterFlags maps flag names to the filter parameters they set.
var exportFilterFlags = []struct{ flag, param, usage string }{
	{"kind", "kind", "entity kinds, comma-separated (PARTNER,COOPERATIVE,...)"},
	{"sector", "sector", "partner sectors, comma-separated (PUBLIC,SOCIAL,PRIVATE)"},
	{"partner-kind", "partnerKind", "partner kinds, comma-separated (ASSOCIATION,COMPANY,...)"},
	{"country", "country", "ISO 3166-1 alpha-2 country of placed entities (PL, SE)"},
	{"region", "region", "region of placed entities"},
	{"activity", "activity", "cooperative activities, comma-separated (CERAMICS,...)"},
	{"relation", "relation", "relation types of exported links, comma-separated (MEMBER_OF,...)"},
}

func (e *exportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.format, "format", "", "export format: csv, jsonld, graphml or json (required)")
	fs.StringVar(&e.out, "out", "", "file to write (csv: a .zip file, else a directory); empty or - writes to standard output (csv as a zip)")
	e.filters = map[string]*string{}
	for _, f := range exportFilterFlags {
		e.filters[f.param] = fs.String(f.flag, "", f.usage)
	}
}

// options checks the flags and returns the export options.
func (e *exportFlags) options(cfg Config) (export.Options, error) {
	format, err := export.ParseFormat(e.format)
	if err != nil {
		return export.Options{}, fmt.Errorf("export: --%w", err)
	}
	q := url.Values{}
	for param, v := range e.filters {
		if *v != "" {
			q.Set(param, *v)
		}
	}
	f, err := export.ParseFilter(q)
	if err != nil {
		return export.Options{}, fmt.Errorf("export: filter %w", err)
	}
	return export.Options{Format: format, Filter: f, BaseIRI: cfg.BaseIRI}, nil
}

// runExport writes the export that opts describe to out: standard output
// for "" or "-", a directory for CSV unless out ends in .zip, else a file.
// A file left half-written by an error is removed. The progress
// meter, if on, counts the bytes written (a CSV directory: the time only).
func runExport(ctx context.Context, app *App, opts export.Options, out string, stdout io.Writer, meter *progress.Meter) error {
	defer meter.End()
	if out == "" || out == "-" {
		meter.Start("writing "+string(opts.Format)+" to standard output", 0, progress.Bytes)
		return export.Write(ctx, app.Store, opts, progress.Writer{W: stdout, M: meter})
	}
	if opts.Format == export.CSV && !strings.HasSuffix(strings.ToLower(out), ".zip") {
		meter.Start("writing the CSV files into "+out, 0, "")
		return export.WriteCSVDir(ctx, app.Store, opts, out)
	}
	if dir := filepath.Dir(out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	meter.Start("writing "+out, 0, progress.Bytes)
	err = export.Write(ctx, app.Store, opts, progress.Writer{W: f, M: meter})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("export: %w", cerr)
	}
	if err != nil {
		return errors.Join(err, os.Remove(out))
	}
	return nil
}

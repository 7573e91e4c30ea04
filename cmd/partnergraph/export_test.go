package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/export"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/store"
)

func TestExportCommandWritesEachFormat(t *testing.T) {
	vars := env(map[string]string{"DATABASE_URL": pgtest.NewDB(t, "empty")})
	if err := run(t.Context(), []string{"seed"}, vars, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}

	// JSON to standard output, filtered.
	var out bytes.Buffer
	if err := run(t.Context(), []string{"export", "--format", "json", "--kind", "partner", "--sector", "public"}, vars, &out); err != nil {
		t.Fatal(err)
	}
	ds, err := seed.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Entities) != 2 {
		t.Errorf("public partners: %d, want 2", len(ds.Entities))
	}

	// CSV into a directory, and into a zip file.
	dir := t.TempDir()
	if err := run(t.Context(), []string{"export", "--format", "csv", "--out", filepath.Join(dir, "csv")}, vars, &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range export.CSVFiles(store.ExportFilter{}) {
		f, err := os.Open(filepath.Join(dir, "csv", name))
		if err != nil {
			t.Errorf("csv directory: %v", err)
			continue
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) == 0 {
			t.Errorf("%s: %d records, %v", name, len(recs), err)
		}
	}
	zipPath := filepath.Join(dir, "graph.zip")
	if err := run(t.Context(), []string{"export", "--format=csv", "--kind=COOPERATIVE", "--out", zipPath}, vars, &out); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if want := []string{"cooperatives.csv", "links.csv", "indicators.csv", "citations.csv", "topics.csv"}; !slices.Equal(names, want) {
		t.Errorf("zip files %v, want %v", names, want)
	}

	// GraphML into a file, with a base IRI for JSON-LD checked on the way.
	gml := filepath.Join(dir, "graph.graphml")
	if err := run(t.Context(), []string{"export", "--format", "graphml", "--out", gml}, vars, &out); err != nil {
		t.Fatal(err)
	}
	// A node per entry, and one per topic (id topics/<slug>).
	b, err := os.ReadFile(gml)
	if entries := strings.Count(string(b), "<node ") - strings.Count(string(b), `<node id="topics/`); err != nil || entries != referenceEntities(t) {
		t.Errorf("graphml file: %d nodes of entries, %v", entries, err)
	}
	out.Reset()
	if err := run(t.Context(), []string{"export", "--format", "jsonld", "--base-iri", "https://example.org/pg/"}, vars, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"@id":"https://example.org/pg/rops-poznan"`) {
		t.Error("JSON-LD does not use the base IRI")
	}
}

func TestExportCommandRejectsBadFormatAndFilter(t *testing.T) {
	vars := env(map[string]string{"DATABASE_URL": "host=/nonexistent"})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export"}, "--format: is required"},
		{[]string{"export", "--format", "pdf"}, `unknown format "pdf"`},
		{[]string{"export", "--format", "csv", "--kind", "planet"}, "kind: unknown value"},
		{[]string{"export", "--format", "csv", "--base-iri", "example"}, "-base-iri: must be an absolute"},
	} {
		err := run(t.Context(), tc.args, vars, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.want)
		}
	}
}

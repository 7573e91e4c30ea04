package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/server"
)

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestExportEndpointServesEachFormatWithItsHeaders(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	for _, tc := range []struct {
		format, contentType, file string
		check                     func(t *testing.T, body []byte)
	}{
		{"graphml", "application/graphml+xml", "partnergraph.graphml", func(t *testing.T, body []byte) {
			var g struct {
				Graph struct {
					Nodes []struct{} `xml:"node"`
					Edges []struct{} `xml:"edge"`
				} `xml:"graph"`
			}
			if err := xml.Unmarshal(body, &g); err != nil {
				t.Fatal(err)
			}
			// 43 entries and the 18 topics of the practices; 57 links and
			// the practices' 26 HAS_TOPIC edges.
			if len(g.Graph.Nodes) != 43+18 || len(g.Graph.Edges) != 57+26 {
				t.Errorf("nodes %d, edges %d; want 61 and 83", len(g.Graph.Nodes), len(g.Graph.Edges))
			}
		}},
		{"csv", "application/zip", "partnergraph-csv.zip", func(t *testing.T, body []byte) {
			zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
			if err != nil {
				t.Fatal(err)
			}
			if len(zr.File) != 13 || zr.File[0].Name != "partners.csv" {
				t.Errorf("zip holds %d files, first %q; want 13 (9 kinds, links, indicators, citations, topics), partners.csv first", len(zr.File), zr.File[0].Name)
			}
		}},
		{"jsonld", "application/ld+json", "partnergraph.jsonld", func(t *testing.T, body []byte) {
			var doc struct {
				Context map[string]string `json:"@context"`
				Graph   []map[string]any  `json:"@graph"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Context["org"] != "http://www.w3.org/ns/org#" || len(doc.Graph) == 0 {
				t.Errorf("context %v with %d nodes", doc.Context, len(doc.Graph))
			}
		}},
		{"json", "application/json", "partnergraph.json", func(t *testing.T, body []byte) {
			ds, err := seed.Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if len(ds.Entities) != 43 {
				t.Errorf("entities %d, want 43", len(ds.Entities))
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			res, body := get(t, a.URL+"/export?format="+tc.format)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			disp, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
			if err != nil || disp != "attachment" || params["filename"] != tc.file {
				t.Errorf("Content-Disposition %q, want an attachment named %s", res.Header.Get("Content-Disposition"), tc.file)
			}
			if res.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id: the export is outside the HTTP stack")
			}
			tc.check(t, body)
		})
	}
}

func TestExportEndpointFiltersBySectorAndKind(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	res, body := get(t, a.URL+"/export?format=json&kind=PARTNER,PARTNERSHIP&sector=SOCIAL,PRIVATE")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	ds, err := seed.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ds.Entities {
		if e.Partner != nil && e.Partner.Sector == "PUBLIC" || e.Partner == nil && e.Partnership == nil {
			t.Errorf("filtered export holds %s (%s)", e.Key, e.Kind)
		}
	}
	for _, l := range ds.Links {
		if l.FromKey == "rops-poznan" || l.ToKey == "rops-poznan" {
			t.Errorf("link %s joins a partner that is not exported", l)
		}
	}
}

func TestExportEndpointRejectsBadRequestsNamingTheProblem(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	for _, tc := range []struct {
		query, field, says string
	}{
		{"", "format", "required"},
		{"format=xlsx", "format", "xlsx"},
		{"format=csv&kind=PLANET", "kind", "PLANET"},
		{"format=graphml&sector=NONPROFIT", "sector", "NONPROFIT"},
		{"format=json&country=Polska", "country", "Polska"},
		{"format=json&colour=red", "colour", "colour"},
	} {
		res, body := get(t, a.URL+"/export?"+tc.query)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", tc.query, res.StatusCode)
			continue
		}
		var r response
		if err := json.Unmarshal(body, &r); err != nil || len(r.Errors) != 1 {
			t.Errorf("%q: body %s, want one error", tc.query, body)
			continue
		}
		e := r.Errors[0]
		if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != tc.field || !strings.Contains(e.Message, tc.says) {
			t.Errorf("%q: error %+v, want BAD_USER_INPUT on %s saying %q", tc.query, e, tc.field, tc.says)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/export?format=csv", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /export: status %d, want 405", res.StatusCode)
	}
}

func TestExportEndpointFailingBeforeTheFirstByteIsAnErrorResponse(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	a.Pool.Close() // the database is gone before the export starts
	res, body := get(t, a.URL+"/export?format=graphml")
	if res.StatusCode < 500 {
		t.Fatalf("status %d, want a 5xx", res.StatusCode)
	}
	if res.Header.Get("Content-Disposition") != "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v, want a JSON error and no attachment", res.Header)
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil || len(r.Errors) != 1 || strings.Contains(r.Errors[0].Message, "pool") {
		t.Errorf("body %s, want one error that leaks nothing", body)
	}
}

func TestExportEndpointAnswersHEADWithTheHeadersOnly(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	res, err := http.Head(a.URL + "/export?format=jsonld&kind=EVENT")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/ld+json" {
		t.Errorf("HEAD: status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestExportEndpointRefusesExportsBeyondTheLimit(t *testing.T) {
	a := newAPI(t, "reference", server.Config{MaxExports: 1})
	ctx := t.Context()
	// Hold the first export in its links query behind a lock.
	tx, err := a.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // releases the lock; the test has ended
	if _, err := tx.Exec(ctx, "LOCK TABLE link IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	first := make(chan int, 1)
	go func() {
		res, err := http.Get(a.URL + "/export?format=graphml")
		if err != nil {
			first <- 0
			return
		}
		_, _ = io.Copy(io.Discard, res.Body) // drained; the status is what is tested
		res.Body.Close()
		first <- res.StatusCode
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first export never waited on the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, body := get(t, a.URL+"/export?format=json")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "LIMIT_EXCEEDED") {
		t.Errorf("second export: status %d, Retry-After %q, body %s; want 429 LIMIT_EXCEEDED", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if status := <-first; status != http.StatusOK {
		t.Errorf("first export: status %d, want 200", status)
	}
	if res, _ := get(t, a.URL+"/export?format=json"); res.StatusCode != http.StatusOK {
		t.Errorf("export after the first ended: status %d, want 200", res.StatusCode)
	}
}

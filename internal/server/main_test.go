package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, storetest.Reference)
}

// api is a running HTTP stack on a fresh database.
type api struct {
	t    testing.TB
	URL  string
	Pool *pgxpool.Pool
}

// newAPI serves the full HTTP stack (CORS, limits, loaders, error
// presenter) on a fresh database cloned from template.
func newAPI(t testing.TB, template string, cfg server.Config, poolCfg ...func(*pgxpool.Config)) *api {
	t.Helper()
	return newAPIStore(t, template, cfg, nil, poolCfg...)
}

// newAPIStore is newAPI whose store prep sets up (its caches) before the
// server takes it; nil leaves it as store.New makes it.
func newAPIStore(t testing.TB, template string, cfg server.Config, prep func(*store.Store), poolCfg ...func(*pgxpool.Config)) *api {
	t.Helper()
	pc, err := pgxpool.ParseConfig(pgtest.NewDB(t, template))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range poolCfg {
		f(pc)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st := store.New(pool)
	if prep != nil {
		prep(st)
	}
	srv := httptest.NewServer(server.New(cfg, st).Handler())
	t.Cleanup(srv.Close)
	return &api{t: t, URL: srv.URL, Pool: pool}
}

// gqlError is one error of a GraphQL response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// response is a GraphQL response with its data left raw.
type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// post sends a query with variables and returns the HTTP status and the
// decoded response.
func (a *api) post(query string, vars map[string]any) (int, response) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	res, err := http.Post(a.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		a.t.Fatalf("response is not JSON (%d): %s", res.StatusCode, raw)
	}
	return res.StatusCode, r
}

// query posts a query that must succeed and decodes its data into out.
func (a *api) query(query string, vars map[string]any, out any) {
	a.t.Helper()
	status, r := a.post(query, vars)
	if status != http.StatusOK || len(r.Errors) > 0 {
		a.t.Fatalf("query failed (%d): %+v", status, r.Errors)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		a.t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// fail posts a query that must fail and returns its first error.
func (a *api) fail(query string, vars map[string]any) gqlError {
	a.t.Helper()
	_, r := a.post(query, vars)
	if len(r.Errors) == 0 {
		a.t.Fatalf("query succeeded, want an error: %s", r.Data)
	}
	return r.Errors[0]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func names[T interface{ name() string }](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.name()
	}
	return out
}

// page reads a connection's nodes as a slice: the related lists of an
// entity are connections, and most tests look at their nodes only.
type page[T any] []T

func (p *page[T]) UnmarshalJSON(b []byte) error {
	var c struct {
		Nodes []T `json:"nodes"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	*p = c.Nodes
	return nil
}

type named struct {
	Name   string `json:"name"`
	Sector string `json:"sector"`
}

func (n named) name() string { return n.Name }

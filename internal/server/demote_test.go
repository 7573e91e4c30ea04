package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// demoting is a store with a pool of heavy reads, and servers on it.
type demoting struct {
	t  *testing.T
	st *store.Store
	id string // a partner's global ID, for serialQuery's walk
}

func newDemoting(t *testing.T) *demoting {
	t.Helper()
	dsn := pgtest.NewDB(t, "reference")
	open := func() *pgxpool.Pool {
		pool, err := pgxpool.New(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return pool
	}
	d := &demoting{t: t, st: store.New(open())}
	d.st.SetHeavyPool(open())
	d.id = aPublicPartner(t, d.serve(server.Heavy{DemoteRows: -1, DemoteFields: -1}, io.Discard))
	return d
}

// serve starts a server with gate h (its cost threshold above every query
// of the test unless set: they are light by their estimate) and the given
// row limit, logging at debug level to logs.
func (d *demoting) serve(h server.Heavy, logs io.Writer, maxRows ...int64) string {
	if h.Cost == 0 {
		h.Cost = 1 << 30
	}
	cfg := server.Config{Heavy: h, LoaderWait: 20 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if len(maxRows) > 0 {
		cfg.MaxRows = maxRows[0]
	}
	srv := httptest.NewServer(server.New(cfg, d.st).Handler())
	d.t.Cleanup(srv.Close)
	return srv.URL
}

// ask posts query, executed, with serialQuery's variables.
func (d *demoting) ask(url, query string) response {
	return askExecuted(d.t, url, query, map[string]any{"id": d.id})
}

// aPublicPartner returns the global ID of a partner of the public sector,
// read through the server at url.
func aPublicPartner(t *testing.T, url string) string {
	t.Helper()
	var out struct {
		Partners struct{ Nodes []struct{ ID string } }
	}
	a := (&gated{url: url}).post(t, `{ partners(first: 1, filter: {sector: [PUBLIC]}) { nodes { id } } }`)
	if err := json.Unmarshal(a.Data, &out); err != nil || len(out.Partners.Nodes) == 0 {
		t.Fatalf("a partner: %s %v", a.Data, err)
	}
	return out.Partners.Nodes[0].ID
}

// askExecuted posts query with vars, executed (not from the response
// cache), and returns its answer; it fails the test if none comes within
// 20 s.
func askExecuted(t *testing.T, url, query string, vars map[string]any) response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no answer (deadlocked?): %v", err)
	}
	defer res.Body.Close()
	var r response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatalf("answer %d: %v", res.StatusCode, err)
	}
	return r
}

// heavyReads is how many connections the pool of heavy reads has handed
// out so far.
func (d *demoting) heavyReads() int64 {
	p, _ := d.st.HeavyPoolStats()
	return p.Acquires
}

// TestLightQueryDemotedByItsWork: a query light by its estimate that
// reads more rows than Heavy.DemoteRows, or runs more resolvers than
// Heavy.DemoteFields, is demoted while it runs: counted by
// partnergraph_heavy_queries_total{outcome="demoted"}, its further
// resolvers run one at a time (the token's count, from the gate's debug
// line), its further statements go to the pool of heavy reads, and its
// answer is the one the same query gets without demotion (it did not
// deadlock on its loaders). A query under both thresholds never is: no
// statement of it on the heavy pool, nothing counted.
func TestLightQueryDemotedByItsWork(t *testing.T) {
	d := newDemoting(t)
	free := d.serve(server.Heavy{DemoteRows: -1, DemoteFields: -1}, io.Discard)
	want := d.ask(free, serialQuery)
	if len(want.Errors) > 0 {
		t.Fatalf("without demotion: %+v", want.Errors)
	}
	for _, tc := range []struct {
		name string
		h    server.Heavy
	}{
		{"rows", server.Heavy{DemoteRows: 20, DemoteFields: -1, Parallelism: 1}},
		{"fields", server.Heavy{DemoteRows: -1, DemoteFields: 40, Parallelism: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			url := d.serve(tc.h, &logs)
			before := d.heavyReads()
			for range 2 {
				got := d.ask(url, serialQuery)
				if len(got.Errors) > 0 || !bytes.Equal(got.Data, want.Data) {
					t.Fatalf("demoted, answered %s %+v\nwithout demotion\n%s", got.Data, got.Errors, want.Data)
				}
			}
			if d.heavyReads() == before {
				t.Error("no statement of the demoted queries went to the pool of heavy reads")
			}
			g := &gated{url: url}
			if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="demoted"}`); got != "2" {
				t.Errorf("demoted: %s, want 2", got)
			}
			for _, outcome := range []string{"admitted", "queued", "refused"} {
				if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="`+outcome+`"}`); got != "0" {
					t.Errorf("heavy queries %s: %s, want 0 (light by the estimate)", outcome, got)
				}
			}
			lines := withMessage(logs.lines(t), "query work")
			if len(lines) != 2 {
				t.Fatalf("%d query work lines, want 2: %v", len(lines), logs.lines(t))
			}
			for _, l := range lines {
				if l["demoted"] != true || l["most_at_once"] != float64(1) {
					t.Errorf("demoted %v, resolvers at once after it %v; want true and 1: %v", l["demoted"], l["most_at_once"], l)
				}
				if after, _ := l["fields_after_demotion"].(float64); after < 50 {
					t.Errorf("%v fields after the demotion, want most of the answer's: %v", l["fields_after_demotion"], l)
				}
			}

			// Under the thresholds: never demoted.
			before = d.heavyReads()
			small := d.ask(url, `{ goodPractices(first: 2) { nodes { id name } } }`)
			if len(small.Errors) > 0 || !strings.Contains(string(small.Data), `"goodPractices"`) {
				t.Fatalf("a small page: %s %+v", small.Data, small.Errors)
			}
			if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="demoted"}`); got != "2" {
				t.Errorf("demoted after a small page: %s, want still 2", got)
			}
			if d.heavyReads() != before {
				t.Error("a small page read through the pool of heavy reads")
			}
			if l := withMessage(logs.lines(t), "query work"); len(l) != 3 || l[2]["demoted"] != false {
				t.Errorf("the small page's line: %v, want demoted false", l)
			}
		})
	}
}

// TestDemotedQueriesShareTheSlot: eight demoted queries at once, with one
// slot of the gate, each waiting for it while its first resolvers and
// loaders go on: all answer as without demotion, none is refused, and
// nothing is left running or waiting.
func TestDemotedQueriesShareTheSlot(t *testing.T) {
	d := newDemoting(t)
	want := d.ask(d.serve(server.Heavy{DemoteRows: -1, DemoteFields: -1}, io.Discard), serialQuery)
	url := d.serve(server.Heavy{Concurrency: 1, DemoteRows: 20, DemoteFields: -1, Parallelism: 1}, io.Discard)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := d.ask(url, serialQuery); len(got.Errors) > 0 || !bytes.Equal(got.Data, want.Data) {
				t.Errorf("demoted beside others: %s %+v", got.Data, got.Errors)
			}
		})
	}
	wg.Wait()
	g := &gated{url: url}
	for name, want := range map[string]string{
		`partnergraph_heavy_queries_total{outcome="demoted"}`: "8",
		`partnergraph_heavy_queries_total{outcome="refused"}`: "0",
		"partnergraph_heavy_queries_running":                  "0",
		"partnergraph_heavy_queries_waiting":                  "0",
	} {
		if got := g.metric(t, name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

// TestDemotedQueryStoppedByTheWallLogsOnce: a demoted query that then
// reads past PARTNERGRAPH_MAX_ROWS fails with one LIMIT_EXCEEDED and one
// log line, and gives its slot back.
func TestDemotedQueryStoppedByTheWallLogsOnce(t *testing.T) {
	d := newDemoting(t)
	var logs logBuffer
	url := d.serve(server.Heavy{Concurrency: 1, DemoteRows: 10, DemoteFields: -1, Parallelism: 1}, &logs, 25)
	r := d.ask(url, serialQuery)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != server.CodeLimitExceeded || r.Errors[0].Extensions["setting"] != "PARTNERGRAPH_MAX_ROWS" {
		t.Fatalf("errors %+v, want one LIMIT_EXCEEDED naming PARTNERGRAPH_MAX_ROWS", r.Errors)
	}
	if failed := withMessage(logs.lines(t), "request failed"); len(failed) != 1 {
		t.Errorf("request failed lines: %v; want one", failed)
	}
	g := &gated{url: url}
	if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="demoted"}`); got != "1" {
		t.Errorf("demoted: %s, want 1", got)
	}
	// The slot is free again: the next demoted query (twice the 7 partners: 14 rows) answers.
	if r := d.ask(url, `{ a: partners(first: 15) { nodes { id } } b: partners(first: 15) { nodes { name } } }`); len(r.Errors) > 0 {
		t.Errorf("a demoted query after the failed one: %+v", r.Errors)
	}
	if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="demoted"}`); got != "2" {
		t.Errorf("demoted: %s, want 2: %v", got, withMessage(logs.lines(t), "query work"))
	}
	until(t, "the failed query's slot is given back", func() bool { return g.metric(t, "partnergraph_heavy_queries_running") == "0" })
}

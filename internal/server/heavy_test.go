package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// heavyQuery costs 1 + 20 × 2 = 41: heavy from a Heavy.Cost of 10, as
// lightQuery (1) is not. lightQuery reads nothing from the database, so it
// answers while the test holds the entity table.
const (
	heavyQuery = `{ goodPractices(first: 20) { nodes { id name } } }`
	lightQuery = `{ __typename }`
)

// gated is a server whose heavy queries read through a pool of their own,
// named heavyApp in pg_stat_activity.
type gated struct {
	url  string
	pool *pgxpool.Pool
}

const heavyApp = "partnergraph-heavy-test"

func newGated(t *testing.T, h server.Heavy) *gated {
	t.Helper()
	return newGatedConfig(t, server.Config{Heavy: h})
}

// newGatedConfig is newGated with the whole of the server's cfg.
func newGatedConfig(t *testing.T, cfg server.Config) *gated {
	t.Helper()
	dsn := pgtest.NewDB(t, "reference")
	open := func(app string) *pgxpool.Pool {
		pc, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		pc.ConnConfig.RuntimeParams["application_name"] = app
		pool, err := pgxpool.NewWithConfig(context.Background(), pc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return pool
	}
	pool, heavyPool := open("partnergraph-test"), open(heavyApp)
	st := store.New(pool)
	st.SetHeavyPool(heavyPool)
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(server.New(cfg, st).Handler())
	t.Cleanup(srv.Close)
	return &gated{url: srv.URL, pool: pool}
}

// answer is a response with its status and Retry-After.
type answer struct {
	status     int
	retryAfter string
	response
}

func (g *gated) post(t *testing.T, query string) answer {
	return g.postAs(t, query, "")
}

// postAs posts query as the client address from, named in
// X-Forwarded-For (the server must trust the test as a proxy); "" sends
// none.
func (g *gated) postAs(t *testing.T, query, from string) answer {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, g.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return answer{}
	}
	req.Header.Set("Content-Type", "application/json")
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return answer{}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After")}
	if err := json.Unmarshal(raw, &a.response); err != nil {
		t.Errorf("not JSON (%d): %s", res.StatusCode, raw)
	}
	return a
}

// metric reads one sample of /metrics, e.g.
// `partnergraph_heavy_queries_total{outcome="queued"}`.
func (g *gated) metric(t *testing.T, name string) string {
	t.Helper()
	res, err := http.Get(g.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	return ""
}

// until polls cond until it holds, for a minute at most.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if t.Context().Err() != nil || time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lockEntities holds the entity table until the returned func is called:
// every statement that reads it waits, visibly, in pg_stat_activity.
func (g *gated) lockEntities(t *testing.T) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := g.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE entity IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = tx.Rollback(ctx)
		}
	}
	t.Cleanup(release)
	return release
}

// blocked lists the application names of the statements waiting for a lock
// in the test's database.
func (g *gated) blocked(t *testing.T) []string {
	t.Helper()
	rows, err := g.pool.Query(context.Background(), `SELECT application_name FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a)
	}
	return apps
}

// TestHeavyQueriesRunOneAtATimeAndLightOnesPass holds the entity table so
// that a heavy query, once it runs, waits in the database: with a gate of
// one slot and a queue of one, a second heavy query waits at the gate
// without starting (only one statement waits on the table, and it is on
// the heavy queries' own pool), a light query answers meanwhile, a third
// heavy query is refused at once with 429 LIMIT_EXCEEDED and Retry-After,
// and once the table is free the first two answer in turn.
func TestHeavyQueriesRunOneAtATimeAndLightOnesPass(t *testing.T) {
	g := newGated(t, server.Heavy{Cost: 10, Concurrency: 1, Queue: 1, Wait: time.Hour})
	release := g.lockEntities(t)

	answers := make(chan answer, 2)
	go func() { answers <- g.post(t, heavyQuery) }()
	until(t, "the first heavy query runs and waits for the table", func() bool {
		return slices.Equal(g.blocked(t), []string{heavyApp})
	})
	go func() { answers <- g.post(t, heavyQuery) }()
	until(t, "the second heavy query waits at the gate", func() bool {
		return g.metric(t, "partnergraph_heavy_queries_waiting") == "1"
	})
	if got := g.metric(t, "partnergraph_heavy_queries_running"); got != "1" {
		t.Errorf("%s heavy queries running, want 1", got)
	}

	// A light query does not wait at the gate.
	if a := g.post(t, lightQuery); a.status != http.StatusOK || len(a.Errors) > 0 || string(a.Data) != `{"__typename":"Query"}` {
		t.Errorf("light query while the gate is full: %d %s %+v", a.status, a.Data, a.Errors)
	}
	// The queue is full: refused at once, without running.
	a := g.post(t, heavyQuery)
	if a.status != http.StatusTooManyRequests || a.retryAfter == "" || len(a.Errors) != 1 || a.Data != nil && string(a.Data) != "null" ||
		a.Errors[0].Extensions["code"] != server.CodeLimitExceeded || a.Errors[0].Extensions["setting"] != "PARTNERGRAPH_HEAVY_QUEUE" ||
		a.Errors[0].Extensions["retryAfter"] == nil {
		t.Errorf("a heavy query past the queue: %d Retry-After %q %s %+v", a.status, a.retryAfter, a.Data, a.Errors)
	}
	// Still one statement waiting: the queued query has not started.
	if got := g.blocked(t); !slices.Equal(got, []string{heavyApp}) {
		t.Errorf("statements waiting for the table: %v, want one of the heavy pool", got)
	}

	release()
	for range 2 {
		a := <-answers
		if a.status != http.StatusOK || len(a.Errors) > 0 || !strings.Contains(string(a.Data), `"goodPractices"`) {
			t.Errorf("heavy query: %d %s %+v", a.status, a.Data, a.Errors)
		}
	}
	for outcome, want := range map[string]string{"admitted": "1", "queued": "1", "refused": "1"} {
		if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="`+outcome+`"}`); got != want {
			t.Errorf("heavy queries %s: %s, want %s", outcome, got, want)
		}
	}
	if got := g.metric(t, "partnergraph_heavy_queries_running"); got != "0" {
		t.Errorf("%s heavy queries running after both answered, want 0", got)
	}
}

// TestHeavyQueryRefusedAfterItsWaitNeverRuns: a heavy query that waits
// longer than Heavy.Wait for a slot is refused with 429 LIMIT_EXCEEDED
// naming PARTNERGRAPH_HEAVY_WAIT, and does not run when the slot frees.
func TestHeavyQueryRefusedAfterItsWaitNeverRuns(t *testing.T) {
	g := newGated(t, server.Heavy{Cost: 10, Concurrency: 1, Queue: 5, Wait: 20 * time.Millisecond})
	release := g.lockEntities(t)
	first := make(chan answer, 1)
	go func() { first <- g.post(t, heavyQuery) }()
	until(t, "the first heavy query runs and waits for the table", func() bool {
		return slices.Equal(g.blocked(t), []string{heavyApp})
	})

	a := g.post(t, heavyQuery)
	if a.status != http.StatusTooManyRequests || a.retryAfter != "1" || len(a.Errors) != 1 || a.Data != nil && string(a.Data) != "null" ||
		a.Errors[0].Extensions["code"] != server.CodeLimitExceeded || a.Errors[0].Extensions["setting"] != "PARTNERGRAPH_HEAVY_WAIT" ||
		!strings.Contains(a.Errors[0].Message, "PARTNERGRAPH_HEAVY_WAIT") {
		t.Errorf("a heavy query past its wait: %d Retry-After %q %s %+v", a.status, a.retryAfter, a.Data, a.Errors)
	}
	release()
	if a := <-first; a.status != http.StatusOK || len(a.Errors) > 0 {
		t.Errorf("first heavy query: %d %+v", a.status, a.Errors)
	}
	// Only the first ever held a slot; nothing waits or runs.
	for name, want := range map[string]string{
		`partnergraph_heavy_queries_total{outcome="admitted"}`: "1",
		`partnergraph_heavy_queries_total{outcome="queued"}`:   "0",
		`partnergraph_heavy_queries_total{outcome="refused"}`:  "1",
		"partnergraph_heavy_queries_running":                   "0",
		"partnergraph_heavy_queries_waiting":                   "0",
		"partnergraph_heavy_wait_seconds_count":                "1",
	} {
		if got := g.metric(t, name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if got := g.blocked(t); len(got) > 0 {
		t.Errorf("statements still waiting: %v", got)
	}
}

// TestLightQueriesNeverMeetTheGate: with the default threshold the front
// page and the bench's page are light: they never count at the gate.
func TestLightQueriesNeverMeetTheGate(t *testing.T) {
	g := newGated(t, server.Heavy{})
	for _, q := range []string{lightQuery, `{ goodPractices(first: 20) { totalCount nodes { id name cases(first: 3) { totalCount nodes { __typename name } }
		partners(first: 5) { totalCount nodes { name sector } } } } }`} {
		if a := g.post(t, q); a.status != http.StatusOK || len(a.Errors) > 0 {
			t.Fatalf("%d %+v", a.status, a.Errors)
		}
	}
	for _, outcome := range []string{"admitted", "queued", "refused"} {
		if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="`+outcome+`"}`); got != "0" {
			t.Errorf("heavy queries %s: %s, want 0", outcome, got)
		}
	}
}

// serialQuery is heavy from a Heavy.Cost of 10 and has every kind of wait
// a resolver may meet: lists whose elements gather at a loader, counts
// asked by one field and waited for by another, and a walk whose nodes'
// selection is not written in one pass (gqlgen's code run inside the
// resolver, graph/walklist.go).
const serialQuery = `query($id: ID!) {
	goodPractices(first: 20) { totalCount nodes { id name
		cases(first: 3) { totalCount nodes { __typename id name
			... on Cooperative { supporters(first: 5) { totalCount nodes { id } } }
			... on Project { partners(first: 5) { totalCount nodes { id } } } } }
		partners(first: 3) { totalCount nodes { id name sector } } } }
	events(first: 10) { nodes { id organizers(first: 5) { totalCount nodes { id } } participants(first: 5) { totalCount nodes { id } } } }
	neighborhood(id: $id, depth: 2, limit: 50) { nodes { id ... on Partner { cooperatives(first: 2) { totalCount nodes { id } } } } links { id } }
}`

// TestHeavyQueryRunsOneResolverAtATime: an admitted heavy query with a
// parallelism of 1 never has two resolvers holding a slot at once (the
// token's own count, read from the gate's debug line), its fields still
// gather at the loaders (more than one begun at once, so the batches are
// not split), nothing ran outside the token, and the answer is the one
// the same query gets with no bound: it did not deadlock on its loaders.
func TestHeavyQueryRunsOneResolverAtATime(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.NewDB(t, "reference"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	serve := func(parallelism int, logs io.Writer) string {
		log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		srv := httptest.NewServer(server.New(server.Config{Logger: log, LoaderWait: 20 * time.Millisecond,
			Heavy: server.Heavy{Cost: 10, Parallelism: parallelism}}, st).Handler())
		t.Cleanup(srv.Close)
		return srv.URL
	}
	var serialLogs, freeLogs logBuffer
	serialURL, freeURL := serve(1, &serialLogs), serve(-1, &freeLogs)
	vars := map[string]any{"id": aPublicPartner(t, freeURL)}
	ask := func(url string) response {
		r := askExecuted(t, url, serialQuery, vars)
		if len(r.Errors) > 0 {
			t.Fatalf("answer: %+v", r.Errors)
		}
		return r
	}
	for range 3 {
		got, want := ask(serialURL), ask(freeURL)
		if !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("one resolver at a time answered\n%s\nwithout a bound\n%s", got.Data, want.Data)
		}
	}
	if lines := withMessage(freeLogs.lines(t), "heavy query"); len(lines) != 0 {
		t.Errorf("no bound, yet the gate counted: %v", lines)
	}
	lines := withMessage(serialLogs.lines(t), "heavy query")
	if len(lines) != 3 {
		t.Fatalf("%d heavy query lines, want 3: %v", len(lines), serialLogs.lines(t))
	}
	for _, l := range lines {
		if l["most_at_once"] != float64(1) || l["reentered"] != float64(0) {
			t.Errorf("resolvers at once %v, run within another's slot %v; want 1 and 0: %v", l["most_at_once"], l["reentered"], l)
		}
		if f, _ := l["fields"].(float64); f < 150 {
			t.Errorf("%v fields under the token, want every field of the answer: %v", l["fields"], l)
		}
		if w, _ := l["loader_waits"].(float64); w < 20 {
			t.Errorf("%v waits on a loader without the slot: %v", l["loader_waits"], l)
		}
		if in, _ := l["most_inside"].(float64); in < 2 {
			t.Errorf("at most %v resolvers begun at once: the fields of a level did not gather at the loader: %v", l["most_inside"], l)
		}
	}
}

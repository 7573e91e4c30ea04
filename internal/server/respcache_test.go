package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// postCounting sends a query (with the given extra headers) and returns
// the raw response and how many SQL queries it cost.
func (a *api) postCounting(counter *queryCounter, token, query string, header map[string]string) (string, int64) {
	a.t.Helper()
	return a.postCountingVars(counter, token, query, nil, header)
}

// postCountingVars is postCounting with the query's variables.
func (a *api) postCountingVars(counter *queryCounter, token, query string, vars map[string]any, header map[string]string) (string, int64) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	before := counter.Statements.Load()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return string(raw), counter.Statements.Load() - before
}

const cachedQuery = `{ partners(first: 3) { nodes { name city } } }`

// TestResponseCacheServesAnonymousQueriesAgain: the second anonymous
// asking of the same question costs no SQL and gets the same answer;
// staff, a different question and "Cache-Control: no-cache" are executed.
func TestResponseCacheServesAnonymousQueriesAgain(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "reference", server.Config{ResponseCache: server.ResponseCache{TTL: time.Minute, Entries: 16, MaxBytes: 1 << 20}},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	first, n := a.postCounting(counter, "", cachedQuery, nil)
	if n == 0 || !strings.Contains(first, `"name"`) {
		t.Fatalf("first request: %d queries, %s", n, first)
	}
	again, n := a.postCounting(counter, "", cachedQuery, nil)
	if n != 0 || again != first {
		t.Errorf("second request: %d queries (want 0), same answer %v", n, again == first)
	}
	if _, n := a.postCounting(counter, "", strings.Replace(cachedQuery, "3", "4", 1), nil); n == 0 {
		t.Error("another question was answered from the cache")
	}
	if _, n := a.postCounting(counter, "", cachedQuery, map[string]string{"Cache-Control": "no-cache"}); n == 0 {
		t.Error("Cache-Control: no-cache was answered from the cache")
	}
	tok := a.newToken("editor", kb.RoleEditor)
	a.postCounting(counter, tok, cachedQuery, nil)
	if _, n := a.postCounting(counter, tok, cachedQuery, nil); n <= 1 { // one is the token's lookup
		t.Error("a staff member's query was answered from the cache")
	}
}

// TestResponseCacheForgetsOnEveryWrite: a write through the server is seen
// by the next anonymous read at once, not after the cache's TTL.
func TestResponseCacheForgetsOnEveryWrite(t *testing.T) {
	a := newAPI(t, "reference", server.Config{ResponseCache: server.ResponseCache{TTL: time.Hour, Entries: 16, MaxBytes: 1 << 20}})
	tok := a.newToken("editor", kb.RoleEditor)
	id := a.idOf(tok, "konimpex")
	read := func() string {
		var got struct {
			Node struct{ Summary string } `json:"node"`
		}
		a.query(`query($id: ID!) { node(id: $id) { ... on Partner { summary } } }`, map[string]any{"id": id}, &got)
		return got.Node.Summary
	}
	before := read()
	if read() != before {
		t.Fatal("the same question got two answers")
	}
	a.mustAs(tok, `mutation($id: ID!) { updatePartner(id: $id, input: {summary: "po zmianie"}) { id } }`, map[string]any{"id": id}, nil)
	if got := read(); got != "po zmianie" {
		t.Errorf("after the update an anonymous reader got %q, want the new summary", got)
	}
	// A mutation that fails forgets too; the answer after it is fresh.
	a.failAs(tok, `mutation($id: ID!) { updatePartner(id: $id, input: {name: null}) { id } }`, map[string]any{"id": id})
	if got := read(); got != "po zmianie" {
		t.Errorf("after a failed update: %q", got)
	}
}

// TestResponseCacheExpires: past its TTL an answer is computed again.
func TestResponseCacheExpires(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "reference", server.Config{ResponseCache: server.ResponseCache{TTL: 50 * time.Millisecond, Entries: 16, MaxBytes: 1 << 20}},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	a.postCounting(counter, "", cachedQuery, nil)
	time.Sleep(100 * time.Millisecond)
	if _, n := a.postCounting(counter, "", cachedQuery, nil); n == 0 {
		t.Error("an answer older than the TTL was served")
	}
}

// TestResponseCacheKeepsNoErrorsNorLargeAnswers: an answer with errors,
// or over MaxBytes, is executed every time.
func TestResponseCacheKeepsNoErrorsNorLargeAnswers(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "reference", server.Config{ResponseCache: server.ResponseCache{TTL: time.Minute, Entries: 16, MaxBytes: 300}},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	withError := `{ a: partners(first: 1) { nodes { name } } b: node(id: "not an id") { id } }`
	out, _ := a.postCounting(counter, "", withError, nil)
	if !strings.Contains(out, `"errors"`) {
		t.Fatalf("the query meant to fail did not: %s", out)
	}
	if _, n := a.postCounting(counter, "", withError, nil); n == 0 {
		t.Error("an answer with errors was served from the cache")
	}
	large := `{ partners(first: 20) { nodes { name summary city } } }`
	if out, _ := a.postCounting(counter, "", large, nil); len(out) <= 300 {
		t.Fatalf("the large answer is %d bytes, want over 300", len(out))
	}
	if _, n := a.postCounting(counter, "", large, nil); n == 0 {
		t.Error("an answer over MaxBytes was served from the cache")
	}
}

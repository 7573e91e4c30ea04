package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/server"
)

func aliasQuery(n int) string {
	var b strings.Builder
	b.WriteString("{ partners(first: 1) { nodes {")
	for i := range n {
		fmt.Fprintf(&b, " a%d: name", i)
	}
	b.WriteString(" } } }")
	return b.String()
}

func rootFieldsQuery(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " p%d: partners(first: 1) { totalCount }", i)
	}
	b.WriteString(" }")
	return b.String()
}

func TestEachLimitIsReportedWithItsNameAndValue(t *testing.T) {
	a := newAPI(t, "reference", server.Config{Limits: server.Limits{
		MaxDepth: 6, MaxCost: 500, MaxAliases: 5, MaxRootFields: 3, MaxTokens: 200,
		// Each case trips one limit; the others are generous enough.
	}})
	for _, tc := range []struct {
		name, query, want string
	}{
		{"depth", `{ partners(first: 1) { nodes { links(first: 1) { nodes { node { links(first: 1) { nodes { type } } } } } } } }`, "the query depth is 8, over the limit of 6 (PARTNERGRAPH_MAX_DEPTH)"},
		{"cost", `{ partners(first: 100) { nodes { links(first: 10) { nodes { type } } } } }`, "the query cost is 2201, over the limit of 500 (PARTNERGRAPH_MAX_COST)"},
		{"cost with variables", `query($n: Int) { partners(first: $n) { nodes { name sector summary id } } }`, "the query cost is 501, over the limit of 500"},
		{"aliases", aliasQuery(6), "the number of aliases is 6, over the limit of 5 (PARTNERGRAPH_MAX_ALIASES)"},
		{"aliases through fragments", `{ partners(first: 1) { nodes { ...F ...F } } } fragment F on Partner { a: name b: name c: name }`, "the number of aliases is 6"},
		{"root fields", rootFieldsQuery(4), "the number of root fields is 4, over the limit of 3 (PARTNERGRAPH_MAX_ROOT_FIELDS)"},
		{"tokens", "{ partners { nodes { " + strings.Repeat("name ", 300) + "} } }", "the number of tokens in the document is 201, over the limit of 200 (PARTNERGRAPH_MAX_TOKENS)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := a.fail(tc.query, map[string]any{"n": 100})
			if e.Extensions["code"] != "LIMIT_EXCEEDED" || !strings.Contains(e.Message, tc.want) {
				t.Errorf("got %q (%v), want LIMIT_EXCEEDED with %q", e.Message, e.Extensions["code"], tc.want)
			}
		})
	}
	// Under every limit, the same shapes run.
	var out map[string]any
	a.query(`{ partners(first: 10) { nodes { links(first: 5) { nodes { type } } } } }`, nil, &out)
	a.query(aliasQuery(5), nil, &out)
	a.query(rootFieldsQuery(3), nil, &out)
}

func TestDefaultLimitsLetTheExplorerQueryRunAndStopABomb(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var out map[string]any
	a.query(server.DefaultQuery, nil, &out)

	// A fragment bomb: each fragment spreads the one below twice, so the
	// expanded document has 2^20 fields; it is measured without expanding.
	var b strings.Builder
	b.WriteString("{ partners(first: 1) { nodes { ...F0 } } }\n")
	for i := range 20 {
		fmt.Fprintf(&b, "fragment F%d on Partner { ...F%d x%d: name ...F%d }\n", i, i+1, i, i+1)
	}
	b.WriteString("fragment F20 on Partner { name }\n")
	e := a.fail(b.String(), nil)
	if e.Extensions["code"] != "LIMIT_EXCEEDED" {
		t.Errorf("fragment bomb: got %q (%v), want LIMIT_EXCEEDED", e.Message, e.Extensions["code"])
	}
	// A fragment cycle is refused by validation.
	e = a.fail(`{ partners(first: 1) { nodes { ...A } } } fragment A on Partner { ...B } fragment B on Partner { ...A }`, nil)
	if e.Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("fragment cycle: got %q (%v), want BAD_USER_INPUT", e.Message, e.Extensions["code"])
	}
}

func TestBatchedOperationsAreRefused(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	body := ` [{"query":"{ partners { totalCount } }"},{"query":"{ partners { totalCount } }"}]`
	res, err := http.Post(a.URL+"/graphql", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "LIMIT_EXCEEDED") || !strings.Contains(string(raw), "1 operation per request") {
		t.Errorf("batch: status %d, body %s; want 400 LIMIT_EXCEEDED naming the limit", res.StatusCode, raw)
	}
	// A single operation after leading white space still runs.
	var out map[string]any
	a.query(" \n{ partners { totalCount } }", nil, &out)
}

func TestIntrospectionCanBeTurnedOff(t *testing.T) {
	on := newAPI(t, "reference", server.Config{})
	var out map[string]any
	on.query(`{ __schema { queryType { name } } }`, nil, &out)

	off := newAPI(t, "reference", server.Config{DisableIntrospection: true})
	e := off.fail(`{ __schema { queryType { name } } }`, nil)
	if e.Extensions["code"] != "FORBIDDEN" || !strings.Contains(e.Message, "PARTNERGRAPH_INTROSPECTION=false") {
		t.Errorf("introspection off: got %q (%v), want an error that names introspection", e.Message, e.Extensions["code"])
	}
	off.query(`{ partners { totalCount __typename } }`, nil, &out)
}

// TestStatementTimeoutEndsABlockedQuery pins the database side of the
// request timeout: a query that waits on a lock is cut by PostgreSQL's
// statement_timeout and reported as LIMIT_EXCEEDED, not as INTERNAL.
func TestStatementTimeoutEndsABlockedQuery(t *testing.T) {
	a := newAPI(t, "reference", server.Config{}, func(pc *pgxpool.Config) {
		pc.ConnConfig.RuntimeParams["statement_timeout"] = "300"
	})
	ctx := context.Background()
	tx, err := a.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0; LOCK TABLE entity IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	e := a.fail(`{ partners { totalCount } }`, nil)
	if e.Extensions["code"] != "LIMIT_EXCEEDED" || !strings.Contains(e.Message, "PARTNERGRAPH_DB_STATEMENT_TIMEOUT") {
		t.Errorf("got %q (%v), want LIMIT_EXCEEDED naming PARTNERGRAPH_DB_STATEMENT_TIMEOUT", e.Message, e.Extensions["code"])
	}
}

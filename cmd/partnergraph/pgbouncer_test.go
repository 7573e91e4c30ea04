package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/pgtest"
)

// TestServeThroughPgBouncerInTransactionMode runs the real binary with
// DATABASE_URL through PgBouncer in transaction pooling mode, the change
// feed and the migrations on DATABASE_LISTEN_URL, both ways an operator
// may have it: a PgBouncer that keeps prepared statements (1.21 or later,
// max_prepared_statements; scripts/pgbouncer-install) with pgx's default
// cache_statement, and Debian 12's 1.18, which cannot, with
// cache_describe. Each migrates, seeds, answers reads (each several
// times, so that a statement prepared on one server connection would be
// missing on the next) and staff writes, and listens.
func TestServeThroughPgBouncerInTransactionMode(t *testing.T) {
	var answers []string
	for _, c := range []struct {
		name     string
		bouncer  func(testing.TB) *pgtest.PgBouncer
		env      []string
		prepared bool
	}{
		{"prepared statements", pgtest.NewPgBouncer, nil, true},
		{"without prepared statements", pgtest.NewPgBouncerWithoutPreparedStatements, []string{"PARTNERGRAPH_DB_EXEC_MODE=cache_describe"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := serveThroughPgBouncer(t, c.bouncer(t), c.env, c.prepared)
			// Both ways read the same seeded data: the same answers.
			if answers == nil {
				answers = got
			} else if !slices.Equal(got, answers) {
				t.Errorf("the answers differ between the two ways:\n%s\n%s", strings.Join(answers, "\n"), strings.Join(got, "\n"))
			}
		})
	}
}

// serveThroughPgBouncer runs the binary through bouncer and returns its
// anonymous answers to the reads, as JSON.
func serveThroughPgBouncer(t *testing.T, bouncer *pgtest.PgBouncer, extraEnv []string, prepared bool) (answers []string) {
	direct := pgtest.NewDB(t, "empty")
	cfg, err := pgx.ParseConfig(direct)
	if err != nil {
		t.Fatal(err)
	}
	db := cfg.Database
	p := start(t, append([]string{"DATABASE_URL=" + bouncer.ConnString(db), "DATABASE_LISTEN_URL=" + direct}, extraEnv...)...)
	defer p.stop(t)

	var out bytes.Buffer
	if err := run(t.Context(), []string{"token", "create", "--name", "Ewa", "--role", "editor"},
		env(map[string]string{"DATABASE_URL": direct}), &out); err != nil {
		t.Fatal(err)
	}
	token := secretPattern.FindString(out.String())

	post := func(token, query string, vars map[string]any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var r struct {
			Data   map[string]any `json:"data"`
			Errors []any          `json:"errors"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || res.StatusCode != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("%s: %d %s", query, res.StatusCode, raw)
		}
		return r.Data
	}
	reads := []string{
		`{ projects(first: 5) { totalCount nodes { name partners { nodes { name sector } } } } }`,
		`{ cooperatives(first: 10) { totalCount nodes { name summary } } }`,
		`{ search(query: "spółdzielnia", first: 5) { totalCount nodes { __typename } } }`,
		`{ entityByKey(key: "kooperativet-kos") { name ... on ForeignExample { id } } }`,
	}
	for i := range 3 {
		for _, q := range reads {
			a := post("", q, nil)
			post(token, q, nil)
			if i == 0 {
				raw, _ := json.Marshal(a)
				answers = append(answers, string(raw))
			}
		}
	}
	const read = `{ entityByKey(key: "spoldzielnia-socjalna-rowne-szanse") { ... on Cooperative { id summary } } }`
	id := post(token, read, nil)["entityByKey"].(map[string]any)["id"].(string)
	for i, s := range []string{"Through PgBouncer, once.", "Through PgBouncer, twice."} {
		post(token, `mutation($id: ID!, $s: String) { updateCooperative(id: $id, input: {summary: $s}) { id } }`,
			map[string]any{"id": id, "s": s})
		for _, tok := range []string{token, ""} {
			got := post(tok, read, nil)["entityByKey"].(map[string]any)["summary"]
			if got != s {
				t.Errorf("write %d read back as %q, want %q", i, got, s)
			}
		}
	}

	time.Sleep(1100 * time.Millisecond) // PgBouncer's statistics period
	st, err := bouncer.Stats(t.Context(), db)
	if n := st["total_xact_count"]; err != nil || n < 20 {
		t.Errorf("PgBouncer passed %d transactions (%v): the API did not go through it", n, err)
	}
	// With prepared statements, PgBouncer prepares each statement once per
	// server connection and the executions reuse it: far more executions
	// of prepared statements than preparations on the server.
	if binds, parses := st["total_bind_count"], st["total_server_parse_count"]; prepared && (binds < 100 || binds < 3*parses) {
		t.Errorf("through PgBouncer %d executions of prepared statements, %d preparations on the server: the statements are not kept", binds, parses)
	}
	// The change feed listens on the direct connection, not through
	// PgBouncer (where the LISTEN would be lost with the transaction).
	conn, err := pgx.Connect(t.Context(), direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var listening int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = $1 AND query LIKE 'LISTEN %' AND application_name <> 'pgbouncer'`, db).Scan(&listening); err != nil {
		t.Fatal(err)
	}
	if listening == 0 {
		t.Error("no session LISTENs on the direct connection")
	}
	if strings.Contains(out.String(), "ERROR") {
		t.Error(out.String())
	}
	return answers
}

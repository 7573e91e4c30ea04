package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestMutationCancelledByItsClientIsNoError: a mutation whose client goes
// away while it waits (here for a lock) is rolled back and logged as a
// request its client cancelled, not as an INTERNAL error: nothing is
// wrong with the server, and an ERROR line would page an operator.
func TestMutationCancelledByItsClientIsNoError(t *testing.T) {
	a, logs := cancellingAPI(t)
	editor := a.newToken("cancelling editor", kb.RoleEditor)
	ctx := context.Background()
	tx, err := a.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `LOCK TABLE entity IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	const name = "Spółdzielnia Socjalna Porzucona"
	body, _ := json.Marshal(map[string]any{"query": `mutation { createCooperative(input: {name: "` + name +
		`", status: INITIATIVE_GROUP, country: "PL"}) { id } }`})
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+editor)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the mutation answered %d while the table was locked", res.StatusCode)
	}
	// The server sees the client go, cancels the statement and answers
	// nobody; its log lines follow shortly.
	recs := linesOnceLogged(t, logs, "request failed", tx)
	for _, r := range recs {
		if r["level"] == "ERROR" {
			t.Errorf("an ERROR line for a request its client cancelled: %v", r)
		}
	}
	failed := withMessage(recs, "request failed")
	if len(failed) != 1 || failed[0]["codes"] != "CANCELLED=1" || failed[0]["level"] != "INFO" {
		t.Errorf("request failed lines %v; want one at INFO with codes CANCELLED=1", failed)
	}
	var n int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM entity WHERE name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d entries stored by the cancelled mutation, want 0", n)
	}
}

// TestExportAndTokenCheckCancelledByTheirClientAreNoWarning: outside
// GraphQL too, a request whose client goes away while its statement waits
// (here for a lock) is logged at INFO as cancelled by its client, with
// the code CANCELLED, as TestMutationCancelledByItsClientIsNoError shows
// for the GraphQL path: not at WARN as "database unavailable" (how the
// store reports a cancelled statement), nor as an error. Both the token
// check of a request with a token and an export are cut this way.
func TestExportAndTokenCheckCancelledByTheirClientAreNoWarning(t *testing.T) {
	a, logs := cancellingAPI(t)
	reader := a.newToken("cancelling reader", kb.RoleReader)
	ctx := context.Background()
	for _, c := range []struct{ name, lock, token string }{
		{"token check", "api_token", reader},
		{"export", "entity", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			logs.mu.Lock()
			logs.buf.Reset()
			logs.mu.Unlock()
			tx, err := a.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx) //nolint:errcheck
			if _, err := tx.Exec(ctx, `LOCK TABLE `+c.lock+` IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(cctx, http.MethodGet, a.URL+"/export?format=graphml", nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				t.Fatalf("answered %d while %s was locked", res.StatusCode, c.lock)
			}
			recs := linesOnceLogged(t, logs, "request cancelled by its client", tx)
			for _, r := range recs {
				if r["level"] == "WARN" || r["level"] == "ERROR" {
					t.Errorf("a %s line for a request its client cancelled: %v", r["level"], r)
				}
			}
			got := withMessage(recs, "request cancelled by its client")
			if len(got) != 1 || got[0]["level"] != "INFO" || got[0]["code"] != "CANCELLED" {
				t.Errorf("cancelled lines %v; want one at INFO with code CANCELLED", got)
			}
		})
	}
}

// linesOnceLogged waits (up to 3 s) for a line with msg in logs, then a
// little for the lines that follow it, ends tx (which held the lock the
// request waited for) and returns every line.
func linesOnceLogged(t *testing.T, logs *logBuffer, msg string, tx pgx.Tx) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && len(withMessage(logs.lines(t), msg)) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	return logs.lines(t)
}

// cancellingAPI serves the reference data with its log lines in logs and
// statements cancelled as soon as their request's context ends.
func cancellingAPI(t *testing.T) (*api, *logBuffer) {
	logs := &logBuffer{}
	return newAPI(t, "reference", server.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))},
		store.CancelStatementsWithContext), logs
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestMutationCancelledByItsClientIsNoError: a mutation whose client goes
// away while it waits (here for a lock) is rolled back and logged as a
// request its client cancelled, not as an INTERNAL error: nothing is
// wrong with the server, and an ERROR line would page an operator.
func TestMutationCancelledByItsClientIsNoError(t *testing.T) {
	logs := &logBuffer{}
	a := newAPI(t, "reference", server.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))},
		store.CancelStatementsWithContext)
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
	deadline := time.Now().Add(3 * time.Second)
	var cancelled []map[string]any
	for time.Now().Before(deadline) {
		if cancelled = withMessage(logs.lines(t), "request failed"); len(cancelled) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	recs := logs.lines(t)
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

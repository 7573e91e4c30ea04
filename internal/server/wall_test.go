package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// logBuffer is a slog handler's output, safe to read while the server
// writes to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the JSON log records written so far.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func withMessage(recs []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// postRaw posts a query and returns the status, the content type and the
// decoded response.
func postRaw(t *testing.T, url, query string) (int, string, response) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	res, err := http.Post(url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response is not JSON (%d): %s", res.StatusCode, raw)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), r
}

// TestRequestTimeoutCancelsTheStatement: a request whose statement waits
// (a lock held by another transaction, a real slow query) past the request
// timeout gets a JSON LIMIT_EXCEEDED naming PARTNERGRAPH_REQUEST_TIMEOUT
// with 503, its statement is cancelled on the server at once (not left to
// the statement timeout: store.CancelStatementsWithContext, as serve sets
// it), and nothing of it logs after the answer but its
// access log line and its one error line.
func TestRequestTimeoutCancelsTheStatement(t *testing.T) {
	logs := &logBuffer{}
	a := newAPI(t, "reference", server.Config{RequestTimeout: 300 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))}, store.CancelStatementsWithContext, func(pc *pgxpool.Config) {
		pc.ConnConfig.RuntimeParams["application_name"] = "api-under-test"
	})
	ctx := context.Background()
	tx, err := a.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `LOCK TABLE entity IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, ctype, r := postRaw(t, a.URL, `{ partners(first: 5) { nodes { name } } }`)
	took := time.Since(start)
	if status != http.StatusServiceUnavailable || !strings.HasPrefix(ctype, "application/json") || len(r.Errors) != 1 ||
		r.Errors[0].Extensions["code"] != "LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "PARTNERGRAPH_REQUEST_TIMEOUT") {
		t.Fatalf("got %d %s %+v; want 503 JSON with one LIMIT_EXCEEDED naming PARTNERGRAPH_REQUEST_TIMEOUT", status, ctype, r.Errors)
	}
	if took > 2*time.Second {
		t.Errorf("the answer took %s for a timeout of 300ms", took)
	}
	// The statement is gone from the server shortly after the answer,
	// while the lock it waited for is still held.
	var active []string
	deadline := time.Now().Add(2 * time.Second)
	for {
		rows, err := tx.Query(ctx, `SELECT query FROM pg_stat_activity
			WHERE application_name = 'api-under-test' AND state = 'active' AND pid <> pg_backend_pid()`)
		if err != nil {
			t.Fatal(err)
		}
		if active, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
		if len(active) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(active) != 0 {
		t.Errorf("statements of the API still running 2s after the answer: %q", active)
	}
	// Nothing of the request logs after its answer: its access line and
	// one error line, then silence.
	time.Sleep(300 * time.Millisecond)
	recs := logs.lines(t)
	if n := len(withMessage(recs, "request")); n != 1 {
		t.Errorf("%d access log lines, want 1", n)
	}
	failed := withMessage(recs, "request failed")
	if len(failed) != 1 || failed[0]["codes"] != "LIMIT_EXCEEDED=1" {
		t.Errorf("request failed lines: %v; want one with codes LIMIT_EXCEEDED=1", failed)
	}
	if len(recs) != 2 {
		t.Errorf("log lines: %v; want the access line and the error line only", recs)
	}
}

// TestSecondWallStopsARequest: past the row limit or the answer's size
// limit, whatever the cost estimate allowed, the request fails with one
// LIMIT_EXCEEDED naming the setting and no data; under them the same
// request runs.
func TestSecondWallStopsARequest(t *testing.T) {
	const query = `{ partners(first: 100) { nodes { name summary cooperatives { nodes { name } } } } }`
	for _, tc := range []struct {
		name    string
		cfg     server.Config
		setting string
	}{
		{"rows", server.Config{MaxRows: 5}, "PARTNERGRAPH_MAX_ROWS"},
		{"bytes", server.Config{MaxResponseBytes: 300}, "PARTNERGRAPH_MAX_RESPONSE_BYTES"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			tc.cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
			a := newAPI(t, "reference", tc.cfg)
			status, _, r := postRaw(t, a.URL, query)
			if status != http.StatusUnprocessableEntity || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "LIMIT_EXCEEDED" ||
				r.Errors[0].Extensions["setting"] != tc.setting || !strings.Contains(r.Errors[0].Message, tc.setting) {
				t.Fatalf("got %d %+v; want 422 with one LIMIT_EXCEEDED naming %s", status, r.Errors, tc.setting)
			}
			if string(r.Data) != "null" {
				t.Errorf("data %s, want null", r.Data)
			}
			if failed := withMessage(logs.lines(t), "request failed"); len(failed) != 1 {
				t.Errorf("request failed lines: %v; want one", failed)
			}
		})
	}
	var out map[string]any
	newAPI(t, "reference", server.Config{}).query(query, nil, &out)
}

// TestOneLogLinePerFailedRequest: a list whose every item fails the same
// way logs one line for the request, with its ID, operation, codes and
// count, not one per item.
func TestOneLogLinePerFailedRequest(t *testing.T) {
	logs := &logBuffer{}
	a := newAPI(t, "reference", server.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	// A real failure of every partner's citations: their table is gone.
	if _, err := a.Pool.Exec(context.Background(), `ALTER TABLE citation RENAME TO citation_gone`); err != nil {
		t.Fatal(err)
	}
	_, r := a.post(`query Broken { partners(first: 100) { nodes { name sources { locator } } } }`, nil)
	if len(r.Errors) < 5 {
		t.Fatalf("%d errors, want one per partner (at least 5)", len(r.Errors))
	}
	recs := logs.lines(t)
	if n := len(withMessage(recs, "internal error")); n != 0 {
		t.Errorf("%d internal error lines, want none (one request line instead)", n)
	}
	failed := withMessage(recs, "request failed")
	if len(failed) != 1 {
		t.Fatalf("request failed lines: %v; want 1", failed)
	}
	f := failed[0]
	want := "INTERNAL=" + strconv.Itoa(len(r.Errors))
	if f["level"] != "ERROR" || f["operation"] != "Broken" || f["codes"] != want || f["errors"] != float64(len(r.Errors)) ||
		f["request_id"] == "" || !strings.Contains(f["first"].(string), "citation") {
		t.Errorf("request failed line %v; want level ERROR, operation Broken, codes %s, a request ID and the first error", f, want)
	}
}

// TestSecondWallChargesAWalksLists: the nodes and links of a walk, written
// in one pass (graph/walklist.go), charge the budget their whole size, so
// that a neighbourhood larger than the answer limit is stopped as any
// other answer is.
func TestSecondWallChargesAWalksLists(t *testing.T) {
	const query = `query($id: ID!) { neighborhood(id: $id, depth: 2) { nodes { id kind name } links { id type direction } } }`
	a := newAPI(t, "reference", server.Config{})
	vars := map[string]any{"id": idOf(a, "wtz-gebice")}
	status, whole := a.post(query, vars)
	if status != http.StatusOK || len(whole.Errors) > 0 || len(whole.Data) < 1000 {
		t.Fatalf("without a limit: %d %+v, %d bytes; want 200 and more than 1,000 bytes", status, whole.Errors, len(whole.Data))
	}
	b := newAPI(t, "reference", server.Config{MaxResponseBytes: int64(len(whole.Data)) / 2})
	status, r := b.post(query, map[string]any{"id": idOf(b, "wtz-gebice")})
	if status != http.StatusUnprocessableEntity || len(r.Errors) != 1 || r.Errors[0].Extensions["setting"] != "PARTNERGRAPH_MAX_RESPONSE_BYTES" {
		t.Fatalf("with a limit of half the answer (%d bytes): %d %+v; want 422 naming PARTNERGRAPH_MAX_RESPONSE_BYTES", len(whole.Data)/2, status, r.Errors)
	}
}

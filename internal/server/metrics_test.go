package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/server"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMetricsAndLogsNameOperationsOutcomesAndCodes(t *testing.T) {
	var logs syncBuffer
	a := newAPI(t, "reference", server.Config{
		Logger:    slog.New(slog.NewJSONHandler(&logs, nil)),
		Limits:    server.Limits{MaxDepth: 3},
		RateLimit: server.RateLimit{Rate: 0.01, Burst: 3},
	})
	var out map[string]any
	a.query(`query Partners { partners { totalCount } }`, nil, &out)
	a.fail(`query TooDeep { partners { nodes { links { nodes { type } } } } }`, nil)
	a.fail(`query Broken { nope }`, nil)
	if status, _, _ := a.hit(""); status != http.StatusTooManyRequests {
		t.Fatalf("fourth request: %d, want 429", status)
	}

	res, err := http.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	body := string(raw)
	for _, want := range []string{
		`partnergraph_graphql_operations_total{operation="Partners",outcome="ok"} 1`,
		`partnergraph_graphql_operations_total{operation="TooDeep",outcome="error"} 1`,
		`partnergraph_graphql_errors_total{code="LIMIT_EXCEEDED"} 1`,
		`partnergraph_graphql_errors_total{code="BAD_USER_INPUT"} 1`,
		`partnergraph_graphql_operation_duration_seconds_bucket{operation="Partners",le="+Inf"} 1`,
		`partnergraph_rate_limited_total{by="address"} 1`,
		`partnergraph_http_requests_total{path="/graphql",status="429"} 1`,
		`partnergraph_db_pool_max_connections `,
		`partnergraph_db_pool_acquires_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	found := false
	for _, line := range strings.Split(logs.String(), "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil || l["msg"] != "request" {
			continue
		}
		if l["operation"] == "Partners" && l["request_id"] != "" && l["status"] == float64(200) {
			found = true
		}
	}
	if !found {
		t.Errorf("no JSON access log line with the operation name and a request ID:\n%s", logs.String())
	}
}

// TestAccessLogSamplesTheRequestsThatWentWell: with a sample of one in
// three, the access log writes the first, fourth and seventh of seven
// good requests, and every failed one (an answer with errors, an HTTP
// error), one line each; with a slow threshold every request past it.
func TestAccessLogSamplesTheRequestsThatWentWell(t *testing.T) {
	accessLines := func(logs *logBuffer) (ok, failed int) {
		for _, l := range withMessage(logs.lines(t), "request") {
			if l["path"] != "/graphql" {
				continue
			}
			if l["operation"] == "Good" {
				ok++
			} else {
				failed++
			}
		}
		return ok, failed
	}
	var logs logBuffer
	a := newAPI(t, "reference", server.Config{
		Logger:    slog.New(slog.NewJSONHandler(&logs, nil)),
		AccessLog: server.AccessLog{Sample: 3},
	})
	var out map[string]any
	for i := range 7 {
		a.query(`query Good { partners(first: 1) { totalCount } }`, nil, &out)
		if i == 2 {
			a.fail(`query Broken { nope }`, nil)
			a.fail(`query Missing($id: ID!) { node(id: $id) { id } }`, nil)
		}
	}
	if ok, failed := accessLines(&logs); ok != 3 || failed != 2 {
		t.Errorf("access lines: %d good, %d failed; want 3 and 2", ok, failed)
	}

	var slow logBuffer
	a = newAPI(t, "reference", server.Config{
		Logger:    slog.New(slog.NewJSONHandler(&slow, nil)),
		AccessLog: server.AccessLog{Sample: -1, Slow: time.Nanosecond},
	})
	for range 4 {
		a.query(`query Good { partners(first: 1) { totalCount } }`, nil, &out)
	}
	if ok, _ := accessLines(&slow); ok != 4 {
		t.Errorf("%d access lines for 4 requests past the slow threshold, want 4", ok)
	}

	var none logBuffer
	a = newAPI(t, "reference", server.Config{
		Logger:    slog.New(slog.NewJSONHandler(&none, nil)),
		AccessLog: server.AccessLog{Sample: -1},
	})
	a.query(`query Good { partners(first: 1) { totalCount } }`, nil, &out)
	a.fail(`query Broken { nope }`, nil)
	if ok, failed := accessLines(&none); ok != 0 || failed != 1 {
		t.Errorf("access lines with no sample: %d good, %d failed; want 0 and 1", ok, failed)
	}
}

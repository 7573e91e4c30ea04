package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// hit posts a small query with token ("" for none) and returns the status,
// the Retry-After header and the body.
func (a *api) hit(token string) (int, string, string) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": "{ partners { totalCount } }"})
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Retry-After"), string(raw)
}

// The rates are so slow (one request per 100 s) that no bucket refills
// during the test: what passes is exactly the burst.
func TestRateLimitPerAddressAndPerToken(t *testing.T) {
	a := newAPI(t, "reference", server.Config{RateLimit: server.RateLimit{Rate: 0.01, Burst: 2, StaffRate: 0.01, StaffBurst: 4}})
	reader := a.newToken("rate reader", kb.RoleReader)
	editor := a.newToken("rate editor", kb.RoleEditor)

	for i := range 2 {
		if status, _, body := a.hit(""); status != http.StatusOK {
			t.Fatalf("anonymous request %d: %d %s, want 200 within the burst", i+1, status, body)
		}
	}
	status, retry, body := a.hit("")
	if secs, _ := strconv.Atoi(retry); status != http.StatusTooManyRequests || secs < 1 || secs > 100 ||
		!strings.Contains(body, "LIMIT_EXCEEDED") || !strings.Contains(body, "PARTNERGRAPH_RATE_LIMIT") {
		t.Errorf("anonymous over the burst: %d, Retry-After %q, %s; want 429 LIMIT_EXCEEDED with Retry-After 1..100", status, retry, body)
	}

	// A token has its own bucket, whatever address it comes from.
	for i := range 2 {
		if status, _, body := a.hit(reader); status != http.StatusOK {
			t.Fatalf("reader request %d: %d %s, want 200", i+1, status, body)
		}
	}
	if status, retry, _ := a.hit(reader); status != http.StatusTooManyRequests || retry == "" {
		t.Errorf("reader over the burst: %d, Retry-After %q; want 429", status, retry)
	}

	// Staff have their own burst.
	for i := range 4 {
		if status, _, body := a.hit(editor); status != http.StatusOK {
			t.Fatalf("editor request %d: %d %s, want 200 within the staff burst", i+1, status, body)
		}
	}
	if status, _, body := a.hit(editor); status != http.StatusTooManyRequests || !strings.Contains(body, "PARTNERGRAPH_STAFF_RATE_LIMIT") {
		t.Errorf("editor over the staff burst: %d %s; want 429 naming PARTNERGRAPH_STAFF_RATE_LIMIT", status, body)
	}
}

// Guessing tokens is held to the anonymous rate of the address: a refused
// token costs the address a request, and past the burst the answer is 429,
// not another 401 to learn from.
func TestRefusedTokensCountAgainstTheAddress(t *testing.T) {
	a := newAPI(t, "reference", server.Config{RateLimit: server.RateLimit{Rate: 0.01, Burst: 3, StaffRate: 0.01, StaffBurst: 3}})
	guess := "pgr_" + strings.Repeat("A", 43)
	for i := range 3 {
		if status, _, body := a.hit(guess); status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s, want 401 within the burst", i+1, status, body)
		}
	}
	if status, retry, body := a.hit(guess); status != http.StatusTooManyRequests || retry == "" {
		t.Errorf("guess over the burst: %d, Retry-After %q, %s; want 429", status, retry, body)
	}
	if status, _, _ := a.hit(""); status != http.StatusTooManyRequests {
		t.Errorf("an anonymous request from the guessing address: %d, want 429 (same bucket)", status)
	}
}

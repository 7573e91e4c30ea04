package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// hit posts a small query with token ("" for none) and returns the status,
// the Retry-After header and the body.
func (a *api) hit(token string) (int, string, string) {
	a.t.Helper()
	return a.spend(token, "{ partners { totalCount } }", true)
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

// spend sends query with token ("" for none), executed unless cached is
// true (Cache-Control: no-cache otherwise), and returns the status, the
// Retry-After header and the body.
func (a *api) spend(token, query string, cached bool) (int, string, string) {
	a.t.Helper()
	var headers map[string]string
	if !cached {
		headers = map[string]string{"Cache-Control": "no-cache"}
	}
	status, h, raw := a.send(token, query, nil, headers)
	return status, h.Get("Retry-After"), string(raw)
}

// Each token or address spends the estimated cost of its operations from a
// bucket of its own (docs/api.md, "Cost rate"). The rates are so slow that
// no bucket refills during the test: what passes is exactly the burst.
func TestCostRatePerClient(t *testing.T) {
	a := newAPI(t, "reference", server.Config{
		RateLimit: server.RateLimit{Rate: 1000, Burst: 1000,
			CostRate: 0.01, CostBurst: 5000, StaffCostRate: 0.01, StaffCostBurst: 9000},
		ResponseCache: server.DefaultResponseCache,
	})
	reader := a.newToken("cost reader", kb.RoleReader)
	editor := a.newToken("cost editor", kb.RoleEditor)
	// 2,201 (docs/api.md, "Query cost"): two fit in the anonymous burst,
	// four in the staff one.
	const q = `{ partners(first: 100) { nodes { links(first: 10) { nodes { type } } } } }`

	// The first answer is kept by the response cache; the same query
	// answered from it again spends nothing.
	for i := range 2 {
		if status, _, body := a.spend("", q, true); status != http.StatusOK || strings.Contains(body, `"errors"`) {
			t.Fatalf("anonymous query %d, cache allowed: %d %s, want 200", i+1, status, body)
		}
	}
	if status, _, body := a.spend("", q, false); status != http.StatusOK || strings.Contains(body, `"errors"`) {
		t.Fatalf("anonymous query executed again: %d %s, want 200 within the cost burst", status, body)
	}
	status, retry, body := a.spend("", q, false)
	if secs, _ := strconv.Atoi(retry); status != http.StatusTooManyRequests || secs < 1 ||
		!strings.Contains(body, `"code":"LIMIT_EXCEEDED"`) || !strings.Contains(body, "PARTNERGRAPH_COST_RATE") ||
		!strings.Contains(body, "estimated cost is 2201") || !strings.Contains(body, `"data":null`) {
		t.Errorf("anonymous over its cost burst: %d, Retry-After %q, %s; want 429 LIMIT_EXCEEDED naming the cost and "+
			"PARTNERGRAPH_COST_RATE, with Retry-After and no data", status, retry, body)
	}
	// From the cache it is still answered: it runs nothing.
	if status, _, body := a.spend("", q, true); status != http.StatusOK || strings.Contains(body, `"errors"`) {
		t.Errorf("the same query from the response cache, its bucket empty: %d %s, want 200", status, body)
	}
	// A cheap query needs less than what is left (598): it still passes.
	if status, _, body := a.spend("", `{ partners(first: 5) { nodes { id } } }`, false); status != http.StatusOK {
		t.Errorf("a cheap anonymous query after the refusal: %d %s, want 200", status, body)
	}

	// A token has its own bucket, whatever address it comes from.
	for i := range 2 {
		if status, _, body := a.spend(reader, q, false); status != http.StatusOK {
			t.Fatalf("reader query %d: %d %s, want 200", i+1, status, body)
		}
	}
	if status, retry, _ := a.spend(reader, q, false); status != http.StatusTooManyRequests || retry == "" {
		t.Errorf("reader over its cost burst: %d, Retry-After %q; want 429", status, retry)
	}

	// Staff have their own rate.
	for i := range 4 {
		if status, _, body := a.spend(editor, q, false); status != http.StatusOK {
			t.Fatalf("editor query %d: %d %s, want 200 within the staff cost burst", i+1, status, body)
		}
	}
	if status, _, body := a.spend(editor, q, false); status != http.StatusTooManyRequests || !strings.Contains(body, "PARTNERGRAPH_STAFF_COST_RATE") {
		t.Errorf("editor over the staff cost burst: %d %s; want 429 naming PARTNERGRAPH_STAFF_COST_RATE", status, body)
	}

	// An operation that costs more than a whole burst never passes, and
	// the error says which setting stands in the way.
	fresh := a.newToken("cost fresh", kb.RoleReader)
	big := `{ partners(first: 100) { nodes { links(first: 30) { nodes { type } } } } }`
	if status, _, body := a.spend(fresh, big, false); status != http.StatusTooManyRequests || !strings.Contains(body, "PARTNERGRAPH_COST_BURST") {
		t.Errorf("a query over the cost burst: %d %s; want 429 naming PARTNERGRAPH_COST_BURST", status, body)
	}
}

// Refused operations run nothing: a mutation refused for its client's cost
// rate leaves the knowledge base as it was.
func TestCostRateRefusalRunsNothing(t *testing.T) {
	a := newAPI(t, "reference", server.Config{
		RateLimit: server.RateLimit{Rate: 1000, Burst: 1000, CostRate: 0.01, CostBurst: 2201},
	})
	editor := a.newToken("cost editor", kb.RoleEditor)
	if status, _, body := a.spend(editor, `{ partners(first: 100) { nodes { links(first: 10) { nodes { type } } } } }`, false); status != http.StatusOK {
		t.Fatalf("first query: %d %s", status, body)
	}
	create := `mutation { createPartner(input: {name: "Refused by cost", partnerKind: ASSOCIATION, sector: SOCIAL}) { id } }`
	if status, _, body := a.spend(editor, create, false); status != http.StatusTooManyRequests {
		t.Fatalf("mutation over the cost burst: %d %s, want 429", status, body)
	}
	_, _, body := a.spend("", `{ partners(filter: {name: "Refused by cost"}) { totalCount } }`, false)
	if !strings.Contains(body, `"totalCount":0`) {
		t.Errorf("the refused mutation wrote: %s", body)
	}
}

// A client that has spent more than half of its cost burst runs its
// queries as heavy ones (docs/api.md, "Cost rate"): behind the gate's
// slots, while other clients' light queries go on at once; and an
// operation over its client's cost rate is refused before it takes or
// waits for a slot.
func TestAClientOverItsShareRunsAsHeavy(t *testing.T) {
	a := newAPI(t, "reference", server.Config{
		RateLimit: server.RateLimit{Rate: 1000, Burst: 1000,
			CostRate: 0.01, CostBurst: 5000, StaffCostRate: 0.01, StaffCostBurst: 9000},
		// q (2,201) is light, big (6,201) heavy.
		Heavy: server.Heavy{Cost: 6000, Concurrency: 1, Queue: 4, Wait: 300 * time.Millisecond},
		// A query let through as a light one would wait for the lock
		// below: cut it rather than hang the test.
		RequestTimeout: 5 * time.Second,
	})
	g := &gated{url: a.URL, pool: a.Pool}
	const (
		q   = `{ partners(first: 100) { nodes { links(first: 10) { nodes { type } } } } }`
		big = `{ partners(first: 100) { nodes { links(first: 30) { nodes { type } } } } }`
	)
	spender, other, greedy := a.newToken("over share", kb.RoleReader), a.newToken("within share", kb.RoleReader),
		a.newToken("over burst", kb.RoleReader)
	editor := a.newToken("heavy editor", kb.RoleEditor)

	// 5,000 → 2,799 left: more than half, light.
	if status, _, body := a.spend(spender, q, false); status != http.StatusOK {
		t.Fatalf("first query: %d %s", status, body)
	}
	if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="over_share"}`); got != "0" {
		t.Fatalf("over_share after a query within the share: %s, want 0", got)
	}

	// An editor's heavy query holds the gate's one slot, waiting for the
	// entity table.
	release := g.lockEntities(t)
	heavyDone := make(chan int, 1)
	go func() {
		status, _, _ := a.spend(editor, big, false)
		heavyDone <- status
	}()
	until(t, "the heavy query holds the slot", func() bool { return g.metric(t, "partnergraph_heavy_queries_running") == "1" })

	// The spender's second query (598 left: under half) waits for the slot
	// as a heavy one, and is refused past the gate's wait, its message
	// saying why a light query was heavy.
	start := time.Now()
	status, retry, body := a.spend(spender, q, false)
	if status != http.StatusTooManyRequests || retry == "" || !strings.Contains(body, "PARTNERGRAPH_HEAVY_WAIT") ||
		!strings.Contains(body, "PARTNERGRAPH_COST_BURST") || time.Since(start) < 300*time.Millisecond {
		t.Errorf("a query of a client over its share, the slot taken: %d, Retry-After %q, after %v: %s; "+
			"want 429 after the gate's wait, naming PARTNERGRAPH_HEAVY_WAIT and PARTNERGRAPH_COST_BURST", status, retry, time.Since(start), body)
	}
	// Another client's light query is answered meanwhile.
	if status, _, body := a.spend(other, `{ __typename }`, false); status != http.StatusOK {
		t.Errorf("a light query of a client within its share, the slot taken: %d %s, want 200 at once", status, body)
	}
	// Over its client's whole burst, a heavy query is refused by the cost
	// rate at once, without waiting for the slot.
	start = time.Now()
	status, _, body = a.spend(greedy, big, false)
	if status != http.StatusTooManyRequests || !strings.Contains(body, "PARTNERGRAPH_COST_BURST") ||
		strings.Contains(body, "PARTNERGRAPH_HEAVY") || time.Since(start) >= 300*time.Millisecond {
		t.Errorf("a heavy query over its client's cost burst, the slot taken: %d after %v: %s; "+
			"want 429 naming PARTNERGRAPH_COST_BURST at once, before the gate", status, time.Since(start), body)
	}

	release()
	if status := <-heavyDone; status != http.StatusOK {
		t.Errorf("the editor's heavy query: %d, want 200", status)
	}
	for outcome, want := range map[string]string{"over_share": "1", "admitted": "1", "refused": "1", "queued": "0"} {
		if got := g.metric(t, `partnergraph_heavy_queries_total{outcome="`+outcome+`"}`); got != want {
			t.Errorf("heavy_queries_total{outcome=%q} = %s, want %s", outcome, got, want)
		}
	}
}

package server_test

import (
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/server"
)

// fairQuery reads the entity table, which the tests hold, and has a few
// resolvers to pause before.
const fairQuery = `{ goodPractices(first: 5) { nodes { id name } } }`

// busyUntilOver sends fairQuery as from, back to back, until the server
// has counted n of its requests over its client's share: well over it,
// for the busy time decays.
func busyUntilOver(t *testing.T, g *gated, from string, n int) {
	t.Helper()
	for i := 0; ; i++ {
		if over, _ := strconv.Atoi(g.metric(t, `partnergraph_fair_turns_total{turn="over"}`)); over >= n {
			return
		}
		if i == 1000 {
			t.Fatal("1,000 requests back to back and the client is still within its share")
		}
		if a := g.postAs(t, fairQuery, from); a.status != http.StatusOK || len(a.Errors) > 0 {
			t.Fatalf("%d %+v", a.status, a.Errors)
		}
	}
}

// TestAClientOverItsShareYieldsToOthers: a client that sent requests back
// to back is over its share; while a request of another client waits in
// the database, its next query pauses before its resolvers and its
// statement, a pause at a time, and its statement then goes to the pool of
// heavy reads rather than taking one of the API pool's connections. Both
// answer once the table is free, and the metrics count the turns and the
// pauses.
func TestAClientOverItsShareYieldsToOthers(t *testing.T) {
	g := newGatedConfig(t, server.Config{
		// The other client's query must not outgrow the share before it
		// reaches the table: a share of 0.1 s, and a busy client's 40
		// requests past it, about a second's decay above it.
		Fair:           server.Fair{Share: 100 * time.Millisecond, Wait: time.Minute},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	busyUntilOver(t, g, "10.0.0.1", 40)

	release := g.lockEntities(t)
	answers := make(chan answer, 2)
	go func() { answers <- g.postAs(t, fairQuery, "10.0.0.2") }()
	until(t, "the other client's query waits for the table", func() bool {
		return slices.Equal(g.blocked(t), []string{"partnergraph-test"})
	})
	go func() { answers <- g.postAs(t, fairQuery, "10.0.0.1") }()
	until(t, "the busy client's query waits for the table on the pool of heavy reads", func() bool {
		return slices.Equal(g.blocked(t), []string{heavyApp, "partnergraph-test"})
	})
	// It paused at least before it was parsed and before its statement,
	// each time for a whole pause: the other query ran all along.
	paused, err := strconv.ParseFloat(g.metric(t, "partnergraph_fair_paused_seconds_total"), 64)
	if err != nil || paused < 0.04 {
		t.Errorf("paused %v s (%v), want two whole pauses of 20 ms at least", paused, err)
	}
	release()
	for range 2 {
		if a := <-answers; a.status != http.StatusOK || len(a.Errors) > 0 || !strings.Contains(string(a.Data), `"goodPractices"`) {
			t.Errorf("%d %s %+v", a.status, a.Data, a.Errors)
		}
	}
	if got := g.metric(t, `partnergraph_fair_turns_total{turn="within"}`); got == "0" {
		t.Error("no request counted within its client's share")
	}
}

// TestFairTurnsOff: with PARTNERGRAPH_FAIR_SHARE=0 (Share -1) a busy
// client's query goes to the API's pool at once, whoever else waits, and
// nothing is counted.
func TestFairTurnsOff(t *testing.T) {
	g := newGatedConfig(t, server.Config{
		Fair:           server.Fair{Share: -1},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	for range 20 {
		if a := g.postAs(t, fairQuery, "10.0.0.1"); a.status != http.StatusOK || len(a.Errors) > 0 {
			t.Fatalf("%d %+v", a.status, a.Errors)
		}
	}
	release := g.lockEntities(t)
	answers := make(chan answer, 2)
	go func() { answers <- g.postAs(t, fairQuery, "10.0.0.2") }()
	go func() { answers <- g.postAs(t, fairQuery, "10.0.0.1") }()
	until(t, "both queries wait for the table on the API's pool", func() bool {
		return slices.Equal(g.blocked(t), []string{"partnergraph-test", "partnergraph-test"})
	})
	release()
	for range 2 {
		if a := <-answers; a.status != http.StatusOK || len(a.Errors) > 0 {
			t.Errorf("%d %+v", a.status, a.Errors)
		}
	}
	for _, turn := range []string{"within", "over", "outgrew"} {
		if got := g.metric(t, `partnergraph_fair_turns_total{turn="`+turn+`"}`); got != "0" {
			t.Errorf("turns %s: %q with the turns off, want 0", turn, got)
		}
	}
}

// TestAnswersFromTheCacheAreNoTurns: an answer from the response cache
// runs nothing, so it neither counts as a turn nor adds to its client's
// busy time.
func TestAnswersFromTheCacheAreNoTurns(t *testing.T) {
	g := newGatedConfig(t, server.Config{
		Fair:           server.Fair{Share: time.Second, Wait: time.Minute},
		ResponseCache:  server.DefaultResponseCache,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	for range 5 {
		if a := g.postAs(t, fairQuery, "10.0.0.1"); a.status != http.StatusOK || len(a.Errors) > 0 {
			t.Fatalf("%d %+v", a.status, a.Errors)
		}
	}
	if hits := g.metric(t, `partnergraph_response_cache_total{result="hit"}`); hits != "4" {
		t.Fatalf("%s answers from the cache, want 4", hits)
	}
	if got := g.metric(t, `partnergraph_fair_turns_total{turn="within"}`); got != "1" {
		t.Errorf("%s turns within their share for one answer run and four from the cache, want 1", got)
	}
}

package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// aheadCounts reads how many questions the server has asked ahead, and
// how many of them a field then asked (loader.Ahead), from /metrics.
func aheadCounts(t *testing.T, a *api) (asked, used int) {
	t.Helper()
	res, err := http.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	value := func(name string) int {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return int(n)
			}
		}
		t.Fatalf("/metrics lacks %s", name)
		return 0
	}
	return value("partnergraph_loader_asked_ahead_total"), value("partnergraph_loader_asked_ahead_used_total")
}

// TestAskAheadReadsTheFirstLevelWithTheRootsRow: an entity read by
// node(id) at the root of an operation has what the fields under it
// asked in the operation's last runs asked with its own row
// (loader.Ahead): a cooperative's page is its row and its first level in
// one round trip from its second run on, for another cooperative too, as
// it answered before. Other variables (a page's size) are another
// operation's, learnt apart; an entity of another kind under the same
// root asks its own; an entity below the root asks nothing ahead.
func TestAskAheadReadsTheFirstLevelWithTheRootsRow(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "reference", server.Config{LoaderWait: 100 * time.Millisecond},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	// A second cooperative, with founders and workshops of its own.
	var coops []int64
	rows, err := a.Pool.Query(context.Background(), `SELECT id FROM entity WHERE kind = 'COOPERATIVE' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		coops = append(coops, id)
	}
	if rows.Err() != nil || len(coops) == 0 {
		t.Fatalf("cooperatives %v: %v", coops, rows.Err())
	}
	coop := idOf(a, "spoldzielnia-socjalna-rowne-szanse")
	page := `query Coop($id: ID!, $n: Int!) { node(id: $id) { id ... on Cooperative { name city
		founders(first: $n) { totalCount nodes { id kind name } }
		workshops(first: 10) { nodes { id name city } }
		indicators { name value } }
		... on ForeignExample { name inspired(first: 5) { totalCount nodes { __typename id } } } } }`
	ask := func(id string, n int) (string, int64, int64) {
		t.Helper()
		trips := counter.Trips.Load()
		raw, statements := a.postCountingVars(counter, "", page, map[string]any{"id": id, "n": n}, map[string]string{"Cache-Control": "no-cache"})
		if strings.Contains(raw, `"errors"`) || !strings.Contains(raw, `"founders":{"totalCount":`) && !strings.Contains(raw, `"inspired":{"totalCount":`) {
			t.Fatalf("%s, %d: %s", id, n, raw)
		}
		return raw, statements, counter.Trips.Load() - trips
	}

	// The first run learns: the row, then its level.
	first, _, trips := ask(coop, 100)
	if trips != 2 {
		t.Errorf("the first run: %d round trips, want 2 (the row, then its fields' pages)", trips)
	}
	asked0, _ := aheadCounts(t, a)
	// Then one round trip, with the same answer.
	for range 3 {
		raw, statements, trips := ask(coop, 100)
		if raw != first {
			t.Errorf("asked ahead, the answer changed:\n%s\n%s", first, raw)
		}
		if trips != 1 {
			t.Errorf("a later run: %d statements in %d round trips, want one round trip", statements, trips)
		}
	}
	asked, used := aheadCounts(t, a)
	if asked-asked0 < 3*3 || asked != used {
		t.Errorf("asked ahead %d (%d before), used %d: want every question of three runs asked ahead and used", asked, asked0, used)
	}

	// Another cooperative, by the same operation: its own pages, in one
	// round trip, as a server that never saw the operation answers them.
	otherID := relay.ID("Cooperative", coops[len(coops)-1])
	raw, _, trips := ask(otherID, 100)
	if trips != 1 {
		t.Errorf("another cooperative: %d round trips, want 1", trips)
	}
	fresh := newAPI(t, "reference", server.Config{LoaderWait: 100 * time.Millisecond})
	if want, _ := fresh.postCountingVars(&queryCounter{}, "", page, map[string]any{"id": otherID, "n": 100}, nil); want != raw {
		t.Errorf("another cooperative, asked ahead:\n%s\nwant:\n%s", raw, want)
	}

	// A variable that changes the founders' page is another operation:
	// its first run asks nothing ahead (nothing read and dropped) and
	// learns, and both are asked ahead from then on.
	asked0, used0 := aheadCounts(t, a)
	one, _, trips := ask(coop, 1)
	if trips != 2 {
		t.Errorf("a changed page, first run: %d round trips, want 2", trips)
	}
	if asked, used := aheadCounts(t, a); asked != asked0 || used != used0 {
		t.Errorf("a changed page, first run: %d asked ahead, %d used; want none", asked-asked0, used-used0)
	}
	if want, _ := fresh.postCountingVars(&queryCounter{}, "", page, map[string]any{"id": coop, "n": 1}, nil); want != one {
		t.Errorf("a changed page:\n%s\nwant:\n%s", one, want)
	}
	for _, n := range []int{1, 100} {
		if raw, _, trips := ask(coop, n); trips != 1 || n == 100 && raw != first || n == 1 && raw != one {
			t.Errorf("first: %d again: %d round trips, answer %s", n, trips, raw)
		}
	}
	if asked, used := aheadCounts(t, a); asked-asked0 != used-used0 || asked == asked0 {
		t.Errorf("both pages learnt: %d asked ahead, %d used; want every one used", asked-asked0, used-used0)
	}

	// A foreign example under the same root asks what a foreign
	// example's fields asked: nothing the first time, its own page the
	// next.
	example := idOf(a, "coompanion")
	e1, _, trips1 := ask(example, 100)
	e2, _, trips := ask(example, 100)
	if e1 != e2 || trips1 != 2 || trips != 1 {
		t.Errorf("a foreign example: %d round trips, then %d, answers %q and %q", trips1, trips, e1, e2)
	}
	if !strings.Contains(e1, `"inspired":{"totalCount":`) {
		t.Errorf("a foreign example: %s", e1)
	}

	// Below the root nothing is asked ahead: a link's end.
	asked0, _ = aheadCounts(t, a)
	nested := `query($id: ID!) { node(id: $id) { ... on Cooperative { founders(first: 3) { nodes { ... on Partner { cooperatives(first: 3) { nodes { id } } } } } } } }`
	for range 2 {
		if raw, _ := a.postCountingVars(counter, "", nested, map[string]any{"id": coop}, map[string]string{"Cache-Control": "no-cache"}); strings.Contains(raw, `"errors"`) {
			t.Fatal(raw)
		}
	}
	if asked, _ := aheadCounts(t, a); asked-asked0 != 1 {
		t.Errorf("a nested page: %d asked ahead over two runs, want the second's founders' page", asked-asked0)
	}
}

// TestAskAheadReadsARootListWithItsEntitiesFirstLevel: a root list's page
// goes in one round trip with what the fields under its entities asked in
// the operation's last run, asked for the entities of that run's page
// (loader.Ahead), and answers as before; when a write changes the page,
// the entity new to it costs its own round trip once, and the answer is
// the new page's.
func TestAskAheadReadsARootListWithItsEntitiesFirstLevel(t *testing.T) {
	counter := &queryCounter{}
	a := newAPI(t, "reference", server.Config{LoaderWait: 100 * time.Millisecond},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	fresh := newAPI(t, "reference", server.Config{LoaderWait: 100 * time.Millisecond})
	page := `query($n: Int!) { goodPractices(first: $n) { totalCount nodes { id name
		cases(first: 2) { totalCount nodes { __typename id } } } } }`
	ask := func(api *api, n int) (string, int64) {
		t.Helper()
		trips := counter.Trips.Load()
		raw, _ := api.postCountingVars(counter, "", page, map[string]any{"n": n}, map[string]string{"Cache-Control": "no-cache"})
		if strings.Contains(raw, `"errors"`) || !strings.Contains(raw, `"cases":{"totalCount":`) {
			t.Fatalf("%s", raw)
		}
		return raw, counter.Trips.Load() - trips
	}
	first, trips := ask(a, 3)
	if trips != 2 {
		t.Errorf("the first run: %d round trips, want 2 (the page, then its entities' cases)", trips)
	}
	for range 2 {
		if raw, trips := ask(a, 3); raw != first || trips != 1 {
			t.Errorf("a later run: %d round trips (want 1), the answer\n%s\nwant\n%s", trips, raw, first)
		}
	}
	if want, _ := ask(fresh, 3); want != first {
		t.Errorf("asked ahead:\n%s\na fresh server:\n%s", first, want)
	}
	// A practice renamed to the top of the page (by name): its cases are
	// asked by the field, a round trip more, once.
	if _, err := a.Pool.Exec(context.Background(), `UPDATE entity SET name = 'AAA ' || name, sort_name = 'aaa ' || sort_name
		WHERE id = (SELECT id FROM entity WHERE kind = 'GOOD_PRACTICE' AND status = 'PUBLISHED' ORDER BY sort_name DESC, id DESC LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	changed, trips := ask(a, 3)
	if changed == first || trips != 2 || !strings.Contains(changed, `"nodes":[{"id":`) || !strings.Contains(changed, `"name":"AAA `) {
		t.Errorf("after the write: %d round trips (want 2), the answer\n%s", trips, changed)
	}
	// As a server of the same database that has not run it answers.
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store.New(a.Pool)).Handler())
	defer srv.Close()
	if want, _ := ask(&api{t: t, URL: srv.URL, Pool: a.Pool}, 3); want != changed {
		t.Errorf("after the write, asked ahead:\n%s\nwant:\n%s", changed, want)
	}
	if raw, trips := ask(a, 3); raw != changed || trips != 1 {
		t.Errorf("the changed page learnt: %d round trips, want 1", trips)
	}
}

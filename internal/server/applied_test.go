package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// lastApplied returns the revision of the last change whose notification
// the instance at url has applied, from its /readyz.
func lastApplied(t *testing.T, url string) int64 {
	t.Helper()
	res, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		ChangeFeed *struct {
			LastAppliedRevision int64 `json:"lastAppliedRevision"`
		} `json:"changeFeed"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d %v", res.StatusCode, err)
	}
	if body.ChangeFeed == nil {
		t.Fatal("/readyz has no changeFeed: the instance does not follow the change feed")
	}
	return body.ChangeFeed.LastAppliedRevision
}

// TestReadAfterTheNotificationIsNeverStale: two instances on one database
// (A and B), both with the response cache, and again with a streaming
// replica that both read from. Each round B answers an anonymous read
// (which its response cache keeps), A makes a staff write, and once B's
// /readyz shows the write's revision applied, an anonymous read on B,
// through its cache, must return the write: not once the old data. The
// time from the write's answer to B's applying it is reported (and must
// stay under a second, the bound of docs/scaling.md).
func TestReadAfterTheNotificationIsNeverStale(t *testing.T) {
	cfg := server.Config{ResponseCache: server.DefaultResponseCache}
	t.Run("one database", func(t *testing.T) {
		a := newAPI(t, "reference", cfg)
		pool, err := pgxpool.New(context.Background(), a.Pool.Config().ConnString())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		cfgB := cfg
		cfgB.Logger = slog.New(slog.DiscardHandler)
		sB := server.New(cfgB, store.New(pool))
		srv := httptest.NewServer(sB.Handler())
		t.Cleanup(func() { srv.Close(); sB.Close() })
		neverStale(t, a, &api{t: t, URL: srv.URL, Pool: pool}, 300, 0)
	})
	t.Run("with a replica", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts a replica")
		}
		r := newReplicated(t)
		opts := store.ReplicaOptions{CheckEvery: 20 * time.Millisecond}
		a, _ := r.serve(cfg, opts)
		b, stB := r.serve(cfg, opts)
		// Every 20th round waits a second after the change is applied, so
		// that the replica has replayed it and B reads it there: the test
		// cluster commits asynchronously (pgserver's Fast), and PostgreSQL
		// flushes such a commit's WAL, which the replica must receive
		// before it can replay it, up to three wal_writer_delay (600 ms)
		// later.
		neverStale(t, a, b, 300, 20)
		if replicaReads(stB) == 0 {
			t.Errorf("no read on B went to the replica: %+v", stB.Databases())
		}
	})
}

// neverStale runs the rounds of TestReadAfterTheNotificationIsNeverStale:
// writes through a, reads through b; every settleEvery-th round (none if
// 0) reads a second after B applied the change rather than at once.
func neverStale(t *testing.T, a, b *api, rounds, settleEvery int) {
	tok := a.newToken("editor", kb.RoleEditor)
	const key = "spoldzielnia-socjalna-rowne-szanse"
	read := `{ entityByKey(key: "` + key + `") { ... on Cooperative { id summary } } }`
	var got struct {
		E struct{ ID, Summary string } `json:"entityByKey"`
	}
	a.mustAs(tok, read, nil, &got)
	id := got.E.ID
	if lastApplied(t, b.URL) < 0 {
		t.Fatal("a negative revision")
	}
	// B's listener starts in the background with B: write until B hears
	// a write (one made before it listens is never announced to it).
	warm := func(s string) int64 {
		a.mustAs(tok, `mutation($id: ID!, $s: String) { updateCooperative(id: $id, input: {summary: $s}) { id } }`,
			map[string]any{"id": id, "s": s}, nil)
		var rev int64
		if err := a.Pool.QueryRow(t.Context(), `SELECT max(id) FROM revision`).Scan(&rev); err != nil {
			t.Fatal(err)
		}
		return rev
	}
	for try := 0; ; try++ {
		if try == 50 {
			t.Fatal("B never applied a change of A's")
		}
		rev := warm(fmt.Sprintf("Warming up %d.", try))
		begin := time.Now()
		for lastApplied(t, b.URL) < rev && time.Since(begin) < 300*time.Millisecond {
			time.Sleep(10 * time.Millisecond)
		}
		if lastApplied(t, b.URL) >= rev {
			break
		}
	}

	var stale, cachedOld int
	var worst, total time.Duration
	for i := range rounds {
		// B's cache now holds the summary before the write.
		_, before, err := rawPost(b.URL, "", read, false)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("Round %d.", i)
		rev := warm(want)
		written := time.Now()
		for lastApplied(t, b.URL) < rev {
			if time.Since(written) > 5*time.Second {
				t.Fatalf("round %d: B did not apply revision %d within 5 s (it shows %d)", i, rev, lastApplied(t, b.URL))
			}
			time.Sleep(time.Millisecond)
		}
		took := time.Since(written)
		worst, total = max(worst, took), total+took
		if settleEvery > 0 && i%settleEvery == 0 {
			time.Sleep(time.Second)
		}
		_, body, err := rawPost(b.URL, "", read, false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), want) {
			stale++
			if string(body) == string(before) {
				cachedOld++
			}
			if stale <= 3 {
				t.Errorf("round %d: after B applied revision %d, an anonymous read on B returned %s, want %q", i, rev, body, want)
			}
		}
	}
	t.Logf("%d writes through A; stale anonymous reads on B after it applied the change: %d (the old cached answer: %d); "+
		"write answered → applied on B: mean %v, worst %v",
		rounds, stale, cachedOld, (total / time.Duration(rounds)).Round(time.Microsecond), worst.Round(time.Microsecond))
	if stale > 0 {
		t.Errorf("%d of %d reads on B after it applied the change were stale", stale, rounds)
	}
	if worst > time.Second {
		t.Errorf("B applied a change %v after A answered the write, want within 1 s", worst)
	}
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/bench"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// replicated is a database with a streaming replica, and the pools of
// both, for servers that read from the replica.
type replicated struct {
	t       *testing.T
	primary string // connection string
	replica *pgtest.Replica
	db      string
}

// newReplicated clones the reference data on the test server and starts a
// replica of it (pg_basebackup), waiting until the replica has the clone.
func newReplicated(t *testing.T) *replicated {
	t.Helper()
	rep := pgtest.NewReplica(t)
	url := pgtest.NewDB(t, "reference")
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	r := &replicated{t: t, primary: url, replica: rep, db: pc.ConnConfig.Database}
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := r.pool(rep.ConnString(r.db))
		var n int
		err := p.QueryRow(t.Context(), `SELECT count(*) FROM entity`).Scan(&n)
		p.Close()
		if err == nil && n > 0 {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica has no copy of %s after 20 s: %v", r.db, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *replicated) pool(url string, tweak ...func(*pgxpool.Config)) *pgxpool.Pool {
	r.t.Helper()
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		r.t.Fatal(err)
	}
	pc.ConnConfig.ConnectTimeout = time.Second
	for _, f := range tweak {
		f(pc)
	}
	p, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// serve starts an API instance on the primary and the replica, the
// replica's pool configured by tweak.
func (r *replicated) serve(cfg server.Config, opts store.ReplicaOptions, tweak ...func(*pgxpool.Config)) (*api, *store.Store) {
	r.t.Helper()
	primary, replica := r.pool(r.primary), r.pool(r.replica.ConnString(r.db), tweak...)
	st := store.New(primary)
	st.UseReplicas([]*pgxpool.Pool{replica}, opts)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := server.New(cfg, st)
	srv := httptest.NewServer(s.Handler())
	r.t.Cleanup(func() {
		srv.Close()
		s.Close()
		replica.Close()
		primary.Close()
	})
	// Until the first check, every read goes to the primary.
	waitState(r.t, st, "up", 5*time.Second)
	return &api{t: r.t, URL: srv.URL, Pool: primary}, st
}

// waitState waits until the replica is in state and returns how long that
// took; it fails t after limit.
func waitState(t *testing.T, st *store.Store, state string, limit time.Duration) time.Duration {
	t.Helper()
	begin := time.Now()
	for {
		if d := st.Databases(); len(d) > 1 && d[1].State == state {
			return time.Since(begin)
		}
		if time.Since(begin) > limit {
			t.Fatalf("replica not %s after %v: %+v", state, limit, st.Databases())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replicaReads returns how many statements the replica has answered.
func replicaReads(st *store.Store) int64 { return st.Databases()[1].Reads }

// rawPost sends a query and returns the status and body, without failing
// the test: for goroutines that count failures themselves.
func rawPost(url, token, query string, noCache bool) (int, []byte, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if noCache {
		req.Header.Set("Cache-Control", "no-cache")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// TestReplicaStoppedUnderReadsCostsNoRequest stops the replica while
// anonymous readers keep reading: not one request fails (a read cut on
// the replica is retried on the primary), the replica leaves the rotation
// within a second, and is back within five seconds of its restart.
func TestReplicaStoppedUnderReadsCostsNoRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a replica")
	}
	r := newReplicated(t)
	a, st := r.serve(server.Config{}, store.ReplicaOptions{})

	// A page with a level of nested pages (a pipeline), a search (its
	// page's one round trip with its settings, its entities' batch), and
	// a cooperative's page by node(id), its row and its first level in
	// one batch (loader.Ahead).
	coop := idOf(a, "spoldzielnia-socjalna-rowne-szanse")
	queries := []string{`{ projects(first: 5) { totalCount nodes { name partners { nodes { name sector } } } } }`,
		`{ search(query: "spółdzielnia socjalna", first: 5) { totalCount edges { snippet { html } node { name } } } }`,
		`{ node(id: "` + coop + `") { ... on Cooperative { name founders(first: 10) { totalCount nodes { id name } }
			workshops(first: 10) { nodes { id name city } } indicators { name value } } } }`}
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 6 {
		query := queries[i%len(queries)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, body, err := rawPost(a.URL, "", query, true)
				var res response
				if err == nil {
					err = json.Unmarshal(body, &res)
				}
				if err != nil || status != http.StatusOK || len(res.Errors) > 0 || len(res.Data) < 20 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %v %s", status, err, body))
					continue
				}
				ok.Add(1)
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()

	time.Sleep(500 * time.Millisecond)
	if replicaReads(st) == 0 {
		t.Fatalf("no read went to the replica: %+v; failures %d, the first: %v", st.Databases(), failed.Load(), firstFailure.Load())
	}
	if err := r.replica.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := waitState(t, st, "down", 5*time.Second)
	if out > time.Second {
		t.Errorf("the stopped replica left the rotation after %v, want ≤ 1 s", out)
	}
	time.Sleep(500 * time.Millisecond)
	before := ok.Load()
	time.Sleep(500 * time.Millisecond)
	if ok.Load() == before {
		t.Errorf("no request answered while the replica was down")
	}
	if err := r.replica.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	back := waitState(t, st, "up", 10*time.Second)
	if back > 5*time.Second {
		t.Errorf("the restarted replica rejoined after %v, want ≤ 5 s", back)
	}
	reads := replicaReads(st)
	time.Sleep(300 * time.Millisecond)
	if replicaReads(st) == reads {
		t.Errorf("the restarted replica is in rotation but answers no reads: %+v", st.Databases())
	}
	// What operators see: /readyz and /metrics name each database.
	res, err := http.Get(a.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(ready, []byte(`{"name":"replica1","role":"replica","state":"up"`)) {
		t.Errorf("/readyz: %d %s", res.StatusCode, ready)
	}
	res, err = http.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`partnergraph_db_up{database="replica1",role="replica",state="up"} 1`,
		`partnergraph_db_replica_lag_seconds{database="replica1"}`, `partnergraph_db_reads_total{database="primary"}`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	t.Logf("answered %d requests; replica out after %v, back %v after its start; %+v", ok.Load(), out, back, st.Databases())
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed; the first: %v", n, n+ok.Load(), firstFailure.Load())
	}
}

// TestWritesAreReadBackThroughAnotherInstance makes 1,000 staff changes
// through instance A, each read back at once by the same token through
// instance B and anonymously through A (whose replica reads must wait for
// the replica to replay the change), and anonymously through B within a
// second (B hears of the change through the change feed): not one stale
// read.
func TestWritesAreReadBackThroughAnotherInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a replica")
	}
	r := newReplicated(t)
	cfg := server.Config{ResponseCache: server.DefaultResponseCache}
	// Checks every 20 ms: the replica catches up between a write and the
	// reads after it often enough that the LSN comparison decides.
	opts := store.ReplicaOptions{CheckEvery: 20 * time.Millisecond}
	a, stA := r.serve(cfg, opts)
	b, stB := r.serve(cfg, opts)
	tok := a.newToken("editor", kb.RoleEditor)
	const key = "spoldzielnia-socjalna-rowne-szanse"
	read := `{ entityByKey(key: "` + key + `") { ... on Cooperative { id summary } } }`
	var got struct {
		E struct{ ID, Summary string } `json:"entityByKey"`
	}
	a.mustAs(tok, read, nil, &got)
	id := got.E.ID

	summary := func(api *api, token string) string {
		t.Helper()
		var got struct {
			E struct{ Summary string } `json:"entityByKey"`
		}
		api.mustAs(token, read, nil, &got)
		return got.E.Summary
	}
	tries := 1000
	var staleStaff, staleAnonA, slowAnonB int
	var worstB time.Duration
	for i := range tries {
		want := fmt.Sprintf("Summary number %d.", i)
		a.mustAs(tok, `mutation($id: ID!, $s: String) { updateCooperative(id: $id, input: {summary: $s}) { id } }`,
			map[string]any{"id": id, "s": want}, nil)
		if summary(b, tok) != want {
			staleStaff++
		}
		// Past the response cache, which A emptied at its write.
		_, body, err := rawPost(a.URL, "", read, true)
		if err != nil || !bytes.Contains(body, []byte(want)) {
			staleAnonA++
		}
		if i%50 == 0 {
			begin := time.Now()
			for summary(b, "") != want {
				if time.Since(begin) > time.Second {
					slowAnonB++
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			worstB = max(worstB, time.Since(begin))
		}
	}
	// The anonymous reads are not all on the primary: the replica serves
	// them once it has replayed the last write (the test server commits
	// asynchronously: its WAL reaches the replica within a second).
	last := fmt.Sprintf("Summary number %d.", tries-1)
	begin := time.Now()
	for replicaReads(stA) == 0 {
		_, body, err := rawPost(a.URL, "", read, true)
		if err != nil || !bytes.Contains(body, []byte(last)) {
			t.Errorf("the last change is not read back: %s %v", body, err)
		}
		if time.Since(begin) > 3*time.Second {
			t.Errorf("no read went to the replica: A %+v, B %+v", stA.Databases(), stB.Databases())
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d writes; stale: staff through B %d, anonymous through A %d; anonymous through B over 1 s: %d (worst %v); A %+v B %+v",
		tries, staleStaff, staleAnonA, slowAnonB, worstB, stA.Databases(), stB.Databases())
	if staleStaff+staleAnonA+slowAnonB > 0 {
		t.Errorf("stale reads: staff through B %d, anonymous through A %d, anonymous through B after 1 s %d of %d",
			staleStaff, staleAnonA, slowAnonB, tries/50)
	}
}

// TestReplicaAnswersEqualPrimaryAnswers runs every anonymous example of
// the docs on an instance that reads from the replica and on one that
// reads from the primary: the answers are the same, byte for byte (the
// replica's rows are buffered and decoded apart from their connection).
func TestReplicaAnswersEqualPrimaryAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a replica")
	}
	r := newReplicated(t)
	onReplica, st := r.serve(server.Config{}, store.ReplicaOptions{})
	pool := r.pool(r.primary)
	t.Cleanup(pool.Close)
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store.New(pool)).Handler())
	t.Cleanup(srv.Close)
	onPrimary := &api{t: t, URL: srv.URL, Pool: pool}

	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{}
	for name, key := range map[string]string{"from": "coompanion", "to": "wtz-gebice", "id": "spoldzielnia-socjalna-rowne-szanse", "person": "malwina-pokrywka"} {
		vars[name] = idOf(onPrimary, key)
	}
	compared := 0
	before := replicaReads(st)
	for _, f := range append([]string{"../../README.md"}, files...) {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docExample.FindAllStringSubmatch(string(text), -1) {
			query := m[1]
			if m[3] != "" || strings.HasPrefix(strings.TrimSpace(query), "mutation") ||
				strings.HasPrefix(strings.TrimSpace(query), "subscription") {
				continue
			}
			v := map[string]any{}
			for name, id := range vars {
				if strings.Contains(query, "$"+name+":") {
					v[name] = id
				}
			}
			_, want := onPrimary.post(query, v)
			_, got := onReplica.post(query, v)
			if !bytes.Equal(got.Data, want.Data) || len(got.Errors) != len(want.Errors) {
				t.Errorf("%s: the replica answers\n%.300s %v\nthe primary\n%.300s %v", f, got.Data, got.Errors, want.Data, want.Errors)
			}
			compared++
		}
	}
	if compared < 10 || replicaReads(st)-before < int64(compared) {
		t.Errorf("compared %d examples with %d replica reads", compared, replicaReads(st)-before)
	}
	t.Logf("compared %d examples; %d reads on the replica", compared, replicaReads(st)-before)
}

// TestReplicaReadsALevelInOneRoundTrip: anonymous reads on a replica take
// the round trips they take on the primary (TestReadShapesSendFewStatements):
// a level's statements go to the replica in one pipeline, read whole before
// they are handed out (onReplica.SendBatch), a search's page with its
// settings in one (pipelinePool), and the answers are the primary's.
func TestReplicaReadsALevelInOneRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a replica")
	}
	r := newReplicated(t)
	counter := &queryCounter{}
	// The replica's position is read once, at the start (it shares the
	// pool the counter counts).
	onReplica, st := r.serve(server.Config{LoaderWait: 100 * time.Millisecond}, store.ReplicaOptions{CheckEvery: time.Hour},
		func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	pool := r.pool(r.primary)
	t.Cleanup(pool.Close)
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store.New(pool)).Handler())
	t.Cleanup(srv.Close)
	onPrimary := &api{t: t, URL: srv.URL, Pool: pool}
	mix := func(name string) string {
		op, err := bench.OpNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		return op.Query
	}
	coop := map[string]any{"id": idOf(onPrimary, "spoldzielnia-socjalna-rowne-szanse")}
	before := replicaReads(st)
	countShapes(t, onReplica, counter, "", []shape{
		// The root page with its count, and the cases' and partners'
		// pages with their counts, asked ahead (one pipeline).
		{"the bench's page", mix("page"), 6, 1, `"cases":{"totalCount":`, nil},
		// The cooperative's row with its links with heads and rows, and
		// its indicators (one level, asked ahead from the second asking
		// on: loader.Ahead).
		{"the bench's cooperative", mix("cooperative"), 4, 1, `"workshops":{"nodes":[{`, coop},
		// The vocabulary; the page with its settings (JIT off, planned
		// for its arguments) and, from the second asking on, the entities
		// of its last hits with their texts (store's searchAhead).
		{"a search", `{ search(query: "spółdzielnia", first: 20) { totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`,
			6, 2, `"edges":[{`, nil},
		// The vocabulary; the nearest terms with the completions; the
		// corrections' ranges; the page with its count and settings, and
		// the entities with their texts.
		{"a misspelled search", `{ search(query: "spoldzelnia", first: 20) { totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`,
			9, 4, `"edges":[{`, nil},
	})
	if replicaReads(st) == before {
		t.Fatalf("no read went to the replica: %+v", st.Databases())
	}
	for _, c := range []struct {
		query string
		vars  map[string]any
	}{{mix("page"), nil}, {mix("cooperative"), coop}, {mix("search"), map[string]any{"q": "spoldzelnia"}},
		{mix("search"), map[string]any{"q": "spółdzielnia socjalna razem"}}} {
		_, want := onPrimary.post(c.query, c.vars)
		_, got := onReplica.post(c.query, c.vars)
		if !bytes.Equal(got.Data, want.Data) || len(got.Errors) > 0 || len(want.Errors) > 0 {
			t.Errorf("the replica answers\n%.300s %v\nthe primary\n%.300s %v", got.Data, got.Errors, want.Data, want.Errors)
		}
	}
}

// TestLaggingReplicaLeavesTheRotation pauses the replica's replay while
// the primary takes writes: past the lag bound the replica is out
// ("lagging") and reads go to the primary; resumed, it is back.
func TestLaggingReplicaLeavesTheRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a replica")
	}
	r := newReplicated(t)
	_, st := r.serve(server.Config{}, store.ReplicaOptions{MaxLag: 500 * time.Millisecond, CheckEvery: 50 * time.Millisecond})
	replica := r.pool(r.replica.ConnString(r.db))
	defer replica.Close()
	primary := r.pool(r.primary)
	defer primary.Close()
	if _, err := replica.Exec(t.Context(), `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	// Writes keep the primary's WAL moving while the replica stands still.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			_, _ = primary.Exec(context.Background(), `UPDATE entity SET summary = summary WHERE key = 'kooperativet-kos'`)
		}
	}()
	out := waitState(t, st, "lagging", 5*time.Second)
	d := st.Databases()[1]
	if d.LagSeconds < 0.5 || d.LagBytes == 0 {
		t.Errorf("lagging replica reports lag %v s, %d bytes", d.LagSeconds, d.LagBytes)
	}
	if _, err := replica.Exec(t.Context(), `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	back := waitState(t, st, "up", 5*time.Second)
	close(stop)
	<-done
	t.Logf("lagging after %v (bound 500 ms), back %v after resuming", out, back)
}

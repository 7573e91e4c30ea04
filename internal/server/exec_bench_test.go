package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/bench"
	"github.com/partnergraph/partnergraph/internal/graphindex"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// The benchmarks of this file track the API layer's own cost per request
// (issues 11 and 13): a request goes through the whole handler stack
// (limits, loaders, gqlgen, the second wall, metrics, the JSON writer)
// in-process, without a socket, so that what changes between commits is
// the server's work. The figures at scale come from partnergraph-bench
// (docs/benchmarks.md).

// walkServer serves a synthetic graph of 20,000 entities and 100,000
// links (the 1M/5M shape at a fiftieth) with the traversal index on, and
// returns its handler with centres whose depth-2 neighbourhood holds at
// least want entities.
func walkServer(b *testing.B, want int) (http.Handler, []string) {
	b.Helper()
	return graphServer(b, want, false)
}

// graphServer is walkServer, with the search index built when search is
// set (as partnergraph generate builds it).
func graphServer(b *testing.B, want int, search bool) (http.Handler, []string) {
	b.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDB(b, "migrated"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	st := store.New(pool)
	g, err := synth.New(1, 20_000, 100_000)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.BulkLoad(ctx, "generate", g, nil); err != nil {
		b.Fatal(err)
	}
	if search {
		if _, _, err := st.BuildSearchIndex(ctx); err != nil {
			b.Fatal(err)
		}
	}
	srv := server.New(server.Config{TraversalIndex: true, Logger: slog.New(slog.DiscardHandler)}, st)
	b.Cleanup(srv.Close)
	h := srv.Handler()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ready struct{ Traversal graphindex.Status }
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if err := json.Unmarshal(rec.Body.Bytes(), &ready); err != nil {
			b.Fatalf("readyz %q: %v", rec.Body, err)
		}
		if ready.Traversal.State == graphindex.StateReady {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("index not ready: %+v", ready.Traversal)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rows, err := pool.Query(ctx, `SELECT id, kind FROM entity WHERE status = 'PUBLISHED' ORDER BY id LIMIT 400`)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id int64
		var kind kb.Kind
		if err := rows.Scan(&id, &kind); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, relay.ID(kind.TypeName(), id))
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	var centres []string
	for _, gid := range ids {
		var out struct {
			Data struct {
				Neighborhood struct{ Nodes []struct{ ID string } }
			}
		}
		decodeOK(b, serveOnce(b, h, neighborhoodQuery, map[string]any{"id": gid, "limit": want}), &out)
		if len(out.Data.Neighborhood.Nodes) >= want {
			centres = append(centres, gid)
		}
		if len(centres) == 20 {
			break
		}
	}
	if len(centres) < 20 {
		b.Fatalf("%d centres reach %d entities in two hops, want 20", len(centres), want)
	}
	return h, centres
}

// neighborhoodQuery is partnergraph-bench's neighborhood operation.
const neighborhoodQuery = `query Neighborhood($id: ID!, $limit: Int!) { neighborhood(id: $id, depth: 2, limit: $limit) {
	truncated nodes { id kind name } links { id type direction role } } }`

// serveOnce runs one executed (uncached) request through h and returns its body.
func serveOnce(b testing.TB, h http.Handler, query string, vars map[string]any) []byte {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// decodeOK unmarshals a response and fails on GraphQL errors.
func decodeOK(b testing.TB, raw []byte, out any) {
	var errs struct{ Errors []gqlError }
	if err := json.Unmarshal(raw, &errs); err != nil || len(errs.Errors) > 0 {
		b.Fatalf("response %.300s: %v", raw, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.Fatal(err)
	}
}

func benchmarkNeighborhood(b *testing.B, limit int) {
	h, centres := walkServer(b, limit)
	b.ReportAllocs()
	cpu := cpuTime(b)
	i := 0
	for b.Loop() {
		serveOnce(b, h, neighborhoodQuery, map[string]any{"id": centres[i%len(centres)], "limit": limit})
		i++
	}
	reportCPU(b, cpu, i)
}

// cpuTime is the CPU time this process has used (user and system, all
// threads). PostgreSQL runs in processes of its own, so the difference
// across a benchmark's loop is the server's CPU, which on a shared
// machine varies far less than the wall-clock time per operation.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the server's CPU per request since start as cpu-µs/op.
func reportCPU(b *testing.B, start time.Duration, n int) {
	if n > 0 {
		b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(n), "cpu-µs/op")
	}
}

// BenchmarkNeighborhood500 executes neighborhood(depth: 2, limit: 500),
// 500 entities and their links, through the handler stack.
func BenchmarkNeighborhood500(b *testing.B) { benchmarkNeighborhood(b, 500) }

// BenchmarkNeighborhood100 is the same walk cut at 100 entities.
func BenchmarkNeighborhood100(b *testing.B) { benchmarkNeighborhood(b, 100) }

// searchMixQuery is partnergraph-bench's search operation (internal/bench).
const searchMixQuery = `query Search($q: String!) { search(query: $q, first: 20) {
	totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`

// searchMix are the bench's queries.
var searchMix = bench.SearchQueries

// BenchmarkSearchMix executes the bench's search mix, the 25 queries in
// turn, through the handler stack: the API's share of a search (issue
// 12), whose allocations and CPU per request the server's profile at 16
// clients follows.
func BenchmarkSearchMix(b *testing.B) {
	h, _ := graphServer(b, 100, true)
	hits := 0
	for _, q := range searchMix { // warm: the shared stems, the pools' plans
		var out struct {
			Data struct {
				Search struct{ Edges []struct{ Score float64 } }
			}
		}
		decodeOK(b, serveOnce(b, h, searchMixQuery, map[string]any{"q": q}), &out)
		hits += len(out.Data.Search.Edges)
	}
	if hits < 15*len(searchMix) {
		b.Fatalf("%d hits for %d searches: the mix should find a page for most", hits, len(searchMix))
	}
	b.ReportAllocs()
	cpu := cpuTime(b)
	i := 0
	for b.Loop() {
		serveOnce(b, h, searchMixQuery, map[string]any{"q": searchMix[i%len(searchMix)]})
		i++
	}
	reportCPU(b, cpu, i)
}

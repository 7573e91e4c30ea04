package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/pgtest"
)

// TestPrimaryFailover is the failover of docs/scaling.md, with real
// servers: the binary serves a primary and a streaming replica of it
// (pg_basebackup), its DATABASE_URL and DATABASE_LISTEN_URL name both
// hosts with target_session_attrs=read-write, and a reader and a staff
// writer keep it busy. The primary stops (fast shutdown); the replica is
// promoted (pg_promote), as an operator or a failover manager would. The
// API must keep answering anonymous reads throughout, within a bound of
// failed requests; writes fail only between the primary's loss and the
// promotion; after the first write succeeds on the new primary every
// later one does, and a write is read back, anonymously and by staff.
func TestPrimaryFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two PostgreSQL servers and a promotion")
	}
	primary := pgtest.NewPrimary(t, "partnergraph")
	replica := primary.NewReplica(t)
	// Either host may be the primary: pgx tries them in turn and keeps
	// the one that accepts writes.
	both := fmt.Sprintf("host=%s,%s port=5432,5432 user=partnergraph dbname=partnergraph sslmode=disable "+
		"target_session_attrs=read-write connect_timeout=2", primary.SocketDir(), replica.SocketDir())
	replicaURL := "postgres://partnergraph@/partnergraph?sslmode=disable&host=" + url.QueryEscape(replica.SocketDir())
	p := start(t, "DATABASE_URL="+both, "DATABASE_LISTEN_URL="+both, "DATABASE_REPLICA_URLS="+replicaURL,
		"PARTNERGRAPH_RATE_LIMIT=0", "PARTNERGRAPH_REPLICA_MAX_LAG=30s")
	defer p.stop(t)
	var logMu sync.Mutex
	var logged []map[string]any
	go func() {
		for line := range p.lines {
			logMu.Lock()
			logged = append(logged, line)
			logMu.Unlock()
		}
	}()

	var out bytes.Buffer
	if err := run(t.Context(), []string{"token", "create", "--name", "Ola", "--role", "editor"},
		env(map[string]string{"DATABASE_URL": primary.ConnString("partnergraph")}), &out); err != nil {
		t.Fatal(err)
	}
	token := secretPattern.FindString(out.String())

	// post returns the response's data, or an error for a transport
	// error, a status other than 200 or a GraphQL error.
	post := func(ctx context.Context, token, query string, vars map[string]any) (map[string]any, error) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+p.addr+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var r struct {
			Data   map[string]any `json:"data"`
			Errors []any          `json:"errors"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || res.StatusCode != http.StatusOK || len(r.Errors) > 0 {
			return nil, fmt.Errorf("%d %s", res.StatusCode, raw)
		}
		return r.Data, nil
	}
	readiness := func() (int, string) {
		res, err := http.Get("http://" + p.addr + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	waitFor := func(what string, within time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !ok() {
			if time.Now().After(deadline) {
				code, body := readiness()
				t.Fatalf("%s: not within %s; /readyz %d %s", what, within, code, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the replica in rotation", 30*time.Second, func() bool {
		code, body := readiness()
		return code == http.StatusOK && strings.Contains(body, `"name":"replica1","role":"replica","state":"up"`)
	})

	const read = `{ entityByKey(key: "spoldzielnia-socjalna-rowne-szanse") { ... on Cooperative { id summary } } }`
	const list = `{ cooperatives(first: 5) { totalCount nodes { name } } }`
	const update = `mutation($id: ID!, $s: String) { updateCooperative(id: $id, input: {summary: $s}) { id } }`
	d, err := post(t.Context(), token, read, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := d["entityByKey"].(map[string]any)["id"].(string)

	// The load: one anonymous reader and one staff writer, each request
	// recorded with when it ended.
	type outcome struct {
		at      time.Time
		ok      bool
		summary string // of a write
		err     string
	}
	var (
		mu              sync.Mutex
		reads, writes   []outcome
		ctx, stopLoad   = context.WithCancel(t.Context())
		wg              sync.WaitGroup
		firstErr        = map[string]string{}
		recordFirstFail = func(kind string, err error) {
			if _, seen := firstErr[kind]; !seen && err != nil {
				firstErr[kind] = err.Error()
			}
		}
	)
	defer stopLoad()
	wg.Go(func() {
		for ctx.Err() == nil {
			_, err := post(ctx, "", list, nil)
			if ctx.Err() != nil {
				return
			}
			mu.Lock()
			reads = append(reads, outcome{at: time.Now(), ok: err == nil})
			recordFirstFail("read", err)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	})
	wg.Go(func() {
		for i := 1; ctx.Err() == nil; i++ {
			s := fmt.Sprintf("Failover write %d.", i)
			_, err := post(ctx, token, update, map[string]any{"id": id, "s": s})
			if ctx.Err() != nil {
				return
			}
			o := outcome{at: time.Now(), ok: err == nil, summary: s}
			if err != nil {
				o.err = err.Error()
			}
			mu.Lock()
			writes = append(writes, o)
			recordFirstFail("write", err)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	})
	count := func(os []outcome, from, to time.Time) (ok, failed int) {
		for _, o := range os {
			if o.at.Before(from) || !o.at.Before(to) {
				continue
			}
			if o.ok {
				ok++
			} else {
				failed++
			}
		}
		return ok, failed
	}

	time.Sleep(time.Second)
	stopAt := time.Now()
	if err := primary.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	waitFor("/readyz 503 without a primary", 10*time.Second, func() bool {
		code, _ := readiness()
		return code == http.StatusServiceUnavailable
	})
	time.Sleep(time.Second) // the outage, under load
	promoteAt := time.Now()
	if err := replica.Promote(t.Context()); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	var firstWrite time.Time
	waitFor("a write on the new primary", 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range writes {
			if w.ok && w.at.After(promoted) {
				firstWrite = w.at
				return true
			}
		}
		return false
	})
	waitFor("/readyz 200 on the new primary", 10*time.Second, func() bool {
		code, _ := readiness()
		return code == http.StatusOK
	})
	time.Sleep(2 * time.Second) // after the failover, under load
	stopLoad()
	wg.Wait()
	end := time.Now()

	mu.Lock()
	defer mu.Unlock()
	rBefore, rfBefore := count(reads, time.Time{}, stopAt)
	rDuring, rfDuring := count(reads, stopAt, promoted)
	rAfter, rfAfter := count(reads, promoted, end)
	wBefore, wfBefore := count(writes, time.Time{}, stopAt)
	wDuring, wfDuring := count(writes, stopAt, promoted)
	wAfter, wfAfter := count(writes, promoted, firstWrite)
	wLater, wfLater := count(writes, firstWrite.Add(time.Nanosecond), end)
	t.Logf("primary stopped in %s, promoted in %s; first write on the new primary %s after the promotion",
		stopped.Sub(stopAt).Round(time.Millisecond), promoted.Sub(promoteAt).Round(time.Millisecond),
		firstWrite.Sub(promoted).Round(time.Millisecond))
	t.Logf("anonymous reads (ok/failed): before %d/%d, primary down %d/%d, after the promotion %d/%d",
		rBefore, rfBefore, rDuring, rfDuring, rAfter, rfAfter)
	t.Logf("staff writes (ok/failed): before %d/%d, primary down %d/%d, after the promotion until the first ok %d/%d, later %d/%d",
		wBefore, wfBefore, wDuring, wfDuring, wAfter, wfAfter, wLater, wfLater)
	t.Logf("first failures: %v", firstErr)

	if rBefore == 0 || rDuring == 0 || rAfter == 0 || wBefore == 0 || wLater == 0 {
		t.Fatalf("the load did not run in every phase: reads %d/%d/%d, writes %d/%d", rBefore, rDuring, rAfter, wBefore, wLater)
	}
	if rfBefore+wfBefore > 0 {
		t.Errorf("%d reads and %d writes failed before the primary stopped", rfBefore, wfBefore)
	}
	// Anonymous reads go to the replica while the primary is away, also
	// those that would have waited for the primary's position (a write
	// just made); after the promotion a connection of the pool to the lost
	// primary may fail once before it is replaced (the pool holds 4).
	if rfDuring > 0 {
		t.Errorf("%d anonymous reads failed while the primary was away, want 0", rfDuring)
	}
	if rfAfter > 4 {
		t.Errorf("%d anonymous reads failed after the promotion, want at most 4", rfAfter)
	}
	if wfLater > 0 {
		t.Errorf("%d writes failed after the first write on the new primary succeeded", wfLater)
	}
	if firstWrite.Sub(promoted) > 5*time.Second {
		t.Errorf("the first write on the new primary came %s after the promotion, want within 5 s", firstWrite.Sub(promoted))
	}
	for _, w := range writes {
		if !w.ok && w.err != "" && !strings.Contains(w.err, "UNAVAILABLE") {
			t.Errorf("a write failed with something other than UNAVAILABLE: %s", w.err)
			break
		}
	}
	// A write cut by the end of the load may have committed: the check
	// reads back a write of its own.
	const last = "Written after the failover."
	if _, err := post(t.Context(), token, update, map[string]any{"id": id, "s": last}); err != nil {
		t.Fatalf("a write after the failover: %v", err)
	}
	for _, tok := range []string{"", token} {
		d, err := post(t.Context(), tok, read, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := d["entityByKey"].(map[string]any)["summary"]; got != last {
			t.Errorf("after the failover the summary reads %q (token %t), want %q", got, tok != "", last)
		}
	}
	if t.Failed() {
		for _, r := range reads {
			if !r.ok {
				t.Logf("a read failed %s after the primary's stop began", r.at.Sub(stopAt).Round(time.Millisecond))
			}
		}
		logMu.Lock()
		for _, line := range logged {
			if line["level"] != "INFO" {
				t.Logf("log: %v", line)
			}
		}
		logMu.Unlock()
	}
}

package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestShutdownLetsInFlightRequestsFinish starts requests that wait on a
// table lock, begins a graceful shutdown while they wait, and then frees
// the lock: every accepted request must finish with its answer, and the
// server must then stop.
func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDB(t, "reference"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := server.New(server.Config{Addr: "127.0.0.1:0", ShutdownTimeout: 20 * time.Second, Logger: slog.New(slog.DiscardHandler)}, store.New(pool))
	serveCtx, shutdown := context.WithCancel(ctx)
	defer shutdown()
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(serveCtx, addrs) }()
	url := "http://" + (<-addrs).String() + "/graphql"

	// A second pool holds the lock, so that the API's connections stay free
	// for the requests.
	lockPool, err := pgxpool.New(ctx, pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lockPool.Close)
	tx, err := lockPool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `LOCK TABLE entity IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	const inFlight = 3
	var wg sync.WaitGroup
	results := make(chan string, inFlight)
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Post(url, "application/json", strings.NewReader(`{"query":"{ partners { totalCount } }"}`))
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			results <- res.Status + " " + string(b)
		}()
	}
	// Wait until all of them wait on the lock: they are in flight.
	for waiting := 0; waiting < inFlight; {
		if err := lockPool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	shutdown()
	// The listener closes at once: a new request is not accepted.
	refused := false
	for range 100 {
		c, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/graphql"), time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	if !refused {
		t.Error("the server still accepts connections after shutdown began")
	}
	select {
	case err := <-served:
		t.Fatalf("the server stopped with requests in flight: %v", err)
	default:
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(results)
	for r := range results {
		if !strings.HasPrefix(r, "200 ") || !strings.Contains(r, `"totalCount"`) {
			t.Errorf("in-flight request: %s; want 200 with its answer", r)
		}
	}
	if err := <-served; err != nil {
		t.Errorf("ListenAndServe: %v, want nil after a graceful shutdown", err)
	}
}

// TestShutdownClosesSubscriptionsPolitely: a subscription open when the
// shutdown begins gets a WebSocket close frame with a normal closure.
func TestShutdownClosesSubscriptionsPolitely(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDB(t, "migrated"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}, store.New(pool))
	serveCtx, shutdown := context.WithCancel(ctx)
	defer shutdown()
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(serveCtx, addrs) }()
	a := &api{t: t, URL: "http://" + (<-addrs).String(), Pool: pool}
	tok := a.newToken("shutdown editor", kb.RoleEditor)
	wsCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := a.subscribe(wsCtx, tok, `subscription { changes { operation } }`)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	shutdown()
	// gqlgen may first say "complete" for the subscription whose context
	// ended; then the connection must close normally.
	var m wsMsg
	for range 5 {
		if m, err = readMsg(wsCtx, c); err != nil || m.Type != "complete" {
			break
		}
	}
	if status := websocket.CloseStatus(err); status != websocket.StatusNormalClosure {
		t.Errorf("subscription at shutdown: message %+v, %v (close status %d), want a normal closure", m, err, status)
	}
	if err := <-served; err != nil {
		t.Errorf("ListenAndServe: %v, want nil", err)
	}
}

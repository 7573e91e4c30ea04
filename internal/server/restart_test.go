package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgserver"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// restartable is a private PostgreSQL that a test can stop and start
// again. Each start opens a fresh socket directory, so the pool reaches
// the server through BeforeConnect, which reads the current one: to the
// pool it looks like one server at a fixed address going away and coming
// back.
type restartable struct {
	t    *testing.T
	dir  string
	mu   sync.Mutex
	pg   *pgserver.Server
	conn atomic.Pointer[pgx.ConnConfig]
}

func startRestartable(t *testing.T) *restartable {
	t.Helper()
	// Not t.TempDir: its parent is private to us, and as root PostgreSQL
	// runs as another user (pgtest does the same).
	dir, err := os.MkdirTemp("", "pgrestart-")
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, dir: dir}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r.start()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *restartable) start() {
	r.t.Helper()
	pg, err := pgserver.Start(context.Background(), pgserver.Config{DataDir: r.dir, Fast: true, Database: "restart"})
	if err != nil {
		r.t.Fatal(err)
	}
	cc, err := pgx.ParseConfig(pg.ConnString("restart"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.pg = pg
	r.mu.Unlock()
	r.conn.Store(cc)
}

func (r *restartable) stop() {
	r.mu.Lock()
	pg := r.pg
	r.pg = nil
	r.mu.Unlock()
	if pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := pg.Stop(ctx); err != nil {
			r.t.Log("stop PostgreSQL:", err)
		}
	}
}

// pool opens a pool that follows the server across restarts.
func (r *restartable) pool() *pgxpool.Pool {
	r.t.Helper()
	pc, err := pgxpool.ParseConfig(r.conn.Load().ConnString())
	if err != nil {
		r.t.Fatal(err)
	}
	pc.ConnConfig.ConnectTimeout = 2 * time.Second
	pc.MaxConns = 8
	pc.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
		cur := r.conn.Load()
		cc.Host, cc.Port, cc.Fallbacks = cur.Host, cur.Port, nil
		return nil
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(pool.Close)
	return pool
}

type outcome int

const (
	succeeded outcome = iota
	failedCleanly
	hung
	unclean
)

// TestDatabaseRestartUnderLoad stops and restarts a real PostgreSQL while
// clients read and write through the full HTTP stack. Every request must
// succeed or fail cleanly (UNAVAILABLE, as JSON), none may hang, service
// must resume by itself, and every write that was acknowledged must be in
// the database afterwards.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts a PostgreSQL server")
	}
	if _, err := pgserver.FindBinDir(); err != nil {
		t.Skip(err)
	}
	pg := startRestartable(t)
	pool := pg.pool()
	ctx := context.Background()
	if _, err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	secret, hash := auth.NewToken()
	if _, err := store.New(pool).CreateToken(ctx, "restart editor", kb.RoleEditor, hash); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(server.New(server.Config{RequestTimeout: 5 * time.Second, Logger: log}, store.New(pool)).Handler())
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: 20 * time.Second}

	do := func(query string, vars map[string]any) (outcome, string) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := client.Do(req)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return hung, err.Error()
			}
			return unclean, err.Error()
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var r response
		if err := json.Unmarshal(raw, &r); err != nil {
			return unclean, fmt.Sprintf("%d %s", res.StatusCode, raw)
		}
		if len(r.Errors) == 0 && res.StatusCode == http.StatusOK {
			return succeeded, ""
		}
		if len(r.Errors) > 0 && r.Errors[0].Extensions["code"] == "UNAVAILABLE" {
			return failedCleanly, ""
		}
		return unclean, fmt.Sprintf("%d %s", res.StatusCode, raw)
	}

	var (
		mu        sync.Mutex
		counts    [4]int
		afterUp   int // successes after the restart
		acked     []string
		problems  []string
		restarted atomic.Bool
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	const workers = 6
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var o outcome
				var detail, name string
				if i%2 == 0 {
					name = fmt.Sprintf("restart partner %d-%d", w, i)
					o, detail = do(`mutation($in: CreatePartnerInput!) { createPartner(input: $in) { id } }`,
						map[string]any{"in": map[string]any{"name": name, "sector": "SOCIAL", "partnerKind": "ASSOCIATION"}})
				} else {
					o, detail = do(`{ partners(first: 5) { totalCount nodes { name } } }`, nil)
				}
				mu.Lock()
				counts[o]++
				if o == succeeded && name != "" {
					acked = append(acked, name)
				}
				if o == succeeded && restarted.Load() {
					afterUp++
				}
				if detail != "" && len(problems) < 5 {
					problems = append(problems, detail)
				}
				mu.Unlock()
				if o != succeeded {
					time.Sleep(20 * time.Millisecond) // a client backing off a little
				}
			}
		}()
	}

	time.Sleep(time.Second)
	pg.stop()
	time.Sleep(2 * time.Second)
	pg.start()
	restarted.Store(true)
	// Service must resume by itself: wait for successes after the restart.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := afterUp
		mu.Unlock()
		if n >= 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	t.Logf("requests: %d succeeded, %d failed cleanly (UNAVAILABLE), %d hung, %d unclean; %d succeeded after the restart; %d writes acknowledged",
		counts[succeeded], counts[failedCleanly], counts[hung], counts[unclean], afterUp, len(acked))
	if counts[hung] != 0 || counts[unclean] != 0 {
		t.Errorf("%d hung and %d unclean requests, want 0; first problems: %q", counts[hung], counts[unclean], problems)
	}
	if afterUp < 20 {
		t.Errorf("%d requests succeeded after the restart, want service to resume", afterUp)
	}
	if counts[failedCleanly] == 0 {
		t.Log("no request failed during the outage: the load did not meet it")
	}
	var missing []string
	for _, name := range acked {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM entity WHERE name = $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d acknowledged writes are missing (or doubled): %q", len(missing), missing)
	}
}

package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/pgtest"
)

// lineWith returns the first log line with msg, waiting up to 10 s.
func (p *process) lineWith(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case line := <-p.lines:
			if line["msg"] == msg {
				return line
			}
		case <-deadline:
			t.Fatalf("no log line %q within 10 s", msg)
		}
	}
}

// TestPprofIsServedOnItsOwnListener: PARTNERGRAPH_PPROF_ADDR serves Go's
// profiles on a listener of their own, never on the API's address.
func TestPprofIsServedOnItsOwnListener(t *testing.T) {
	p := start(t, "DATABASE_URL="+pgtest.NewDB(t, "empty"), "PARTNERGRAPH_PPROF_ADDR=127.0.0.1:0")
	defer p.stop(t)

	// The profiles are served on their own listener.
	prof := p.lineWith(t, "serving profiles")["addr"].(string)
	res, err := http.Get("http://" + prof + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET /debug/pprof/ on %s: %d %.200s", prof, res.StatusCode, body)
	}
	res, err = http.Get("http://" + p.addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("the API's address serves /debug/pprof/: %s", res.Status)
	}

}

// TestDBPrintsTheURLOfTheEmbeddedPostgreSQL runs the db command: it
// prints a DATABASE_URL that reaches a migrated database, and stops
// PostgreSQL when interrupted.
func TestDBPrintsTheURLOfTheEmbeddedPostgreSQL(t *testing.T) {
	dir, err := os.MkdirTemp("", "partnergraph-db-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"db", "--data-dir", dir}, env(map[string]string{"PARTNERGRAPH_LOG_LEVEL": "error"}), w)
		w.Close()
	}()
	line := make([]byte, 512)
	n, err := r.Read(line)
	if err != nil {
		t.Fatalf("db printed nothing: %v (%v)", err, <-done)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(string(line[:n])), "DATABASE_URL=")
	if !ok {
		t.Fatalf("db printed %q, want DATABASE_URL=...", line[:n])
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var migrated bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('entity') IS NOT NULL`).Scan(&migrated); err != nil || !migrated {
		t.Errorf("the database behind %s has no entity table (%v)", url, err)
	}
	conn.Close(ctx)
	cancel()
	go io.Copy(io.Discard, r) //nolint:errcheck // drain until closed
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("db after interrupt: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("db did not stop within 30 s of the interrupt")
	}
	if _, err := os.Stat(dir + "/pgdata/postmaster.pid"); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid after db ended: %v, want none", err)
	}
}

// TestTuneGCLeavesExplicitSettingsAlone: serve's garbage collector
// defaults apply only when GOGC and GOMEMLIMIT (or their flags) are not
// set.
func TestTuneGCLeavesExplicitSettingsAlone(t *testing.T) {
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) }()
	for _, tc := range []struct {
		name     string
		args     []string
		vars     map[string]string
		gc       int
		memLimit int64
		derived  bool
	}{
		{"variables", nil, map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}, 100, 1 << 30, false},
		{"flags over variables", []string{"--gogc", "off", "--memory-limit", "512MiB"}, map[string]string{"GOGC": "100"}, -1, 512 << 20, false},
		{"no limit", nil, map[string]string{"GOMEMLIMIT": "off"}, defaultGOGC, math.MaxInt64, false},
		{"defaults", nil, nil, defaultGOGC, 0, true},
	} {
		cfg, _, err := parseConfig("serve", tc.args, env(tc.vars))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		tuneGC(cfg, slog.New(slog.DiscardHandler))
		want := tc.memLimit
		if tc.derived {
			want, _ = memoryLimit(memlimit.FromCgroup)
		}
		if got := debug.SetGCPercent(100); got != tc.gc {
			t.Errorf("%s: the target is %d, want %d", tc.name, got, tc.gc)
		}
		if got := debug.SetMemoryLimit(-1); got != want || got <= 0 {
			t.Errorf("%s: the memory limit is %d, want %d", tc.name, got, want)
		}
	}
	for _, bad := range []map[string]string{{"GOGC": "lots"}, {"GOMEMLIMIT": "1GB"}, {"GOMEMLIMIT": "-5MiB"}} {
		if _, _, err := parseConfig("serve", nil, env(bad)); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestMemoryLimitGrowsWithTheTraversalIndex: with serve's derived
// budget, the soft limit follows the traversal index's bytes, never below
// the budget; a limit set by hand stays as set.
func TestMemoryLimitGrowsWithTheTraversalIndex(t *testing.T) {
	limit := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(limit)
	cfg, _, err := parseConfig("serve", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := memoryLimit(memlimit.FromCgroup); d != defaultMemoryBudget {
		t.Skip("a container's limit applies here")
	}
	sized := tuneGC(cfg, slog.New(slog.DiscardHandler))
	if sized == nil {
		t.Fatal("no function to tell the index's bytes")
	}
	for _, tc := range []struct{ index, want int64 }{
		{10 << 20, defaultMemoryBudget},
		{142_575_228, budgetBesideIndex + 142_575_228},
	} {
		sized(tc.index)
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("index of %d bytes: limit %d, want %d", tc.index, got, tc.want)
		}
	}
	cfg, _, err = parseConfig("serve", nil, env(map[string]string{"GOMEMLIMIT": "1GiB"}))
	if err != nil {
		t.Fatal(err)
	}
	if tuneGC(cfg, slog.New(slog.DiscardHandler)) != nil {
		t.Error("GOMEMLIMIT set, yet the index would move the limit")
	}
}

// TestMemoryLimitFollowsTheContainer: the derived limit is serve's
// budget, or 90 % of a cgroup's memory limit when that is smaller.
func TestMemoryLimitFollowsTheContainer(t *testing.T) {
	known := func(n uint64) func() (uint64, error) { return func() (uint64, error) { return n, nil } }
	unknown := func() (uint64, error) { return 0, errors.New("no cgroup") }
	for _, tc := range []struct {
		name   string
		cgroup func() (uint64, error)
		want   int64
	}{
		{"container of 100 MiB", known(100 << 20), 94371840},
		{"container of 1 GiB", known(1 << 30), defaultMemoryBudget},
		{"cgroup without a limit", known(math.MaxUint64), defaultMemoryBudget},
		{"no cgroup", unknown, defaultMemoryBudget},
	} {
		if got, from := memoryLimit(tc.cgroup); got != tc.want || from == "" {
			t.Errorf("%s: %d (%s), want %d", tc.name, got, from, tc.want)
		}
	}
}

// TestMetricsAreServedOnTheirOwnListener: PARTNERGRAPH_METRICS_ADDR moves
// /metrics off the API's address onto a listener of its own, which also
// serves the profiles when PARTNERGRAPH_PPROF_ADDR names the same address.
func TestMetricsAreServedOnTheirOwnListener(t *testing.T) {
	p := start(t, "DATABASE_URL="+pgtest.NewDB(t, "empty"), "PARTNERGRAPH_METRICS_ADDR=127.0.0.1:18431",
		"PARTNERGRAPH_PPROF_ADDR=127.0.0.1:18431")
	defer p.stop(t)
	addr := p.lineWith(t, "serving metrics")["addr"].(string)
	for path, want := range map[string]string{"/metrics": "partnergraph_db_pool_connections", "/debug/pprof/": "goroutine"} {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s on %s: %d %.200s", path, addr, res.StatusCode, body)
		}
	}
	res, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Errorf("the API's address still serves /metrics: %s", res.Status)
	}
}

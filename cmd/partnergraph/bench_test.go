package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/bench"
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

// TestBenchRunsTheMixOnServerAndCeiling runs the bench command as its
// users do: against a real server on the reference data, with an editor
// token, the ceiling on the same database. Every operation of the mix
// must appear in the table with requests on both targets and no errors;
// the link operation must leave no link behind; a soak reports the
// server's memory.
func TestBenchRunsTheMixOnServerAndCeiling(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDB(t, "empty")
	p := start(t, "DATABASE_URL="+url, "PARTNERGRAPH_RATE_LIMIT=0", "PARTNERGRAPH_STAFF_RATE_LIMIT=0",
		"PARTNERGRAPH_PPROF_ADDR=127.0.0.1:0")
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
	if res, err := http.Get("http://" + p.addr + "/debug/pprof/"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("the API's address serves /debug/pprof/: %v %v", res.Status, err)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"token", "create", "--name", "bench", "--role", "editor"}, env(map[string]string{"DATABASE_URL": url}), &out); err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`pgr_[A-Za-z0-9_-]+`).FindString(out.String())
	vars := env(map[string]string{"DATABASE_URL": url, "PARTNERGRAPH_BENCH_TOKEN": token})
	out.Reset()
	args := []string{"bench", "--url", "http://" + p.addr + "/graphql", "--clients", "2", "--duration", "300ms", "--warmup", "0s",
		"--server-pid", "0"}
	if err := run(ctx, args, vars, &out); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	for _, op := range bench.Mix {
		row := regexp.MustCompile(`(?m)^\| ` + op.Name + ` \| ([0-9.]+) \|.*\| ([0-9]+) \| ([0-9.]+) \| ([0-9.]+) \|`).FindStringSubmatch(out.String())
		if row == nil {
			t.Errorf("no row with server and ceiling figures for %s", op.Name)
			continue
		}
		if row[1] == "0.0" || row[3] == "0.0" || row[2] != "0" {
			t.Errorf("%s: %s req/s on the server, %s on the ceiling, %s errors; want requests on both and no errors", op.Name, row[1], row[3], row[2])
		}
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM link WHERE note = 'benchmark'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d links of the benchmark left behind (%v), want none", left, err)
	}

	out.Reset()
	soak := append(args[:len(args):len(args)], "--soak", "600ms", "--interval", "200ms", "--server-pid", strconv.Itoa(os.Getpid()))
	if err := run(ctx, soak, vars, &out); err != nil {
		t.Fatalf("bench --soak: %v\n%s", err, out.String())
	}
	if n := len(regexp.MustCompile(`(?m)requests +[0-9]+ errors +server RSS [0-9.]+ MB$`).FindAllString(out.String(), -1)); n < 3 {
		t.Errorf("the soak reported %d times, want at least 3 (every 200 ms of 600 ms and at the end):\n%s", n, out.String())
	}
}

// TestBenchNamesWhatIsWrong: the command's mistakes are named before any
// load is sent.
func TestBenchNamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"bench"}, nil, "set DATABASE_URL"},
		{[]string{"bench", "--ops", "page,nope"}, map[string]string{"DATABASE_URL": "host=/nonexistent"}, `unknown operation "nope"`},
		{[]string{"bench", "--clients", "0"}, map[string]string{"DATABASE_URL": "x"}, "--clients and --duration must be positive"},
		{[]string{"bench", "--peer", "v6=http://127.0.0.1:1/graphql"}, map[string]string{"DATABASE_URL": "x"}, `peer "v6": unknown; known: v4, v5`},
		{[]string{"bench", "--peer-url", "127.0.0.1:1"}, map[string]string{"DATABASE_URL": "x"}, "is not an http(s) URL"},
	} {
		err := run(context.Background(), tc.args, env(tc.vars), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.args, err, tc.want)
		}
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
// defaults apply only when GOGC and GOMEMLIMIT are not set.
func TestTuneGCLeavesExplicitSettingsAlone(t *testing.T) {
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) }()
	tuneGC(env(map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}), slog.New(slog.DiscardHandler))
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: the target became %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set: the limit became %d", got)
	}
	tuneGC(env(nil), slog.New(slog.DiscardHandler))
	if got := debug.SetGCPercent(100); got != defaultGOGC {
		t.Errorf("the target is %d, want %d", got, defaultGOGC)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("the memory limit is %d, want %d", got, defaultMemoryLimit)
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/bench"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, storetest.Reference)
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestBenchRunsTheMixOnServerAndCeiling runs the bench command as its
// users do: against the real HTTP stack on the reference data, with an editor
// token, the ceiling on the same database. Every operation of the mix
// must appear in the table with requests on both targets and no errors;
// the link operation must leave no link behind; a soak reports the
// process's memory.
func TestBenchRunsTheMixOnServerAndCeiling(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDB(t, "reference")
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool)
	// The real HTTP stack, rate limiting off as scripts/benchmark runs it.
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, st).Handler())
	defer srv.Close()
	secret, hash := auth.NewToken()
	if _, err := st.CreateToken(ctx, "bench", kb.RoleEditor, hash); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	vars := env(map[string]string{"DATABASE_URL": url, "PARTNERGRAPH_BENCH_TOKEN": secret})
	args := []string{"--url", srv.URL + "/graphql", "--clients", "2", "--duration", "300ms", "--warmup", "0s",
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
		{nil, nil, "set DATABASE_URL"},
		{[]string{"--ops", "page,nope"}, map[string]string{"DATABASE_URL": "host=/nonexistent"}, `unknown operation "nope"`},
		{[]string{"--clients", "0"}, map[string]string{"DATABASE_URL": "x"}, "--clients and --duration must be positive"},
		{[]string{"--peer", "v6=http://127.0.0.1:1/graphql"}, map[string]string{"DATABASE_URL": "x"}, `peer "v6": unknown; known: v4, v5`},
		{[]string{"--peer-url", "127.0.0.1:1"}, map[string]string{"DATABASE_URL": "x"}, "is not an http(s) URL"},
	} {
		err := run(context.Background(), tc.args, env(tc.vars), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

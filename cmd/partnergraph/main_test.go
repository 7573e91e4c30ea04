package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

func TestMain(m *testing.M) {
	// The test binary doubles as the partnergraph binary, so the process
	// tests below run the real main with real signals.
	if os.Getenv("PARTNERGRAPH_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	pgtest.Main(m, pgtest.Template{Name: "empty"})
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseConfig(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(secretFile, []byte("postgres://u:p@db/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, err := parseConfig("serve", []string{"--addr", "127.0.0.1:9000"}, env(map[string]string{
		"PARTNERGRAPH_ADDR":         ":1",
		"DATABASE_URL_FILE":         secretFile,
		"PARTNERGRAPH_CORS_ORIGINS": "https://a.example, https://*.b.example ,",
		"PARTNERGRAPH_SEED":         "false",
		"PARTNERGRAPH_LOG_LEVEL":    "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.DatabaseURL != "postgres://u:p@db/x" || c.Seed ||
		len(c.CORSOrigins) != 2 || c.CORSOrigins[1] != "https://*.b.example" || c.LogLevel.String() != "DEBUG" {
		t.Errorf("config: %+v", c)
	}
	def, _, err := parseConfig("serve", nil, env(nil))
	if err != nil || def.Addr != ":8080" || !def.Seed || def.DatabaseURL != "" || def.CORSOrigins != nil ||
		def.MaxExports != 2 || def.MaxExportsPerAddress != 1 || def.ExportWriteTimeout != 30*time.Second {
		t.Errorf("defaults: %+v, %v", def, err)
	}
	c, _, err = parseConfig("serve", []string{"--max-exports-per-address", "3"}, env(map[string]string{
		"PARTNERGRAPH_MAX_EXPORTS": "4", "PARTNERGRAPH_EXPORT_WRITE_TIMEOUT": "5s"}))
	if err != nil || c.MaxExports != 4 || c.MaxExportsPerAddress != 3 || c.ExportWriteTimeout != 5*time.Second {
		t.Errorf("export settings: %d, %d, %v (%v); want 4, 3, 5s", c.MaxExports, c.MaxExportsPerAddress, c.ExportWriteTimeout, err)
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"both URL and file", map[string]string{"DATABASE_URL": "x", "DATABASE_URL_FILE": secretFile}, "both set"},
		{"bad bool", map[string]string{"PARTNERGRAPH_SEED": "maybe"}, "PARTNERGRAPH_SEED"},
		{"bad level", map[string]string{"PARTNERGRAPH_LOG_LEVEL": "loud"}, "PARTNERGRAPH_LOG_LEVEL"},
		{"bad pool size", map[string]string{"PARTNERGRAPH_DB_MAX_CONNS": "0"}, "PARTNERGRAPH_DB_MAX_CONNS"},
		{"bad format", map[string]string{"PARTNERGRAPH_LOG_FORMAT": "xml"}, "PARTNERGRAPH_LOG_FORMAT"},
		// A mistyped origin must not leave the API open to every origin.
		{"origin without a scheme", map[string]string{"PARTNERGRAPH_CORS_ORIGINS": "https://a.example, app.example.org"}, "PARTNERGRAPH_CORS_ORIGINS"},
		{"no exports", map[string]string{"PARTNERGRAPH_MAX_EXPORTS": "0"}, "PARTNERGRAPH_MAX_EXPORTS"},
		{"bad exports per address", map[string]string{"PARTNERGRAPH_MAX_EXPORTS_PER_ADDRESS": "many"}, "PARTNERGRAPH_MAX_EXPORTS_PER_ADDRESS"},
		{"bad export write timeout", map[string]string{"PARTNERGRAPH_EXPORT_WRITE_TIMEOUT": "soon"}, "PARTNERGRAPH_EXPORT_WRITE_TIMEOUT"},
	} {
		if _, _, err := parseConfig("serve", nil, env(tc.vars)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.want)
		}
	}
}

func TestSeedTwiceChangesNothingTheSecondTime(t *testing.T) {
	vars := env(map[string]string{"DATABASE_URL": pgtest.NewDB(t, "empty")})
	var first, second bytes.Buffer
	if err := run(t.Context(), []string{"seed"}, vars, &first); err != nil {
		t.Fatalf("first seed: %v", err)
	}
	n := referenceEntities(t)
	if !strings.Contains(first.String(), fmt.Sprintf("entities: %d created, 0 updated, 0 unchanged", n)) {
		t.Errorf("first seed said:\n%s", first.String())
	}
	if err := run(t.Context(), []string{"seed"}, vars, &second); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	for _, want := range []string{fmt.Sprintf("entities: 0 created, 0 updated, %d unchanged", n), "links: 0 created, 0 updated", "indicators: 0 created, 0 updated"} {
		if !strings.Contains(second.String(), want) {
			t.Errorf("second seed lacks %q:\n%s", want, second.String())
		}
	}
}

func TestUnknownCommandAndArguments(t *testing.T) {
	if err := run(t.Context(), []string{"frobnicate"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %v", err)
	}
	if err := run(t.Context(), []string{"migrate", "extra"}, env(map[string]string{"DATABASE_URL": "host=/nonexistent"}), io.Discard); err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
		t.Errorf("extra arguments: %v", err)
	}
}

// process is partnergraph running as a child process.
type process struct {
	cmd    *exec.Cmd
	addr   string
	lines  chan map[string]any // the JSON log lines after "serving"
	exited chan error
}

// start runs the partnergraph binary (this test binary) with the given
// environment and waits until it serves.
func start(t *testing.T, vars ...string) *process {
	t.Helper()
	p, serving := spawn(t, vars...)
	select {
	case p.addr = <-serving:
		return p
	case err := <-p.exited:
		t.Fatalf("partnergraph exited before serving: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("partnergraph did not serve within 90 s")
	}
	return nil
}

// spawn runs partnergraph serve as start does, without waiting: serving
// receives its address once it serves.
func spawn(t *testing.T, vars ...string) (*process, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), append([]string{"PARTNERGRAPH_TEST_MAIN=1", "PARTNERGRAPH_LOG_FORMAT=json",
		"PARTNERGRAPH_ADDR=127.0.0.1:0", "DATABASE_URL="}, vars...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan map[string]any, 100), exited: make(chan error, 1)}
	serving := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				t.Logf("stderr: %s", sc.Text())
				continue
			}
			if line["msg"] == "serving" {
				serving <- line["addr"].(string)
			}
			select {
			case p.lines <- line:
			default:
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return p, serving
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
}

// saw reports whether a log line with msg was written.
func (p *process) saw(msg string) bool {
	for {
		select {
		case line := <-p.lines:
			if line["msg"] == msg {
				return true
			}
		default:
			return false
		}
	}
}

func (p *process) cooperatives(t *testing.T) string {
	t.Helper()
	res, err := http.Post("http://"+p.addr+"/graphql", "application/json",
		strings.NewReader(`{"query":"{ cooperatives { totalCount nodes { name } } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return string(body)
}

// TestServeRunsItsOwnPostgreSQLAndReusesIt is the embedded default: with
// no DATABASE_URL, serve starts a PostgreSQL in the data directory,
// migrates, loads the reference data and serves it; SIGTERM stops both
// cleanly; a second start reuses the data.
func TestServeRunsItsOwnPostgreSQLAndReusesIt(t *testing.T) {
	dir, err := os.MkdirTemp("", "partnergraph-serve-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dataDir := "PARTNERGRAPH_DATA_DIR=" + dir

	begin := time.Now()
	p := start(t, dataDir)
	t.Logf("first start (initdb, migrations, reference data): %v", time.Since(begin).Round(time.Millisecond))
	if body := p.cooperatives(t); !strings.Contains(body, `"totalCount":1`) || !strings.Contains(body, "Równe Szanse") {
		t.Fatalf("cooperatives from the embedded database: %s", body)
	}
	if !p.saw("reference data loaded into the empty database") {
		t.Error("the first start did not log that it loaded the reference data")
	}
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid after SIGTERM: %v, want none (PostgreSQL stopped)", err)
	}

	begin = time.Now()
	p = start(t, dataDir)
	t.Logf("second start (reuses the data): %v", time.Since(begin).Round(time.Millisecond))
	if body := p.cooperatives(t); !strings.Contains(body, `"totalCount":1`) {
		t.Fatalf("cooperatives after a restart: %s", body)
	}
	if p.saw("reference data loaded into the empty database") {
		t.Error("the second start loaded the reference data again")
	}
	p.stop(t)
}

// TestServeWithDatabaseURLStartsNoPostgreSQL checks that an external
// database is used as it is.
func TestServeWithDatabaseURLStartsNoPostgreSQL(t *testing.T) {
	url := pgtest.NewDB(t, "empty")
	dir, err := os.MkdirTemp("", "partnergraph-unused-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := start(t, "DATABASE_URL="+url, "PARTNERGRAPH_DATA_DIR="+dir)
	if body := p.cooperatives(t); !strings.Contains(body, `"totalCount":1`) {
		t.Fatalf("cooperatives: %s", body)
	}
	p.stop(t)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the data directory has %d entries, want none: no embedded PostgreSQL", len(entries))
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if pending, err := store.MigrationsPending(context.Background(), pool); err != nil || pending {
		t.Errorf("migrations pending after serve: %v, %v", pending, err)
	}
}

// TestGenerateLoadsASearchableGraph runs generate on a small scale: the
// entities and links arrive, and the search index covers them although
// COPY bypasses the write path.
func TestGenerateLoadsASearchableGraph(t *testing.T) {
	url := pgtest.NewDB(t, "empty")
	var out bytes.Buffer
	err := run(t.Context(), []string{"generate", "--entities", "2000", "--links", "6000", "--graph-seed", "7"},
		env(map[string]string{"DATABASE_URL": url, "PARTNERGRAPH_LOG_LEVEL": "error"}), &out)
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "generated 2000 entities, 6000 links") || !strings.Contains(out.String(), "search index") {
		t.Errorf("generate said:\n%s", out.String())
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var name string
	var unindexed int
	if err := pool.QueryRow(context.Background(), `SELECT name FROM entity WHERE key = 'gen-7-42'`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM entity e
		WHERE NOT EXISTS (SELECT 1 FROM search_doc d WHERE d.entity_id = e.id)`).Scan(&unindexed); err != nil {
		t.Fatal(err)
	}
	if unindexed != 0 {
		t.Errorf("%d generated entities have no search document", unindexed)
	}
	page, err := store.New(pool).Search(context.Background(), store.Public, store.SearchRequest{Query: `"` + name + `"`, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range page.Hits {
		found = found || h.Entity.Key == "gen-7-42"
	}
	if !found {
		t.Errorf("searching for %q does not find gen-7-42", name)
	}
}

func TestParseConfigLimitsAndTimeouts(t *testing.T) {
	def, _, err := parseConfig("serve", nil, env(nil))
	if err != nil || def.RequestTimeout != 30*time.Second || def.StatementTimeout != 30*time.Second || !def.Introspection || def.Limits != server.DefaultLimits ||
		def.RateLimit != server.DefaultRateLimit || def.RateLimit.CostBurst < def.Limits.MaxCost {
		t.Errorf("defaults: %+v, %v", def, err)
	}
	c, _, err := parseConfig("serve", nil, env(map[string]string{
		"PARTNERGRAPH_REQUEST_TIMEOUT":  "5s",
		"PARTNERGRAPH_MAX_DEPTH":        "7",
		"PARTNERGRAPH_MAX_COST":         "-1",
		"PARTNERGRAPH_MAX_ALIASES":      "3",
		"PARTNERGRAPH_MAX_ROOT_FIELDS":  "4",
		"PARTNERGRAPH_MAX_TOKENS":       "900",
		"PARTNERGRAPH_INTROSPECTION":    "false",
		"PARTNERGRAPH_RATE_LIMIT":       "0",
		"PARTNERGRAPH_STAFF_RATE_BURST": "7",
		"PARTNERGRAPH_COST_RATE":        "500.5",
		"PARTNERGRAPH_STAFF_COST_BURST": "9000",
	}))
	if c.RateLimit != (server.RateLimit{Rate: 0, Burst: 60, StaffRate: 100, StaffBurst: 7,
		CostRate: 500.5, CostBurst: 100000, StaffCostRate: 100000, StaffCostBurst: 9000}) {
		t.Errorf("rate limit: %+v", c.RateLimit)
	}
	want := server.Limits{MaxDepth: 7, MaxCost: -1, MaxAliases: 3, MaxRootFields: 4, MaxTokens: 900}
	if err != nil || c.RequestTimeout != 5*time.Second || c.StatementTimeout != 5*time.Second || c.Introspection || c.Limits != want {
		t.Errorf("config: %+v, %v", c, err)
	}
	if def.PlanCacheMode != "force_generic_plan" {
		t.Errorf("default plan_cache_mode %q", def.PlanCacheMode)
	}
	if def.ResponseCache != server.DefaultResponseCache || def.LoaderWait != loader.DefaultWait {
		t.Errorf("default response cache %+v, loader wait %s", def.ResponseCache, def.LoaderWait)
	}
	rc, _, err := parseConfig("serve", nil, env(map[string]string{"PARTNERGRAPH_RESPONSE_CACHE": "0", "PARTNERGRAPH_LOADER_WAIT": "1ms",
		"PARTNERGRAPH_RESPONSE_CACHE_ENTRIES": "9"}))
	if err != nil || rc.ResponseCache.TTL != 0 || rc.ResponseCache.Entries != 9 || rc.LoaderWait != time.Millisecond {
		t.Errorf("PARTNERGRAPH_RESPONSE_CACHE=0, _ENTRIES=9, PARTNERGRAPH_LOADER_WAIT=1ms: %+v, %s, %v", rc.ResponseCache, rc.LoaderWait, err)
	}
	if m, _, _ := parseConfig("migrate", nil, env(nil)); m.StatementTimeout != 0 {
		t.Errorf("migrate: statement timeout %s, want none", m.StatementTimeout)
	}
	for _, tc := range []struct{ key, val string }{
		{"PARTNERGRAPH_REQUEST_TIMEOUT", "0s"},
		{"PARTNERGRAPH_DB_STATEMENT_TIMEOUT", "soon"},
		{"PARTNERGRAPH_MAX_DEPTH", "0"},
		{"PARTNERGRAPH_MAX_COST", "lots"},
		{"PARTNERGRAPH_INTROSPECTION", "maybe"},
		{"PARTNERGRAPH_RATE_LIMIT", "-1"},
		{"PARTNERGRAPH_RATE_BURST", "0"},
		{"PARTNERGRAPH_COST_RATE", "-5"},
		{"PARTNERGRAPH_COST_RATE", "plenty"},
		{"PARTNERGRAPH_COST_BURST", "0"},
		{"PARTNERGRAPH_LOADER_WAIT", "0"},
		{"PARTNERGRAPH_RESPONSE_CACHE", "briefly"},
		{"PARTNERGRAPH_RESPONSE_CACHE_ENTRIES", "0"},
		{"PARTNERGRAPH_DB_PLAN_CACHE_MODE", "generic"},
		{"PARTNERGRAPH_RESPONSE_CACHE_MB", "-3"},
	} {
		if _, _, err := parseConfig("serve", nil, env(map[string]string{tc.key: tc.val})); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s=%s: error %v, want one naming the variable", tc.key, tc.val, err)
		}
	}
}

// TestServeSetsStatementTimeoutOnTheAPIPool pins the database side of the
// request timeout: the API's connections carry statement_timeout, and
// migrations still ran.
func TestServeSetsStatementTimeoutOnTheAPIPool(t *testing.T) {
	cfg, _, err := parseConfig("serve", nil, env(map[string]string{
		"DATABASE_URL":                 pgtest.NewDB(t, "empty"),
		"PARTNERGRAPH_REQUEST_TIMEOUT": "7s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a := &App{Config: cfg, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	var got string
	if err := a.pool.QueryRow(ctx, `SHOW statement_timeout`).Scan(&got); err != nil || got != "7s" {
		t.Errorf("statement_timeout %q, %v; want 7s", got, err)
	}
	if err := a.pool.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&got); err != nil || got != store.DefaultPlanCacheMode {
		t.Errorf("plan_cache_mode %q, %v; want %s", got, err, store.DefaultPlanCacheMode)
	}
	if pending, err := store.MigrationsPending(ctx, a.pool); err != nil || pending {
		t.Errorf("migrations pending: %v, %v", pending, err)
	}
}

// switchProxy forwards TCP connections to a PostgreSQL unix socket while
// up, and closes them at once while down: a database server that is away
// and comes back at the same address.
type switchProxy struct {
	ln   net.Listener
	sock string
	up   atomic.Bool
}

func newSwitchProxy(t *testing.T, connString string) *switchProxy {
	t.Helper()
	cc, err := pgx.ParseConfig(connString)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, sock: fmt.Sprintf("%s/.s.PGSQL.%d", cc.Host, cc.Port)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.up.Load() {
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("unix", p.sock)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = io.Copy(s, c); s.Close() }()
				_, _ = io.Copy(c, s)
			}()
		}
	}()
	return p
}

// url is the proxy's address as a DATABASE_URL for database db.
func (p *switchProxy) url(db string) string {
	return fmt.Sprintf("postgres://partnergraph@%s/%s?sslmode=disable", p.ln.Addr(), db)
}

// TestServeStartsWhileTheDatabaseIsDown: serve starts with DATABASE_URL's
// server away, answers readyz with 503, and once the server is back it
// migrates, seeds and serves without a restart.
func TestServeStartsWhileTheDatabaseIsDown(t *testing.T) {
	conn := pgtest.NewDB(t, "empty")
	cc, err := pgx.ParseConfig(conn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newSwitchProxy(t, conn)
	p := start(t, "DATABASE_URL="+proxy.url(cc.Database))
	readyz := func() int {
		res, err := http.Get("http://" + p.addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := readyz(); got != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database down: %d, want 503", got)
	}
	if body := p.cooperatives(t); !strings.Contains(body, `"UNAVAILABLE"`) {
		t.Errorf("a query with the database down: %s, want UNAVAILABLE", body)
	}
	proxy.up.Store(true)
	deadline := time.Now().Add(60 * time.Second)
	for readyz() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not turn 200 within 60 s of the database coming back")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if body := p.cooperatives(t); !strings.Contains(body, `"totalCount":1`) {
		t.Errorf("cooperatives after the database came back: %s, want the seeded one", body)
	}
	p.stop(t)
}

// TestServeSendsTracesOverOTLP runs serve with the standard OpenTelemetry
// endpoint variable pointing at a local OTLP/HTTP receiver: after a request
// and a shutdown, the receiver has been sent spans.
func TestServeSendsTracesOverOTLP(t *testing.T) {
	got := make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			select {
			case got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type"):
			default:
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	p := start(t, "DATABASE_URL="+pgtest.NewDB(t, "empty"), "OTEL_EXPORTER_OTLP_ENDPOINT="+receiver.URL)
	if body := p.cooperatives(t); !strings.Contains(body, `"totalCount":1`) {
		t.Fatalf("cooperatives: %s", body)
	}
	p.stop(t)
	select {
	case req := <-got:
		if req != "POST /v1/traces application/x-protobuf" {
			t.Errorf("the receiver got %q, want POST /v1/traces application/x-protobuf", req)
		}
	default:
		t.Error("no spans reached the OTLP receiver by shutdown")
	}
}

// TestParseConfigWallAndCounts: the settings of issue 11 have their
// defaults, take -1 for no limit, and refuse anything else by name.
func TestParseConfigWallAndCounts(t *testing.T) {
	def, _, err := parseConfig("serve", nil, env(nil))
	if err != nil || def.CountBound != store.DefaultCountBound || def.MaxRows != server.DefaultMaxRows ||
		def.MaxResponseBytes != server.DefaultMaxResponseBytes {
		t.Errorf("defaults: count bound %d, max rows %d, max response bytes %d, %v", def.CountBound, def.MaxRows, def.MaxResponseBytes, err)
	}
	c, _, err := parseConfig("serve", []string{"--max-rows", "500"}, env(map[string]string{
		"PARTNERGRAPH_COUNT_BOUND": "-1", "PARTNERGRAPH_MAX_ROWS": "7", "PARTNERGRAPH_MAX_RESPONSE_BYTES": "-1",
	}))
	if err != nil || c.CountBound != -1 || c.MaxRows != 500 || c.MaxResponseBytes != -1 {
		t.Errorf("set: count bound %d, max rows %d (the flag wins), max response bytes %d, %v", c.CountBound, c.MaxRows, c.MaxResponseBytes, err)
	}
	for _, tc := range []struct{ key, val string }{
		{"PARTNERGRAPH_COUNT_BOUND", "0"},
		{"PARTNERGRAPH_COUNT_BOUND", "many"},
		{"PARTNERGRAPH_MAX_ROWS", "-2"},
		{"PARTNERGRAPH_MAX_RESPONSE_BYTES", "8MB"},
	} {
		if _, _, err := parseConfig("serve", nil, env(map[string]string{tc.key: tc.val})); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s=%s: error %v, want one naming the variable", tc.key, tc.val, err)
		}
	}
}

// TestParseConfigHeavyGate: the settings of the admission gate of heavy
// queries have their defaults, take what they document, and refuse
// anything else by name.
func TestParseConfigHeavyGate(t *testing.T) {
	def, _, err := parseConfig("serve", nil, env(nil))
	if err != nil || def.Heavy != server.DefaultHeavy || def.HeavyDBConns != defaultHeavyDBConns || def.HeavyDBNice != 0 {
		t.Errorf("defaults: %+v, %d connections, nice %d, %v", def.Heavy, def.HeavyDBConns, def.HeavyDBNice, err)
	}
	c, _, err := parseConfig("serve", []string{"--heavy-cost", "2000"}, env(map[string]string{
		"PARTNERGRAPH_HEAVY_COST": "7", "PARTNERGRAPH_HEAVY_CONCURRENCY": "2", "PARTNERGRAPH_HEAVY_QUEUE": "-1",
		"PARTNERGRAPH_HEAVY_WAIT": "500ms", "PARTNERGRAPH_HEAVY_DB_CONNECTIONS": "0", "PARTNERGRAPH_HEAVY_DB_NICE": "10",
		"PARTNERGRAPH_HEAVY_PARALLELISM": "-1", "PARTNERGRAPH_HEAVY_DEMOTE_ROWS": "-1", "PARTNERGRAPH_HEAVY_DEMOTE_FIELDS": "300",
	}))
	want := server.Heavy{Cost: 2000, Concurrency: 2, Queue: -1, Wait: 500 * time.Millisecond, Parallelism: -1, DemoteRows: -1, DemoteFields: 300}
	if err != nil || c.Heavy != want || c.HeavyDBConns != 0 || c.HeavyDBNice != 10 {
		t.Errorf("set: %+v (want %+v, the flag wins), %d connections, nice %d, %v", c.Heavy, want, c.HeavyDBConns, c.HeavyDBNice, err)
	}
	for _, tc := range []struct{ key, val string }{
		{"PARTNERGRAPH_HEAVY_COST", "0"},
		{"PARTNERGRAPH_HEAVY_CONCURRENCY", "0"},
		{"PARTNERGRAPH_HEAVY_QUEUE", "-2"},
		{"PARTNERGRAPH_HEAVY_WAIT", "0s"},
		{"PARTNERGRAPH_HEAVY_PARALLELISM", "0"},
		{"PARTNERGRAPH_HEAVY_DEMOTE_ROWS", "0"},
		{"PARTNERGRAPH_HEAVY_DEMOTE_FIELDS", "-2"},
		{"PARTNERGRAPH_HEAVY_DB_CONNECTIONS", "-1"},
		{"PARTNERGRAPH_HEAVY_DB_NICE", "20"},
	} {
		if _, _, err := parseConfig("serve", nil, env(map[string]string{tc.key: tc.val})); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s=%s: error %v, want one naming the variable", tc.key, tc.val, err)
		}
	}
}

// TestParseConfigFairTurns: the fair turns' settings have their defaults,
// 0 turns them off (the server's Share -1), and anything else is refused
// by name.
func TestParseConfigFairTurns(t *testing.T) {
	def, _, err := parseConfig("serve", nil, env(nil))
	if err != nil || def.Fair != server.DefaultFair || fairTurns(def.Fair) != server.DefaultFair {
		t.Errorf("defaults: %+v, %v", def.Fair, err)
	}
	c, _, err := parseConfig("serve", nil, env(map[string]string{"PARTNERGRAPH_FAIR_SHARE": "0", "PARTNERGRAPH_FAIR_WAIT": "1s"}))
	if want := (server.Fair{Share: -1, Wait: time.Second}); err != nil || fairTurns(c.Fair) != want {
		t.Errorf("off: %+v (to the server %+v), %v; want %+v", c.Fair, fairTurns(c.Fair), err, want)
	}
	for _, tc := range []struct{ key, val string }{
		{"PARTNERGRAPH_FAIR_SHARE", "-5ms"},
		{"PARTNERGRAPH_FAIR_SHARE", "20"},
		{"PARTNERGRAPH_FAIR_WAIT", "0s"},
	} {
		if _, _, err := parseConfig("serve", nil, env(map[string]string{tc.key: tc.val})); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s=%s: error %v, want one naming the variable", tc.key, tc.val, err)
		}
	}
}

// referenceEntities is how many entries the reference data holds, so that
// the tests follow the data rather than a number copied from it.
func referenceEntities(t *testing.T) int {
	t.Helper()
	d, err := seed.Reference()
	if err != nil {
		t.Fatal(err)
	}
	return len(d.Entities)
}

// TestParseConfigAccessLog: serve's access log writes failed and slow
// requests and one in 100 of the others by default; a sample of 0 is
// the server's "none", 1 every request.
func TestParseConfigAccessLog(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want server.AccessLog
	}{
		{nil, server.DefaultAccessLog},
		{map[string]string{"PARTNERGRAPH_ACCESS_LOG_SAMPLE": "0"}, server.AccessLog{Slow: time.Second, Sample: -1}},
		{map[string]string{"PARTNERGRAPH_ACCESS_LOG_SAMPLE": "1", "PARTNERGRAPH_SLOW_REQUEST": "0"}, server.AccessLog{Sample: 1}},
	} {
		c, _, err := parseConfig("serve", nil, env(tc.env))
		if got := accessLog(c); err != nil || got != tc.want {
			t.Errorf("%v: %+v, %v; want %+v", tc.env, got, err, tc.want)
		}
	}
	if _, _, err := parseConfig("serve", nil, env(map[string]string{"PARTNERGRAPH_ACCESS_LOG_SAMPLE": "-1"})); err == nil ||
		!strings.Contains(err.Error(), "PARTNERGRAPH_ACCESS_LOG_SAMPLE") {
		t.Errorf("a sample of -1: %v, want an error naming the variable", err)
	}
}

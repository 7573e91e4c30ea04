package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgBouncer is a PgBouncer in transaction pooling mode in front of the
// test server, started by NewPgBouncer.
type PgBouncer struct {
	dir string
}

// NewPgBouncer starts a PgBouncer that keeps prepared statements in
// transaction pooling mode (1.21 or later, max_prepared_statements = 512
// and PreparedPktBuf: the API's default pgx mode, cache_statement, works
// through it) in front of the test server, listening on a unix socket of
// its own, and stops it when t ends. The binary is the one scripts/pgbouncer-install provides
// (RecentPgBouncer). It fails t when there is none: the tests that need it
// must not pass without it. Startup parameters that PgBouncer cannot pass
// on (plan_cache_mode, statement_timeout) are ignored, as
// deploy/pgbouncer.ini does.
func NewPgBouncer(t testing.TB) *PgBouncer {
	t.Helper()
	bin, err := RecentPgBouncer()
	if err != nil {
		t.Fatal("pgtest: ", err)
	}
	return startPgBouncer(t, bin, "max_prepared_statements = 512\n"+PreparedPktBuf+"\n")
}

// NewPgBouncerWithoutPreparedStatements starts Debian 12's PgBouncer
// (1.18, installed by scripts/setup), which cannot keep prepared
// statements in transaction mode: the API needs cache_describe through
// it. When the machine's pgbouncer is 1.21 or later (Debian 13), it runs
// with max_prepared_statements = 0, which does the same.
func NewPgBouncerWithoutPreparedStatements(t testing.TB) *PgBouncer {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			t.Fatal("pgtest: pgbouncer is not installed: run scripts/setup (Debian: apt-get install pgbouncer)")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	extra := ""
	if recentPgBouncer(bin) {
		extra = "max_prepared_statements = 0\n"
	}
	return startPgBouncer(t, bin, extra)
}

// PreparedPktBuf is the packet buffer that a PgBouncer keeping prepared
// statements needs for the API's pipelines (deploy/pgbouncer.ini): with
// the default 4 kB, 1.24.1 corrupted the answer to a pipeline that
// prepares several new statements of some 45 kB in all (the entities by
// id are 19 kB of SQL), and pgx read "invalid message length: -65536"
// (TestPgBouncerTakesAPipelineOfLargeNewStatements, docs/scaling.md).
const PreparedPktBuf = "pkt_buf = 65536"

// pgBouncerVersion is the version scripts/pgbouncer-install builds.
const pgBouncerVersion = "1.24.1"

// RecentPgBouncer returns the path of a PgBouncer 1.21 or later, looked
// for where scripts/pgbouncer-install puts or finds one:
// PARTNERGRAPH_PGBOUNCER, the machine's pgbouncer, then the build cache
// (PARTNERGRAPH_PGBOUNCER_DIR, /var/cache/partnergraph/pgbouncer-1.24.1,
// ~/.cache/partnergraph/pgbouncer-1.24.1).
func RecentPgBouncer() (string, error) {
	if b := os.Getenv("PARTNERGRAPH_PGBOUNCER"); b != "" {
		if !recentPgBouncer(b) {
			return "", fmt.Errorf("PARTNERGRAPH_PGBOUNCER=%s is not PgBouncer 1.21 or later", b)
		}
		return b, nil
	}
	var candidates []string
	if b, err := exec.LookPath("pgbouncer"); err == nil {
		candidates = append(candidates, b)
	}
	candidates = append(candidates, "/usr/sbin/pgbouncer")
	if d := os.Getenv("PARTNERGRAPH_PGBOUNCER_DIR"); d != "" {
		candidates = append(candidates, filepath.Join(d, "bin", "pgbouncer"))
	}
	candidates = append(candidates, "/var/cache/partnergraph/pgbouncer-"+pgBouncerVersion+"/bin/pgbouncer")
	cache := os.Getenv("XDG_CACHE_HOME")
	if home, err := os.UserHomeDir(); cache == "" && err == nil {
		cache = filepath.Join(home, ".cache")
	}
	if cache != "" {
		candidates = append(candidates, filepath.Join(cache, "partnergraph", "pgbouncer-"+pgBouncerVersion, "bin", "pgbouncer"))
	}
	for _, b := range candidates {
		if recentPgBouncer(b) {
			return b, nil
		}
	}
	return "", errors.New("no PgBouncer 1.21 or later: run scripts/setup (or scripts/pgbouncer-install)")
}

// recentPgBouncer reports whether bin runs and is PgBouncer 1.21 or later.
func recentPgBouncer(bin string) bool {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(string(out), "PgBouncer %d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 1 || major == 1 && minor >= 21
}

// startPgBouncer starts bin in transaction mode with the settings extra
// added to its configuration.
func startPgBouncer(t testing.TB, bin, extra string) *PgBouncer {
	t.Helper()
	if harness.server == nil {
		t.Fatal("pgtest: no server: call pgtest.Main from TestMain")
	}
	primary, err := pgx.ParseConfig(harness.server.ConnString(adminDB))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%d user=partnergraph

[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = %s
auth_type = trust
auth_file = %s
admin_users = partnergraph
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,plan_cache_mode,statement_timeout,max_parallel_workers_per_gather,jit
server_reset_query =
stats_period = 1
logfile = %s
%s`, primary.Host, primary.Port, dir, filepath.Join(dir, "userlist.txt"), filepath.Join(dir, "pgbouncer.log"), extra)
	if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "userlist.txt"), []byte(`"partnergraph" ""`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root; -u drops to this user.
		name := "postgres"
		u, err := user.Lookup(name)
		if err != nil {
			name = "nobody"
			if u, err = user.Lookup(name); err != nil {
				t.Fatal(err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"-u", name}, args...)
	}
	cmd := exec.Command(bin, args...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("pgtest: start pgbouncer: %v", err)
	}
	var waitErr error // set before exited closes
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // SIGINT: a safe shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	b := &PgBouncer{dir: dir}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, b.ConnString(adminDB)+" default_query_exec_mode=simple_protocol")
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return b
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("pgtest: pgbouncer exited: %v\n%s%s", waitErr, out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgtest: pgbouncer does not accept connections: %v", errors.Join(err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ConnString returns a connection string to database through PgBouncer.
func (b *PgBouncer) ConnString(database string) string {
	return "host=" + b.dir + " port=6432 user=partnergraph dbname=" + database + " sslmode=disable"
}

// Transactions returns how many transactions PgBouncer has passed to
// database (SHOW STATS on its admin console; its totals are updated once
// a second).
func (b *PgBouncer) Transactions(ctx context.Context, database string) (int64, error) {
	st, err := b.Stats(ctx, database)
	return st["total_xact_count"], err
}

// Stats returns the totals of SHOW STATS on PgBouncer's admin console for
// database (updated once a second): total_xact_count, and from 1.21 on
// total_client_parse_count (statements the clients prepared),
// total_server_parse_count (statements PgBouncer prepared on the server)
// and total_bind_count (executions of prepared statements), among others.
func (b *PgBouncer) Stats(ctx context.Context, database string) (map[string]int64, error) {
	conn, err := pgx.Connect(ctx, b.ConnString("pgbouncer")+" default_query_exec_mode=simple_protocol")
	if err != nil {
		return nil, fmt.Errorf("pgbouncer admin console: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SHOW STATS")
	if err != nil {
		return nil, fmt.Errorf("show stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := rows.RawValues() // text: the console speaks the simple protocol
		st := map[string]int64{}
		var name string
		for i, f := range rows.FieldDescriptions() {
			if f.Name == "database" {
				name = string(vals[i])
			} else if n, err := strconv.ParseInt(string(vals[i]), 10, 64); err == nil {
				st[f.Name] = n
			}
		}
		if name == database {
			return st, nil
		}
	}
	return map[string]int64{}, rows.Err()
}

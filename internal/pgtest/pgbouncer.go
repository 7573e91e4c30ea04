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

// NewPgBouncer starts Debian's PgBouncer (installed by scripts/setup) in
// transaction pooling mode in front of the test server, listening on a
// unix socket of its own, and stops it when t ends. It fails t when
// PgBouncer is missing: the tests that need it must not pass without it.
// Startup parameters that PgBouncer cannot pass on (plan_cache_mode,
// statement_timeout) are ignored, as deploy/pgbouncer.ini does.
func NewPgBouncer(t testing.TB) *PgBouncer {
	t.Helper()
	if harness.server == nil {
		t.Fatal("pgtest: no server: call pgtest.Main from TestMain")
	}
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			t.Fatal("pgtest: pgbouncer is not installed: run scripts/setup (Debian: apt-get install pgbouncer)")
		}
		bin = "/usr/sbin/pgbouncer"
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
`, primary.Host, primary.Port, dir, filepath.Join(dir, "userlist.txt"), filepath.Join(dir, "pgbouncer.log"))
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
	conn, err := pgx.Connect(ctx, b.ConnString("pgbouncer")+" default_query_exec_mode=simple_protocol")
	if err != nil {
		return 0, fmt.Errorf("pgbouncer admin console: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SHOW STATS")
	if err != nil {
		return 0, fmt.Errorf("show stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := rows.RawValues() // text: the console speaks the simple protocol
		fields := rows.FieldDescriptions()
		var name string
		var xacts int64
		for i, f := range fields {
			switch f.Name {
			case "database":
				name = string(vals[i])
			case "total_xact_count":
				xacts, _ = strconv.ParseInt(string(vals[i]), 10, 64)
			}
		}
		if name == database {
			return xacts, nil
		}
	}
	return 0, rows.Err()
}

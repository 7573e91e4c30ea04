// Package pgtest gives tests real PostgreSQL databases: one private server
// per test binary, started by Main from TestMain, and a fresh database per
// test, cloned by NewDB from a template database that Main prepared once.
//
//	func TestMain(m *testing.M) {
//		pgtest.Main(m, pgtest.Template{Name: "schema", Prepare: migrate})
//	}
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		db := pgtest.NewDB(t, "schema") // a connection string
//		...
//	}
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/partnergraph/partnergraph/internal/pgserver"
)

// Template is a database prepared once per test binary and cloned for each
// test by NewDB.
type Template struct {
	// Name is the template database's name, which NewDB takes.
	Name string
	// Prepare fills the template, say by running migrations and loading
	// reference data, through connString. It must close its connections
	// before it returns; any left open are terminated. Nil leaves the
	// database empty.
	Prepare func(ctx context.Context, connString string) error
}

// harness is the server of this test binary. A package variable because
// NewDB is called from tests that only have a testing.TB: Main sets it
// before any test runs and clears it after all have finished.
var harness struct {
	server    *pgserver.Server
	templates map[string]bool

	// createMu serialises CREATE DATABASE ... TEMPLATE: PostgreSQL refuses
	// to clone a template that another session is using.
	createMu sync.Mutex
	seq      atomic.Int64 // makes database names unique
}

// adminDB is the database that administrative connections use.
const adminDB = "postgres"

// Main starts a private PostgreSQL server (fsync off) in a temporary
// directory, creates and prepares each template, runs the tests, stops the
// server, removes the directory and exits with the tests' exit code. Call it
// from TestMain. If the server does not start or a template's Prepare
// fails, Main prints why and exits with status 1 without running any test:
// a missing PostgreSQL fails the tests rather than skipping them.
func Main(m *testing.M, templates ...Template) {
	os.Exit(run(m, templates))
}

func run(m *testing.M, templates []Template) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	server, err := pgserver.Start(ctx, pgserver.Config{DataDir: dir, Fast: true, Database: adminDB, Logger: logger})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: start PostgreSQL for the tests: %v\n", err)
		return 1
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := server.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}()

	harness.server = server
	harness.templates = make(map[string]bool)
	defer func() { harness.server, harness.templates = nil, nil }()
	for _, tmpl := range templates {
		if err := prepareTemplate(ctx, server, tmpl); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: prepare template %s: %v\n", tmpl.Name, err)
			return 1
		}
		harness.templates[tmpl.Name] = true
	}
	return m.Run()
}

// prepareTemplate creates the template database, runs its Prepare and then
// closes the database to connections, so that nothing can block cloning.
func prepareTemplate(ctx context.Context, server *pgserver.Server, tmpl Template) error {
	if tmpl.Name == "" {
		return fmt.Errorf("template has no name")
	}
	name := pgx.Identifier{tmpl.Name}.Sanitize()
	if err := admin(ctx, server, "CREATE DATABASE "+name); err != nil {
		return err
	}
	if tmpl.Prepare != nil {
		if err := tmpl.Prepare(ctx, server.ConnString(tmpl.Name)); err != nil {
			return err
		}
	}
	if err := admin(ctx, server, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return err
	}
	// Not waiting for terminated sessions to end is fine: CREATE DATABASE
	// waits up to 5 seconds for the template's sessions to leave.
	return admin(ctx, server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", tmpl.Name)
}

// NewDB creates a database for t, cloned from the named template, and
// returns its connection string. The database is dropped when t ends,
// connections still open to it included. NewDB fails t if Main has not
// set up the server, if the template is unknown or if the database cannot
// be created; it is safe for parallel tests.
func NewDB(t testing.TB, template string) string {
	t.Helper()
	server := harness.server
	if server == nil {
		t.Fatal("pgtest: no server: call pgtest.Main from TestMain")
	}
	if !harness.templates[template] {
		t.Fatalf("pgtest: unknown template %q: pass it to pgtest.Main", template)
	}
	name := dbName(t.Name(), harness.seq.Add(1))

	harness.createMu.Lock()
	err := admin(t.Context(), server, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize()))
	harness.createMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database from template %s: %v", template, err)
	}

	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin(ctx, server, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return server.ConnString(name)
}

// NewPool is NewDB with a pool of connections to the new database, closed
// when t ends (before the database is dropped).
func NewPool(t testing.TB, template string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDB(t, template))
	if err != nil {
		t.Fatalf("pgtest: pool of a database from template %s: %v", template, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// AdminConnString returns a connection string to the "postgres" database of
// the test server as its superuser, for tests that inspect or change the
// server itself. It returns "" when Main has not started a server.
func AdminConnString() string {
	if harness.server == nil {
		return ""
	}
	return harness.server.ConnString(adminDB)
}

// admin runs sql on a new connection to the admin database. A connection
// of its own per call keeps parallel tests from sharing one; over a unix
// socket it costs a few milliseconds.
func admin(ctx context.Context, server *pgserver.Server, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, server.ConnString(adminDB))
	if err != nil {
		return fmt.Errorf("connect to the test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// dbName returns a database name that shows which test it belongs to and
// is unique thanks to seq, within PostgreSQL's 63-byte limit.
func dbName(test string, seq int64) string {
	s := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(test))
	if len(s) > 40 {
		s = s[:40]
	}
	return fmt.Sprintf("test_%s_%d", s, seq)
}

// Replica is a streaming replica of the test server, made by NewReplica.
type Replica struct {
	cfg    pgserver.Config
	mu     sync.Mutex
	server *pgserver.Server // nil while stopped
}

// NewReplica starts a streaming replica of the test server: a copy made
// by pg_basebackup with the same binaries, run as the same unprivileged
// user, that replays the server's WAL. It sees every database NewDB
// makes, once it has replayed its creation. It is stopped when t ends.
func NewReplica(t testing.TB) *Replica {
	t.Helper()
	if harness.server == nil {
		t.Fatal("pgtest: no server: call pgtest.Main from TestMain")
	}
	return newReplica(t, harness.server.ConnString(adminDB))
}

// newReplica starts a streaming replica of the server that primary (a
// connection string) reaches, and stops it when t ends.
func newReplica(t testing.TB, primary string) *Replica {
	t.Helper()
	// Not t.TempDir: its parent is private to this process's user, which
	// the server's user may not be.
	dir, err := os.MkdirTemp("", "pgtest-replica-")
	if err != nil {
		t.Fatal(err)
	}
	sock, err := os.MkdirTemp("/tmp", "pgrep-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock); os.RemoveAll(dir) })
	r := &Replica{cfg: pgserver.Config{DataDir: dir, Fast: true, Database: adminDB, SocketDir: sock,
		ReplicaOf: primary,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

// Primary is a PostgreSQL server of one test's own, apart from the test
// server that NewDB clones into, made by NewPrimary: a test may stop it
// (a primary that fails) without disturbing the other tests.
type Primary struct {
	mu     sync.Mutex
	server *pgserver.Server // nil once stopped
	sock   string
}

// NewPrimary starts a PostgreSQL server of t's own (fsync off) with an
// empty database named database, listening on a unix socket in a
// directory of its own, and stops it when t ends.
func NewPrimary(t testing.TB, database string) *Primary {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgtest-primary-")
	if err != nil {
		t.Fatal(err)
	}
	sock, err := os.MkdirTemp("/tmp", "pgpri-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock); os.RemoveAll(dir) })
	s, err := pgserver.Start(t.Context(), pgserver.Config{DataDir: dir, Fast: true, Database: database, SocketDir: sock,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	p := &Primary{server: s, sock: sock}
	t.Cleanup(func() {
		if err := p.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return p
}

// ConnString returns a connection string to database on the primary,
// the same after Stop (which then fails to connect).
func (p *Primary) ConnString(database string) string {
	return "host=" + p.sock + " port=5432 user=partnergraph dbname=" + database + " sslmode=disable"
}

// SocketDir is the directory of the primary's unix socket.
func (p *Primary) SocketDir() string { return p.sock }

// NewReplica starts a streaming replica of the primary, as the package's
// NewReplica does of the test server.
func (p *Primary) NewReplica(t testing.TB) *Replica {
	t.Helper()
	return newReplica(t, p.ConnString(adminDB))
}

// Stop shuts the primary down (a fast shutdown: its sessions are cut).
// Later calls do nothing.
func (p *Primary) Stop(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := p.server.Stop(ctx)
	p.server = nil
	if err != nil {
		return fmt.Errorf("pgtest: stop primary: %w", err)
	}
	return nil
}

// ConnString returns a connection string to database on the replica,
// the same across Stop and Start.
func (r *Replica) ConnString(database string) string {
	return "host=" + r.cfg.SocketDir + " port=5432 user=partnergraph dbname=" + database + " sslmode=disable"
}

// Stop shuts the replica down (a fast shutdown: its sessions are cut).
func (r *Replica) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := r.server.Stop(ctx)
	r.server = nil
	if err != nil {
		return fmt.Errorf("pgtest: stop replica: %w", err)
	}
	return nil
}

// SocketDir is the directory of the replica's unix socket.
func (r *Replica) SocketDir() string { return r.cfg.SocketDir }

// Promote makes the replica a primary (pg_promote, which waits until the
// server accepts writes, at most 60 seconds), as an operator or a failover
// manager does when the primary is lost. It keeps its connection string.
func (r *Replica) Promote(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, r.ConnString(adminDB))
	if err != nil {
		return fmt.Errorf("pgtest: promote replica: %w", err)
	}
	defer conn.Close(context.Background())
	var done bool
	if err := conn.QueryRow(ctx, `SELECT pg_promote(true, 60)`).Scan(&done); err != nil {
		return fmt.Errorf("pgtest: promote replica: %w", err)
	}
	if !done {
		return errors.New("pgtest: promote replica: not promoted within 60 s")
	}
	return nil
}

// Start starts the replica again after Stop; it resumes streaming.
func (r *Replica) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server != nil {
		return nil
	}
	s, err := pgserver.Start(ctx, r.cfg)
	if err != nil {
		return fmt.Errorf("pgtest: start replica: %w", err)
	}
	r.server = s
	return nil
}

package pgserver

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dataDir returns a fresh directory for a cluster. Not t.TempDir: its
// parent is a 0700 directory of root's, which the server's user cannot
// enter when the tests run as root. This one sits directly in /tmp, and
// Start gives it to the server's user.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgserver-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// testLogger logs through t at debug level, so that a failing test shows
// the server's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func startServer(ctx context.Context, t *testing.T, cfg Config) *Server {
	t.Helper()
	begin := time.Now()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func connect(ctx context.Context, t *testing.T, connString string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestRestartKeepsDataWithoutInitdb(t *testing.T) {
	ctx := t.Context()
	dir := dataDir(t)
	cfg := Config{DataDir: dir, Fast: true, Database: "app", Logger: testLogger(t)}

	s := startServer(ctx, t, cfg)
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "PG_VERSION")); err != nil {
		t.Fatalf("no cluster after first start: %v", err)
	}
	conn := connect(ctx, t, s.ConnString("app"))
	var sysID1 int64
	if err := conn.QueryRow(ctx, "SELECT system_identifier FROM pg_control_system()").Scan(&sysID1); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')"); err != nil {
		t.Fatal(err)
	}
	var encoding, ctype string
	if err := conn.QueryRow(ctx, "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database WHERE datname = current_database()").Scan(&encoding, &ctype); err != nil {
		t.Fatal(err)
	}
	if encoding != "UTF8" {
		t.Errorf("encoding: got %s, want UTF8", encoding)
	}
	t.Logf("LC_CTYPE %s", ctype)
	conn.Close(ctx)

	// A second server on a live data directory is refused.
	_, err := Start(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "in use by another PostgreSQL server") {
		t.Errorf("Start on a data directory in use: got %v, want an in-use error", err)
	}

	sockDir := s.sockDir
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Errorf("second Stop: got %v, want nil", err)
	}
	if _, err := os.Stat(sockDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket directory after Stop: got %v, want it removed", err)
	}

	s = startServer(ctx, t, cfg)
	conn = connect(ctx, t, s.ConnString("app"))
	var v string
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil {
		t.Fatalf("data after restart: %v", err)
	}
	if v != "hello" {
		t.Errorf("data after restart: got %q, want %q", v, "hello")
	}
	// initdb gives every cluster a new system identifier.
	var sysID2 int64
	if err := conn.QueryRow(ctx, "SELECT system_identifier FROM pg_control_system()").Scan(&sysID2); err != nil {
		t.Fatal(err)
	}
	if sysID2 != sysID1 {
		t.Errorf("system identifier after restart: got %d, want %d (initdb ran again)", sysID2, sysID1)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres.log.1")); err != nil {
		t.Errorf("previous log: %v", err)
	}

	// A server that dies during startup is reported with its log tail.
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	conf, err := os.OpenFile(filepath.Join(dir, "pgdata", "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conf.WriteString("no_such_setting = 1\n"); err != nil {
		t.Fatal(err)
	}
	conf.Close()
	_, err = Start(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), `unrecognized configuration parameter "no_such_setting"`) {
		t.Errorf("Start with a broken configuration: got %v, want the server's complaint", err)
	}
}

func TestInitdbFailureShowsItsOutput(t *testing.T) {
	// Stand-ins for the binaries, in a directory the server's user can
	// enter when the tests run as root.
	bin := dataDir(t)
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho 'initdb: error: the disk is on fire' >&2\nexit 1\n"
	for _, name := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := dataDir(t)
	_, err := Start(t.Context(), Config{DataDir: dir, BinDir: bin})
	if err == nil || !strings.Contains(err.Error(), "the disk is on fire") {
		t.Errorf("Start with a failing initdb: got %v, want its stderr", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pgdata")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pgdata after a failed initdb: got %v, want none", err)
	}
}

func TestStartWithoutBinariesSaysHowToInstall(t *testing.T) {
	_, err := Start(t.Context(), Config{DataDir: dataDir(t), BinDir: t.TempDir()})
	if err == nil {
		t.Fatal("Start with an empty BinDir: got nil error")
	}
	for _, want := range []string{"no postgres and initdb in", "apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestStartAsRootRefusesUnreachableDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the check applies only when running as root")
	}
	// Like /root: a directory only root can enter.
	private, err := os.MkdirTemp("", "pgserver-private-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(private) })
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(private, "share", "partnergraph")

	_, err = Start(t.Context(), Config{DataDir: dir})
	if err == nil {
		t.Fatal("Start under a 0700 root directory: got nil error")
	}
	for _, want := range []string{private + " (mode -rwx------)", "PARTNERGRAPH_DATA_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(private, "share")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Start created directories before failing: stat: %v", err)
	}

	if fi, err := os.Stat("/root"); err == nil && fi.Mode().Perm()&0o001 == 0 {
		_, err := Start(t.Context(), Config{DataDir: "/root/.local/share/partnergraph-test"})
		if err == nil || !strings.Contains(err.Error(), "/root (mode") {
			t.Errorf("Start under /root: got %v, want an error naming /root", err)
		}
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Skipf("no PostgreSQL here: %v", err)
	}
	if !hasBinaries(dir) {
		t.Errorf("FindBinDir: got %s, which lacks postgres or initdb", dir)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign only
	}{
		{"15", "9.6", 1},
		{"9.6", "10", -1},
		{"16", "16", 0},
		{"9.6", "9.10", -1},
	}
	for _, tt := range tests {
		got := compareVersions(tt.a, tt.b)
		if (got > 0) != (tt.want > 0) || (got < 0) != (tt.want < 0) {
			t.Errorf("compareVersions(%q, %q): got %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestQuoteConnValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"app", "app"},
		{"", "''"},
		{"my db", "'my db'"},
		{`o'k\`, `'o\'k\\'`},
	}
	for _, tt := range tests {
		if got := quoteConnValue(tt.in); got != tt.want {
			t.Errorf("quoteConnValue(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDefaultDataDir(t *testing.T) {
	dir, err := DefaultDataDir()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 && dir != "/var/lib/partnergraph" {
		t.Errorf("DefaultDataDir as root: got %s, want /var/lib/partnergraph", dir)
	}
	if !filepath.IsAbs(dir) || filepath.Base(dir) != "partnergraph" {
		t.Errorf("DefaultDataDir: got %s, want an absolute path ending in partnergraph", dir)
	}
}

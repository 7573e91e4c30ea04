// Package pgserver starts a private PostgreSQL server as a child process:
// the embedded default of `partnergraph serve` when no DATABASE_URL is set,
// and the server of the test harness. The server listens only on a unix
// socket in a fresh private directory and trusts local connections, so
// nothing outside this machine can reach it.
//
// When the process runs as root, initdb and postgres (which refuse to run as
// root) run as an unprivileged user, "postgres" by default.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// superuser is the role initdb creates and every connection uses.
	superuser = "partnergraph"
	// port names the socket file (.s.PGSQL.5432); the socket directory is
	// private, so it never clashes with another server.
	port = 5432
	// defaultDatabase is the database Start creates when Config.Database is
	// empty.
	defaultDatabase = "partnergraph"
	// defaultStartTimeout bounds the wait for the server to accept
	// connections when Config.StartTimeout is zero.
	defaultStartTimeout = 60 * time.Second
	// maxSocketPath is the longest unix socket path Linux accepts
	// (sun_path is 108 bytes with its terminating NUL).
	maxSocketPath = 107
)

// Config says where and how Start runs a server.
type Config struct {
	// DataDir holds the cluster in DataDir/pgdata, created by initdb on the
	// first start and reused after, and the server's log in
	// DataDir/postgres.log (the previous run's log is kept as
	// postgres.log.1). When the process is root, Start makes DataDir and
	// the cluster belong to the server's user. Required.
	DataDir string
	// BinDir holds the postgres and initdb binaries; empty means FindBinDir.
	BinDir string
	// User is the OS user that runs initdb and postgres when the process is
	// root; empty means "postgres" if that user exists, else "nobody". It is
	// ignored when the process is not root: the server then runs as the
	// process's own user.
	User string
	// Fast turns off durability (fsync, synchronous_commit,
	// full_page_writes) for speed; a crash can then lose or corrupt the
	// data. For tests only.
	Fast bool
	// Database is created if missing once the server is up; empty means
	// "partnergraph".
	Database string
	// StartTimeout bounds the wait for the server to accept connections;
	// zero means 60 seconds.
	StartTimeout time.Duration
	// ReplicaOf, a connection string to a running server (ConnString of
	// another Server), makes the first start in DataDir a streaming
	// replica of that server instead of a new cluster: pg_basebackup
	// copies it with the same binaries and writes standby.signal and
	// primary_conninfo, and the server then replays the primary's WAL and
	// answers read-only queries. Later starts resume streaming.
	ReplicaOf string
	// SocketDir is the directory of the server's unix socket, created if
	// missing and removed by Stop; empty means a fresh directory under
	// /tmp. A fixed one keeps ConnString the same across restarts, as a
	// replica that is stopped and started again needs.
	SocketDir string
	// Logger receives progress at info level and the server's output at
	// debug level; nil discards both.
	Logger *slog.Logger

	// The next three concern Open only (share.go).

	// Owner names the program that starts the server, e.g. "partnergraph
	// import": Open records it in the data directory so that others know
	// whose server they found.
	Owner string
	// Exclusive makes Open insist on owning the server: it never attaches
	// to one that runs already but waits for it to stop, or fails if its
	// owner is exclusive too.
	Exclusive bool
	// ClientWait bounds how long Stop of a server Open started waits for
	// other clients (programs that attached to it) to disconnect before it
	// shuts the server down; zero does not wait.
	ClientWait time.Duration
}

// Server is a running PostgreSQL started by Start. Stop it with Stop.
type Server struct {
	dataDir string
	sockDir string
	port    int
	// attached is set for a server Open found running: Stop then only
	// lets go of it (hold), and leaves it running for its owner.
	attached bool
	hold     *pgx.Conn // an attached server's connection that tells its owner we use it
	owner    Owner     // who started the server Open attached to
	// clientWait and lockFile are set by Open for a server it started:
	// Stop waits for attached clients, under the lock that Open takes.
	clientWait time.Duration
	lockFile   string
	logger     *slog.Logger
	cmd        *exec.Cmd
	out        *logWriter
	logFile    *os.File

	exited  chan struct{} // closed once the postgres process has exited
	waitErr error         // the process's exit status, set before exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts a PostgreSQL server for cfg and returns once it accepts
// connections and cfg.Database exists. On the first start in cfg.DataDir it
// creates the cluster with initdb (UTF8, locale C.UTF-8 or else C, superuser
// "partnergraph", trust authentication on the unix socket, no TCP); later
// starts reuse it. The server listens only on a unix socket in a fresh
// directory under /tmp; see ConnString.
//
// Start returns an error, and leaves no server running, when the binaries
// cannot be found (the message says how to install them), when the data
// directory is out of the server user's reach or is in use by another live
// server, when initdb fails, or when the server exits or does not accept
// connections within cfg.StartTimeout; errors from initdb and postgres
// carry the tail of their output.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, logger, err := cfg.checked()
	if err != nil {
		return nil, err
	}
	dataDir := cfg.DataDir
	binDir := cfg.BinDir
	if binDir == "" {
		if binDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	} else if err := checkBinDir(binDir); err != nil {
		return nil, err
	}

	var acct *account // nil: run as ourselves
	if os.Geteuid() == 0 {
		if acct, err = lookupAccount(cfg.User); err != nil {
			return nil, fmt.Errorf("start PostgreSQL as root: %w", err)
		}
	}
	if err := makeDataDir(dataDir, acct); err != nil {
		return nil, err
	}
	pgdata := filepath.Join(dataDir, "pgdata")
	if err := checkNotInUse(pgdata, logger); err != nil {
		return nil, err
	}
	logFile, err := openLog(dataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{dataDir: dataDir, port: port, logger: logger, logFile: logFile, exited: make(chan struct{})}
	s.out = &logWriter{file: logFile, logger: logger, source: "postgres"}
	ok := false
	defer func() {
		if !ok {
			s.abort()
		}
	}()

	env := childEnv(acct, dataDir)
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) && cfg.ReplicaOf != "" {
		if err := baseBackup(ctx, binDir, pgdata, cfg.ReplicaOf, acct, env, logFile, logger); err != nil {
			return nil, err
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		if err := initdb(ctx, binDir, pgdata, acct, env, cfg.Fast, logFile, logger); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("start PostgreSQL: %w", err)
	}

	// A short fixed parent keeps the socket path within the unix limit
	// (TMPDIR may be long) and within the server user's reach.
	if cfg.SocketDir != "" {
		s.sockDir = cfg.SocketDir
		if err := os.Mkdir(s.sockDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("start PostgreSQL: socket directory: %w", err)
		}
	} else if s.sockDir, err = os.MkdirTemp("/tmp", "pgsock-"); err != nil {
		return nil, fmt.Errorf("start PostgreSQL: socket directory: %w", err)
	}
	if n := len(s.sockDir) + len("/.s.PGSQL.5432"); n > maxSocketPath {
		return nil, fmt.Errorf("start PostgreSQL: socket path in %s is %d bytes, over the limit of %d", s.sockDir, n, maxSocketPath)
	}
	if acct != nil {
		if err := acct.chown(s.sockDir); err != nil {
			return nil, fmt.Errorf("start PostgreSQL: %w", err)
		}
	}

	args := []string{
		"-D", pgdata,
		"-p", strconv.Itoa(port),
		"-k", s.sockDir,
		"-c", "listen_addresses=", // no TCP at all
		"-c", "logging_collector=off", // keep the log on stderr, which we capture
	}
	if cfg.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	s.cmd = exec.Command(filepath.Join(binDir, "postgres"), args...)
	s.cmd.Dir = dataDir
	s.cmd.Env = env
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	s.cmd.SysProcAttr = sysProcAttr(acct.credentialOrNil())
	// Bounds Wait if backends outlive a killed postmaster holding the pipe.
	s.cmd.WaitDelay = 5 * time.Second

	logger.Info("starting PostgreSQL", "data_dir", dataDir, "socket_dir", s.sockDir, "bin_dir", binDir)
	begin := time.Now()
	if err := s.run(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	if err := s.waitReady(ctx, timeout); err != nil {
		return nil, err
	}
	database := cfg.Database
	if database == "" {
		database = defaultDatabase
	}
	if err := s.ensureDatabase(ctx, database); err != nil {
		return nil, err
	}
	logger.Info("PostgreSQL is ready", "socket_dir", s.sockDir, "pid", s.cmd.Process.Pid, "took", time.Since(begin).Round(time.Millisecond))
	ok = true
	return s, nil
}

// ConnString returns a keyword/value connection string (for pgx or libpq)
// to database on s over its unix socket, as the superuser, without TLS.
func (s *Server) ConnString(database string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quoteConnValue(s.sockDir), s.port, superuser, quoteConnValue(database))
}

// Stop shuts the server down: a fast shutdown (SIGINT), which aborts open
// transactions and disconnects clients; if ctx ends first, an immediate
// shutdown (SIGQUIT, crash recovery on the next start), and SIGKILL if that
// does not end it within 5 seconds. It then removes the socket directory.
// Stop returns ctx's error if it had to escalate, or the server's exit
// error with its log tail if the server did not exit cleanly (say it had
// crashed before Stop). Later calls do nothing and return the first call's
// result.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *Server) stop(ctx context.Context) error {
	if s.attached {
		// Not ours: only tell its owner that we are done with it.
		return s.hold.Close(ctx)
	}
	if s.lockFile != "" {
		// Under Open's lock, no client attaches between the last count
		// and the shutdown.
		unlock, err := lockFile(ctx, s.lockFile)
		if err == nil {
			defer unlock()
		}
		s.waitForClients(ctx)
		defer os.Remove(filepath.Join(s.dataDir, ownerFile))
	}
	var escalated error
	select {
	case <-s.exited:
	default:
		s.logger.Info("stopping PostgreSQL", "pid", s.cmd.Process.Pid)
		_ = s.cmd.Process.Signal(syscall.SIGINT) // fails only if it has just exited
		select {
		case <-s.exited:
		case <-ctx.Done():
			escalated = ctx.Err()
			s.kill()
		}
	}
	s.cleanup()
	if escalated != nil {
		return fmt.Errorf("stop PostgreSQL: no clean shutdown: %w", escalated)
	}
	if s.waitErr != nil {
		return fmt.Errorf("stop PostgreSQL: postgres exited: %w%s", s.waitErr, s.out.Tail())
	}
	return nil
}

// kill ends the server with SIGQUIT, then SIGKILL after 5 seconds, and
// waits for it to exit.
func (s *Server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// abort undoes a Start that failed part way.
func (s *Server) abort() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.kill()
	}
	s.cleanup()
}

// cleanup removes the socket directory and closes the log file once the
// server is gone.
func (s *Server) cleanup() {
	if s.sockDir != "" {
		if err := os.RemoveAll(s.sockDir); err != nil {
			s.logger.Warn("remove PostgreSQL socket directory", "dir", s.sockDir, "err", err)
		}
	}
	if err := s.logFile.Close(); err != nil {
		s.logger.Warn("close PostgreSQL log", "err", err)
	}
}

// run starts s.cmd and a goroutine that waits for it. The kernel sends the
// parent-death signal when the thread that forked the child exits, not the
// process (go.dev/issue/27505), so the fork happens on a thread locked to
// that goroutine, which lives exactly as long as the server.
func (s *Server) run() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	return <-started
}

// waitReady polls until the server accepts a connection. It returns an
// error with the server's log tail if the server exits or timeout passes
// first, and ctx's error if ctx ends.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attempt, s.ConnString("postgres"))
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("start postgres: it exited during startup (%w):%s", s.waitErr, s.out.Tail())
		case <-ctx.Done():
			return fmt.Errorf("start postgres: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("start postgres: no connection after %v (last error: %w):%s", timeout, err, s.out.Tail())
		}
	}
}

// ensureDatabase creates database unless it exists.
func (s *Server) ensureDatabase(ctx context.Context, database string) error {
	conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	if exists {
		return nil
	}
	s.logger.Info("creating database", "database", database)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	return nil
}

// initdb creates the cluster in pgdata. It works in a sibling directory
// and renames it into place only on success, so an interrupted initdb
// never leaves a half-made cluster that later starts would take as done.
func initdb(ctx context.Context, binDir, pgdata string, acct *account, env []string, fast bool, logFile *os.File, logger *slog.Logger) error {
	tmp := pgdata + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("initdb: remove leftover %s: %w", tmp, err)
	}
	begin := time.Now()
	logger.Info("creating PostgreSQL cluster with initdb", "data_dir", pgdata)
	// C.UTF-8 gives UTF-8 aware character classes (upper, lower, regular
	// expressions) with plain byte order; systems without that locale
	// get C.
	for _, locale := range []string{"C.UTF-8", "C"} {
		args := []string{
			"-D", tmp,
			"-U", superuser,
			"-E", "UTF8",
			"--locale=" + locale,
			"--auth-local=trust", // anyone who can reach the private socket
			"--auth-host=reject", // and nobody over TCP, were it ever enabled
		}
		if fast {
			args = append(args, "--no-sync")
		}
		out := &logWriter{file: logFile, logger: logger, source: "initdb"}
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), args...)
		cmd.Dir = filepath.Dir(pgdata)
		cmd.Env = env
		cmd.Stdout = out
		cmd.Stderr = out
		cmd.SysProcAttr = sysProcAttr(acct.credentialOrNil())
		err := cmd.Run()
		if err == nil {
			break
		}
		if locale != "C" && strings.Contains(out.Tail(), "locale") {
			logger.Warn("initdb: locale not available, falling back to C", "locale", locale)
			if err := os.RemoveAll(tmp); err != nil {
				return fmt.Errorf("initdb: remove %s: %w", tmp, err)
			}
			continue
		}
		return fmt.Errorf("initdb: %w:%s", err, out.Tail())
	}
	if err := os.Rename(tmp, pgdata); err != nil {
		return fmt.Errorf("initdb: move the new cluster into place: %w", err)
	}
	logger.Info("created PostgreSQL cluster", "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// baseBackup makes pgdata a streaming replica of the server at primary.
// Like initdb it works in a sibling directory and renames it into place
// only on success.
func baseBackup(ctx context.Context, binDir, pgdata, primary string, acct *account, env []string, logFile *os.File, logger *slog.Logger) error {
	tmp := pgdata + ".basebackup"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pg_basebackup: remove leftover %s: %w", tmp, err)
	}
	begin := time.Now()
	logger.Info("copying the primary with pg_basebackup", "data_dir", pgdata)
	out := &logWriter{file: logFile, logger: logger, source: "pg_basebackup"}
	// -R writes standby.signal and primary_conninfo; -X stream copies the
	// WAL written meanwhile; -c fast starts at once rather than after the
	// next checkpoint.
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pg_basebackup"),
		"-D", tmp, "-d", primary, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	cmd.Dir = filepath.Dir(pgdata)
	cmd.Env = env
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr(acct.credentialOrNil())
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_basebackup: %w:%s", err, out.Tail())
	}
	if err := os.Rename(tmp, pgdata); err != nil {
		return fmt.Errorf("pg_basebackup: move the copy into place: %w", err)
	}
	logger.Info("copied the primary", "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// makeDataDir creates dataDir if needed and, when acct is not nil, checks
// that acct can reach it and gives it to acct.
func makeDataDir(dataDir string, acct *account) error {
	if acct != nil {
		// Check before creating anything, so that a data directory under
		// /root fails without leaving directories behind.
		if err := acct.checkTraversable(dataDir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create data directory: %w", err)
	}
	if acct == nil {
		return nil
	}
	// Again: a umask may have made new parents unreachable.
	if err := acct.checkTraversable(dataDir); err != nil {
		return err
	}
	if err := acct.chown(dataDir); err != nil {
		return fmt.Errorf("prepare data directory: %w", err)
	}
	return nil
}

// checkNotInUse returns an error if a live postgres owns pgdata according
// to its postmaster.pid. A lock file whose process is gone is left for
// postgres to replace; one whose PID now belongs to some other program (PIDs
// are reused, in containers especially) is removed, since postgres would
// otherwise refuse to start.
func checkNotInUse(pgdata string, logger *slog.Logger) error {
	pidFile := filepath.Join(pgdata, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check data directory: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return nil // not ours to judge; postgres reports it
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return nil // gone
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
		if name := strings.TrimSpace(string(comm)); name != "postgres" && name != "postmaster" {
			logger.Warn("removing stale postmaster.pid", "pid", pid, "process", name)
			if err := os.Remove(pidFile); err != nil {
				return fmt.Errorf("remove stale %s: %w", pidFile, err)
			}
			return nil
		}
	}
	return fmt.Errorf("data directory %s is in use by another PostgreSQL server (pid %d): stop it, or use another data directory", pgdata, pid)
}

// openLog opens dataDir/postgres.log for a new run, keeping the previous
// run's log as postgres.log.1.
func openLog(dataDir string) (*os.File, error) {
	name := filepath.Join(dataDir, "postgres.log")
	if err := os.Rename(name, name+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("rotate PostgreSQL log: %w", err)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL log: %w", err)
	}
	return f, nil
}

// childEnv returns the environment of initdb and postgres: ours without
// the PG* variables (PGDATA, PGPORT and the like would override our
// settings) and without locale variables (initdb gets its locale as a
// flag), and when acct is not nil with HOME, USER and LOGNAME of acct.
func childEnv(acct *account, dataDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PG"), strings.HasPrefix(k, "LC_"), k == "LANG", k == "LANGUAGE":
			continue
		case acct != nil && (k == "HOME" || k == "USER" || k == "LOGNAME"):
			continue
		}
		env = append(env, kv)
	}
	if acct != nil {
		home := acct.home
		if fi, err := os.Stat(home); err != nil || !fi.IsDir() {
			home = dataDir // "nobody" has /nonexistent
		}
		env = append(env, "HOME="+home, "USER="+acct.name, "LOGNAME="+acct.name)
	}
	return env
}

// quoteConnValue quotes v for a keyword/value connection string if needed.
func quoteConnValue(v string) string {
	if v != "" && !strings.ContainsAny(v, ` '\`) {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// DefaultDataDir returns the data directory to use when none is
// configured: $XDG_DATA_HOME/partnergraph, else
// ~/.local/share/partnergraph; for root /var/lib/partnergraph, because the
// unprivileged user the server then runs as cannot enter /root. It returns
// an error when the home directory is unknown.
func DefaultDataDir() (string, error) {
	if os.Geteuid() == 0 {
		return "/var/lib/partnergraph", nil
	}
	if xdg := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "partnergraph"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("default data directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", "partnergraph"), nil
}

// checked returns cfg with its data directory made absolute, and the
// logger to use (a discarding one when cfg has none); an error when no data
// directory is given.
func (cfg Config) checked() (Config, *slog.Logger, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DataDir == "" {
		return cfg, nil, errors.New("start PostgreSQL: no data directory given")
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return cfg, nil, fmt.Errorf("start PostgreSQL: data directory: %w", err)
	}
	cfg.DataDir = dataDir
	return cfg, logger, nil
}

package pgserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sharing one data directory between programs (docs/operations.md, "The
// command line beside a running server"). PostgreSQL lets one server own
// a cluster; a second program on the same data directory finds that
// server from its postmaster.pid (port, socket directory, status) and
// connects to it rather than starting its own. Three files in the data
// directory keep the programs from tripping over each other:
//
//   - startup.lock (flock): held while a program looks for a running
//     server and starts one, and while the owner decides to stop it, so
//     that two programs never both start one (initdb included) and no
//     program attaches to a server in the moment it is being stopped;
//   - postmaster.owner: who started the running server (pid, program,
//     whether it is exclusive), for the others' messages and for Open's
//     rule that an exclusive program (serve) never attaches to a
//     short-lived one's server;
//   - pgdata/postmaster.pid: PostgreSQL's own.
//
// An attached program holds one connection open until it is done (its
// application_name ends in " (attached)"); the owner, before it stops
// the server, waits up to Config.ClientWait for those to close.

const (
	lockName  = "startup.lock"
	ownerFile = "postmaster.owner"
	// guestMark ends the application_name of the connection an attached
	// program holds: the owner waits for those, not for stray connections
	// (its own that are still closing, a psql left open).
	guestMark = " (attached)"
)

// Owner says who started a running server.
type Owner struct {
	PID       int    `json:"pid"`
	Program   string `json:"program"`
	Exclusive bool   `json:"exclusive"`
}

// String names the owner for messages: `partnergraph import` (pid 42).
func (o Owner) String() string {
	if o.PID == 0 {
		return "a program that did not say its name"
	}
	return fmt.Sprintf("`%s` (pid %d)", o.Program, o.PID)
}

// Running is a PostgreSQL server found running on a data directory.
type Running struct {
	PID       int    // the postmaster's
	Port      int    // names its socket file
	SocketDir string // its unix socket's directory
	Status    string // "starting", "ready", "stopping" or "standby"
	Owner     Owner  // zero when the owner left no record or has gone
}

// FindRunning returns the live PostgreSQL server that owns the cluster in
// dataDir (dataDir/pgdata), or nil if none runs: no postmaster.pid, or
// one whose process has gone or is no PostgreSQL.
func FindRunning(dataDir string) (*Running, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "pgdata", "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for a running PostgreSQL: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	field := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	pid, err := strconv.Atoi(field(0))
	if err != nil || pid <= 0 || !isPostgres(pid) {
		return nil, nil
	}
	r := &Running{PID: pid, SocketDir: field(4), Status: field(7)}
	if r.Port, err = strconv.Atoi(field(3)); err != nil || r.SocketDir == "" {
		// Written line by line at start: not complete yet.
		r.Status = "starting"
	}
	if b, err := os.ReadFile(filepath.Join(dataDir, ownerFile)); err == nil {
		var o Owner
		if json.Unmarshal(b, &o) == nil && o.PID > 0 && alive(o.PID) {
			r.Owner = o
		}
	}
	return r, nil
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// isPostgres reports whether pid is a live PostgreSQL server process. Where
// /proc does not say, a live process is taken to be one.
func isPostgres(pid int) bool {
	if !alive(pid) {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return true
	}
	name := strings.TrimSpace(string(comm))
	return name == "postgres" || name == "postmaster"
}

// Open returns a server on cfg.DataDir: the one that runs there already,
// attached, or else one it starts (see Start), which it records as
// cfg.Owner's. Stop of an attached server leaves it running; Stop of a
// started one waits up to cfg.ClientWait for the programs attached to it.
//
// With cfg.Exclusive, Open never attaches: it waits, logging whom it
// waits for, until a running non-exclusive owner's server stops, and
// fails if the owner is exclusive too, or unknown. A server that is
// shutting down is waited for by every caller.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	cfg, logger, err := cfg.checked()
	if err != nil {
		return nil, err
	}
	dataDir := cfg.DataDir
	var acct *account
	if os.Geteuid() == 0 {
		if acct, err = lookupAccount(cfg.User); err != nil {
			return nil, fmt.Errorf("start PostgreSQL as root: %w", err)
		}
	}
	if err := makeDataDir(dataDir, acct); err != nil {
		return nil, err
	}
	lock := filepath.Join(dataDir, lockName)
	var waitedFor int // the pid Open logged it waits for
	for {
		unlock, err := lockFile(ctx, lock)
		if err != nil {
			return nil, err
		}
		r, err := FindRunning(dataDir)
		if err != nil {
			unlock()
			return nil, err
		}
		if r == nil {
			s, err := Start(ctx, cfg)
			if err == nil {
				s.clientWait, s.lockFile = cfg.ClientWait, lock
				err = writeOwner(dataDir, Owner{PID: os.Getpid(), Program: cfg.Owner, Exclusive: cfg.Exclusive})
				if err != nil {
					_ = s.Stop(context.WithoutCancel(ctx))
					s = nil
				}
			}
			unlock()
			return s, err
		}
		wait := r.Status == "stopping" || r.Status == "starting"
		if cfg.Exclusive && !wait {
			if r.Owner.PID == 0 || r.Owner.Exclusive {
				unlock()
				return nil, fmt.Errorf("data directory %s is in use by the PostgreSQL (pid %d) of %s: stop it, or use another data directory",
					dataDir, r.PID, r.Owner)
			}
			wait = true
		}
		if !wait {
			s, err := attach(ctx, dataDir, r, cfg.Owner)
			unlock()
			if err == nil || !alive(r.PID) {
				if err == nil {
					logger.Info("using the running PostgreSQL", "data_dir", dataDir, "pid", r.PID, "owner", r.Owner.String())
					return s, nil
				}
				continue // it stopped in the meantime
			}
			return nil, err
		}
		unlock()
		if waitedFor != r.PID {
			waitedFor = r.PID
			logger.Info("waiting for the PostgreSQL on the data directory to stop",
				"data_dir", dataDir, "pid", r.PID, "owner", r.Owner.String(), "status", r.Status, "to_give_up", "Ctrl-C")
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the PostgreSQL (pid %d) of %s to stop: %w", r.PID, r.Owner, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// attach connects to the running server r and holds that connection, which
// tells r's owner that a program, named program in pg_stat_activity
// with guestMark, uses it.
func attach(ctx context.Context, dataDir string, r *Running, program string) (*Server, error) {
	s := &Server{dataDir: dataDir, sockDir: r.SocketDir, port: r.Port, attached: true, owner: r.Owner}
	attempt, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cc, err := pgx.ParseConfig(s.ConnString("postgres"))
	if err != nil {
		return nil, fmt.Errorf("connect to the running PostgreSQL: %w", err)
	}
	cc.RuntimeParams["application_name"] = program + guestMark
	conn, err := pgx.ConnectConfig(attempt, cc)
	if err != nil {
		return nil, fmt.Errorf("connect to the running PostgreSQL (pid %d) of %s in %s: %w", r.PID, r.Owner, dataDir, err)
	}
	s.hold = conn
	return s, nil
}

// Attached reports whether s is a server that another program started,
// and that program.
func (s *Server) Attached() (Owner, bool) { return s.owner, s.attached }

// waitForClients waits until no attached program is connected to s, at
// most s.clientWait, logging whom it waits for.
func (s *Server) waitForClients(ctx context.Context) {
	if s.clientWait <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.clientWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		return // the shutdown reports what is wrong
	}
	defer conn.Close(context.WithoutCancel(ctx))
	logged := false
	for {
		var n int
		var who string
		err := conn.QueryRow(ctx, `SELECT count(*), coalesce(string_agg(DISTINCT application_name, ', '), '')
			FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
			AND application_name LIKE '%' || $1`, guestMark).Scan(&n, &who)
		if err != nil || n == 0 {
			return
		}
		if !logged {
			s.logger.Info("waiting for the programs using PostgreSQL to finish before stopping it",
				"programs", n, "which", who, "at_most", s.clientWait)
			logged = true
		}
		select {
		case <-ctx.Done():
			s.logger.Warn("stopping PostgreSQL under programs still using it", "programs", n, "which", who)
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeOwner records o as the owner of the server on dataDir.
func writeOwner(dataDir string, o Owner) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, ownerFile), b, 0o644); err != nil {
		return fmt.Errorf("record the owner of PostgreSQL: %w", err)
	}
	return nil
}

// lockFile takes an exclusive flock on name, polling until ctx ends, and
// returns its release.
func lockFile(ctx context.Context, name string) (func(), error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock the data directory: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock the data directory: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

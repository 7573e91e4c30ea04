package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
)

// niceOf reads a process's nice value from /proc.
func niceOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command's closing parenthesis start at the
	// state, field 3; nice is field 19.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	n, err := strconv.Atoi(f[19-3])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHeavySessionsAreRenicedOnlyWhenTheyAreTheirOwn: the hook of the pool
// of heavy queries (PARTNERGRAPH_HEAVY_DB_NICE) renices each new
// connection's backend, pgtest's PostgreSQL running on this host; it
// refuses a process that is not the connection's backend.
func TestHeavySessionsAreRenicedOnlyWhenTheyAreTheirOwn(t *testing.T) {
	pc, err := pgxpool.ParseConfig(pgtest.NewDB(t, "empty"))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	pc.AfterConnect = reniceSessions(7, slog.New(slog.NewTextHandler(&logged, nil)))
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var pid int
	if err := pool.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if logged.Len() > 0 {
		// PostgreSQL runs as another user and this one may not renice it.
		t.Skipf("cannot renice here: %s", logged.String())
	}
	if got := niceOf(t, pid); got != 7 {
		t.Errorf("backend %d has nice %d, want 7", pid, got)
	}

	own := niceOf(t, os.Getpid())
	if err := renice(os.Getpid(), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, 7); err == nil {
		t.Error("reniced a process that is no connection's backend")
	}
	if got := niceOf(t, os.Getpid()); got != own {
		t.Errorf("this process's nice went from %d to %d", own, got)
	}
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// reniceSessions returns an AfterConnect hook that lowers the CPU priority
// of each new connection's PostgreSQL backend process to nice
// (PARTNERGRAPH_HEAVY_DB_NICE), for the pool of heavy queries' reads: the
// operating system then gives the backends of light queries the cores
// first. It can only work when PostgreSQL runs on this host, in this
// process's PID namespace, as this user (or with CAP_SYS_NICE); it renices
// a process only after checking, in /proc, that it is the backend of this
// very connection (its title names the connection's client port, or
// [local] over a Unix socket). When it cannot, it says so once and the
// connection is used as it is.
func reniceSessions(nice int, log *slog.Logger) func(context.Context, *pgx.Conn) error {
	var warned atomic.Bool
	return func(ctx context.Context, conn *pgx.Conn) error {
		var pid int
		if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		err := renice(pid, conn.PgConn().Conn().LocalAddr(), nice)
		if err != nil && !warned.Swap(true) {
			log.Warn("the CPU priority of heavy queries' database sessions is left as it is (PARTNERGRAPH_HEAVY_DB_NICE)", "err", err)
		}
		return nil
	}
}

func renice(pid int, local net.Addr, nice int) error {
	title, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return fmt.Errorf("backend %d is not a process of this host: %w", pid, err)
	}
	mark := "[local]"
	if tcp, ok := local.(*net.TCPAddr); ok {
		mark = fmt.Sprintf("(%d)", tcp.Port)
	}
	if t := string(title); !strings.HasPrefix(t, "postgres") || !strings.Contains(t, mark) {
		return fmt.Errorf("process %d of this host is not this connection's backend", pid)
	}
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, pid, nice); err != nil {
		return fmt.Errorf("renice backend %d: %w", pid, err)
	}
	return nil
}

package store

import (
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// CancelStatementsWithContext makes the connections of cfg ask PostgreSQL
// to cancel their running statement as soon as the context of a query
// ends (a request's timeout, a limit of the second wall, a client gone).
// pgx's default only sets a deadline on the socket and drops the
// connection; a statement waiting for a lock then went on running on the
// server after the request had been answered
// (TestRequestTimeoutCancelsTheStatement). If the server has not answered
// the cancel request within a second, the connection is closed as before.
func CancelStatementsWithContext(cfg *pgxpool.Config) {
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second}
	}
}

package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// TokenChannel is the PostgreSQL NOTIFY channel on which a trigger
// (migration 00012) announces every revocation, deletion or role change
// of an API token, whoever made it.
const TokenChannel = "partnergraph_tokens"

// TokenEvent is a change of an API token's state.
type TokenEvent struct {
	TokenID int64   `json:"token"`
	Role    kb.Role `json:"role"`
	Revoked bool    `json:"revoked"`
}

// Listener receives what Listen delivers. Its functions run on the
// listening goroutine, one at a time, and must not block.
type Listener struct {
	// Listening is called each time the LISTEN is in place: nothing
	// committed after that is missed.
	Listening func()
	// Change receives each change of the feed.
	Change func(Change)
	// Token receives each change of a token's state.
	Token func(TokenEvent)
}

// ListenOn makes Listen open a connection of its own to connString
// instead of taking one from the pool. A LISTEN is session state: behind
// PgBouncer in transaction pooling mode the pool's sessions are shared
// between transactions and a LISTEN on one of them hears nothing, so the
// listener needs a direct connection to the primary (DATABASE_LISTEN_URL,
// docs/scaling.md). Call it before use.
func (s *Store) ListenOn(connString string) { s.listenURL = connString }

// Listen delivers the change feed and token changes to l until ctx ends or
// the connection fails. It holds one pooled connection that LISTENs on
// ChangeChannel and TokenChannel. It returns ctx's error or the
// connection's.
func (s *Store) Listen(ctx context.Context, l Listener) error {
	var pc *pgx.Conn
	if s.listenURL != "" {
		conn, err := pgx.Connect(ctx, s.listenURL)
		if err != nil {
			return fmt.Errorf("listen (DATABASE_LISTEN_URL): %w", translate(err))
		}
		pc = conn
	} else {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("listen: %w", translate(err))
		}
		// The session is LISTENing: never hand it back to the pool.
		pc = conn.Hijack()
	}
	defer pc.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{ChangeChannel, TokenChannel} {
		if _, err := pc.Exec(ctx, `LISTEN `+ch); err != nil {
			return fmt.Errorf("listen: %w", translate(err))
		}
	}
	if l.Listening != nil {
		l.Listening()
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("listen: %w", translate(err))
		}
		switch n.Channel {
		case ChangeChannel:
			var c Change
			if err := json.Unmarshal([]byte(n.Payload), &c); err != nil || l.Change == nil {
				continue // not ours: another writer on the channel
			}
			l.Change(c)
		case TokenChannel:
			var t TokenEvent
			if err := json.Unmarshal([]byte(n.Payload), &t); err != nil || t.TokenID == 0 || l.Token == nil {
				continue
			}
			l.Token(t)
		}
	}
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// Listen delivers the change feed to fn until ctx ends or the connection
// fails. It holds one pooled connection that LISTENs on ChangeChannel and
// calls listening once the LISTEN is in place, so no change committed
// after that is missed. It returns ctx's error or the connection's.
func (s *Store) Listen(ctx context.Context, listening func(), fn func(Change)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", translate(err))
	}
	// The session is LISTENing: never hand it back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, `LISTEN `+ChangeChannel); err != nil {
		return fmt.Errorf("listen: %w", translate(err))
	}
	listening()
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("listen: %w", translate(err))
		}
		var c Change
		if err := json.Unmarshal([]byte(n.Payload), &c); err != nil {
			continue // not ours: another writer on the channel
		}
		fn(c)
	}
}

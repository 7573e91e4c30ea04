package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// Malformed payloads, which no client library sends, close with 4400
// rather than leaving the socket hanging (gqlgen drops a connection whose
// connection_init payload is not an object without a close frame).
func TestWebSocketMalformedPayloadsClose4400(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{})
	ed := a.newToken("ed", kb.RoleEditor)
	init := map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + ed}}
	for name, msgs := range map[string][]any{
		"init payload a string": {map[string]any{"type": "connection_init", "payload": "Bearer " + ed}},
		"subscribe query a number": {init,
			map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": 1}}},
		"subscribe without payload": {init, map[string]any{"type": "subscribe", "id": "1"}},
		"subscribe without id":      {init, map[string]any{"type": "subscribe", "payload": map[string]any{"query": "{ __typename }"}}},
		"complete without id":       {init, map[string]any{"type": "complete"}},
		"next from the client":      {init, map[string]any{"type": "next", "id": "1"}},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			url := "ws" + strings.TrimPrefix(a.URL, "http") + "/graphql"
			c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			for _, m := range msgs {
				if err := send(ctx, c, m); err != nil {
					t.Fatal(err)
				}
			}
			code, reason, err := closedWith(ctx, c)
			if err != nil || code != server.CloseBadRequest || !strings.HasPrefix(reason, "Invalid message received") {
				t.Errorf("closed with %d %q (%v), want 4400 Invalid message received", code, reason, err)
			}
		})
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// The close codes of the graphql-transport-ws protocol
// (github.com/enisdenjo/graphql-ws, PROTOCOL.md) that protocolConn sends;
// CloseUnauthorized and CloseForbidden are in socket.go.
const (
	// CloseBadRequest closes a connection that sent a message the protocol
	// does not know or that is not JSON.
	CloseBadRequest = 4400
	// CloseInitTimeout closes a connection that sent no connection_init
	// within the init timeout.
	CloseInitTimeout = 4408
	// CloseSubscriberExists closes a connection that started a
	// subscription with the id of one still running.
	CloseSubscriberExists = 4409
	// CloseTooManyInits closes a connection that sent connection_init
	// twice.
	CloseTooManyInits = 4429
)

// DefaultWebSocketInitTimeout is how long a new WebSocket may take to send
// connection_init, graphql-ws's own default.
const DefaultWebSocketInitTimeout = 3 * time.Second

// protocolConn enforces the rules of the graphql-transport-ws protocol that
// gqlgen's transport does not: it closes with 1002, 1000 or not at all
// where the protocol names a code, and the graphql-ws client reconnects at
// once after a 1000, in a loop. It sits between gqlgen's transport and the
// socket, reads every message before gqlgen does, and on a breach closes
// with the protocol's code and reason and tells gqlgen that the socket
// closed. It watches what gqlgen sends for the acknowledgement and for the
// end of each subscription.
//
// The legacy subprotocol graphql-ws (subscriptions-transport-ws) gets only
// the init timeout: it has no codes of its own for the other breaches.
type protocolConn struct {
	transport.WebsocketConn
	strict bool // graphql-transport-ws

	mu       sync.Mutex
	initSeen bool
	acked    bool
	closed   bool
	active   map[string]bool // the ids of running subscriptions
	timer    *time.Timer     // the init timeout, until connection_init
}

func newProtocolConn(conn transport.WebsocketConn, initTimeout time.Duration) *protocolConn {
	c := &protocolConn{WebsocketConn: conn, strict: conn.Subprotocol() == "graphql-transport-ws", active: map[string]bool{}}
	if initTimeout > 0 {
		c.mu.Lock()
		c.timer = time.AfterFunc(initTimeout, func() {
			// gqlgen's read of the first message then ends, and with it the
			// connection.
			_ = c.WriteClose(CloseInitTimeout, "Connection initialisation timeout")
		})
		c.mu.Unlock()
	}
	return c
}

// NextReader reads the next message and checks it against the protocol;
// a breach closes the connection and reads as a closed socket.
func (c *protocolConn) NextReader() (int, io.Reader, error) {
	typ, r, err := c.WebsocketConn.NextReader()
	if err != nil {
		return typ, r, err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return typ, nil, err
	}
	if code, reason := c.check(b); code != 0 {
		_ = c.WriteClose(code, reason)
		return typ, nil, transport.ErrWebsocketClosed
	}
	return typ, bytes.NewReader(b), nil
}

// check returns the close code and reason of a message that breaks the
// protocol, or 0, and notes the connection_init and the subscriptions.
func (c *protocolConn) check(b []byte) (int, string) {
	var m struct {
		Type    string          `json:"type"`
		ID      *string         `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	err := json.Unmarshal(b, &m)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && m.Type == "connection_init" && !c.initSeen {
		if c.strict && !isObjectOrNull(m.Payload) {
			// gqlgen would end the connection without a close frame.
			return CloseBadRequest, "Invalid message received: the payload of connection_init must be an object"
		}
		c.initSeen = true
		if c.timer != nil {
			c.timer.Stop()
		}
		return 0, ""
	}
	if !c.strict {
		return 0, ""
	}
	if err != nil {
		return CloseBadRequest, "Invalid message received: not a JSON message object"
	}
	switch m.Type {
	case "connection_init":
		return CloseTooManyInits, "Too many initialisation requests"
	case "subscribe":
		switch {
		case !c.acked:
			return CloseUnauthorized, "Unauthorized: subscribe before the connection is acknowledged"
		case m.ID == nil || *m.ID == "":
			return CloseBadRequest, "Invalid message received: subscribe without an id"
		case !isSubscribePayload(m.Payload):
			return CloseBadRequest, "Invalid message received: the payload of subscribe must be an object with a query"
		case c.active[*m.ID]:
			return CloseSubscriberExists, closeText("Subscriber for " + *m.ID + " already exists")
		}
		c.active[*m.ID] = true
	case "complete":
		if m.ID == nil {
			return CloseBadRequest, "Invalid message received: complete without an id"
		}
		delete(c.active, *m.ID)
	case "ping", "pong":
	default:
		return CloseBadRequest, closeText("Invalid message received: unknown type " + m.Type)
	}
	return 0, ""
}

// WriteJSON sends a message, noting the acknowledgement and the end of a
// subscription (complete or error), whose id may then be used again.
func (c *protocolConn) WriteJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(b, &m) == nil {
		c.mu.Lock()
		switch m.Type {
		case "connection_ack":
			c.acked = true
		case "complete", "error":
			delete(c.active, m.ID)
		}
		c.mu.Unlock()
	}
	return c.WebsocketConn.WriteJSON(json.RawMessage(b))
}

// WriteClose sends the first close only: the code of a breach or of a
// refusal must not be replaced by gqlgen's own close that follows.
func (c *protocolConn) WriteClose(code int, reason string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	return c.WebsocketConn.WriteClose(code, reason)
}

// SetReadLimit passes gqlgen's read limit on to the socket.
func (c *protocolConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline passes gqlgen's read deadline on to the socket.
func (c *protocolConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// isObjectOrNull reports whether p is absent, null or a JSON object.
func isObjectOrNull(p json.RawMessage) bool {
	p = bytes.TrimSpace(p)
	return len(p) == 0 || string(p) == "null" || p[0] == '{'
}

// isSubscribePayload reports whether p is an object whose query is a
// string: the protocol's subscribe payload. The query may be empty, for a
// persisted query sent by its hash.
func isSubscribePayload(p json.RawMessage) bool {
	var v struct {
		Query      *string        `json:"query"`
		Extensions map[string]any `json:"extensions"`
	}
	p = bytes.TrimSpace(p)
	if len(p) == 0 || p[0] != '{' || json.Unmarshal(p, &v) != nil {
		return false
	}
	return v.Query != nil || v.Extensions["persistedQuery"] != nil
}

// closeText fits a reason into a close frame, which holds 123 bytes.
func closeText(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

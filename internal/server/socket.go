package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/feed"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The WebSocket close codes of refusals, as graphql-transport-ws uses them.
const (
	// CloseUnauthorized closes a connection initialised without a valid
	// token.
	CloseUnauthorized = 4401
	// CloseForbidden closes a connection whose token may not use the
	// socket: too low a role at the start, or revoked or changed since.
	CloseForbidden = 4403
	// CloseTryAgainLater closes a connection the server cannot serve now.
	CloseTryAgainLater = 1013
)

// socket is the state of one WebSocket connection: its connection, for a
// close with a code of our own, and the token it was opened with. It lives
// in the connection's context, from before the upgrade to the close.
type socket struct {
	// end cancels the connection's context: gqlgen then ends its
	// operations and closes the socket.
	end context.CancelFunc

	mu      sync.Mutex
	conn    transport.WebsocketConn // nil until the upgrade
	viewer  kb.Viewer               // zero until connection_init
	closing bool
}

type socketKey struct{}

func socketOf(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// opened records the viewer the connection was initialised with.
func (s *socket) opened(v kb.Viewer) {
	s.mu.Lock()
	s.viewer = v
	s.mu.Unlock()
}

func (s *socket) tokenViewer() kb.Viewer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewer
}

// close sends a close frame with code and reason, once, and ends the
// connection's context. gqlgen's own close that follows (a normal closure)
// finds the close handshake under way and sends nothing more.
func (s *socket) close(code int, reason string) {
	s.mu.Lock()
	if !s.closing && s.conn != nil {
		_ = s.conn.WriteClose(code, reason)
	}
	s.closing = true
	s.mu.Unlock()
	s.end()
}

// check compares the token's state now with the one the socket was opened
// with. If it was revoked or its role changed, it returns the error the
// refused operation gets and end, which closes the socket with
// CloseForbidden; the caller sends the refusal first. A database that
// cannot answer refuses the operation (UNAVAILABLE) but leaves the socket
// open: end is nil.
func (s *socket) check(ctx context.Context, st *store.Store) (now kb.Viewer, refused *gqlerror.Error, end func()) {
	was := s.tokenViewer()
	now, err := st.ViewerByTokenID(ctx, was.TokenID)
	switch {
	case errors.Is(err, kb.ErrNotFound):
		return now, &gqlerror.Error{Message: "the token was revoked; the connection closes", Extensions: map[string]any{"code": CodeUnauthenticated}},
			func() { s.close(CloseForbidden, "the token was revoked") }
	case err != nil:
		return now, &gqlerror.Error{Message: unavailableMessage, Extensions: map[string]any{"code": CodeUnavailable}}, nil
	case now.Role != was.Role:
		msg := roleChanged(was.Role, now.Role)
		return now, &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeForbidden}},
			func() { s.close(CloseForbidden, msg) }
	}
	return now, nil, nil
}

func roleChanged(from, to kb.Role) string {
	return "the token's role changed from " + string(from) + " to " + string(to) + "; connect again"
}

// watch closes the socket when its token is revoked or changes role, on
// whichever server instance that happened: the change arrives on the
// database's token channel (migration 00012). After the listener
// reconnects, when changes may have been lost, it rechecks the token.
func (s *socket) watch(ctx context.Context, hub *feed.Hub, st *store.Store) error {
	v := s.tokenViewer()
	return hub.WatchTokens(ctx, func(t feed.TokenEvent) {
		switch {
		case t.Resync:
			// Not on the listener's goroutine: check reads the database.
			go func() {
				if _, _, end := s.check(ctx, st); end != nil {
					end()
				}
			}()
		case t.TokenID != v.TokenID:
		case t.Revoked:
			s.close(CloseForbidden, "the token was revoked")
		case t.Role != v.Role:
			s.close(CloseForbidden, roleChanged(v.Role, t.Role))
		}
	})
}

// socketImplementation accepts WebSockets with coder/websocket, wraps the
// connection in a protocolConn, which enforces graphql-transport-ws's
// close codes and the init timeout, and hands it to the request's socket,
// so that it can be closed with CloseForbidden.
type socketImplementation struct {
	transport.CoderWebsocketImplementation
	// initTimeout is how long a connection may take to send
	// connection_init; 0 waits for ever.
	initTimeout time.Duration
}

// Accept upgrades the connection; see transport.WebsocketImplementation.
func (i socketImplementation) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := i.CoderWebsocketImplementation.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	pc := newProtocolConn(conn, i.initTimeout)
	if s := socketOf(r.Context()); s != nil {
		s.mu.Lock()
		s.conn = pc
		s.mu.Unlock()
	}
	return pc, nil
}

// socketGuard is a gqlgen extension that authorises every operation on a
// WebSocket when it starts, with its token's state now (revoked, role),
// and charges it to the token's rate limit, as HTTP requests are. HTTP
// requests pass through: authenticate and rateLimit have seen them.
type socketGuard struct {
	st     *store.Store
	server *Server
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = socketGuard{}

// ExtensionName names the extension for gqlgen.
func (socketGuard) ExtensionName() string { return "SocketGuard" }

// Validate accepts any schema.
func (socketGuard) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation refuses an operation on a socket whose token was
// revoked or changed role (and closes the socket), or that is over the
// token's rate limit; others run as the token's current viewer.
func (g socketGuard) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	s := socketOf(ctx)
	if s == nil {
		return next(ctx)
	}
	v, refused, end := s.check(ctx, g.st)
	if ctx.Err() != nil {
		// The socket or the server is closing (a shutdown closes every
		// socket politely): the operation ends without a message, not
		// with the error of the token check that the closing cut short.
		return func(context.Context) *graphql.Response { return nil }
	}
	if refused != nil {
		return refuseOperation(refused, end)
	}
	if l := g.server.limits; l != nil {
		// Its cost is spent from the token's bucket too (costRate), not
		// from the address that opened the socket.
		c := client{key: "token:" + strconv.FormatInt(v.TokenID, 10), by: "token", staff: v.Staff()}
		ctx = context.WithValue(ctx, rateClientKey{}, c)
		if d := l.reserve(c.key, c.staff, time.Now()); d > 0 {
			secs := int(math.Ceil(d.Seconds()))
			g.server.metrics.rateLimited.WithLabelValues("token").Inc()
			return refuseOperation(&gqlerror.Error{
				Message:    g.server.rateMessage(v.Staff(), secs),
				Extensions: map[string]any{"code": CodeLimitExceeded, "retryAfter": secs},
			}, nil)
		}
	}
	// Loaders of the operation's own, for its viewer: the connection's
	// were made for the upgrade request, which carries no token (the
	// token comes in connection_init), so staff would read with anonymous
	// visibility; and a socket lives for hours, over which loaders made
	// once would serve what they cached at the start.
	ctx = loader.With(ctx, loader.New(g.st, store.Visibility{Drafts: v.Staff()}, g.server.cfg.LoaderWait).WithAhead(g.server.ahead))
	return next(auth.With(ctx, v))
}

// refuseOperation answers an operation with err alone; then, once the
// transport has sent it (it asks for the next response), it calls end if
// not nil.
func refuseOperation(err *gqlerror.Error, end func()) graphql.ResponseHandler {
	sent := false
	return func(context.Context) *graphql.Response {
		if !sent {
			sent = true
			return &graphql.Response{Errors: gqlerror.List{err}}
		}
		if end != nil {
			end()
		}
		return nil
	}
}

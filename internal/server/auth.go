package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/feed"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// authenticate resolves the viewer of every request from its
// Authorization header: anonymous without one, the token's name and role
// with a valid one. A malformed, unknown or revoked token gets 401 with an
// UNAUTHENTICATED error, rather than silently reading as anonymous: a
// client whose token was revoked should learn it. The token itself is
// never logged.
func (s *Server) authenticate(st *store.Store, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := auth.Authenticate(r.Context(), r.Header.Get("Authorization"), st.ViewerByTokenHash)
		if err != nil {
			if !s.allowFailedAuth(w, r) {
				return
			}
			code, msg := CodeUnauthenticated, "the token is unknown or revoked"
			switch {
			case errors.Is(err, auth.ErrMalformed):
				msg = "the Authorization header must be \"Bearer <token>\""
			case !errors.Is(err, kb.ErrUnauthenticated) && clientGone(r.Context()):
				// The check's statement was cancelled because the client
				// went away (the store reports it as UNAVAILABLE): as on
				// the GraphQL path, not a fault of the server's.
				s.cfg.Logger.InfoContext(r.Context(), cancelledMessage, "request_id", RequestID(r.Context()),
					"code", CodeCancelled, "during", "token check", "err", err)
				writeRefusal(w, refusal{Code: CodeCancelled, Message: cancelledMessage})
				return
			case !errors.Is(err, kb.ErrUnauthenticated):
				s.cfg.Logger.WarnContext(r.Context(), "authentication failed", "request_id", RequestID(r.Context()), "err", err)
				code, msg = CodeUnavailable, "cannot check the token now; try again shortly"
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="partnergraph"`)
			writeRefusal(w, refusal{Code: code, Message: msg})
			return
		}
		next.ServeHTTP(w, r.WithContext(store.WithRoute(auth.With(r.Context(), v), route(v))))
	})
}

// route says where a viewer's reads may go (docs/scaling.md): anonymous
// callers and readers read from a replica that holds every write this
// server has made or heard of, and that a reader's own token made; staff
// read from the primary, as they write there, so they never miss a change
// of their own or of a colleague.
func route(v kb.Viewer) store.Route {
	if v.Staff() {
		return store.Route{}
	}
	r := store.Route{Replica: true}
	if v.TokenID != 0 {
		r.Session = "token:" + strconv.FormatInt(v.TokenID, 10)
	}
	return r
}

// visibility lets staff see drafts and archived entries.
func visibility(r *http.Request) store.Visibility {
	return store.Visibility{Drafts: auth.FromRequest(r).Staff()}
}

// wsInit authenticates a WebSocket connection by the token in its
// connection_init payload ({"Authorization": "Bearer <token>"}), since
// browsers cannot set headers on a WebSocket. The change feed is for staff
// only, so other viewers are refused at once (close code 4401 without a
// valid token, 4403 with too low a role). From then on the socket watches
// its token: a revocation or role change closes it (socket.watch).
func (s *Server) wsInit(st *store.Store, hub *feed.Hub) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		refuse := func(code int, err error) (context.Context, *transport.InitPayload, error) {
			ctx = transport.WithWebsocketCloseCode(ctx, code)
			return transport.AppendCloseReason(ctx, closeReason(err)), nil, err
		}
		v := auth.ViewerOf(ctx)
		if h := p.Authorization(); h != "" {
			var err error
			if v, err = auth.Authenticate(ctx, h, st.ViewerByTokenHash); err != nil {
				if !errors.Is(err, kb.ErrUnauthenticated) {
					// The database did not answer: the token may be fine.
					s.cfg.Logger.WarnContext(ctx, "authentication failed", "request_id", RequestID(ctx), "err", err)
					return refuse(CloseTryAgainLater, fmt.Errorf("%w: cannot check the token now; try again shortly", kb.ErrUnavailable))
				}
				return refuse(CloseUnauthorized, err)
			}
		}
		if err := v.Require(kb.RoleEditor); err != nil {
			if errors.Is(err, kb.ErrUnauthenticated) {
				return refuse(CloseUnauthorized, err)
			}
			return refuse(CloseForbidden, err)
		}
		if sock := socketOf(ctx); sock != nil {
			sock.opened(v)
			if err := sock.watch(ctx, hub, st); err != nil {
				s.cfg.Logger.WarnContext(ctx, "cannot watch tokens", "request_id", RequestID(ctx), "err", err)
				return refuse(CloseTryAgainLater, fmt.Errorf("%w: the server cannot watch token revocations now; try again shortly", kb.ErrUnavailable))
			}
		}
		// The socket was routed as its upgrade request (anonymous):
		// route it as the viewer its token names.
		return store.WithRoute(auth.With(ctx, v), route(v)), nil, nil
	}
}

// closeReason fits an error into a close frame's reason, which may hold
// 123 bytes.
func closeReason(err error) string {
	r := err.Error()
	if len(r) > 120 {
		r = strings.ToValidUTF8(r[:120], "")
	}
	return r
}

// validHandshake reports whether r is a WebSocket opening handshake that
// the upgrade will accept (RFC 6455, section 4.2.1).
func validHandshake(r *http.Request) bool {
	upgrade := false
	for _, v := range r.Header.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			upgrade = upgrade || strings.EqualFold(strings.TrimSpace(t), "upgrade")
		}
	}
	return r.Method == http.MethodGet && upgrade && r.Header.Get("Sec-WebSocket-Version") == "13" && r.Header.Get("Sec-WebSocket-Key") != ""
}

// isWebSocket reports whether r asks to upgrade to a WebSocket.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

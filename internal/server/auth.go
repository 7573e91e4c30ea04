package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/partnergraph/partnergraph/internal/auth"
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
			status, code, msg := http.StatusUnauthorized, CodeUnauthenticated, "the token is unknown or revoked"
			switch {
			case errors.Is(err, auth.ErrMalformed):
				msg = "the Authorization header must be \"Bearer <token>\""
			case !errors.Is(err, kb.ErrUnauthenticated):
				s.cfg.Logger.WarnContext(r.Context(), "authentication failed", "request_id", RequestID(r.Context()), "err", err)
				status, code, msg = http.StatusServiceUnavailable, CodeUnavailable, "cannot check the token now; try again shortly"
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="partnergraph"`)
			writeJSON(w, status, map[string]any{"errors": []map[string]any{{
				"message": msg, "extensions": map[string]string{"code": code},
			}}})
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.With(r.Context(), v)))
	})
}

// visibility lets staff see drafts and archived entries.
func visibility(r *http.Request) store.Visibility {
	return store.Visibility{Drafts: auth.FromRequest(r).Staff()}
}

// wsInit authenticates a WebSocket connection by the token in its
// connection_init payload ({"Authorization": "Bearer <token>"}), since
// browsers cannot set headers on a WebSocket. The change feed is for staff
// only, so other viewers are refused at once.
func wsInit(st *store.Store) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		v := auth.ViewerOf(ctx)
		if h := p.Authorization(); h != "" {
			var err error
			if v, err = auth.Authenticate(ctx, h, st.ViewerByTokenHash); err != nil {
				return ctx, nil, err
			}
		}
		if err := v.Require(kb.RoleEditor); err != nil {
			return ctx, nil, err
		}
		return auth.With(ctx, v), nil, nil
	}
}

// isWebSocket reports whether r asks to upgrade to a WebSocket.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// originHosts turns CORS origins ("https://*.example.org") into the host
// patterns the WebSocket origin check takes ("*.example.org").
func originHosts(origins []string) []string {
	var out []string
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}

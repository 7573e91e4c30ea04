package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/feed"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// sseTransport serves GraphQL over Server-Sent Events (the "distinct
// connections" mode of the GraphQL over SSE protocol, which the graphql-sse
// client speaks): a POST of a GraphQL request in JSON with
// Accept: text/event-stream gets a text/event-stream of `next` events, one
// per result, and a `complete` event. gqlgen's transport.SSE streams; this
// wrapper first reads the request as httpTransport does, so that a body
// that is not a GraphQL request gets the same refusal with an error code
// (gqlgen's would answer without one and log the body).
//
// Authentication, the rate limit and CORS are those of every request to
// /graphql; a subscription's stream escapes the request timeout and is
// held to the WebSocket's origin rule (see Server.routes).
type sseTransport struct {
	transport.SSE
	hub *feed.Hub
	st  *store.Store
}

// sseStreamKey marks the context of a subscription over SSE (see
// Server.routes), whose token sseTransport watches.
type sseStreamKey struct{}

var _ graphql.Transport = sseTransport{}

// Supports takes JSON POSTs that accept an event stream.
func (t sseTransport) Supports(r *http.Request) bool { return isEventStream(r) }

// Do refuses a request that cannot be read, then streams its results.
func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
			writeRefusal(w, bodyTooLarge(mb.Limit))
			return
		}
		writeRefusal(w, refusal{Code: CodeBadUserInput, Message: "the request body cannot be read"})
		return
	}
	var params graphql.RawParams
	if err := decodeJSON(bytes.NewReader(body), &params); err != nil {
		writeRefusal(w, refusal{Code: CodeBadUserInput, Message: "the request body is not a GraphQL request in JSON: " + err.Error()})
		return
	}
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		writeRefusal(w, refusal{Code: CodeBadUserInput, Field: "query",
			Message: "the request has no query: send the GraphQL document in query (or a persisted query's hash in extensions.persistedQuery)"})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ctx := r.Context()
	if v := auth.ViewerOf(ctx); v.TokenID != 0 && ctx.Value(sseStreamKey{}) != nil && t.hub != nil {
		// As a socket does (socket.watch): a revocation or a change of
		// role ends the stream within a second, on whichever instance it
		// happened, instead of at the subscription's next token check.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		err := t.hub.WatchTokens(ctx, func(ev feed.TokenEvent) {
			switch {
			case ev.Resync:
				// Not on the listener's goroutine: this reads the database.
				go func() {
					now, err := t.st.ViewerByTokenID(ctx, v.TokenID)
					if errors.Is(err, kb.ErrNotFound) || err == nil && now.Role != v.Role {
						cancel()
					}
				}()
			case ev.TokenID != v.TokenID:
			case ev.Revoked || ev.Role != v.Role:
				cancel()
			}
		})
		if err != nil {
			writeRefusal(w, refusal{Code: CodeUnavailable, Message: "the server cannot watch token revocations now; try again shortly"})
			return
		}
	}
	t.SSE.Do(w, r.WithContext(ctx), exec)
}

// isEventStream reports whether r asks for GraphQL over SSE: a JSON POST
// that accepts text/event-stream.
func isEventStream(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// isSubscription reports whether the GraphQL request in body runs a
// subscription: its named operation, or its only one. A body that does
// not parse, or has more than maxTokens tokens (0: no limit), is not one;
// the transport and the limits refuse it. It runs before authentication,
// hence the token limit.
func isSubscription(body []byte, maxTokens int) bool {
	var params graphql.RawParams
	if decodeJSON(bytes.NewReader(body), &params) != nil || params.Query == "" {
		return false
	}
	src := &ast.Source{Input: params.Query}
	var doc *ast.QueryDocument
	var err error
	if maxTokens > 0 {
		doc, err = parser.ParseQueryWithTokenLimit(src, maxTokens)
	} else {
		doc, err = parser.ParseQuery(src)
	}
	if err != nil {
		return false
	}
	op := doc.Operations.ForName(params.OperationName)
	if op == nil && len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	return op != nil && op.Operation == ast.Subscription
}

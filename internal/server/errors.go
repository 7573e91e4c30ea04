package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The error codes of the API, in extensions.code; docs/api.md ("Errors")
// says which refusals give each.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeLimitExceeded   = "LIMIT_EXCEEDED"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL"
	// The codes of the topic vocabulary (docs/api.md, "Topics"):
	// INVALID_SLUG is a kb.ValidationError's Code.
	CodeTopicNotFound = "TOPIC_NOT_FOUND"
	CodeSlugTaken     = "SLUG_TAKEN"
	CodeLabelTaken    = "LABEL_TAKEN"
	// CodeCancelled answers a request whose client went away before it
	// finished (the answer reaches nobody): its statements were cancelled
	// and its writes rolled back. Logged at INFO, never as an error.
	CodeCancelled = "CANCELLED"
	// CodePersistedQueryNotFound is the conventional code of an automatic
	// persisted query whose hash the server does not know, which Apollo
	// and urql clients answer by sending the document.
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
)

var sentinelCodes = []struct {
	err  error
	code string
}{
	// The topic vocabulary's own codes first: each also is what its name
	// says of the general ones.
	{kb.ErrTopicNotFound, CodeTopicNotFound},
	{kb.ErrSlugTaken, CodeSlugTaken},
	{kb.ErrLabelTaken, CodeLabelTaken},
	{kb.ErrNotFound, CodeNotFound},
	{kb.ErrConflict, CodeConflict},
	{kb.ErrUnauthenticated, CodeUnauthenticated},
	{kb.ErrForbidden, CodeForbidden},
	{kb.ErrLimitExceeded, CodeLimitExceeded},
	{kb.ErrUnavailable, CodeUnavailable},
}

// codeStatus is the HTTP status of a refusal answered at the HTTP level
// with each code, unless the refusal names a more precise one (405, 413,
// 415). Errors inside a GraphQL response leave its status 200.
var codeStatus = map[string]int{
	CodeBadUserInput:    http.StatusBadRequest,
	CodeNotFound:        http.StatusNotFound,
	CodeConflict:        http.StatusConflict,
	CodeUnauthenticated: http.StatusUnauthorized,
	CodeForbidden:       http.StatusForbidden,
	CodeLimitExceeded:   http.StatusTooManyRequests,
	CodeUnavailable:     http.StatusServiceUnavailable,
	CodeInternal:        http.StatusInternalServerError,
	CodeTopicNotFound:   http.StatusNotFound,
	CodeSlugTaken:       http.StatusConflict,
	CodeLabelTaken:      http.StatusConflict,
	kb.CodeInvalidSlug:  http.StatusBadRequest,
	CodeCancelled:       499, // nginx's "client closed request"
}

// refusal is an error answered at the HTTP level, in the shape of a
// GraphQL response's errors, so that clients read every refusal alike.
type refusal struct {
	// Code is the error code (CodeBadUserInput...).
	Code string
	// Message says what is wrong, in words a client can show.
	Message string
	// Field names the offending input, if any (extensions.field).
	Field string
	// Status overrides the code's status in codeStatus; 0 keeps it.
	Status int
	// RetryAfter, in seconds, sets Retry-After and extensions.retryAfter.
	RetryAfter int
}

// writeRefusal is the one writer of HTTP-level error bodies.
func writeRefusal(w http.ResponseWriter, r refusal) {
	status := r.Status
	if status == 0 {
		status = codeStatus[r.Code]
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	ext := map[string]any{"code": r.Code}
	if r.Field != "" {
		ext["field"] = r.Field
	}
	if r.RetryAfter > 0 {
		ext["retryAfter"] = r.RetryAfter
		w.Header().Set("Retry-After", strconv.Itoa(r.RetryAfter))
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"message": r.Message, "extensions": ext}}})
}

// refusalOf maps an error met outside GraphQL execution (an export, a
// token check) to its refusal: a validation error is BAD_USER_INPUT with
// its field, a domain sentinel its code; anything else is INTERNAL, logged
// with the request ID, which is all the client sees.
func refusalOf(ctx context.Context, log *slog.Logger, err error) refusal {
	var v *kb.ValidationError
	if errors.As(err, &v) {
		code := CodeBadUserInput
		if v.Code != "" {
			code = v.Code
		}
		return refusal{Code: code, Field: v.Field, Message: v.Error()}
	}
	if cancelledByClient(ctx, err) {
		// As presentError: what failed (a statement cancelled, which the
		// store reports as UNAVAILABLE, a connection not acquired) failed
		// because the client went away. Nothing is wrong with the server.
		log.InfoContext(ctx, cancelledMessage, "request_id", RequestID(ctx), "code", CodeCancelled, "err", err)
		return refusal{Code: CodeCancelled, Message: cancelledMessage}
	}
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			if s.code == CodeUnavailable {
				log.WarnContext(ctx, "database unavailable", "request_id", RequestID(ctx), "err", err)
				return refusal{Code: CodeUnavailable, Message: unavailableMessage}
			}
			return refusal{Code: s.code, Message: err.Error()}
		}
	}
	id := RequestID(ctx)
	log.ErrorContext(ctx, "internal error", "request_id", id, "err", err)
	return refusal{Code: CodeInternal, Message: fmt.Sprintf("internal error (request %s)", id)}
}

// clientGone reports whether ctx, a request's, ended because its client
// went away (the connection closed, the stream was reset), rather than by
// a limit of the server (budget.Stopped, the request timeout).
func clientGone(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled) && errors.Is(context.Cause(ctx), context.Canceled) && budget.Stopped(ctx) == nil
}

// cancelledByClient reports whether err, met by a request of ctx, failed
// because its client went away (a statement cancelled, which the store
// reports as UNAVAILABLE, a connection not acquired, a transaction rolled
// back), rather than being an answer the request would have had anyway
// (not found, a conflict, a refusal).
func cancelledByClient(ctx context.Context, err error) bool {
	return clientGone(ctx) && !errors.Is(err, kb.ErrNotFound) && !errors.Is(err, kb.ErrConflict) &&
		!errors.Is(err, kb.ErrUnauthenticated) && !errors.Is(err, kb.ErrForbidden)
}

// cancelledMessage answers, and logs, a request its client cancelled.
const cancelledMessage = "request cancelled by its client"

// unavailableMessage stands for a cause that may name hosts or sockets.
const unavailableMessage = "the database is unavailable; try again shortly"

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// presentError is the one place where errors become GraphQL errors. Domain
// errors get their code and their own message; gqlgen's parse and
// validation errors become BAD_USER_INPUT; anything else is INTERNAL: it is
// logged once with the request ID, and the client sees only that ID, never
// SQL or a stack.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		// A copy: the transports read the kind of gqlgen's own errors
		// (parse, validation) from their codes after they are presented,
		// and the WebSocket answers those with an error message rather
		// than next only if their codes are left as they were.
		presented := *graphql.DefaultErrorPresenter(ctx, err)
		gqlErr := &presented
		gqlErr.Extensions = maps.Clone(gqlErr.Extensions)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		var v *kb.ValidationError
		if errors.As(err, &v) {
			gqlErr.Message = v.Error()
			gqlErr.Extensions["code"] = CodeBadUserInput
			if v.Code != "" {
				gqlErr.Extensions["code"] = v.Code
			}
			if v.Field != "" {
				gqlErr.Extensions["field"] = v.Field
			} else if f := lastName(gqlErr.Path); f != "" {
				// A scalar (a Date) does not know its field; its path does.
				gqlErr.Extensions["field"] = f
				gqlErr.Message = f + ": " + gqlErr.Message
			}
			return gqlErr
		}
		if cancelledByClient(ctx, err) {
			// The client went away: what failed (a statement cancelled, a
			// connection not acquired, a transaction rolled back) failed
			// because of that. Nothing is wrong with the server.
			reportError(ctx, log, slog.LevelInfo, CodeCancelled, cancelledMessage, "path", gqlErr.Path.String(), "err", err)
			gqlErr.Message, gqlErr.Extensions["code"] = cancelledMessage, CodeCancelled
			return gqlErr
		}
		for _, s := range sentinelCodes {
			if errors.Is(err, s.err) {
				gqlErr.Extensions["code"] = s.code
				if e := budget.Stopped(ctx); e != nil && s.code == CodeLimitExceeded {
					reportError(ctx, log, slog.LevelWarn, s.code, "request stopped", "limit", e.Setting)
				}
				if s.code == CodeUnavailable {
					// The cause may name hosts or sockets: keep it in the log.
					reportError(ctx, log, slog.LevelWarn, s.code, "database unavailable", "err", err)
					gqlErr.Message = unavailableMessage
				}
				return gqlErr
			}
		}
		var ge *gqlerror.Error
		if errors.As(err, &ge) && ge.Err == nil {
			// gqlgen's own errors: the document did not parse or validate,
			// or a variable did not coerce.
			code, _ := ge.Extensions["code"].(string)
			if code == CodePersistedQueryNotFound {
				// Clients match this code and message to send the document.
				return gqlErr
			}
			if code != "" {
				gqlErr.Extensions["reason"] = code
			}
			gqlErr.Extensions["code"] = CodeBadUserInput
			return gqlErr
		}
		if e := budget.Stopped(ctx); e != nil {
			// A resolver whose statement the second wall cancelled: the
			// answer is the wall's one error (wall.InterceptResponse).
			reportError(ctx, log, slog.LevelWarn, CodeLimitExceeded, "request stopped", "limit", e.Setting)
			gqlErr.Message, gqlErr.Extensions["code"] = e.Error(), CodeLimitExceeded
			return gqlErr
		}
		id := RequestID(ctx)
		reportError(ctx, log, slog.LevelError, CodeInternal, "internal error", "path", gqlErr.Path.String(), "err", err)
		return &gqlerror.Error{
			Message:    fmt.Sprintf("internal error (request %s)", id),
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": CodeInternal, "requestId": id},
		}
	}
}

// lastName is the last field name of path, or "".
func lastName(path ast.Path) string {
	for i := len(path) - 1; i >= 0; i-- {
		if n, ok := path[i].(ast.PathName); ok {
			return string(n)
		}
	}
	return ""
}

// recoverPanic turns a panic in a resolver into an INTERNAL error, logged
// with its stack.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "request_id", RequestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errors.New("panic in resolver")
	}
}

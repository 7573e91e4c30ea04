package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The error codes of the API (DESIGN.md §3), in extensions.code.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeLimitExceeded   = "LIMIT_EXCEEDED"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL"
)

var sentinelCodes = []struct {
	err  error
	code string
}{
	{kb.ErrNotFound, CodeNotFound},
	{kb.ErrConflict, CodeConflict},
	{kb.ErrUnauthenticated, CodeUnauthenticated},
	{kb.ErrForbidden, CodeForbidden},
	{kb.ErrLimitExceeded, CodeLimitExceeded},
	{kb.ErrUnavailable, CodeUnavailable},
}

// presentError is the one place where errors become GraphQL errors. Domain
// errors get their code and their own message; gqlgen's parse and
// validation errors become BAD_USER_INPUT; anything else is INTERNAL: it is
// logged once with the request ID, and the client sees only that ID, never
// SQL or a stack.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		var v *kb.ValidationError
		if errors.As(err, &v) {
			gqlErr.Message = v.Error()
			gqlErr.Extensions["code"] = CodeBadUserInput
			if v.Field != "" {
				gqlErr.Extensions["field"] = v.Field
			}
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
					gqlErr.Message = "the database is unavailable; try again shortly"
				}
				return gqlErr
			}
		}
		var ge *gqlerror.Error
		if errors.As(err, &ge) && ge.Err == nil {
			// gqlgen's own errors: the document did not parse or validate,
			// or a variable did not coerce.
			if code, ok := ge.Extensions["code"].(string); ok {
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

// recoverPanic turns a panic in a resolver into an INTERNAL error, logged
// with its stack.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "request_id", RequestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errors.New("panic in resolver")
	}
}

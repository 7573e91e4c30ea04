package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Default limits of the second wall (docs/api.md, "Limits"): whatever the
// cost estimate let through, a request stops when it has read MaxRows rows
// or its answer has grown past MaxResponseBytes.
const (
	// DefaultMaxRows is 25 times the rows of the heaviest page a frontend
	// asks for (the front page of the million-entity graph read about
	// 4,000 entities and links), and about 100 MB of decoded rows at most.
	DefaultMaxRows = 100_000
	// DefaultMaxResponseBytes is 45 times that front page's answer
	// (180 kB), far above any page a client shows, and small enough that
	// a few refused requests at once leave the server's memory alone.
	DefaultMaxResponseBytes = 8 << 20
)

// wall is the gqlgen extension of the second wall: every field charges
// its value's size to the request's budget (budget.Bytes) and no field
// starts once the request has been stopped; a stopped request's answer
// is the one error that stopped it, its data dropped.
type wall struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.FieldInterceptor
	graphql.ResponseInterceptor
} = wall{}

func (wall) ExtensionName() string                   { return "Wall" }
func (wall) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptField runs a resolver unless the request has been stopped, and
// charges what it returned.
func (wall) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	name := ""
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		name = fc.Field.Alias
	}
	if err := budget.Bytes(ctx, len(name)+4+answerSize(res)); err != nil {
		return nil, err
	}
	return res, nil
}

// answerSize estimates the bytes a resolved value adds to the JSON answer:
// strings by their length, lists of strings by theirs, a list written in
// one pass (a walk's nodes and links, graph/walklist.go) by its size,
// anything else (a number, a boolean, an object or list whose fields
// charge for themselves) as 8.
func answerSize(v any) int {
	switch v := v.(type) {
	case interface{ AnswerSize() int }:
		if n := v.AnswerSize(); n > 8 {
			return n
		}
	case string:
		return len(v) + 2
	case *string:
		if v != nil {
			return len(*v) + 2
		}
	case []string:
		n := 2
		for _, s := range v {
			n += len(s) + 3
		}
		return n
	}
	return 8
}

// InterceptResponse replaces the answer of a request stopped by a limit
// with the limit's error alone.
func (wall) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if e := budget.Stopped(ctx); e != nil && resp != nil {
		return &graphql.Response{Errors: gqlerror.List{stoppedError(e)}}
	}
	return resp
}

// stoppedError is the one error of a request stopped by a limit.
func stoppedError(e *budget.Exceeded) *gqlerror.Error {
	ext := map[string]any{"code": CodeLimitExceeded, "setting": e.Setting}
	if e.RetryAfter > 0 {
		ext["retryAfter"] = e.RetryAfter
	}
	return &gqlerror.Error{Message: e.Error(), Extensions: ext}
}

// wallWriter gives the answer of a request stopped by a limit its HTTP
// status: 503 when it ran out of time, 422 when it asked for more rows or
// bytes than allowed, 429 with Retry-After when the admission gate of
// heavy requests refused it (heavy.go). gqlgen writes executed answers with 200.
type wallWriter struct {
	http.ResponseWriter
	ctx     context.Context
	written bool
}

func (w *wallWriter) WriteHeader(code int) {
	if !w.written {
		w.written = true
		if e := budget.Stopped(w.ctx); e != nil && code == http.StatusOK {
			code = http.StatusUnprocessableEntity
			switch {
			case e.Timeout:
				code = http.StatusServiceUnavailable
			case e.RetryAfter > 0:
				// Refused for the server's load (heavy.go): retry later.
				code = http.StatusTooManyRequests
				w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *wallWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *wallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends what was written so far, for a query over Server-Sent
// Events; its status is written by then.
func (w *wallWriter) Flush() {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

package server

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracing is a gqlgen extension that records one span per GraphQL
// operation, named after it, as a child of the HTTP request's span. It
// records the operation's name and type and, when it fails, the error
// codes; never the variables, which may carry personal data.
type tracing struct{ tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = tracing{}

func (tracing) ExtensionName() string                   { return "Tracing" }
func (tracing) Validate(graphql.ExecutableSchema) error { return nil }

func (t tracing) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	name, kind := oc.OperationName, "query"
	if oc.Operation != nil {
		kind = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	if name == "" {
		name = "anonymous"
	}
	ctx, span := t.tracer.Start(ctx, "graphql "+kind+" "+name, trace.WithAttributes(
		attribute.String("graphql.operation.name", name),
		attribute.String("graphql.operation.type", kind),
	))
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		codesSeen := make([]string, 0, len(resp.Errors))
		for _, e := range resp.Errors {
			if c, ok := e.Extensions["code"].(string); ok {
				codesSeen = append(codesSeen, c)
			}
		}
		span.SetAttributes(attribute.StringSlice("graphql.error.codes", codesSeen))
		span.SetStatus(codes.Error, "the operation returned errors")
	}
	return resp
}

// traceHTTP wraps h in a server span per request when tracing is on.
func (s *Server) traceHTTP(h http.Handler) http.Handler {
	if s.cfg.TracerProvider == nil {
		return h
	}
	return otelhttp.NewHandler(h, "partnergraph", otelhttp.WithTracerProvider(s.cfg.TracerProvider))
}

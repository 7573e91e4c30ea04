package server_test

import (
	"context"
	"slices"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTracingRecordsRequestsAndOperations checks the OpenTelemetry option:
// each request is a server span, each GraphQL operation a child span named
// after it, and a failed operation carries its error codes.
func TestTracingRecordsRequestsAndOperations(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	a := newAPI(t, "reference", server.Config{TracerProvider: tp})

	var out struct{}
	a.query(`query Cooperatives { cooperatives { totalCount } }`, nil, &out)
	a.fail(`query BadID { node(id: "nope") { id } }`, nil)

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	var names []string
	for _, s := range spans {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	op, ok := byName["graphql query Cooperatives"]
	if !ok {
		t.Fatalf("spans %v lack the operation span", names)
	}
	i := slices.IndexFunc(spans, func(s tracetest.SpanStub) bool { return s.SpanContext.SpanID() == op.Parent.SpanID() })
	if i < 0 || spans[i].SpanKind != trace.SpanKindServer {
		t.Errorf("the operation span is not a child of an HTTP server span: %v", names)
	}
	bad, ok := byName["graphql query BadID"]
	if !ok {
		t.Fatalf("spans %v lack the failed operation", names)
	}
	var codes []string
	for _, kv := range bad.Attributes {
		if kv.Key == "graphql.error.codes" {
			codes = kv.Value.AsStringSlice()
		}
	}
	if bad.Status.Code.String() != "Error" || !slices.Contains(codes, server.CodeBadUserInput) {
		t.Errorf("failed operation span: status %v, codes %v; want Error and BAD_USER_INPUT", bad.Status, codes)
	}
}

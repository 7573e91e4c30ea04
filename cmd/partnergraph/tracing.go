package main

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracerProvider returns an OpenTelemetry tracer provider that sends spans
// over OTLP/HTTP to the configured endpoint (the standard variables or
// their flags), with the headers and timeouts of the other
// OTEL_EXPORTER_OTLP_* variables, and the function that flushes and stops
// it. It returns nil when tracing is off.
func (a *App) tracerProvider(ctx context.Context) (trace.TracerProvider, func(context.Context) error, error) {
	if !a.Config.Tracing {
		return nil, func(context.Context) error { return nil }, nil
	}
	// The endpoint is passed on, not left to the exporter's reading of the
	// variables, because a flag may have set it; the traces' own URL wins,
	// as in OpenTelemetry's specification of the variables.
	url := a.Config.OTLPTraces
	if url == "" {
		url = strings.TrimSuffix(a.Config.OTLPEndpoint, "/") + "/v1/traces"
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(url)}
	if len(a.Config.OTLPHeaders) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(a.Config.OTLPHeaders))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("OpenTelemetry exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "partnergraph"))),
	)
	a.Logger.Info("tracing through OpenTelemetry (OTLP/HTTP)")
	return tp, tp.Shutdown, nil
}

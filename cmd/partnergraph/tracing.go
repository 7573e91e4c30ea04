package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracerProvider returns an OpenTelemetry tracer provider that sends spans
// over OTLP/HTTP, configured by the standard OTEL_EXPORTER_OTLP_* variables
// (endpoint, headers, timeout), and the function that flushes and stops
// it. It returns nil when tracing is off.
func (a *App) tracerProvider(ctx context.Context) (trace.TracerProvider, func(context.Context) error, error) {
	if !a.Config.Tracing {
		return nil, func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
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

// Package tracing sets up OpenTelemetry for both services, configured by
// the OTEL_* variables: Setup, the exporter (exporter.go), both ends of an
// HTTP call (http.go), the trace ID in log lines (log.go). It imports
// nothing of this demo's own: copy it into your service as it is.
package tracing

import (
	"context"
	"errors"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Setup returns the TracerProvider, which makes spans and sends them to
// exporter, the propagator, which carries their context to the next
// service, and shutdown, which flushes the spans still queued. opts come
// last: they can add a span processor or replace the sampler.
func Setup(ctx context.Context, serviceName string, exporter sdktrace.SpanExporter, opts ...sdktrace.TracerProviderOption) (
	tp *sdktrace.TracerProvider, propagator propagation.TextMapPropagator, shutdown func(context.Context) error, err error) {
	// Set up propagator: W3C traceparent and baggage (OTEL_PROPAGATORS).
	propagator = autoprop.NewTextMapPropagator()

	// Set up resource: who sends the spans. OTEL_SERVICE_NAME wins.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(serviceName)),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost())
	if err != nil {
		return nil, nil, nil, errors.Join(err, exporter.Shutdown(ctx))
	}

	// Set up tracer provider. Its batcher exports in the background, so a
	// slow Jaeger never slows a request down, and its queue is bounded, so
	// an outage costs spans, not memory. OTEL_TRACES_SAMPLER names the sampler.
	opts = append([]sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithBatcher(exporter)}, opts...)
	tp = sdktrace.NewTracerProvider(opts...)
	return tp, propagator, tp.Shutdown, nil
}

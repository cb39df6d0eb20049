// Package tracing is where both services set up OpenTelemetry, configured
// by the standard OTEL_* variables: Setup (this file) builds the pipeline
// that takes spans to Jaeger; exporter.go chooses where they go; http.go
// traces both ends of an HTTP call, so that one trace follows a request
// into the next service; log.go puts the trace ID in every log line.
//
// It imports nothing of this demo's own: copy it into your service as it
// is. The demo adds its hardening (span accounting, a bounded sampler,
// limits) from cmd/tracingdemo, as ordinary options.
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

// Setup returns what a service needs to trace its requests: the
// TracerProvider, which makes spans and sends them to exporter, and the
// propagator, which carries their context to the next service. Neither is
// a global: the services hand both to the code that uses them, so a test
// can hand in its own. opts come last, so they can add a span processor or
// replace the sampler. Call shutdown before the service exits: it flushes
// the spans still queued.
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
	// slow or absent Jaeger never slows a request down, and its queue is
	// bounded, so an outage costs spans, not memory. The sampler is the one
	// OTEL_TRACES_SAMPLER names (parentbased_always_on).
	tp = sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(exporter),
	}, opts...)...)
	return tp, propagator, tp.Shutdown, nil
}

// Package tracing is where both services set up OpenTelemetry, configured
// by the standard OTEL_* variables: Setup (this file) builds the pipeline
// that takes spans to Jaeger; http.go traces both ends of an HTTP call, so
// that one trace follows a request into the next service; log.go puts the
// trace ID in every log line.
package tracing

import (
	"context"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"example.com/tracingdemo/internal/exporters"
	"example.com/tracingdemo/internal/linksampler"
	"example.com/tracingdemo/internal/remotesampler"
	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/spans"
)

// Setup returns what a service needs to trace its requests: the
// TracerProvider, which makes spans and sends them to exporter, and the
// propagator, which carries their context to the next service. Neither is
// a global: the services hand both to the code that uses them, so a test
// can hand in its own. tp.Shutdown flushes the spans still queued.
func Setup(ctx context.Context, serviceName string, exporter sdktrace.SpanExporter) (*sdktrace.TracerProvider, propagation.TextMapPropagator, error) {
	// Set up propagator: W3C traceparent and baggage (OTEL_PROPAGATORS).
	propagator := autoprop.NewTextMapPropagator()

	// Set up resource: who sends the spans. OTEL_SERVICE_NAME wins.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(serviceName)),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost())
	if err != nil {
		return nil, nil, settings.Refused("OTEL_RESOURCE_ATTRIBUTES", err)
	}

	// Set up tracer provider. Its batcher exports in the background, so a
	// slow or absent Jaeger never slows a request down, and its queue is
	// bounded, so an outage costs spans, not memory. spans.Batcher is the
	// SDK's batcher (sdktrace.WithBatcher) with the services' accounting
	// around it, and spans.Limits caps each attribute's length.
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler(res)),
		sdktrace.WithSpanProcessor(spans.Batcher(exporter)),
		sdktrace.WithRawSpanLimits(spans.Limits()),
	)
	return tp, propagator, nil
}

// sampler is the one OTEL_TRACES_SAMPLER names (parentbased_always_on),
// or none with OTEL_SDK_DISABLED. A new root with a link, a job's span, is
// sampled exactly when the span it links to was (internal/linksampler).
func sampler(res *resource.Resource) sdktrace.Sampler {
	if settings.Sampler() == remotesampler.Name && !settings.SDKDisabled() { // the rate Jaeger sets
		return linksampler.Wrap(sdktrace.ParentBased(remotesampler.New(res)))
	}
	return linksampler.Wrap(settings.SDKSampler())
}

// NewExporter returns the exporter that OTEL_TRACES_EXPORTER names: otlp
// (the default), console, none, or jaeger.
func NewExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	return exporters.New(ctx) // autoexport.NewSpanExporter, but for OTLP's local default
}

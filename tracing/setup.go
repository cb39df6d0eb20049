// Package tracing is the one place where both services set up OpenTelemetry:
// Setup (this file) builds the pipeline that takes spans to Jaeger, with
// the sampler of sampler.go;
// server.go and client.go instrument the two ends of an HTTP call, so that
// one trace follows a request from one service into the next; log.go puts
// the trace ID in every log line.
//
// Everything is configured through the standard OTEL_* environment
// variables, read by the SDK and the contrib packages themselves.
package tracing

import (
	"context"
	"os"
	"strconv"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/jaeger"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace/noop"
)

// Setup installs the global propagator and TracerProvider for the service
// called serviceName, and returns the function that flushes the spans still
// buffered and stops the exporter: call it once the server has stopped, so
// that the spans of the last requests are not lost.
func Setup(ctx context.Context, serviceName string, opts ...Option) (shutdown func(context.Context) error, err error) {
	o := newOptions(opts)

	// Set up propagator: W3C traceparent and baggage (OTEL_PROPAGATORS).
	otel.SetTextMapPropagator(autoprop.NewTextMapPropagator())

	// OTEL_SDK_DISABLED=true: no spans. The Go SDK leaves it to programs.
	if disabled, _ := strconv.ParseBool(os.Getenv("OTEL_SDK_DISABLED")); disabled {
		otel.SetTracerProvider(noop.NewTracerProvider())
		return func(context.Context) error { return nil }, nil
	}

	// Set up resource: who sends the spans. OTEL_SERVICE_NAME wins.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(serviceName)),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost())
	if err != nil {
		return nil, err
	}

	// Set up exporter: the one OTEL_TRACES_EXPORTER names (init, below).
	exporter, err := o.newExporter(ctx)
	if err != nil {
		return nil, err
	}

	// Set up tracer provider. Its batcher exports in the background, so a
	// slow or absent Jaeger never slows a request down, and its queue is
	// bounded (OTEL_BSP_MAX_QUEUE_SIZE), so an outage costs spans, not
	// memory. OTEL_TRACES_SAMPLER names the sampler (parentbased_always_on),
	// which the SDK reads, but for jaeger_remote (newSampler).
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(o.wrapExporter(exporter)),
		sdktrace.WithSampler(newSampler(res)),
	)
	for _, p := range o.processors {
		tp.RegisterSpanProcessor(p)
	}
	otel.SetTracerProvider(tp)

	// Shutdown flushes the batcher's queue, then closes the exporter.
	return tp.Shutdown, nil
}

// OTEL_TRACES_EXPORTER names the exporter, which autoexport builds: otlp
// (the default), console or none, and jaeger, registered here: the exporter
// OpenTelemetry deprecated in 2023, which sends Thrift over HTTP to
// OTEL_EXPORTER_JAEGER_ENDPOINT (default http://localhost:14268/api/traces),
// and which Jaeger v2 still accepts. It stays, opt-in, for the services
// that still send Jaeger's own protocol.
func init() {
	autoexport.RegisterSpanExporter("jaeger", func(context.Context) (sdktrace.SpanExporter, error) {
		return jaeger.New(jaeger.WithCollectorEndpoint()) //nolint:staticcheck // deprecated: see above
	})
}

func newExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	return autoexport.NewSpanExporter(ctx)
}

// An Option adds to what Setup builds: tests catch the spans in memory, and
// the services count what becomes of them (internal/spancount).
type Option func(*options)

type options struct {
	newExporter  func(context.Context) (sdktrace.SpanExporter, error)
	wrapExporter func(sdktrace.SpanExporter) sdktrace.SpanExporter
	processors   []sdktrace.SpanProcessor
}

func newOptions(opts []Option) options {
	o := options{
		newExporter:  newExporter,
		wrapExporter: func(e sdktrace.SpanExporter) sdktrace.SpanExporter { return e },
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithExporter sends the spans to exporter instead of the one
// OTEL_TRACES_EXPORTER names.
func WithExporter(exporter sdktrace.SpanExporter) Option {
	return func(o *options) {
		o.newExporter = func(context.Context) (sdktrace.SpanExporter, error) { return exporter, nil }
	}
}

// WrapExporter puts wrap around the exporter, between it and the batcher.
func WrapExporter(wrap func(sdktrace.SpanExporter) sdktrace.SpanExporter) Option {
	return func(o *options) { o.wrapExporter = wrap }
}

// WithSpanProcessor adds p beside the batcher: it sees every span start and
// end.
func WithSpanProcessor(p sdktrace.SpanProcessor) Option {
	return func(o *options) { o.processors = append(o.processors, p) }
}

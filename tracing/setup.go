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
		sdktrace.WithBatcher(o.wrapExporter(exporter), batchDefaults()...),
		sdktrace.WithSampler(newSampler(res)),
		sdktrace.WithRawSpanLimits(spanLimits()),
	)
	for _, p := range o.processors {
		tp.RegisterSpanProcessor(p)
	}
	otel.SetTracerProvider(tp)

	// Shutdown flushes the batcher's queue, then closes the exporter.
	return tp.Shutdown, nil
}

// DefaultBatchSize is how many spans the batcher sends per export, unless
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise: 128, not the SDK's 512.
// Each batch is a burst of work, in this process and in Jaeger; smaller
// bursts delay fewer requests. Measured by `make bench` at 1,000 req/s over
// OTLP/HTTP (docs/performance.md): 512 added about 4 ms to the p99 latency,
// 128 about 1.7 ms, 2,048 about 20 ms; 64 cost more CPU than 128 for no
// better p99.
const DefaultBatchSize = 128

// MaxAttributeLength bounds a span attribute's value, in characters,
// unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT (or its span-only twin) says
// otherwise; the SDK sets no bound. Span attributes copy what a caller
// sends (user_agent.original, url.path, up to the 36 KiB header cap), and
// while Jaeger is slow up to 2,048 spans wait in memory.
const MaxAttributeLength = 1024

// batchDefaults and spanLimits give the demo's defaults in code, not in the
// process environment. An option in code beats the SDK's variable, so each
// default applies only where its variable is unset.
func batchDefaults() []sdktrace.BatchSpanProcessorOption {
	if os.Getenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") != "" {
		return nil
	}
	return []sdktrace.BatchSpanProcessorOption{sdktrace.WithMaxExportBatchSize(DefaultBatchSize)}
}

func spanLimits() sdktrace.SpanLimits {
	limits := sdktrace.NewSpanLimits() // the OTEL_SPAN_* and OTEL_ATTRIBUTE_* variables
	if os.Getenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT") == "" && os.Getenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") == "" {
		limits.AttributeValueLengthLimit = MaxAttributeLength
	}
	return limits
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

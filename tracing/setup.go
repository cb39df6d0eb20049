// Package tracing is the one place where both services set up OpenTelemetry:
// Setup (this file) builds the pipeline that takes spans to Jaeger, with
// the samplers of sampler.go that the SDK does not build itself;
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

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/exporters/jaeger"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Setup returns the two things a service needs to trace its requests: the
// TracerProvider, which makes spans and sends them to exporter, and the
// propagator, which carries their context from one service to the next.
// It installs neither as a global: the services hand both to the code
// that uses them, so a test can hand in its own. Call tp.Shutdown once the
// server has stopped: it flushes the spans still queued.
func Setup(ctx context.Context, serviceName string, exporter sdktrace.SpanExporter) (*sdktrace.TracerProvider, propagation.TextMapPropagator, error) {
	// Set up propagator: W3C traceparent and baggage (OTEL_PROPAGATORS).
	propagator := autoprop.NewTextMapPropagator()

	// Set up resource: who sends the spans. OTEL_SERVICE_NAME wins.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(serviceName)),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost())
	if err != nil {
		return nil, nil, err
	}

	// Set up tracer provider. Its batcher exports in the background, so a
	// slow or absent Jaeger never slows a request down, and its queue is
	// bounded (OTEL_BSP_MAX_QUEUE_SIZE), so an outage costs spans, not
	// memory. OTEL_TRACES_SAMPLER names the sampler (parentbased_always_on),
	// which the SDK reads, but for two cases of newSampler (sampler.go).
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(exporter, batchDefaults()...),
		sdktrace.WithSampler(newSampler(res)),
		sdktrace.WithRawSpanLimits(spanLimits()),
	)
	return tp, propagator, nil
}

// NewExporter returns the exporter that OTEL_TRACES_EXPORTER names, built
// by autoexport: otlp (the default), console, none, or jaeger, registered
// below.
func NewExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	setDefaultOTLPEndpoint()
	return autoexport.NewSpanExporter(ctx)
}

// setDefaultOTLPEndpoint gives OTEL_EXPORTER_OTLP_ENDPOINT, when neither it
// nor its traces twin is set, the OpenTelemetry specification's default:
// http://localhost:4318 (4317 for gRPC). Go's OTLP exporters would
// otherwise use HTTPS, which a local Jaeger does not speak. It is set in
// the environment, where autoexport reads it: autoexport takes no exporter
// options.
func setDefaultOTLPEndpoint() {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		return
	}
	endpoint := "http://localhost:4318"
	if protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"); protocol == "grpc" ||
		protocol == "" && os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc" {
		endpoint = "http://localhost:4317"
	}
	os.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
}

// jaeger is the exporter OpenTelemetry deprecated in 2023: Thrift over HTTP
// to OTEL_EXPORTER_JAEGER_ENDPOINT (default
// http://localhost:14268/api/traces), which Jaeger v2 still accepts. It
// stays, opt-in, for the services that still send Jaeger's own protocol.
func init() {
	autoexport.RegisterSpanExporter("jaeger", func(context.Context) (sdktrace.SpanExporter, error) {
		return jaeger.New(jaeger.WithCollectorEndpoint()) //nolint:staticcheck // deprecated, kept on purpose: see above
	})
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

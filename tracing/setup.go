// Package tracing is the one place where both services set up OpenTelemetry:
// the resource that names the service, the exporter that ships spans to
// Jaeger, the sampler, the propagators that carry the trace between
// processes, the HTTP server instrumentation, and logs that carry the trace
// ID.
//
// Everything is configured through the standard OTEL_* environment
// variables, read by the SDK and the contrib packages themselves; this
// package only adds defaults for the demo and refuses bad values at start.
package tracing

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/jaeger" //nolint:staticcheck // deprecated, kept opt-in on purpose: see README.
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace/noop"
)

func init() {
	// autoexport knows "otlp", "console" and "none". Teach it "jaeger", the
	// exporter OpenTelemetry deprecated in 2023: it sends Thrift over HTTP to
	// $OTEL_EXPORTER_JAEGER_ENDPOINT (default http://localhost:14268/api/traces),
	// which Jaeger v2 still accepts.
	autoexport.RegisterSpanExporter("jaeger", func(context.Context) (sdktrace.SpanExporter, error) {
		return jaeger.New(jaeger.WithCollectorEndpoint())
	})
}

// An Option changes how Setup builds the TracerProvider.
type Option func(*options)

type options struct {
	exporter sdktrace.SpanExporter
}

// WithExporter makes Setup send spans to exporter instead of the one that
// OTEL_TRACES_EXPORTER names. Tests use it to catch the spans in memory.
func WithExporter(exporter sdktrace.SpanExporter) Option {
	return func(o *options) { o.exporter = exporter }
}

// Setup installs the global TracerProvider, propagator and error handler for
// the service called serviceName (OTEL_SERVICE_NAME overrides it), all read
// from the environment. It returns the function that flushes the spans still
// buffered and stops the exporter: call it once the server has stopped, so
// the spans of the last requests are not lost.
//
// A bad OTEL_* value is an *EnvError, and nothing is installed.
func Setup(ctx context.Context, serviceName string, opts ...Option) (shutdown func(context.Context) error, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkEnv(); err != nil {
		return nil, err
	}

	// Set up propagator: W3C traceparent and baggage unless OTEL_PROPAGATORS
	// says otherwise.
	propagator, err := propagatorFromEnv()
	if err != nil {
		return nil, err
	}

	// The Go SDK does not read OTEL_SDK_DISABLED itself: honour it with a
	// tracer provider that creates no spans and exports nothing.
	if disabled, _ := sdkDisabled(); disabled {
		otel.SetTextMapPropagator(propagator)
		otel.SetTracerProvider(noop.NewTracerProvider())
		return func(context.Context) error { return nil }, nil
	}

	// Set up resource: who is sending these spans.
	res, err := newResource(ctx, serviceName)
	if err != nil {
		return nil, err
	}

	// Set up exporter: OTLP over HTTP unless OTEL_TRACES_EXPORTER says
	// otherwise.
	exporter := o.exporter
	if exporter == nil {
		setDefaultOTLPEndpoint()
		exporter, err = autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, &EnvError{Name: "OTEL_TRACES_EXPORTER", Value: os.Getenv("OTEL_TRACES_EXPORTER"), Reason: err.Error()}
		}
	}

	// Set up tracer provider. The batcher exports in the background, so a
	// slow or absent Jaeger never slows a request down; its queue is bounded
	// (OTEL_BSP_MAX_QUEUE_SIZE, 2048 spans), so an outage costs spans, not
	// memory. The sampler comes from OTEL_TRACES_SAMPLER and
	// OTEL_TRACES_SAMPLER_ARG, read by the SDK (default parentbased_always_on).
	counts := &spanCounts{}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(counts.processor()),
		sdktrace.WithBatcher(counts.exporter(exporter), batchOptions()...),
	)

	// Every setting was good: install them all.
	otel.SetTextMapPropagator(propagator)
	otel.SetTracerProvider(tp)
	// Export failures (Jaeger down) are reported here, at a bounded rate.
	errLog := &errorLogger{}
	otel.SetErrorHandler(errLog)

	// Shutdown flushes the batcher's queue, then closes the exporter, and
	// says what became of this process's spans.
	return func(ctx context.Context) error {
		err := tp.Shutdown(ctx)
		errLog.summarize()
		// Silent when there was nothing to send, e.g. after a failed start,
		// which must log one line only: the one that names the problem.
		if ended := counts.ended.Load(); ended > 0 {
			slog.Info("spans at stop", "ended", ended, "exported", counts.exported.Load(),
				"failed", counts.failed.Load(), "dropped", counts.dropped())
		}
		return err
	}, nil
}

// defaultBatchSize is how many spans the batcher sends at once, unless
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise: 128, not the SDK's 512.
// Each batch is a burst of work, in this process and in Jaeger; smaller
// bursts delay fewer requests. Measured by `make bench` at 1,000 req/s over
// OTLP/HTTP, see the README: 512 added about 4 ms to the p99 latency,
// 128 about 1.7 ms, 2,048 about 20 ms; 64 cost more CPU than 128 for no
// better p99.
const defaultBatchSize = 128

// batchOptions are the demo's defaults for the batcher. The SDK reads the
// OTEL_BSP_* variables itself, but an option given here would override
// them: so each default is given only when its variable is unset.
func batchOptions() []sdktrace.BatchSpanProcessorOption {
	var opts []sdktrace.BatchSpanProcessorOption
	if os.Getenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") == "" {
		opts = append(opts, sdktrace.WithMaxExportBatchSize(defaultBatchSize))
	}
	return opts
}

// setDefaultOTLPEndpoint makes the OpenTelemetry specification's default
// endpoint, http://localhost:4318 (4317 for gRPC), explicit. Go's OTLP
// exporters would otherwise default to HTTPS, which a local Jaeger does not
// speak. It sets the variable the exporters read, and only when unset.
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

// newResource describes this service. OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES are merged after the default name, so the
// environment wins.
func newResource(ctx context.Context, serviceName string) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(serviceName)),
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
	)
	if err != nil {
		return nil, &EnvError{Name: "OTEL_RESOURCE_ATTRIBUTES", Value: os.Getenv("OTEL_RESOURCE_ATTRIBUTES"), Reason: err.Error()}
	}
	return res, nil
}

// propagatorFromEnv returns the propagators OTEL_PROPAGATORS names, or W3C
// Trace Context and Baggage when it is unset.
func propagatorFromEnv() (propagation.TextMapPropagator, error) {
	names := os.Getenv("OTEL_PROPAGATORS")
	if names == "" {
		return autoprop.NewTextMapPropagator(), nil
	}
	// autoprop.NewTextMapPropagator would only log an unknown name and fall
	// back to the default; asking for the names ourselves gets the error.
	propagator, err := autoprop.TextMapPropagator(strings.Split(names, ",")...)
	if err != nil {
		return nil, &EnvError{Name: "OTEL_PROPAGATORS", Value: names, Reason: err.Error()}
	}
	return propagator, nil
}

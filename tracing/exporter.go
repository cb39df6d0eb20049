package tracing

import (
	"cmp"
	"context"
	"os"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/exporters/jaeger"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// NewExporter returns the exporter that OTEL_TRACES_EXPORTER names: otlp
// (the default), console, none, or jaeger. It is autoexport's, but:
//   - with no endpoint set, OTLP goes to the specification's default,
//     http://localhost:4318 (4317 for gRPC), not to Go's HTTPS one;
//   - "jaeger" is the exporter OpenTelemetry deprecated in 2023, kept for
//     the services that still send Jaeger's Thrift, to
//     OTEL_EXPORTER_JAEGER_ENDPOINT (http://localhost:14268/api/traces).
func NewExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	if name := os.Getenv("OTEL_TRACES_EXPORTER"); (name != "" && name != "otlp") ||
		os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		return autoexport.NewSpanExporter(ctx)
	}
	// OTLP, with no endpoint: to localhost, over plain HTTP or gRPC. The
	// exporter still reads the other OTEL_EXPORTER_OTLP_* variables.
	if cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")) == "grpc" {
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL("http://localhost:4317"))
	}
	return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL("http://localhost:4318/v1/traces"))
}

func init() {
	autoexport.RegisterSpanExporter("jaeger", func(context.Context) (sdktrace.SpanExporter, error) {
		return jaeger.New(jaeger.WithCollectorEndpoint()) //nolint:staticcheck // deprecated, kept on purpose: see NewExporter
	})
}

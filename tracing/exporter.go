package tracing

import (
	"context"
	"os"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/exporters/jaeger"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// NewExporter returns the exporter that OTEL_TRACES_EXPORTER names: otlp
// (the default), console, none, or jaeger. It is autoexport's, with two
// additions:
//   - with no endpoint set, OTLP goes to the OpenTelemetry specification's
//     default, http://localhost:4318 (4317 for gRPC), where Go's OTLP
//     exporters would use HTTPS, which a local Jaeger does not speak;
//   - "jaeger", the exporter OpenTelemetry deprecated in 2023: Thrift over
//     HTTP to OTEL_EXPORTER_JAEGER_ENDPOINT (default
//     http://localhost:14268/api/traces), which Jaeger v2 still accepts,
//     for the services that still send Jaeger's own protocol.
func NewExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	name := os.Getenv("OTEL_TRACES_EXPORTER")
	endpointSet := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	if (name != "" && name != "otlp") || endpointSet {
		return autoexport.NewSpanExporter(ctx)
	}
	// OTLP, with no endpoint: to localhost, over plain HTTP or gRPC. The
	// exporter still reads the other OTEL_EXPORTER_OTLP_* variables.
	protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if protocol == "grpc" {
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL("http://localhost:4317"))
	}
	return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL("http://localhost:4318/v1/traces"))
}

func init() {
	autoexport.RegisterSpanExporter("jaeger", func(context.Context) (sdktrace.SpanExporter, error) {
		return jaeger.New(jaeger.WithCollectorEndpoint()) //nolint:staticcheck // deprecated, kept on purpose: see NewExporter
	})
}

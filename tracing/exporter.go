package tracing

import (
	"context"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/exporters/jaeger"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// NewExporter returns the exporter that OTEL_TRACES_EXPORTER names: otlp
// (the default), console, none, or jaeger. OTLP goes to
// OTEL_EXPORTER_OTLP_ENDPOINT: set it, e.g. to http://localhost:4318,
// since Go's exporters would otherwise use HTTPS there. "jaeger" is the
// exporter OpenTelemetry deprecated in 2023, kept for the services that
// still send Jaeger's Thrift, to OTEL_EXPORTER_JAEGER_ENDPOINT
// (http://localhost:14268/api/traces).
func NewExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	return autoexport.NewSpanExporter(ctx)
}

func init() {
	autoexport.RegisterSpanExporter("jaeger", func(context.Context) (sdktrace.SpanExporter, error) {
		return jaeger.New(jaeger.WithCollectorEndpoint()) //nolint:staticcheck // deprecated, kept on purpose: see NewExporter
	})
}

// Package exporters builds the exporter of tracing.NewExporter: New is
// autoexport.NewSpanExporter, with two additions:
//   - importing it registers "jaeger", the exporter OpenTelemetry
//     deprecated in 2023: Thrift over HTTP to OTEL_EXPORTER_JAEGER_ENDPOINT
//     (default http://localhost:14268/api/traces), which Jaeger v2 still
//     accepts. It stays, opt-in (OTEL_TRACES_EXPORTER=jaeger), for the
//     services that still send Jaeger's own protocol;
//   - with no endpoint set, OTLP goes to the OpenTelemetry specification's
//     default, http://localhost:4318 (4317 for gRPC), where Go's OTLP
//     exporters would use HTTPS, which a local Jaeger does not speak.
package exporters

import (
	"cmp"
	"context"
	"os"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/exporters/jaeger"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/internal/settings"
)

func init() {
	autoexport.RegisterSpanExporter("jaeger", func(context.Context) (sdktrace.SpanExporter, error) {
		return jaeger.New(jaeger.WithCollectorEndpoint()) //nolint:staticcheck // deprecated, kept on purpose: see above
	})
}

// New returns the exporter that OTEL_TRACES_EXPORTER names. An error is a
// *settings.EnvError that names the variable.
func New(ctx context.Context) (sdktrace.SpanExporter, error) {
	if cmp.Or(os.Getenv("OTEL_TRACES_EXPORTER"), "otlp") != "otlp" ||
		os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		exporter, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, settings.Refused("OTEL_TRACES_EXPORTER", err)
		}
		return exporter, nil
	}
	// OTLP, with no endpoint: to localhost, over plain HTTP or gRPC. The
	// exporter still reads the other OTEL_EXPORTER_OTLP_* variables.
	if cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")) == "grpc" {
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL("http://localhost:4317"))
	}
	return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL("http://localhost:4318/v1/traces"))
}

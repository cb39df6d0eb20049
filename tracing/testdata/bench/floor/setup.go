// The floor of `make bench`, in place of tracing/setup.go (go build
// -overlay): a bare TracerProvider, its resource and the SDK's batcher, with
// none of the options the services add (their sampler, limits and span
// accounting).
package tracing

import (
	"context"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

func Setup(ctx context.Context, serviceName string, exporter sdktrace.SpanExporter, _ ...sdktrace.TracerProviderOption) (
	*sdktrace.TracerProvider, propagation.TextMapPropagator, func(context.Context) error, error) {
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(serviceName)), resource.WithFromEnv())
	if err != nil {
		return nil, nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exporter))
	return tp, autoprop.NewTextMapPropagator(), tp.Shutdown, nil
}

package spans_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/spans"
)

// BenchmarkOwnStrings: what OwnStrings costs a span like otelhttp's SERVER
// span (ten attributes, six of them strings), against the same span
// without it. `make bench` runs it.
func BenchmarkOwnStrings(b *testing.B) {
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", "GET"), attribute.String("url.scheme", "http"),
		attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 8080),
		attribute.String("network.peer.address", "127.0.0.1"), attribute.Int("network.peer.port", 40000),
		attribute.String("user_agent.original", "curl/8.0"), attribute.String("client.address", "127.0.0.1"),
		attribute.String("url.path", "/"), attribute.String("network.protocol.version", "1.1"),
	}
	for _, bc := range []struct {
		name string
		opts []sdktrace.TracerProviderOption
	}{
		{"without", nil},
		{"with", []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(spans.OwnStrings{})}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tracer := sdktrace.NewTracerProvider(bc.opts...).Tracer("bench")
			b.ReportAllocs()
			for b.Loop() {
				_, span := tracer.Start(context.Background(), "GET /", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
				span.End()
			}
		})
	}
}

package spans

import (
	"context"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// within reports whether s lies in the memory of big.
func within(s, big string) bool {
	start := uintptr(unsafe.Pointer(unsafe.StringData(big)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return p >= start && p < start+uintptr(len(big))
}

// TestSpanHoldsNoRequest: attributes that are substrings of a long request
// line, as Go's server makes them, and one the SDK cut to the limit, end up
// as copies: the span no longer keeps the request line alive.
func TestSpanHoldsNoRequest(t *testing.T) {
	line := "GET /" + strings.Repeat("x", 36<<10) + " HTTP/1.1"
	method, path := line[:3], line[4:len(line)-9]
	require.True(t, within(method, line))

	for _, tc := range []struct {
		name      string
		processor bool
		wantOwn   bool
	}{
		{"without the copier, the span holds the request line", false, false},
		{"with it, it does not", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			opts := []sdktrace.TracerProviderOption{
				sdktrace.WithSpanLimits(sdktrace.SpanLimits{AttributeValueLengthLimit: 1024, AttributeCountLimit: 128}),
				sdktrace.WithSpanProcessor(spans),
			}
			if tc.processor {
				opts = append(opts, sdktrace.WithSpanProcessor(copier{}))
			}
			tp := sdktrace.NewTracerProvider(opts...)
			_, span := tp.Tracer("test").Start(context.Background(), "GET NotFound", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
				attribute.String("http.request.method", method), attribute.String("url.path", path)))
			span.End()

			ended := spans.Ended()
			require.Len(t, ended, 1)
			got := map[attribute.Key]string{}
			for _, kv := range ended[0].Attributes() {
				got[kv.Key] = kv.Value.AsString()
			}
			require.Len(t, got, 2)
			assert.Equal(t, "GET", got["http.request.method"])
			assert.Len(t, got["url.path"], 1024, "cut to the limit")
			for key, v := range got {
				assert.Equal(t, tc.wantOwn, !within(v, line), key)
			}
		})
	}
}

// BenchmarkServerSpan: what the copy costs on a span like otelhttp's server
// span (ten attributes, six of them strings), against the same span
// without it, side by side (`make bench`).
func BenchmarkServerSpan(b *testing.B) {
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", "GET"), attribute.String("url.scheme", "http"),
		attribute.String("server.address", "localhost"), attribute.Int("server.port", 8080),
		attribute.String("network.peer.address", "127.0.0.1"), attribute.Int("network.peer.port", 51234),
		attribute.String("user_agent.original", "curl/8.5.0"), attribute.String("url.path", "/"),
		attribute.String("network.protocol.version", "1.1"), attribute.Int("http.response.status_code", 200),
	}
	for _, tc := range []struct {
		name string
		copy bool
	}{{"without copy", false}, {"with copy", true}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(discard{})}
			if tc.copy {
				opts = append(opts, sdktrace.WithSpanProcessor(copier{}))
			}
			tracer := sdktrace.NewTracerProvider(opts...).Tracer("bench")
			b.ReportAllocs()
			for b.Loop() {
				_, span := tracer.Start(context.Background(), "GET /", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
				span.End()
			}
		})
	}
}

// copier is a span processor that does only the batcher's copy.
type copier struct{ discard }

func (copier) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) { copyStrings(s) }

// discard is a span processor that keeps nothing.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

package spans

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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
			var queue sdktrace.SpanProcessor = spans // what the batcher queues
			if tc.processor {
				queue = copier{spans}
			}
			tp := sdktrace.NewTracerProvider(
				sdktrace.WithSpanLimits(sdktrace.SpanLimits{AttributeValueLengthLimit: 1024, AttributeCountLimit: 128}),
				sdktrace.WithSpanProcessor(queue))
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

// TestUncutSpanKept: a span whose values the limit did not cut is queued
// as it is: the copy costs it nothing.
func TestUncutSpanKept(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	_, span := tp.Tracer("test").Start(context.Background(), "GET /", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("url.path", "/"), attribute.String("user_agent.original", strings.Repeat("x", 1023))))
	span.End()
	ended := spans.Ended()[0]
	assert.Equal(t, ended, ownStrings(ended, 1024), "the same span")
	assert.NotEqual(t, ended, ownStrings(ended, 1023), "a value of the limit's length may have been cut: copied")
	assert.Zero(t, testing.AllocsPerRun(100, func() { ownStrings(ended, 1024) }))
}

// BenchmarkServerSpan: what the copy costs on a span like otelhttp's server
// span (ten attributes, six of them strings), against the same span
// without it, side by side (`make bench`): with no value cut, and with a
// User-Agent cut to the limit.
func BenchmarkServerSpan(b *testing.B) {
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", "GET"), attribute.String("url.scheme", "http"),
		attribute.String("server.address", "localhost"), attribute.Int("server.port", 8080),
		attribute.String("network.peer.address", "127.0.0.1"), attribute.Int("network.peer.port", 51234),
		attribute.String("user_agent.original", "curl/8.5.0"), attribute.String("url.path", "/"),
		attribute.String("network.protocol.version", "1.1"), attribute.Int("http.response.status_code", 200),
	}
	long := append(slices.Clone(attrs), attribute.String("user_agent.original", strings.Repeat("x", 2000)))
	for _, tc := range []struct {
		name  string
		copy  bool
		attrs []attribute.KeyValue
	}{{"without copy", false, attrs}, {"with copy, none cut", true, attrs}, {"without copy, one cut", false, long}, {"with copy, one cut", true, long}} {
		b.Run(tc.name, func(b *testing.B) {
			var queue sdktrace.SpanProcessor = discard{}
			if tc.copy {
				queue = copier{discard{}}
			}
			tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(queue), sdktrace.WithRawSpanLimits(Limits())).Tracer("bench")
			attrs := tc.attrs
			b.ReportAllocs()
			for b.Loop() {
				_, span := tracer.Start(context.Background(), "GET /", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
				span.End()
			}
		})
	}
}

// copier does only the batcher's copy, and hands the span on.
type copier struct{ sdktrace.SpanProcessor }

func (c copier) OnEnd(s sdktrace.ReadOnlySpan) { c.SpanProcessor.OnEnd(ownStrings(s, 1024)) }

// TestCopyIsWhole: the copy answers every method of sdktrace.ReadOnlySpan
// as the span did. The SDK's read-only span, like any outside the SDK,
// embeds the interface to meet it, so a method the interface gains and the
// copy lacks would panic: this test calls every one, and fails first.
func TestCopyIsWhole(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	_, parent := tp.Tracer("test").Start(context.Background(), "parent")
	_, span := tp.Tracer("test", trace.WithInstrumentationVersion("1.0")).Start(trace.ContextWithSpan(context.Background(), parent), "GET /",
		trace.WithSpanKind(trace.SpanKindServer), trace.WithLinks(trace.Link{SpanContext: parent.SpanContext()}),
		trace.WithAttributes(attribute.String("url.path", "/"), attribute.Int("server.port", 8080)))
	span.AddEvent("an event")
	span.SetStatus(codes.Error, "failed")
	span.End()
	original := spans.Ended()[0]
	copied := ownStrings(original, 1) // "/" is as long as the limit: copied
	require.NotEqual(t, original, copied, "a copy")

	typ := reflect.TypeFor[sdktrace.ReadOnlySpan]()
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if !m.IsExported() {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			var got, want []reflect.Value
			require.NotPanics(t, func() { got = reflect.ValueOf(copied).MethodByName(m.Name).Call(nil) },
				"the copy lacks %s, which sdktrace.ReadOnlySpan gained", m.Name)
			want = reflect.ValueOf(original).MethodByName(m.Name).Call(nil)
			for j := range want {
				assert.Equal(t, want[j].Interface(), got[j].Interface())
			}
		})
	}
}

// discard is a span processor that keeps nothing.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

package spans

// otelhttp copies strings of the request into the server span: its path,
// its User-Agent, an unknown method. In Go's HTTP server each of these
// shares memory with a larger string: the path and the method are
// substrings of the request line, which may be 36 KB long. The SDK's
// attribute length limit (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT) cuts a value
// as a substring too. So a span would keep up to 36 KB of request alive
// for every 1-byte "/", and up to 2,048 spans wait in the batcher's queue
// while Jaeger is slow.

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// ownStrings returns the ended span s as the batcher should queue it: a
// server span with its string attributes copied into one buffer of its
// own, so that it keeps nothing of the request alive; any other span as it
// is (the services' own strings). The copy is the SDK's own read-only span
// (tracetest.SpanStub.Snapshot), so that it keeps up with the SDK's
// interface. It costs three allocations: the buffer, the attributes, the
// span.
func ownStrings(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	if s.SpanKind() != trace.SpanKindServer {
		return s
	}
	attrs := s.Attributes()
	size := 0
	for _, kv := range attrs {
		if kv.Value.Type() == attribute.STRING {
			size += len(kv.Value.AsString())
		}
	}
	var buf strings.Builder
	buf.Grow(size)
	for _, kv := range attrs {
		if kv.Value.Type() == attribute.STRING {
			buf.WriteString(kv.Value.AsString())
		}
	}
	all := buf.String()
	copies := make([]attribute.KeyValue, len(attrs))
	for i, kv := range attrs {
		copies[i] = kv
		if kv.Value.Type() == attribute.STRING {
			n := len(kv.Value.AsString())
			copies[i] = attribute.String(string(kv.Key), all[:n])
			all = all[n:]
		}
	}
	stub := tracetest.SpanStubFromReadOnlySpan(s)
	stub.Attributes = copies
	return stub.Snapshot()
}

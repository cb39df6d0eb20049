package spans

// otelhttp copies strings of the request into the server span: its path,
// its User-Agent, an unknown method. Each shares memory with a larger
// string: the path and the method are substrings of the request line,
// which may be 36 KB long, and the SDK's attribute length limit
// (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT) cuts a value as a substring too. So a
// span could keep up to 36 KB of request alive for every 1-byte "/", and up
// to 2,048 spans wait in the batcher's queue while Jaeger is slow.
//
// The request line is server.Harden's to deal with: it gives the pieces
// otelhttp takes from it memory of their own, before the span starts. What
// is left is a value the limit cut: this file copies those, as the span is
// queued. A value that was not cut is a header's own string, whole.

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// ownStrings returns the ended span s as the batcher should queue it: with
// its string attributes copied into one buffer of its own when the length
// limit cut one of them (a value of limit characters or more), so that it
// keeps nothing of the request alive; otherwise as it is, at no cost. The
// copy is the SDK's own read-only span (tracetest.SpanStub.Snapshot), so
// that it keeps up with the SDK's interface. It costs three allocations: the
// buffer, the attributes, the span.
func ownStrings(s sdktrace.ReadOnlySpan, limit int) sdktrace.ReadOnlySpan {
	attrs := s.Attributes()
	size, cut := 0, false
	for _, kv := range attrs {
		if kv.Value.Type() == attribute.STRING {
			v := kv.Value.AsString()
			size += len(v)
			cut = cut || limit >= 0 && len(v) >= limit && utf8.RuneCountInString(v) >= limit
		}
	}
	if !cut {
		return s
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

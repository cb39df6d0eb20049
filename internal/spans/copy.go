package spans

// otelhttp copies strings of the request into the server span: its method,
// path and User-Agent. In Go's HTTP server each of these shares memory with
// a larger string: the method and the path are substrings of the request
// line, which may be 36 KB long. The SDK's attribute length limit
// (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT) cuts a value as a substring too. So a
// span would keep up to 36 KB of request alive for every 3-byte "GET", and
// up to 2,048 spans wait in the batcher's queue while Jaeger is slow.

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// copyStrings runs once the span's first attributes are set (and cut to the
// limit by the SDK). It sets each string attribute of a server span again,
// to a copy; the SDK keeps the last value of a key, and drops the first at
// the span's end. Only server spans copy strings of a request that someone
// else sent; the others hold the services' own strings.
func copyStrings(span sdktrace.ReadWriteSpan) {
	if span.SpanKind() != trace.SpanKindServer {
		return
	}
	var copies []attribute.KeyValue
	for _, kv := range span.Attributes() {
		if kv.Value.Type() == attribute.STRING {
			copies = append(copies, attribute.String(string(kv.Key), strings.Clone(kv.Value.AsString())))
		}
	}
	span.SetAttributes(copies...)
}

package spans

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// OwnStrings is a span processor that gives the name and the string values
// of a SERVER span, which otelhttp took from the request, memory of their
// own, as valid UTF-8.
//
// Memory: each is a piece of a larger string, the request line (up to
// 36 KB) or a header, which the span would keep alive while it waits in
// the batcher. With an exporter that never answers, a frontend peaked at
// 192 MB without this copy, against its pod's 128 Mi (TestExporterStalled).
//
// UTF-8: both OTLP exporters refuse a whole batch for one string that is
// not valid UTF-8, and a caller writes what it likes into its User-Agent
// and path: one such request cost everyone's spans in its batch. Each bad
// byte becomes U+FFFD.
type OwnStrings struct{}

func (OwnStrings) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	if s.SpanKind() != trace.SpanKindServer {
		return // only a SERVER span starts with what a caller sent
	}
	name := strings.ToValidUTF8(s.Name(), "\uFFFD")
	size := len(name)
	attrs := s.Attributes()                            // the span's own slice: read only
	owned := make([]attribute.KeyValue, 0, len(attrs)) // the string values, valid
	for _, kv := range attrs {
		if kv.Value.Type() == attribute.STRING {
			v := strings.ToValidUTF8(kv.Value.AsString(), "\uFFFD")
			owned = append(owned, attribute.String(string(kv.Key), v))
			size += len(v)
		}
	}
	// One copy of the name and the values together, each a piece of it.
	var all strings.Builder
	all.Grow(size)
	all.WriteString(name)
	for _, kv := range owned {
		all.WriteString(kv.Value.AsString())
	}
	copied := all.String()
	s.SetName(copied[:len(name)])
	copied = copied[len(name):]
	for i, kv := range owned {
		n := len(kv.Value.AsString())
		owned[i], copied = attribute.String(string(kv.Key), copied[:n]), copied[n:]
	}
	s.SetAttributes(owned...) // in place of the values of the same keys
}

func (OwnStrings) OnEnd(sdktrace.ReadOnlySpan)      {}
func (OwnStrings) Shutdown(context.Context) error   { return nil }
func (OwnStrings) ForceFlush(context.Context) error { return nil }

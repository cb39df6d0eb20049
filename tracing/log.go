package tracing

import (
	"context"
	"log/slog"
	"slices"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler wraps h so that every line logged with a span in its context
// (logger.InfoContext(ctx, …)) carries the span's trace_id and span_id, at
// the top level: a line leads to its trace, and a trace to its lines.
func LogHandler(h slog.Handler) slog.Handler { return traceHandler{Handler: h} }

// traceHandler keeps logger.WithGroup's groups itself, outermost first,
// each with the attributes logged inside it: h would put the IDs in them.
type traceHandler struct {
	slog.Handler
	groups []slog.Attr
}

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.groups) > 0 { // the record's attributes, in the groups
		var attrs []slog.Attr
		r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a); return true })
		for i := len(h.groups) - 1; i >= 0; i-- {
			attrs = []slog.Attr{slog.GroupAttrs(h.groups[i].Key, slices.Concat(h.groups[i].Value.Group(), attrs)...)}
		}
		r = slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.AddAttrs(attrs...)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(h.groups) == 0 {
		return traceHandler{Handler: h.Handler.WithAttrs(attrs)}
	}
	groups := slices.Clone(h.groups) // h's loggers keep theirs
	last := groups[len(groups)-1]
	groups[len(groups)-1] = slog.GroupAttrs(last.Key, slices.Concat(last.Value.Group(), attrs)...)
	return traceHandler{h.Handler, groups}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return traceHandler{h.Handler, append(slices.Clone(h.groups), slog.GroupAttrs(name))}
}

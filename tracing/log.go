package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler wraps h so that every line logged with a context that holds a
// span (logger.InfoContext(ctx, …)) carries that span's trace_id and
// span_id, at the top level of the line: a log line leads to its trace in
// Jaeger, and a search by trace_id finds all of a trace's lines.
func LogHandler(h slog.Handler) slog.Handler { return traceHandler{Handler: h} }

// traceHandler keeps the groups of logger.WithGroup itself, so that the
// IDs stay outside them: the handler below would put every attribute
// added after a group inside it.
type traceHandler struct {
	slog.Handler         // without the groups
	groups       []group // outermost first
}

// group is a WithGroup's name, and the attributes logged inside it with
// logger.With.
type group struct {
	name  string
	attrs []slog.Attr
}

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.groups) > 0 {
		// The record's own attributes inside the innermost group, that
		// group inside the one before, and so on out.
		var inner []slog.Attr
		r.Attrs(func(a slog.Attr) bool { inner = append(inner, a); return true })
		for i := len(h.groups) - 1; i >= 0; i-- {
			g := h.groups[i]
			inner = []slog.Attr{slog.GroupAttrs(g.name, append(g.attrs[:len(g.attrs):len(g.attrs)], inner...)...)}
		}
		r = slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.AddAttrs(inner...)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs and WithGroup keep the wrapper, so that loggers made with
// logger.With and logger.WithGroup still add the IDs.
func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(h.groups) == 0 {
		return traceHandler{Handler: h.Handler.WithAttrs(attrs)}
	}
	groups := append([]group(nil), h.groups...)
	last := &groups[len(groups)-1]
	last.attrs = append(last.attrs[:len(last.attrs):len(last.attrs)], attrs...)
	return traceHandler{Handler: h.Handler, groups: groups}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return traceHandler{Handler: h.Handler, groups: append(h.groups[:len(h.groups):len(h.groups)], group{name: name})}
}

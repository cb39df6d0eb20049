package tracing

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// NewLogger returns the logger both services use: one JSON object per line
// (LOG_FORMAT=text for key=value text), and every line logged with a context
// that holds a span carries that span's trace_id and span_id, so a log line
// leads to its trace in Jaeger and back.
func NewLogger(w io.Writer) (*slog.Logger, error) {
	var h slog.Handler
	switch format := os.Getenv("LOG_FORMAT"); format {
	case "", "json":
		h = slog.NewJSONHandler(w, nil)
	case "text":
		h = slog.NewTextHandler(w, nil)
	default:
		return nil, &EnvError{Name: "LOG_FORMAT", Value: format, Reason: `want "json" or "text"`}
	}
	return slog.New(traceHandler{h}), nil
}

// traceHandler adds the IDs of the span in the record's context.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(
			slog.String("trace_id", sc.TraceID().String()),
			slog.String("span_id", sc.SpanID().String()),
		)
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs and WithGroup keep the wrapper, so that loggers made with
// logger.With still add the IDs.
func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}

// errorLogInterval is the most often errorLogger writes a line.
const errorLogInterval = 10 * time.Second

// errorLogger receives OpenTelemetry's own errors, mostly exports that failed
// because Jaeger is unreachable, and logs them through slog.Default. While
// Jaeger is down every batch fails, so it writes at most one line per
// errorLogInterval and counts the errors it held back.
type errorLogger struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Handle implements otel.ErrorHandler.
func (l *errorLogger) Handle(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := time.Now(); now.Sub(l.last) >= errorLogInterval {
		slog.Error("opentelemetry error", "err", err, "errors_suppressed", l.suppressed)
		l.last, l.suppressed = now, 0
		return
	}
	l.suppressed++
}

// summarize logs the count of errors held back since the last line, if any.
func (l *errorLogger) summarize() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.suppressed > 0 {
		slog.Error("opentelemetry errors held back", "errors_suppressed", l.suppressed)
		l.suppressed = 0
	}
}

// Package errlog logs OpenTelemetry's own errors, mostly exports that
// failed because Jaeger is unreachable, at a bounded rate: while Jaeger is
// down every batch fails, and a line per batch would bury the service's own
// log lines.
package errlog

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"

	"example.com/tracingdemo/internal/ratelimit"
	"example.com/tracingdemo/internal/remotesampler"
)

// interval is the most often a Handler writes a line: the services' one
// bound for repeated lines.
const interval = ratelimit.Interval

// Handler is an otel.ErrorHandler that logs through slog.Default at most one
// line per interval, and counts the errors it held back.
type Handler struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Install makes a new Handler OpenTelemetry's error handler, and returns it.
func Install() *Handler {
	h := &Handler{}
	otel.SetErrorHandler(h)
	return h
}

// Handle implements otel.ErrorHandler.
func (h *Handler) Handle(err error) {
	if remotesampler.IsSDKNotice(err) {
		return
	}
	// A malformed baggage header is its sender's mistake, not an error of
	// this service: a warning, which does not use up the budget that the
	// next export error needs. (The SDK reports it once per process.)
	if fromCaller(err) {
		slog.Warn("a caller sent a malformed baggage header; it was ignored", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if now := time.Now(); now.Sub(h.last) >= interval {
		slog.Error("opentelemetry error", "err", err, "errors_suppressed", h.suppressed)
		h.last, h.suppressed = now, 0
		return
	}
	h.suppressed++
}

// Summarize logs the count of errors held back since the last line, if any.
// The services call it at their stop.
func (h *Handler) Summarize() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.suppressed > 0 {
		slog.Error("opentelemetry errors held back", "errors_suppressed", h.suppressed)
		h.suppressed = 0
	}
}

// fromCaller reports whether err is the baggage propagator's complaint about
// a header it could not read. The baggage package exports no error values
// to compare with, so its errors are known by their text.
func fromCaller(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "baggage") ||
		strings.HasPrefix(msg, "invalid key") || strings.HasPrefix(msg, "invalid value")
}

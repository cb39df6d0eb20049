package spans

// OpenTelemetry's own errors are mostly exports that failed because Jaeger
// is unreachable: while Jaeger is down every batch fails, and a line per
// batch would bury the service's own log lines.

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"

	"example.com/tracingdemo/internal/ratelimit"
	"example.com/tracingdemo/internal/remotesampler"
)

// errorHandler is an otel.ErrorHandler that logs through slog.Default at
// most one line per 10 s (ratelimit.Limiter), and counts the errors it held
// back.
type errorHandler struct {
	limit      ratelimit.Limiter
	suppressed atomic.Int64
}

// installErrorHandler makes a new errorHandler OpenTelemetry's, and returns it.
func installErrorHandler() *errorHandler {
	h := &errorHandler{}
	otel.SetErrorHandler(h)
	return h
}

// Handle implements otel.ErrorHandler.
func (h *errorHandler) Handle(err error) {
	if remotesampler.IsNotice(err) {
		return
	}
	// A malformed baggage header is its sender's mistake, not an error of
	// this service: a warning, which does not use up the budget that the
	// next export error needs. (The SDK reports it once per process.)
	if fromCaller(err) {
		slog.Warn("a caller sent a malformed baggage header; it was ignored", "err", err)
		return
	}
	if h.limit.Allow() {
		slog.Error("opentelemetry error", "err", cut(err.Error()), "errors_suppressed", h.suppressed.Swap(0))
		return
	}
	h.suppressed.Add(1)
}

// maxError is the most of an error's text that the log keeps. A failed
// export's error can carry the collector's answer, and a collector that
// refuses a token may echo it back: the first bytes say what went wrong.
const maxError = 256

// cut is msg, cut to maxError bytes.
func cut(msg string) string {
	if len(msg) <= maxError {
		return msg
	}
	return fmt.Sprintf("%s… (%d bytes)", msg[:maxError], len(msg))
}

// summarize logs the count of errors held back since the last line, if any.
func (h *errorHandler) summarize() {
	if n := h.suppressed.Swap(0); n > 0 {
		slog.Error("opentelemetry errors held back", "errors_suppressed", n)
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

package spans

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"golang.org/x/time/rate"
)

// LogErrors sends OpenTelemetry's own errors, mostly failed exports while
// Jaeger is down, to slog.Default once Start is called: a line at most
// every 10 s, with the count held back, cut to 256 bytes (a collector that
// refuses a token may echo it back). A line per failed batch would bury
// the service's own. No error is told from another by its words: those
// are someone else's text.
func LogErrors() *ErrorLog {
	h := &ErrorLog{every: rate.Sometimes{Interval: 10 * time.Second}}
	otel.SetErrorHandler(h)
	return h
}

// ErrorLog is the error handler of LogErrors.
type ErrorLog struct {
	started  atomic.Bool
	every    rate.Sometimes
	heldBack atomic.Int64
}

// Start logs the errors from now on. Those before are dropped: while the
// TracerProvider is built, the SDK complains of jaeger_remote, a sampler it
// does not know, though it is handed it.
func (h *ErrorLog) Start() { h.started.Store(true) }

// Summary logs the count of errors held back since the last line, if any.
func (h *ErrorLog) Summary() {
	if n := h.heldBack.Swap(0); n > 0 {
		slog.Error("opentelemetry errors held back", "errors_suppressed", n)
	}
}

func (h *ErrorLog) Handle(err error) {
	if !h.started.Load() {
		return
	}
	h.heldBack.Add(1)
	h.every.Do(func() {
		msg := err.Error()
		if len(msg) > 256 {
			msg = fmt.Sprintf("%s… (%d bytes)", msg[:256], len(msg))
		}
		slog.Error("opentelemetry error", "err", msg, "errors_suppressed", h.heldBack.Swap(0)-1)
	})
}

package spans

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"golang.org/x/time/rate"
)

// LogErrors makes OpenTelemetry's own errors, mostly exports that failed
// because Jaeger is unreachable, go to slog.Default once Start is called:
// at most one line per 10 s, with the count of those held back, each cut
// to maxError bytes. While Jaeger is down every batch fails, and a line per
// batch would bury the service's own lines. No error is told from another
// by its words: those are someone else's text, and may hold a secret.
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

// Start logs the errors from now on. The ones before are dropped: while
// the TracerProvider is built, the SDK reads OTEL_TRACES_SAMPLER itself,
// and complains of jaeger_remote, which it does not know, though it is
// handed the sampler; settings.Load has checked every value it reads then.
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
	logged := false
	h.every.Do(func() {
		logged = true
		slog.Error("opentelemetry error", "err", cut(err.Error()), "errors_suppressed", h.heldBack.Swap(0))
	})
	if !logged {
		h.heldBack.Add(1)
	}
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

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
// because Jaeger is unreachable, go to slog.Default: at most one line per
// 10 s, with the count of those held back, each cut to maxError bytes.
// While Jaeger is down every batch fails, and a line per batch would bury
// the service's own lines. Its summary logs the count held back since.
func LogErrors() (summary func()) {
	h := &errorLog{every: rate.Sometimes{Interval: 10 * time.Second}}
	otel.SetErrorHandler(h)
	return func() {
		if n := h.heldBack.Swap(0); n > 0 {
			slog.Error("opentelemetry errors held back", "errors_suppressed", n)
		}
	}
}

type errorLog struct {
	every    rate.Sometimes
	heldBack atomic.Int64
}

func (h *errorLog) Handle(err error) {
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

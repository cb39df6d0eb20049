// The untraced pair of `make bench`, in place of tracing/http.go (go build
// -overlay): the same routers and log lines, and no otelhttp at either
// end, so no span of HTTP and no trace context on the wire. With
// OTEL_SDK_DISABLED=true the handlers' own spans are not sampled either.
package tracing

import (
	"log/slog"
	"net/http"

	"github.com/felixge/httpsnoop"
	"github.com/gorilla/mux"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func Handler(router *mux.Router, _ trace.TracerProvider, _ propagation.TextMapPropagator, logger *slog.Logger, public bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := httpsnoop.CaptureMetrics(router, w, r)
		logger.InfoContext(r.Context(), "request", "method", r.Method, "status", m.Code)
	})
}

func Transport(base http.RoundTripper, _ trace.TracerProvider, _ propagation.TextMapPropagator, _ ...otelhttp.Option) http.RoundTripper {
	return base
}

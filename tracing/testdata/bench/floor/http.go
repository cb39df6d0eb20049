// The floor of `make bench`, in place of tracing/http.go (go build
// -overlay): plain otelhttp on both ends, and the log line, with nothing
// of the demo's own (no span names from the routes, no http.route, no
// traceresponse). With floor/setup.go, what tracing costs at the least; the
// services' traced request minus this is the demo's own share.
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

func Handler(router *mux.Router, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, public bool) http.Handler {
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := httpsnoop.CaptureMetrics(router, w, r)
		logger.InfoContext(r.Context(), "request", "method", r.Method, "status", m.Code)
	})
	return otelhttp.NewHandler(logged, "server", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator))
}

// Transport is otelhttp's, with the options the frontend gives it (its
// lessons' instrumentation), as the services' is.
func Transport(base http.RoundTripper, tp trace.TracerProvider, propagator propagation.TextMapPropagator, opts ...otelhttp.Option) http.RoundTripper {
	opts = append([]otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator)}, opts...)
	return otelhttp.NewTransport(base, opts...)
}

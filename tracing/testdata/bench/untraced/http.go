// The untraced pair of `make bench`, in place of tracing/http.go (go build
// -overlay): the same routers, limits and log lines, and no otelhttp at
// either end, so no span of HTTP and no trace context on the wire. With
// OTEL_SDK_DISABLED=true the handlers' own spans are not sampled either.
package tracing

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/server"
)

func Handler(router *mux.Router, _ trace.TracerProvider, _ propagation.TextMapPropagator, logger *slog.Logger, public bool) http.Handler {
	return server.Harden(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := server.RouteOf(router, r)
		server.ServeLogged(logger, route, router, w, r)
	}), router, public)
}

func Transport(base http.RoundTripper, _ trace.TracerProvider, _ propagation.TextMapPropagator) http.RoundTripper {
	return base
}

// The floor of `make bench`, in place of tracing/http.go (go build
// -overlay): plain otelhttp on both ends, with nothing of the demo's own
// (no span names from the routes, no http.route, no traceresponse, no
// public edge). With floor/setup.go, what tracing costs at the least; the
// services' traced request minus this is the demo's own share.
package tracing

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/server"
)

func Handler(router *mux.Router, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, public bool) http.Handler {
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := server.RouteOf(router, r)
		server.ServeLogged(logger, route, router, w, r)
	})
	return server.Harden(otelhttp.NewHandler(logged, "server",
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator)), router, public)
}

func Transport(base http.RoundTripper, tp trace.TracerProvider, propagator propagation.TextMapPropagator) http.RoundTripper {
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator))
}

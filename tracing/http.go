package tracing

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/server"
)

// Handler is the server side of a traced HTTP call: every request to
// router gets a SERVER span from otelhttp, which first extracts the
// caller's trace context from the request's headers (W3C traceparent and
// baggage), so that the span joins the caller's trace. At a public edge,
// the caller's trace is only linked: the span is a root, of a trace this
// service starts and samples, so that no stranger decides what is sampled.
// The span is named after the route, e.g. "GET /hello", never the raw path,
// which would make one Jaeger operation per URL.
func Handler(router *mux.Router, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, public bool) http.Handler {
	traced := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		route, matched := server.Route(router, r)
		if matched {
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		if sc := span.SpanContext(); sc.IsValid() {
			// W3C Trace Context Level 2: tells the caller which trace
			// (and which span of it) served this request.
			w.Header().Set("traceresponse", fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags()))
		}
		server.ServeLogged(logger, route, router, w, r) // a log line with the trace ID
	})
	return server.Harden(otelhttp.NewHandler(traced, "", // Harden: /healthz with no span, the limits
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagator),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return public }),
		// otelhttp names spans from r.Pattern, which only net/http's own
		// ServeMux sets: ask mux for the route template instead.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			route, _ := server.Route(router, r)
			return server.Method(r) + " " + route
		}),
	), public)
}

// Transport is the client side of a traced HTTP call: every request sent
// through it gets a CLIENT span, and carries the trace context (the W3C
// traceparent header: trace ID, this span's ID, sampled flag) and the
// baggage (the baggage header), which Handler reads on the other side. The
// request must be made with the context of the current span
// (http.NewRequestWithContext): that is where the transport finds it.
func Transport(base http.RoundTripper, tp trace.TracerProvider, propagator propagation.TextMapPropagator) http.RoundTripper {
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagator),
	)
}

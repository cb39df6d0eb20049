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
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			// W3C Trace Context Level 2, 00-{trace ID}-{span ID}-{flags}:
			// tells the caller which trace, and which span of it, served it.
			server.SetTraceResponse(w.Header(), sc)
		}
		route := server.RouteOf(router, r)
		server.ServeLogged(logger, route, router, w, r) // a log line with the trace ID
	})
	opts := []otelhttp.Option{
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagator),
		// Span names from the route mux matched (http.route), e.g. "GET /hello".
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return server.SpanName(router, r) }),
	}
	if public {
		opts = append(opts, otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }))
	}
	// Harden: /healthz with no span, the limits, and the route as r.Pattern.
	return server.Harden(otelhttp.NewHandler(traced, "", opts...), router, public)
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

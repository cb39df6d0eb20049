package tracing

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/felixge/httpsnoop"
	"github.com/gorilla/mux"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Handler is the server side of a traced HTTP call: every request to
// router gets a SERVER span from otelhttp, which first extracts the
// caller's trace context (W3C traceparent and baggage), so that the span
// joins the caller's trace; at a public edge, it only links it, and starts
// a trace of its own. Each request gets a log line with its trace ID.
func Handler(router *mux.Router, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, public bool) http.Handler {
	traced := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// W3C Trace Context Level 2: traceresponse, in traceparent's form,
		// tells the caller which trace, and which span of it, served it.
		carrier := propagation.MapCarrier{}
		propagation.TraceContext{}.Inject(r.Context(), carrier)
		w.Header().Set("Traceresponse", carrier.Get("traceparent"))
		m := httpsnoop.CaptureMetrics(router, w, r)
		logger.InfoContext(r.Context(), "request", "method", r.Method, "route", r.Pattern, "status", m.Code,
			"duration_ms", float64(m.Duration)/float64(time.Millisecond))
	})
	opts := []otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator)}
	if public {
		opts = append(opts, otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }))
	}
	return withRoute(router, otelhttp.NewHandler(traced, "", opts...))
}

// withRoute sets r.Pattern to the template of the route router matches,
// e.g. "/hello", as net/http's ServeMux does: otelhttp names the span after
// it ("GET /hello"), never the raw path, which would make one Jaeger
// operation per URL; with no route, the span is named "GET".
func withRoute(router *mux.Router, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var match mux.RouteMatch
		if router.Match(r, &match) && match.MatchErr == nil && match.Route != nil {
			r.Pattern, _ = match.Route.GetPathTemplate()
		}
		next.ServeHTTP(w, r)
	})
}

// Transport is the client side of a traced HTTP call: every request sent
// through it gets a CLIENT span, and carries the trace context (W3C
// traceparent: trace ID, this span's ID, sampled flag) and the baggage,
// which Handler reads on the other side. Make the request with the current
// span's context (http.NewRequestWithContext): the transport finds it there.
// opts are more of otelhttp's options, e.g. otelhttp.WithClientTrace.
func Transport(base http.RoundTripper, tp trace.TracerProvider, propagator propagation.TextMapPropagator, opts ...otelhttp.Option) http.RoundTripper {
	opts = append([]otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator)}, opts...)
	return otelhttp.NewTransport(base, opts...)
}

package tracing

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Middleware is the server side of a traced HTTP call, for a gorilla/mux
// router (r.Use). Every request the router serves gets a SERVER span:
//   - otelhttp first extracts the caller's trace context from the request's
//     headers (W3C traceparent and baggage), so that the span joins the
//     caller's trace; with no such header, the span is a root;
//   - at a public edge (public), the caller's trace context is only linked:
//     the span is a root, of a trace this service starts and samples, so
//     that no stranger decides what is sampled or grows a trace of ours;
//   - the span is named after the route template, e.g. "GET /hello", never
//     after the raw path, which would make one Jaeger operation per URL;
//   - the answer carries a traceresponse header that names the trace.
func Middleware(tp trace.TracerProvider, propagator propagation.TextMapPropagator, public bool) mux.MiddlewareFunc {
	return middleware("", tp, propagator, public)
}

// UnmatchedMiddleware is Middleware for the requests that match no route,
// which mux answers without running the router's middleware: wrap its
// NotFoundHandler with it. Their spans are named after name, e.g.
// "GET NotFound".
func UnmatchedMiddleware(name string, tp trace.TracerProvider, propagator propagation.TextMapPropagator, public bool) mux.MiddlewareFunc {
	return middleware(name, tp, propagator, public)
}

func middleware(unmatched string, tp trace.TracerProvider, propagator propagation.TextMapPropagator, public bool) mux.MiddlewareFunc {
	otelMiddleware := otelhttp.NewMiddleware(unmatched,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagator),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return public }),
		// otelhttp names spans from r.Pattern, which only net/http's own
		// ServeMux sets: ask mux for the route template instead.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if route := Route(r); route != "" {
				return Method(r) + " " + route
			}
			return Method(r) + " " + unmatched
		}),
	)
	return func(next http.Handler) http.Handler {
		return otelMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			span := trace.SpanFromContext(r.Context())
			if route := Route(r); route != "" {
				span.SetAttributes(semconv.HTTPRoute(route))
			}
			if sc := span.SpanContext(); sc.IsValid() {
				// W3C Trace Context Level 2: tells the caller which trace
				// (and which span of it) served this request.
				w.Header().Set("traceresponse", fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags()))
			}
			next.ServeHTTP(w, r)
		}))
	}
}

// Route returns the template of the mux route that matched r, e.g. "/hello",
// or "" when none did.
func Route(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		if tmpl, err := route.GetPathTemplate(); err == nil {
			return tmpl
		}
	}
	return ""
}

// Method returns r's method as a span name shows it: one of HTTP's own, or
// "_OTHER", as otelhttp records an unknown one, so that a caller cannot
// make up Jaeger operations with methods of its own.
func Method(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return r.Method
	}
	return "_OTHER"
}

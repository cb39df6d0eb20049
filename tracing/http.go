package tracing

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/felixge/httpsnoop"
	"github.com/gorilla/mux"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// HealthPath answers 200 on both services, with no span and no log line, so
// that health checks every few seconds do not crowd out the real traces.
const HealthPath = "/healthz"

// NewRouter returns the gorilla/mux router both services start from. Every
// request that reaches it, matched to a route or not, except GET /healthz:
//   - gets a SERVER span from otelhttp, which first extracts the caller's
//     trace context (the W3C traceparent and baggage headers), so that the
//     span joins the caller's trace;
//   - names that span after the route template, e.g. "GET /", never after the
//     raw path, which would make one Jaeger operation per distinct URL;
//   - answers with a traceresponse header naming the trace;
//   - writes one log line with method, route, status, duration and trace ID.
func NewRouter(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) *mux.Router {
	r := mux.NewRouter()
	// By default mux answers a path such as /a/../b with a redirect to its
	// clean form, before any middleware runs: that answer would have no span
	// and no log line. Keep paths as sent: one that is not clean matches no
	// route and gets a traced 404, like any other unknown path.
	r.SkipClean(true)
	r.HandleFunc(HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	}).Methods(http.MethodGet)

	instrument := func(unmatched string) mux.MiddlewareFunc {
		return serverMiddleware(unmatched, tp, propagator, logger)
	}
	r.Use(instrument(""))
	// mux runs middleware only for requests that match a route: wrap the
	// handlers for the others ourselves, so that they are traced too.
	r.NotFoundHandler = instrument("NotFound")(http.NotFoundHandler())
	r.MethodNotAllowedHandler = instrument("MethodNotAllowed")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, fmt.Sprintf("method %s not allowed here", r.Method), http.StatusMethodNotAllowed)
		}))
	return r
}

// serverMiddleware is otelhttp's middleware with the names taken from mux,
// plus the traceresponse header and the request log. unmatched names the
// requests that match no route.
func serverMiddleware(unmatched string, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) mux.MiddlewareFunc {
	traced := otelhttp.NewMiddleware(unmatched,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagator),
		// otelhttp names server spans from r.Pattern, which only
		// net/http's ServeMux sets: ask mux for the route template instead.
		otelhttp.WithSpanNameFormatter(func(unmatched string, r *http.Request) string {
			return r.Method + " " + routeOf(r, unmatched)
		}),
	)
	return func(next http.Handler) http.Handler {
		inSpan := traced(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			span := trace.SpanFromContext(r.Context())
			route := routeOf(r, unmatched)
			if route != unmatched {
				span.SetAttributes(semconv.HTTPRoute(route))
			}
			if sc := span.SpanContext(); sc.IsValid() {
				// W3C Trace Context Level 2: tells the caller which trace
				// (and which span of it) served this request.
				w.Header().Set("traceresponse", fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags()))
			}
			m := httpsnoop.CaptureMetrics(next, w, r)
			logger.InfoContext(r.Context(), "request",
				"method", r.Method, "route", route, "status", m.Code,
				"duration_ms", float64(m.Duration)/float64(time.Millisecond))
		}))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == HealthPath {
				next.ServeHTTP(w, r)
				return
			}
			inSpan.ServeHTTP(w, r)
		})
	}
}

// routeOf returns the template of the mux route that matched r, e.g. "/",
// or unmatched when none did.
func routeOf(r *http.Request, unmatched string) string {
	if route := mux.CurrentRoute(r); route != nil {
		if tmpl, err := route.GetPathTemplate(); err == nil {
			return tmpl
		}
	}
	return unmatched
}

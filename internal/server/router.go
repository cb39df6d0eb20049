package server

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/felixge/httpsnoop"
	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/tracing"
)

// healthPath answers 200 on both services, with no span and no log line, so
// that health checks every few seconds do not crowd out the real traces.
const healthPath = "/healthz"

// healthy is the answer to /healthz. HealthCheck wants exactly this, so that
// another server that answers 200 to anything does not pass for the service.
const healthy = "ok\n"

// Harden adds to a service's router, which already has tracing.Middleware,
// what a real service needs beside the lesson, and returns the handler to
// serve:
//   - one log line per request, with method, route, status, duration and
//     trace ID;
//   - a traced answer, with its log line, for the requests that match no
//     route: 404 named "GET NotFound", 405 named e.g. "POST MethodNotAllowed"
//     (a method that HTTP does not define is "_OTHER", in the span's name
//     and in the log line);
//   - paths kept as sent: by default mux answers a path such as /a/../b with
//     a redirect to its clean form, before any middleware runs, so that
//     answer would have no span and no log line. Such a path now matches no
//     route and gets a traced 404, like any other unknown path;
//   - GET and HEAD /healthz, answered before the router: no span, no log
//     line;
//   - a request body, which no route reads, is not waited for: the answer
//     goes out at once and the connection is closed after it. Otherwise Go's
//     server would read a body that trickles in, for up to its ReadTimeout,
//     before it sent the answer.
func Harden(r *mux.Router, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, public bool) http.Handler {
	r.SkipClean(true)
	r.Use(logRequests(logger, ""))

	unmatched := func(name string, h http.HandlerFunc) http.Handler {
		return tracing.UnmatchedMiddleware(name, tp, propagator, public)(logRequests(logger, name)(h))
	}
	r.NotFoundHandler = unmatched("NotFound", http.NotFound)
	r.MethodNotAllowedHandler = unmatched("MethodNotAllowed", methodNotAllowed)

	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.ContentLength != 0 { // -1: a chunked body, of unknown length
			w.Header().Set("Connection", "close")
		}
		switch {
		case req.URL.Path != healthPath:
			r.ServeHTTP(w, req)
		case req.Method == http.MethodGet || req.Method == http.MethodHead:
			fmt.Fprint(w, healthy)
		default:
			methodNotAllowed(w, req)
		}
	})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	http.Error(w, fmt.Sprintf("method %s not allowed here", tracing.Method(r)), http.StatusMethodNotAllowed)
}

// logRequests logs each request after its answer, inside its span, so the
// line carries the trace ID. unmatched names the route of the requests that
// match none.
func logRequests(logger *slog.Logger, unmatched string) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m := httpsnoop.CaptureMetrics(next, w, r)
			logger.InfoContext(r.Context(), "request",
				"method", tracing.Method(r), "route", cmp.Or(tracing.Route(r), unmatched), "status", m.Code,
				"duration_ms", float64(m.Duration)/float64(time.Millisecond))
		})
	}
}

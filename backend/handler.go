package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/tracing"
)

// New returns the backend's HTTP handler, GET /hello (hello, below), traced
// with tp and reading the trace context with propagator. Its async=true
// requests queue their work on jobs.
func New(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, jobs *Jobs) http.Handler {
	h := &handler{tracer: tp.Tracer("example.com/tracingdemo/backend"), logger: logger, jobs: jobs}
	r := mux.NewRouter()
	// otelhttp (tracing/server.go) extracts the frontend's trace context
	// from the traceparent header, so the SERVER span "GET /hello" is a
	// child of the frontend's CLIENT span, in the same trace: the backend
	// is no public edge (false), only the frontend calls it.
	r.Use(tracing.Middleware(tp, propagator, false))
	r.HandleFunc("/hello", h.hello).Methods(http.MethodGet)
	// Beside the lesson: health checks, request logs, traced 404s.
	return server.Harden(r, tp, propagator, logger, false)
}

type handler struct {
	tracer trace.Tracer
	logger *slog.Logger
	jobs   *Jobs
}

// hello serves GET /hello?delay=200ms&fail=true&async=true, inside its own span,
// "handle backend call", which records what the request carries and what
// the handler does with it.
func (h *handler) hello(w http.ResponseWriter, r *http.Request) {
	ctx, span := h.tracer.Start(r.Context(), "handle backend call")
	defer span.End()
	span.AddEvent("handling backend call")

	// The user is not a parameter: it travelled as baggage, in its own
	// header beside traceparent, and otelhttp put it in the context. The
	// frontend checked it, but anyone can call the backend: check it again.
	user := baggage.FromContext(ctx).Member("user").Value()
	if user != "" {
		if err := CheckUser(user); err != nil {
			h.badRequest(ctx, w, fmt.Errorf("baggage: %w", err))
			return
		}
		span.SetAttributes(attribute.String("user", user))
	}

	p, err := ParamsFromQuery(r.URL.RawQuery)
	if err != nil {
		h.badRequest(ctx, w, err)
		return
	}
	span.SetAttributes(attribute.String("delay", p.Delay.String()), attribute.Bool("fail", p.Fail))
	if user == "" {
		user = "stranger"
	}

	if p.Async {
		// The work (delay, fail) is a job, done later by a worker
		// (jobs.go): the answer does not wait for it.
		if err := h.jobs.publish(ctx, p); err != nil {
			h.logger.WarnContext(ctx, "job not queued", "err", err)
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		h.reply(w, "hello, %s, from the backend: your job is queued\n", user)
		return
	}

	if p.Delay > 0 {
		span.AddEvent("waiting", trace.WithAttributes(attribute.String("delay", p.Delay.String())))
		select {
		case <-time.After(p.Delay):
		case <-ctx.Done():
			// The frontend gave up (its timeout, or its own caller left):
			// nobody is waiting for the answer any more.
			span.RecordError(ctx.Err())
			span.SetStatus(codes.Error, "caller gone while waiting")
			return
		}
	}

	if p.Fail {
		err := errors.New("simulated failure (fail=true)")
		// RecordError adds an "exception" event; SetStatus marks the span
		// red in Jaeger.
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		h.logger.ErrorContext(ctx, "backend call failed", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}

	h.reply(w, "hello, %s, from the backend\n", user)
}

// reply answers 200 with the text format makes of args.
func (h *handler) reply(w http.ResponseWriter, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprintf(w, format, args...)
}

// badRequest answers 400 with err, which names what was wrong.
func (h *handler) badRequest(ctx context.Context, w http.ResponseWriter, err error) {
	trace.SpanFromContext(ctx).SetStatus(codes.Error, err.Error())
	h.logger.WarnContext(ctx, "bad request", "err", err)
	http.Error(w, err.Error(), http.StatusBadRequest)
}

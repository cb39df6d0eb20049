// Package backend is the service the frontend calls. This file is the path
// of a request; jobs.go the work it leaves for later (async=true).
package backend

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/params"
	"example.com/tracingdemo/tracing"
)

// New returns the backend's HTTP handler, GET /hello (hello, below), traced
// with tp and propagator. Its async=true requests queue their work on jobs.
func New(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, jobs *Jobs) http.Handler {
	h := &handler{tracer: tp.Tracer("example.com/tracingdemo/backend"), logger: logger, jobs: jobs}
	r := server.NewRouter()
	r.HandleFunc("/hello", h.hello).Methods(http.MethodGet)
	// The SERVER span "GET /hello" joins the frontend's trace, as a child of
	// its CLIENT span: the backend is no public edge (false).
	return tracing.Handler(r, tp, propagator, logger, false)
}

type handler struct {
	tracer trace.Tracer
	logger *slog.Logger
	jobs   *Jobs
}

// hello serves GET /hello?delay=200ms&fail=true&async=true, inside its own
// span, "handle backend call", which records what the request asks and does.
func (h *handler) hello(w http.ResponseWriter, r *http.Request) {
	ctx, span := h.tracer.Start(r.Context(), "handle backend call")
	defer span.End()
	span.AddEvent("handling backend call")

	// The user is not a parameter: it travelled as baggage, in its own
	// header beside traceparent, and otelhttp put it in the context. The
	// frontend checked it, but anyone can call the backend: check it again.
	user := baggage.FromContext(ctx).Member("user").Value()
	if user != "" {
		if err := params.CheckUser(user); err != nil {
			server.BadRequest(ctx, w, h.logger, fmt.Errorf("baggage: %w", err))
			return
		}
		span.SetAttributes(attribute.String("user", user))
	}

	p, err := params.FromQuery(r.URL.RawQuery)
	if err != nil {
		server.BadRequest(ctx, w, h.logger, err)
		return
	}
	span.SetAttributes(attribute.String("delay", p.Delay.String()), attribute.Bool("fail", p.Fail))
	if user == "" {
		user = "stranger"
	}

	if p.Async {
		// The work (delay, fail) is a job, done later (jobs.go): no waiting.
		if err := h.jobs.publish(ctx, p); err != nil {
			server.Unavailable(w, err) // full, or stopping
			return
		}
		server.Reply(w, "hello, "+user+", from the backend: your job is queued")
		return
	}

	if p.Delay > 0 {
		span.AddEvent("waiting", trace.WithAttributes(attribute.String("delay", p.Delay.String())))
		select {
		case <-time.After(p.Delay):
		case <-ctx.Done():
			// The caller hung up, or gave up: nobody waits for the answer.
			span.AddEvent("the caller went away while waiting")
			w.WriteHeader(499) // nginx's "client closed request": the log line and the span say so
			return
		}
	}

	if p.Fail {
		err := errors.New("simulated failure (fail=true)")
		// RecordError adds an "exception" event; SetStatus marks the span red.
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		h.logger.ErrorContext(ctx, "backend call failed", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}

	server.Reply(w, "hello, "+user+", from the backend")
}

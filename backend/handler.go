package backend

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/tracing"
)

// New returns the backend's HTTP handler, traced with tp and reading
// context with propagator: GET /hello (below) and GET /healthz.
func New(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) http.Handler {
	h := &handler{tracer: tp.Tracer("example.com/tracingdemo/backend"), logger: logger}
	// otelhttp (see tracing/http.go) extracts the frontend's trace context
	// from the traceparent header, so the SERVER span "GET /hello" is a
	// child of the frontend's CLIENT span, in the same trace.
	r := tracing.NewRouter(tp, propagator, logger)
	r.HandleFunc("/hello", h.hello).Methods(http.MethodGet)
	return r
}

type handler struct {
	tracer trace.Tracer
	logger *slog.Logger
}

const maxDelay = 10 * time.Second

// hello serves GET /hello?delay=200ms&fail=true, inside its own span,
// "handle backend call", which records what the request carries and what
// the handler does with it.
func (h *handler) hello(w http.ResponseWriter, r *http.Request) {
	ctx, span := h.tracer.Start(r.Context(), "handle backend call")
	defer span.End()
	span.AddEvent("handling backend call")

	// The user is not a parameter: it travelled as baggage, in its own
	// header beside traceparent, and otelhttp put it in the context.
	user := baggage.FromContext(ctx).Member("user").Value()
	if user != "" {
		span.SetAttributes(attribute.String("user", user))
	}

	delay, fail, err := parseKnobs(r)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		h.logger.WarnContext(ctx, "bad request", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	span.SetAttributes(attribute.String("delay", delay.String()), attribute.Bool("fail", fail))

	if delay > 0 {
		span.AddEvent("waiting", trace.WithAttributes(attribute.String("delay", delay.String())))
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			// The frontend gave up (its timeout, or its own caller left):
			// nobody is waiting for the answer any more.
			span.RecordError(ctx.Err())
			span.SetStatus(codes.Error, "caller gone while waiting")
			return
		}
	}

	if fail {
		err := errors.New("simulated failure (fail=true)")
		// RecordError adds an "exception" event; SetStatus marks the span
		// red in Jaeger.
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		h.logger.ErrorContext(ctx, "backend call failed", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}

	if user == "" {
		user = "stranger"
	}
	fmt.Fprintf(w, "hello, %s, from the backend\n", user)
}

// parseKnobs reads delay (0 to 10s) and fail (a boolean) from the query.
func parseKnobs(r *http.Request) (delay time.Duration, fail bool, err error) {
	q := r.URL.Query()
	if v := q.Get("delay"); v != "" {
		if delay, err = time.ParseDuration(v); err != nil || delay < 0 || delay > maxDelay {
			return 0, false, fmt.Errorf("delay=%q: want a Go duration from 0s to %s", v, maxDelay)
		}
	}
	if v := q.Get("fail"); v != "" {
		if fail, err = strconv.ParseBool(v); err != nil {
			return 0, false, fmt.Errorf("fail=%q: want true or false", v)
		}
	}
	return delay, fail, nil
}

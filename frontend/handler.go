// Package frontend is the service users call. Its GET / calls the backend
// and relays the answer; one trace follows the request through both
// services. This file is the path of a request; answer.go the answer.
package frontend

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/params"
	"example.com/tracingdemo/tracing"
)

// New returns the frontend's HTTP handler, GET / (hello, below), traced
// with tp and propagator.
func New(cfg Config, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) http.Handler {
	h := &handler{
		cfg:    cfg,
		tracer: tp.Tracer("example.com/tracingdemo/frontend"),
		// Its transport opens a CLIENT span for each call, and writes the trace
		// context and the baggage into its headers: so the backend's spans join.
		// NetworkSteps records the network's share (docs/lessons/network.md).
		client: &http.Client{Transport: tracing.Transport(server.Transport(), tp, propagator, NetworkSteps(cfg.NetworkSpans)),
			CheckRedirect: server.NoRedirect}, // a redirect is the backend's answer: 502
		logger: logger,
		gone:   newHangUps(),
	}
	r := server.NewRouter()
	r.HandleFunc("/", h.hello).Methods(http.MethodGet, http.MethodHead)
	// otelhttp's SERVER span is the trace's root. The frontend is the public
	// edge: a caller's trace is linked, not joined, unless TRUST_CALLER_TRACE.
	return tracing.Handler(r, tp, propagator, logger, !cfg.TrustCallerTrace)
}

type handler struct {
	cfg    Config
	tracer trace.Tracer
	client *http.Client
	logger *slog.Logger
	gone   *hangUps // callers who hung up (answer.go)
}

// hello serves GET /?user=alice&delay=200ms&fail=true inside the root span
// "GET /" that otelhttp opened.
func (h *handler) hello(w http.ResponseWriter, r *http.Request) {
	p, err := params.FromQuery(r.URL.RawQuery)
	if err != nil {
		h.respondError(w, r, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	if len(p.Users) > 1 { // many calls at once (concurrency.go)
		h.helloEach(w, r, p)
		return
	}
	// r.Context() holds the root span: every span started from it, or from
	// a context made from it, is a child in the same trace.
	ctx := withUserBaggage(r.Context(), p.User())
	reply, took, err := h.callBackend(ctx, p)
	if err != nil {
		h.respondError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusOK, answer{Message: reply, took: took})
}

// withUserBaggage sets the baggage the backend call will carry, in place
// of any the caller sent: the user alone, checked (params.CheckUser).
func withUserBaggage(ctx context.Context, user string) context.Context {
	if user == "" {
		return baggage.ContextWithoutBaggage(ctx)
	}
	member, _ := baggage.NewMemberRaw("user", user)
	b, _ := baggage.New(member)
	return baggage.ContextWithBaggage(ctx, b)
}

// callBackend asks the backend for its reply, inside the span "backend
// call", whose events mark when the call leaves and its answer comes back.
// The request carries this span's ctx: the transport's CLIENT span is its child.
func (h *handler) callBackend(ctx context.Context, p params.Hello) (reply string, took time.Duration, err error) {
	ctx, span := h.tracer.Start(ctx, "backend call")
	defer span.End()
	defer func() {
		if err != nil && !callerGone(err) { // a caller who hung up is no failure
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}()

	ctx, cancel := context.WithTimeout(ctx, h.cfg.BackendTimeout)
	defer cancel()
	u := h.cfg.BackendURL.JoinPath("/hello")
	u.RawQuery = p.Query()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", errBackendFailed, err)
	}

	span.AddEvent("making backend call")
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		return "", 0, h.backendError(ctx, err)
	}
	defer resp.Body.Close()
	span.AddEvent("backend responded", trace.WithAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode)))
	reply, err = h.readReply(ctx, resp)
	return reply, time.Since(start), err
}

package frontend

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/tracing"
)

// New returns the frontend's HTTP handler, GET / (hello, below), traced
// with tp and propagating the trace with propagator.
func New(cfg Config, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) http.Handler {
	h := &handler{
		cfg:    cfg,
		tracer: tp.Tracer("example.com/tracingdemo/frontend"),
		client: newBackendClient(tp, propagator),
		logger: logger,
	}
	r := mux.NewRouter()
	// Every request gets a SERVER span from otelhttp (tracing/server.go):
	// for GET /, that span is the root of the trace. The frontend is the
	// public edge: a caller's trace is linked, not joined, unless
	// TRUST_CALLER_TRACE says the caller is one of ours.
	public := !cfg.TrustCallerTrace
	r.Use(tracing.Middleware(tp, propagator, public))
	r.HandleFunc("/", h.hello).Methods(http.MethodGet)
	// Beside the lesson: health checks, request logs, traced 404s.
	return server.Harden(r, tp, propagator, logger, public)
}

// newBackendClient returns the HTTP client for the backend. Its transport
// (tracing/client.go) opens a CLIENT span for each call and writes the
// trace context and the baggage into the request's headers: that is how
// the backend's spans join this trace.
func newBackendClient(tp trace.TracerProvider, propagator propagation.TextMapPropagator) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Every request calls the backend: keep enough idle connections to
	// reuse them under load instead of opening one per request.
	transport.MaxIdleConns = 256
	transport.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: tracing.Transport(transport, tp, propagator)}
}

type handler struct {
	cfg    Config
	tracer trace.Tracer
	client *http.Client
	logger *slog.Logger
}

// hello serves GET /?user=alice&delay=200ms&fail=true, the request this
// demo traces:
//  1. otelhttp has already opened the root span, "GET /";
//  2. the query is read; a bad value gets 400, and no backend call;
//  3. the user goes into the baggage, which travels beside the trace;
//  4. callBackend calls the backend inside the span "backend call";
//  5. the answer relays the backend's reply, with a link to the trace.
func (h *handler) hello(w http.ResponseWriter, r *http.Request) {
	p, err := backend.ParamsFromQuery(r.URL.RawQuery)
	if err != nil {
		h.respondError(w, r, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	// r.Context() holds the root span: every span started from ctx, or
	// from a context made from it, is a child in the same trace.
	ctx, err := withUserBaggage(r.Context(), p.User)
	if err != nil {
		h.respondError(w, r, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}

	reply, took, err := h.callBackend(ctx, p)
	if err != nil {
		h.respondError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusOK, answer{Message: reply, took: took})
}

// withUserBaggage sets the baggage the backend call will carry: the user
// alone. It replaces whatever baggage the caller sent, so the frontend only
// ever passes on what it has checked.
func withUserBaggage(ctx context.Context, user string) (context.Context, error) {
	if user == "" {
		return baggage.ContextWithoutBaggage(ctx), nil
	}
	member, err := baggage.NewMemberRaw("user", user)
	if err != nil {
		return ctx, err
	}
	b, err := baggage.New(member)
	return baggage.ContextWithBaggage(ctx, b), err
}

// callBackend asks the backend for its reply, inside the span "backend call".
// The events mark the moments the call leaves and its answer comes back; the
// CLIENT span of the HTTP request itself (opened by the transport) is this
// span's child, because the request carries this span's ctx.
func (h *handler) callBackend(ctx context.Context, p backend.Params) (reply string, took time.Duration, err error) {
	ctx, span := h.tracer.Start(ctx, "backend call")
	defer span.End()
	defer func() {
		if err != nil {
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
		return "", 0, h.backendError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	took = time.Since(start)
	span.AddEvent("backend responded", trace.WithAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode)))
	if err != nil {
		return "", took, h.backendError(err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", took, fmt.Errorf("%w: %s: %s", errBackendFailed, resp.Status, firstLine(body))
	}
	return firstLine(body), took, nil
}

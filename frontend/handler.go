package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/tracing"
)

// BackendPath is the backend route the frontend calls.
const BackendPath = "/hello"

// New returns the frontend's HTTP handler, traced with tp and propagating
// context with propagator: GET / (below) and GET /healthz.
func New(cfg Config, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) http.Handler {
	h := &handler{
		cfg:    cfg,
		tracer: tp.Tracer("example.com/tracingdemo/frontend"),
		client: newBackendClient(tp, propagator),
		logger: logger,
	}
	// Every route of this router gets a SERVER span from otelhttp (see
	// tracing/http.go): for GET /, that span is the root of the trace.
	r := tracing.NewRouter(tp, propagator, logger)
	r.HandleFunc("/", h.hello).Methods(http.MethodGet)
	return r
}

// newBackendClient returns the HTTP client for the backend. Its otelhttp
// transport opens a CLIENT span for each call and injects the trace context
// (the traceparent header) and the baggage into the request: that is how the
// backend's spans join this trace.
func newBackendClient(tp trace.TracerProvider, propagator propagation.TextMapPropagator) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Every request calls the backend: keep enough idle connections to
	// reuse them under load instead of opening one per request.
	transport.MaxIdleConns = 256
	transport.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: otelhttp.NewTransport(transport,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagator),
	)}
}

type handler struct {
	cfg    Config
	tracer trace.Tracer
	client *http.Client
	logger *slog.Logger
}

// hello serves GET /, the request this demo traces:
//  1. otelhttp has already opened the root span, "GET /";
//  2. the knobs are read from the query; a bad one gets 400, and no backend call;
//  3. the user goes into the baggage, which travels beside the trace;
//  4. callBackend calls the backend inside the span "backend call";
//  5. the answer relays the backend's reply, with a link to the trace.
func (h *handler) hello(w http.ResponseWriter, r *http.Request) {
	knobs, err := parseKnobs(r.URL.Query())
	if err != nil {
		h.respondError(w, r, err)
		return
	}
	ctx := withUserBaggage(r.Context(), knobs.user)

	reply, took, err := h.callBackend(ctx, knobs)
	if err != nil {
		h.respondError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusOK, answer{Message: reply, took: took})
}

// knobs are what a user can ask of the backend, in the query string.
type knobs struct {
	delay time.Duration // delay=200ms: the backend waits that long
	fail  bool          // fail=true: the backend fails
	user  string        // user=alice: sent as baggage
}

const maxDelay = 10 * time.Second

var userPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// The errors of this handler, each answered with its own status by statusOf.
var (
	errBadRequest     = errors.New("bad request")       // 400: the caller's mistake
	errBackendFailed  = errors.New("backend failed")    // 502: the backend erred or is unreachable
	errBackendTimeout = errors.New("backend timed out") // 504: the backend did not answer in time
)

func parseKnobs(q url.Values) (knobs, error) {
	var k knobs
	if v := q.Get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxDelay {
			return k, fmt.Errorf("%w: delay=%q: want a Go duration from 0s to %s, e.g. delay=200ms", errBadRequest, v, maxDelay)
		}
		k.delay = d
	}
	if v := q.Get("fail"); v != "" {
		fail, err := strconv.ParseBool(v)
		if err != nil {
			return k, fmt.Errorf("%w: fail=%q: want true or false", errBadRequest, v)
		}
		k.fail = fail
	}
	if v, ok := q["user"]; ok {
		if !userPattern.MatchString(v[0]) {
			return k, fmt.Errorf("%w: user=%q: want 1 to 64 letters, digits, '_' or '-'", errBadRequest, v[0])
		}
		k.user = v[0]
	}
	return k, nil
}

// withUserBaggage sets the baggage the backend call will carry: the user
// alone. It replaces whatever baggage the caller sent, so the frontend only
// ever passes on what it has checked.
func withUserBaggage(ctx context.Context, user string) context.Context {
	if user == "" {
		return baggage.ContextWithoutBaggage(ctx)
	}
	member, err := baggage.NewMemberRaw("user", user)
	if err != nil { // cannot happen: parseKnobs checked the value
		return baggage.ContextWithoutBaggage(ctx)
	}
	b, _ := baggage.New(member)
	return baggage.ContextWithBaggage(ctx, b)
}

// callBackend asks the backend for its reply, inside the span "backend call".
// The events mark the moments the call leaves and its answer comes back; the
// CLIENT span of the HTTP request itself (opened by the otelhttp transport)
// is this span's child.
func (h *handler) callBackend(ctx context.Context, k knobs) (reply string, took time.Duration, err error) {
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.backendURL(k), nil)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", errBackendFailed, err)
	}

	span.AddEvent("making backend call")
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		return "", 0, backendError(err, h.cfg.BackendTimeout)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	took = time.Since(start)
	span.AddEvent("backend responded", trace.WithAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode)))
	if err != nil {
		return "", took, backendError(err, h.cfg.BackendTimeout)
	}
	if resp.StatusCode != http.StatusOK {
		return "", took, fmt.Errorf("%w: %s: %s", errBackendFailed, resp.Status, firstLine(body))
	}
	return firstLine(body), took, nil
}

// backendURL is BACKEND_URL/hello with the knobs the backend acts on.
func (h *handler) backendURL(k knobs) string {
	u := h.cfg.BackendURL.JoinPath(BackendPath)
	q := url.Values{}
	if k.delay > 0 {
		q.Set("delay", k.delay.String())
	}
	if k.fail {
		q.Set("fail", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// backendError tells a backend that did not answer in time from one that
// could not be reached.
func backendError(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer within %s (BACKEND_TIMEOUT)", errBackendTimeout, timeout)
	}
	return fmt.Errorf("%w: %v", errBackendFailed, err)
}

// answer is what the frontend tells the user, as text or as JSON.
type answer struct {
	Message       string  `json:"message,omitempty"`
	Error         string  `json:"error,omitempty"`
	BackendMillis float64 `json:"backend_ms,omitempty"`
	TraceID       string  `json:"trace_id,omitempty"`
	TraceURL      string  `json:"trace_url,omitempty"`

	took time.Duration // how long the backend call took
}

// statusOf maps this handler's errors to HTTP status codes, in one place.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errBackendTimeout):
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadGateway
	}
}

// respondError answers err with its status, and logs it with the trace ID.
func (h *handler) respondError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	level := slog.LevelError
	if status < 500 {
		level = slog.LevelWarn
	}
	h.logger.Log(r.Context(), level, "request failed", "status", status, "err", err)
	h.respond(w, r, status, answer{Error: err.Error()})
}

// respond writes a as JSON when the request accepts it, else as text lines
// for curl. Both carry the link to the trace in the Jaeger UI.
func (h *handler) respond(w http.ResponseWriter, r *http.Request, status int, a answer) {
	if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
		a.TraceID = sc.TraceID().String()
		a.TraceURL = strings.TrimSuffix(h.cfg.JaegerUIURL, "/") + "/trace/" + a.TraceID
	}
	a.BackendMillis = float64(a.took.Microseconds()) / 1000
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(a)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if a.Error != "" {
		fmt.Fprintln(w, a.Error)
	} else {
		fmt.Fprintf(w, "%s (backend call took %s)\n", a.Message, a.took.Round(10*time.Microsecond))
	}
	if a.TraceURL != "" {
		fmt.Fprintln(w, "trace:", a.TraceURL)
	}
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

package frontend_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/internal/testkit"
	"example.com/tracingdemo/tracing"
)

// The README's "Break it" section tells the reader what the trace becomes
// when the context is not passed along. Each test here builds that broken
// frontend, sends one request, and checks the traces the README describes.

// brokenTraces sends GET / through a frontend whose client to the backend
// is made by client, checks that wantSpans spans ended, and returns the span names of each trace, root first,
// keyed by the name of the trace's root.
func brokenTraces(t *testing.T, wantSpans int, client func(base http.RoundTripper, p *pair) *http.Client) map[string][]string {
	t.Helper()
	p := &pair{spans: tracetest.NewSpanRecorder()}
	propagator := autoprop.NewTextMapPropagator()
	logger := testkit.DiscardLogger()
	p.backend = httptest.NewServer(backend.New(p.tracerProvider(t, "backend"), propagator, logger))
	backendURL, _ := url.Parse(p.backend.URL)
	cfg := frontend.Config{BackendURL: backendURL, BackendTimeout: 5 * time.Second}
	p.frontend = httptest.NewServer(frontend.NewWithClient(cfg, p.tracerProvider(t, "frontend"), propagator,
		client(http.DefaultTransport.(*http.Transport).Clone(), p)))

	resp, body := p.get(t, "/?user=alice")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	spans := p.waitSpans(t, wantSpans)

	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID().String()] = s
	}
	traces := map[string][]string{}
	for _, root := range spans {
		if root.Parent().IsValid() {
			continue
		}
		// The root first, then its descendants in the order they started.
		names := []string{root.Name()}
		for _, s := range spans {
			if s != root && s.SpanContext().TraceID() == root.SpanContext().TraceID() {
				names = append(names, s.Name())
			}
		}
		traces[root.Name()] = names
	}
	for _, s := range spans {
		if s.Parent().IsValid() && byID[s.Parent().SpanID().String()] == nil {
			t.Errorf("span %q has a parent that is in no trace", s.Name())
		}
	}
	return traces
}

// TestBreakItNoTransport: without the otelhttp transport no traceparent
// goes out, and the backend starts a trace of its own.
func TestBreakItNoTransport(t *testing.T) {
	// No CLIENT span either: 4 spans.
	traces := brokenTraces(t, 4, func(base http.RoundTripper, _ *pair) *http.Client {
		return &http.Client{Transport: base} // instead of tracing.Transport(base, …)
	})
	assert.Len(t, traces, 2, "two traces instead of one: %v", traces)
	assert.ElementsMatch(t, []string{"GET /", "backend call"}, traces["GET /"])
	assert.ElementsMatch(t, []string{"GET /hello", "handle backend call"}, traces["GET /hello"],
		"the backend's GET /hello is a root with no parent")
}

// TestBreakItBackgroundContext: a request made with context.Background()
// instead of ctx carries no current span, so its CLIENT span is a root.
func TestBreakItBackgroundContext(t *testing.T) {
	traces := brokenTraces(t, 5, func(base http.RoundTripper, p *pair) *http.Client {
		tp := p.tracerProvider(t, "frontend")
		return &http.Client{Transport: backgroundContext{tracing.Transport(base, tp, autoprop.NewTextMapPropagator())}}
	})
	assert.Len(t, traces, 2, "two traces instead of one: %v", traces)
	assert.ElementsMatch(t, []string{"GET /", "backend call"}, traces["GET /"])
	assert.ElementsMatch(t, []string{"HTTP GET", "GET /hello", "handle backend call"}, traces["HTTP GET"],
		"HTTP GET is a root with no parent, with the backend's spans below it")
}

// backgroundContext sends each request with context.Background(), as
// http.NewRequestWithContext(context.Background(), …) would have made it.
type backgroundContext struct{ next http.RoundTripper }

func (b backgroundContext) RoundTrip(r *http.Request) (*http.Response, error) {
	return b.next.RoundTrip(r.WithContext(context.Background()))
}

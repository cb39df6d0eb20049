package frontend_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/testkit"
	"example.com/tracingdemo/tracing"
)

// pair is the real frontend handler wired to the real backend handler, each
// behind its own httptest server and traced by its own TracerProvider (so
// each has its own service.name), both recording into one SpanRecorder.
type pair struct {
	spans    *tracetest.SpanRecorder
	handler  http.Handler // the frontend's
	frontend *httptest.Server
	backend  *httptest.Server
	jobs     *backend.Jobs // the backend's
	logs     *testkit.SyncBuffer

	sampler        sdktrace.Sampler // both services'; nil: the SDK's default
	mu             sync.Mutex
	backendHeaders []http.Header // the headers of each call the backend got
}

// backendCalls returns the headers of the calls the backend got so far.
func (p *pair) backendCalls() []http.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.backendHeaders)
}

func newPair(t testing.TB, configure ...func(*frontend.Config)) *pair {
	t.Helper()
	return newSampledPair(t, nil, configure...)
}

// newSampledPair is newPair with both services sampling with sampler.
func newSampledPair(t testing.TB, sampler sdktrace.Sampler, configure ...func(*frontend.Config)) *pair {
	t.Helper()
	p := &pair{spans: tracetest.NewSpanRecorder(), logs: &testkit.SyncBuffer{}, sampler: sampler}
	logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(p.logs, nil)))
	propagator := autoprop.NewTextMapPropagator() // W3C tracecontext and baggage

	backendTP := p.tracerProvider(t, "backend")
	p.jobs = backend.StartJobs(backendTP, propagator, logger, backend.LinkedTrace)
	backendHandler := server.Harden(backend.New(backendTP, propagator, logger, p.jobs), false) // as cmd/tracingdemo builds it
	p.backend = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hello" {
			p.mu.Lock()
			p.backendHeaders = append(p.backendHeaders, r.Header.Clone())
			p.mu.Unlock()
		}
		backendHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(p.backend.Close)
	t.Cleanup(func() {
		// A fuzzed async=true can queue jobs of up to 10 s: cut them short.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p.jobs.Finish(ctx)
	})

	backendURL, _ := url.Parse(p.backend.URL)
	cfg := frontend.Config{
		BackendURL:     backendURL,
		BackendTimeout: 5 * time.Second,
		JaegerUIURL:    "http://jaeger.example:16686",
	}
	for _, c := range configure {
		c(&cfg)
	}
	p.handler = server.Harden(frontend.New(cfg, p.tracerProvider(t, "frontend"), propagator, logger), !cfg.TrustCallerTrace)
	p.frontend = httptest.NewServer(p.handler)
	t.Cleanup(p.frontend.Close)
	return p
}

func (p *pair) tracerProvider(t testing.TB, service string) trace.TracerProvider {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithSpanProcessor(p.spans),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
	}
	if p.sampler != nil {
		opts = append(opts, sdktrace.WithSampler(p.sampler))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// get requests path from the frontend, with headers in name, value pairs.
func (p *pair) get(t *testing.T, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	return testkit.Get(t, p.frontend.URL+path, headers...)
}

// waitSpans waits until every request sent so far is done, then checks
// that exactly n spans have ended. A server span ends just after its answer
// is sent; closing the servers waits for every handler to return, and so
// for every span to end.
func (p *pair) waitSpans(t *testing.T, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	p.frontend.Close() // the frontend first: its handlers call the backend
	p.backend.Close()
	spans := p.spans.Ended()
	require.Len(t, spans, n, "ended spans: %s", names(spans))
	return spans
}

// spanNamed returns the one span called name.
func spanNamed(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q among %s", name, names(spans))
	return found[0]
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

func serviceOf(s sdktrace.ReadOnlySpan) string {
	v, _ := s.Resource().Set().Value(semconv.ServiceNameKey)
	return v.AsString()
}

// TestTraceTree is the trace the README promises for one request: five
// spans, one trace, across two services.
func TestTraceTree(t *testing.T) {
	p := newPair(t)
	resp, body := p.get(t, "/?user=alice&delay=50ms")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	spans := p.waitSpans(t, 5)
	root := spanNamed(t, spans, "GET /")
	call := spanNamed(t, spans, "backend call")
	client := spanNamed(t, spans, "HTTP GET")
	server := spanNamed(t, spans, "GET /hello")
	handle := spanNamed(t, spans, "handle backend call")

	tests := []struct {
		name        string
		span        sdktrace.ReadOnlySpan
		wantService string
		wantKind    trace.SpanKind
		wantParent  sdktrace.ReadOnlySpan // nil: the root
	}{
		{"GET /", root, "frontend", trace.SpanKindServer, nil},
		{"backend call", call, "frontend", trace.SpanKindInternal, root},
		{"HTTP GET", client, "frontend", trace.SpanKindClient, call},
		{"GET /hello", server, "backend", trace.SpanKindServer, client},
		{"handle backend call", handle, "backend", trace.SpanKindInternal, server},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, root.SpanContext().TraceID(), tt.span.SpanContext().TraceID(), "one trace ID")
			assert.Equal(t, tt.wantService, serviceOf(tt.span))
			assert.Equal(t, tt.wantKind, tt.span.SpanKind())
			if tt.wantParent == nil {
				assert.False(t, tt.span.Parent().IsValid(), "the root has no parent")
			} else {
				assert.Equal(t, tt.wantParent.SpanContext().SpanID(), tt.span.Parent().SpanID())
			}
		})
	}
	// The backend's server span came from the other side of an HTTP call:
	// its parent context was extracted from the traceparent header.
	assert.True(t, server.Parent().IsRemote())

	assert.Equal(t, "GET", testkit.Attr(root, semconv.HTTPRequestMethodKey).AsString())
	assert.Equal(t, "/", testkit.Attr(root, semconv.HTTPRouteKey).AsString())
	assert.Equal(t, int64(200), testkit.Attr(root, semconv.HTTPResponseStatusCodeKey).AsInt64())
	assert.Equal(t, "/hello", testkit.Attr(server, semconv.HTTPRouteKey).AsString())

	assert.Equal(t, []string{"making backend call", "backend responded"}, testkit.EventNames(call))
	assert.Contains(t, call.Events()[1].Attributes, semconv.HTTPResponseStatusCode(200))
	assert.Equal(t, codes.Unset, call.Status().Code)

	assert.Equal(t, []string{"handling backend call", "waiting"}, testkit.EventNames(handle))
	assert.Equal(t, "alice", testkit.Attr(handle, "user").AsString(), "the user travelled as baggage")
	assert.Equal(t, "50ms", testkit.Attr(handle, "delay").AsString())
	assert.False(t, testkit.Attr(handle, "fail").AsBool())
	assert.GreaterOrEqual(t, handle.EndTime().Sub(handle.StartTime()), 50*time.Millisecond)

	// The response names the trace, in the header and in the body.
	traceID := root.SpanContext().TraceID().String()
	assert.Equal(t, "00-"+traceID+"-"+root.SpanContext().SpanID().String()+"-01", resp.Header.Get("traceresponse"))
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, body, "hello, alice, from the backend")
	assert.Contains(t, body, "trace: http://jaeger.example:16686/trace/"+traceID+"\n")

	// Each service logged the request with the trace ID.
	var logged []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(p.logs.String()), "\n") {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), line)
		if entry["msg"] == "request" {
			logged = append(logged, entry)
		}
	}
	require.Len(t, logged, 2, p.logs.String())
	for _, entry := range logged {
		assert.Equal(t, traceID, entry["trace_id"])
		assert.Equal(t, float64(200), entry["status"])
	}
}

func TestJSONAnswer(t *testing.T) {
	p := newPair(t)
	resp, body := p.get(t, "/?user=bob", "Accept", "application/json")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "no browser guesses another type")

	var got struct {
		Message   string  `json:"message"`
		BackendMS float64 `json:"backend_ms"`
		TraceID   string  `json:"trace_id"`
		TraceURL  string  `json:"trace_url"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	root := spanNamed(t, p.waitSpans(t, 5), "GET /")
	assert.Equal(t, "hello, bob, from the backend", got.Message)
	assert.Greater(t, got.BackendMS, 0.0)
	assert.Equal(t, root.SpanContext().TraceID().String(), got.TraceID)
	assert.Equal(t, "http://jaeger.example:16686/trace/"+got.TraceID, got.TraceURL)
}

// TestBackendFails follows fail=true: the backend answers 500, the frontend
// 502, and both their spans say so.
func TestBackendFails(t *testing.T) {
	p := newPair(t)
	resp, body := p.get(t, "/?fail=true")
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "backend failed: 500 Internal Server Error: simulated failure (fail=true)", firstLine(body))
	assert.NotEmpty(t, resp.Header.Get("traceresponse"))

	spans := p.waitSpans(t, 5)
	handle := spanNamed(t, spans, "handle backend call")
	assert.Equal(t, codes.Error, handle.Status().Code)
	assert.Equal(t, "simulated failure (fail=true)", handle.Status().Description)
	assert.Equal(t, []string{"handling backend call", "exception"}, testkit.EventNames(handle))
	assert.True(t, testkit.Attr(handle, "fail").AsBool())

	call := spanNamed(t, spans, "backend call")
	assert.Equal(t, codes.Error, call.Status().Code)
	assert.Contains(t, call.Events()[1].Attributes, semconv.HTTPResponseStatusCode(500))
	assert.Equal(t, codes.Error, spanNamed(t, spans, "GET /").Status().Code, "a 502 is a server error")
	assert.Contains(t, p.logs.String(), `"msg":"request failed","status":502`)
}

// TestBadKnobs: a bad value gets 400 naming the parameter and what it
// allows, and the backend is never called.
func TestBadKnobs(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		wantBody string
	}{
		{"delay not a duration", "delay=abc", `bad request: delay="abc": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{"delay too long", "delay=1h", `bad request: delay="1h": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{"delay negative", "delay=-1s", `bad request: delay="-1s": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{"fail not a boolean", "fail=maybe", `bad request: fail="maybe": want true or false`},
		{"user empty", "user=", `bad request: user="": want 1 to 64 letters, digits, '_' or '-'`},
		{"user with a space", "user=a+b", `bad request: user="a b": want 1 to 64 letters, digits, '_' or '-'`},
		{"users too many", "user=a,b,c,d,e,f,g,h,i", `bad request: user="a,b,c,d,e,f,g,h,i": want at most 8 names, separated by commas`},
		{"users with an empty name", "user=alice,,bob", `bad request: user="alice,,bob": name 2: want 1 to 64 letters, digits, '_' or '-', the names separated by commas`},
		{"fail as a digit", "fail=1", `bad request: fail="1": want true or false`},
		{"user too long", "user=" + strings.Repeat("x", 65), `bad request: user="` + strings.Repeat("x", 64) + `"… (65 bytes): want 1 to 64 letters, digits, '_' or '-'`},
		// A long value is echoed cut short, not whole.
		{"huge value", "delay=" + strings.Repeat("9", 30000), `bad request: delay="` + strings.Repeat("9", 64) + `"… (30000 bytes): want a Go duration from 0s to 10s, e.g. delay=200ms`},
		// A query that cannot be read whole is refused, not read in part.
		{"bad escape", "delay=%zz", `bad request: query: invalid URL escape "%zz"`},
		{"too many parameters", "fail=true" + strings.Repeat("&a=1", 10000), `bad request: query: number of URL query parameters exceeded limit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t)
			resp, body := p.get(t, "/?"+tt.query)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, tt.wantBody, firstLine(body))
			assert.NotEmpty(t, resp.Header.Get("traceresponse"), "errors name their trace too")

			spans := p.waitSpans(t, 1)
			assert.Equal(t, "GET /", spans[0].Name())
			assert.Empty(t, p.backendCalls(), "the backend is not called")
		})
	}
}

// TestBaggage: the user travels to the backend as W3C baggage, and nothing
// else does, whatever baggage the caller sent.
func TestBaggage(t *testing.T) {
	p := newPair(t)
	resp, _ := p.get(t, "/?user=alice", "baggage", "user=mallory,secret=s3cr3t")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = p.get(t, "/", "baggage", "secret=s3cr3t")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var baggage []string
	for _, h := range p.backendCalls() {
		baggage = append(baggage, h.Get("baggage"))
	}
	assert.Equal(t, []string{"user=alice", ""}, baggage)

	var users []string
	for _, s := range p.waitSpans(t, 10) {
		if s.Name() == "handle backend call" {
			users = append(users, testkit.Attr(s, "user").Emit())
		}
	}
	assert.ElementsMatch(t, []string{"alice", ""}, users)
}

// trusted makes the frontend join its callers' traces (TRUST_CALLER_TRACE).
func trusted(cfg *frontend.Config) { cfg.TrustCallerTrace = true }

// TestCallersTrace: the frontend is the public edge, so by default a caller
// that is itself traced gets a trace of the frontend's, a root with a link
// to the caller's span; with TRUST_CALLER_TRACE, its trace is continued.
func TestCallersTrace(t *testing.T) {
	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	t.Run("linked, at the public edge", func(t *testing.T) {
		p := newPair(t)
		resp, _ := p.get(t, "/", "traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		root := spanNamed(t, p.waitSpans(t, 5), "GET /")
		assert.False(t, root.Parent().IsValid(), "a root")
		assert.NotEqual(t, callerTrace, root.SpanContext().TraceID().String())
		require.Len(t, root.Links(), 1)
		assert.Equal(t, callerTrace, root.Links()[0].SpanContext.TraceID().String())
		assert.Equal(t, callerSpan, root.Links()[0].SpanContext.SpanID().String())
		assert.NotContains(t, resp.Header.Get("traceresponse"), callerTrace)
	})
	t.Run("nothing more of the caller's say at the public edge", func(t *testing.T) {
		p := newPair(t)
		resp, _ := p.get(t, "/", "traceparent", "00-"+callerTrace+"-"+callerSpan+"-01",
			"tracestate", "vendor="+strings.Repeat("x", 200), "X-Forwarded-For", "6.6.6.6", "Forwarded", "for=6.6.6.6",
			"Host", "forged.example:666")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		root := spanNamed(t, p.waitSpans(t, 5), "GET /")
		require.Len(t, root.Links(), 1)
		assert.Empty(t, root.Links()[0].SpanContext.TraceState().String(), "the link holds the caller's IDs, not its tracestate")
		assert.Equal(t, "127.0.0.1", testkit.Attr(root, "client.address").Emit(), "the peer's own address, not X-Forwarded-For")
		assert.Equal(t, "127.0.0.1", testkit.Attr(root, "server.address").Emit(), "the address reached, not the caller's Host")
		assert.Equal(t, p.frontend.Listener.Addr().(*net.TCPAddr).Port, int(testkit.Attr(root, "server.port").AsInt64()))
	})
	t.Run("joined, when trusted", func(t *testing.T) {
		p := newPair(t, trusted)
		resp, _ := p.get(t, "/", "traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		root := spanNamed(t, p.waitSpans(t, 5), "GET /")
		assert.Equal(t, callerTrace, root.SpanContext().TraceID().String())
		assert.Equal(t, callerSpan, root.Parent().SpanID().String())
		assert.Contains(t, resp.Header.Get("traceresponse"), callerTrace)
	})
}

// TestPublicEdgeDecides: with OTEL_TRACES_SAMPLER=traceidratio at 0.1, a
// caller who picks trace IDs whose low 64 bits are zero, which the ratio
// sampler always keeps, no longer gets every request sampled: the public
// edge decides on a trace ID of its own. Trusted, the caller still can.
func TestPublicEdgeDecides(t *testing.T) {
	sampledOf := func(p *pair, n int) int {
		sampled := 0
		for i := range n {
			tp := fmt.Sprintf("00-%016x0000000000000000-00f067aa0ba902b7-00", i+1)
			resp, body := p.get(t, "/", "traceparent", tp)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			if strings.HasSuffix(resp.Header.Get("traceresponse"), "-01") {
				sampled++
			}
		}
		return sampled
	}
	const n = 200
	public := sampledOf(newSampledPair(t, sdktrace.TraceIDRatioBased(0.1)), n)
	steered := sampledOf(newSampledPair(t, sdktrace.TraceIDRatioBased(0.1), trusted), n)
	t.Logf("traceidratio 0.1, callers' trace IDs with low bits zero: sampled %d of %d at the public edge, %d of %d trusted", public, n, steered, n)
	// Binomial(200, 0.1): mean 20, standard deviation 4.2.
	assert.Less(t, public, 50, "at the public edge, the frontend's own ratio decides")
	assert.Equal(t, n, steered, "trusted, the caller's trace ID decides: every one sampled")
}

// TestReusedTraceparent: a caller that sends the same traceparent again and
// again does not grow one trace: each request is a trace of its own, linked
// to the caller's span.
func TestReusedTraceparent(t *testing.T) {
	p := newPair(t)
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	traces := map[string]bool{}
	for range 20 {
		resp, _ := p.get(t, "/", "traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		traces[strings.Split(resp.Header.Get("traceresponse"), "-")[1]] = true
	}
	assert.Len(t, traces, 20, "20 requests, 20 traces")
	assert.NotContains(t, traces, callerTrace)
	for _, s := range p.waitSpans(t, 20*5) {
		assert.NotEqual(t, callerTrace, s.SpanContext().TraceID().String(), "span %q joined the caller's trace", s.Name())
	}
}

func TestHealthzMakesNoSpan(t *testing.T) {
	p := newPair(t)
	resp, body := p.get(t, "/healthz")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", body)
	resp, err := http.Get(p.backend.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	p.waitSpans(t, 0)
	assert.Empty(t, p.logs.String(), "health checks are not logged")
}

// TestUnknownRoute: a 404 is traced under a fixed name, not the raw path,
// so that random URLs do not each become an operation in Jaeger. Paths that
// try to climb out of the root get the same answer, not a redirect.
func TestUnknownRoute(t *testing.T) {
	for _, path := range []string{
		"/no/such/page",
		"/../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/./",
		"//",
		"/hello/..",
	} {
		t.Run(path, func(t *testing.T) {
			p := newPair(t)
			resp, _ := p.get(t, path)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
			assert.NotEmpty(t, resp.Header.Get("traceresponse"))
			spans := p.waitSpans(t, 1)
			assert.Equal(t, "GET", spans[0].Name(), "no route: the method alone, as the semantic conventions name it")
			assert.Contains(t, p.logs.String(), `"route":"","status":404`)
		})
	}
}

func TestBackendUnreachable(t *testing.T) {
	p := newPair(t, func(c *frontend.Config) { c.BackendURL, _ = url.Parse("http://127.0.0.1:1") })
	resp, body := p.get(t, "/")
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	// The caller is not told the backend's address or the dial error...
	assert.Equal(t, "backend unavailable (the cause is in the trace and the frontend's log)", firstLine(body))
	assert.NotContains(t, body, "127.0.0.1:1")

	// ...the log and the trace are.
	assert.Contains(t, p.logs.String(), `"err":"backend unavailable: Get \"http://127.0.0.1:1/hello\"`)
	spans := p.waitSpans(t, 3) // no backend spans
	call := spanNamed(t, spans, "backend call")
	assert.Equal(t, codes.Error, call.Status().Code)
	assert.Contains(t, call.Status().Description, "http://127.0.0.1:1/hello")
	assert.Equal(t, []string{"making backend call", "exception"}, testkit.EventNames(call))
}

func TestBackendTimeout(t *testing.T) {
	p := newPair(t, func(c *frontend.Config) { c.BackendTimeout = 100 * time.Millisecond })
	resp, body := p.get(t, "/?delay=2s")
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Equal(t, "backend timed out: no answer within 100ms (BACKEND_TIMEOUT)", firstLine(body))

	spans := p.waitSpans(t, 5)
	call := spanNamed(t, spans, "backend call")
	assert.Equal(t, codes.Error, call.Status().Code)
	// The backend stopped waiting as soon as the frontend gave up; the
	// failure is the frontend's call, not the backend's work.
	handle := spanNamed(t, spans, "handle backend call")
	assert.Contains(t, testkit.EventNames(handle), "the caller went away while waiting")
	assert.Less(t, handle.EndTime().Sub(handle.StartTime()), time.Second)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestHeadLikeGet: HEAD / is answered as GET / is, without the body, and
// traced under its own method, as HEAD /healthz is answered like GET.
func TestHeadLikeGet(t *testing.T) {
	p := newPair(t)
	resp, err := http.Head(p.frontend.URL + "/?user=alice")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	spanNamed(t, p.waitSpans(t, 5), "HEAD /")
}

// TestUnsampledStillPropagates: a trace that is not sampled (here, the
// caller's decision, flag 00, which the parent-based sampler follows) is
// still passed on: the backend gets the trace context with the flag 00, and
// neither service records a span of it.
func TestUnsampledStillPropagates(t *testing.T) {
	p := newPair(t, trusted) // the caller's decision is followed only when trusted
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	resp, body := p.get(t, "/?user=alice", "traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-00")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Regexp(t, "^00-"+callerTrace+"-[0-9a-f]{16}-00$", resp.Header.Get("traceresponse"))

	calls := p.backendCalls()
	require.Len(t, calls, 1)
	assert.Regexp(t, "^00-"+callerTrace+"-[0-9a-f]{16}-00$", calls[0].Get("traceparent"),
		"the backend gets the trace, with the flag that says: not sampled")
	assert.Equal(t, "user=alice", calls[0].Get("baggage"), "baggage travels whatever the sampling")
	p.waitSpans(t, 0)
}

// TestBackendBusyRelayed: when the backend's job queue is full, the
// frontend answers 503 with Retry-After, as the backend did, not 502, and
// its answer names no internal figure.
func TestBackendBusyRelayed(t *testing.T) {
	p := newPair(t)
	// 4 workers busy, 100 jobs waiting; more if a 2 s job ended meanwhile.
	var resp *http.Response
	var body string
	for accepted := 0; ; accepted++ {
		if resp, body = p.get(t, "/?async=true&delay=2s"); resp.StatusCode != http.StatusOK {
			require.GreaterOrEqual(t, accepted, 104, body)
			break
		}
		require.Less(t, accepted, 200, "the queue never filled")
	}
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Equal(t, "backend busy: job queue full; try again later", firstLine(body))
	assert.NotContains(t, body, "waiting", "no internal figure")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	p.jobs.Finish(ctx)
}

// TestBackendRedirectNotFollowed: a backend that answers a redirect, to an
// internal page or back to the frontend, gets its answer relayed as a 502
// that names it; the redirect's target gets nothing, neither the request
// nor its trace context and baggage.
func TestBackendRedirectNotFollowed(t *testing.T) {
	var reached atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		fmt.Fprintln(w, "an internal page")
	}))
	defer target.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/internal", http.StatusFound)
	}))
	defer redirecting.Close()
	p := newPair(t, func(c *frontend.Config) { c.BackendURL, _ = url.Parse(redirecting.URL) })
	resp, body := p.get(t, "/?user=alice")
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "backend failed: 302 Found, a redirect: not followed", firstLine(body))
	assert.NotContains(t, body, target.URL, "the redirect's target is not told to the caller")
	assert.Zero(t, reached.Load(), "the redirect's target was called")
}

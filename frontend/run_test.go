package frontend_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/testkit"
	"example.com/tracingdemo/tracing"
)

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// start runs a service's Run until the test stops it, and waits until it
// answers /healthz. It returns the cancel that stops the service (what
// SIGTERM does in the binaries) and the channel Run's error arrives on.
func start(t *testing.T, run func(context.Context) error, addr string) (stop context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx) }()
	t.Cleanup(cancel)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return cancel, errc
		}
		select {
		case err := <-errc:
			t.Fatalf("the service stopped at start: %v", err)
		case <-deadline:
			t.Fatalf("the service did not answer on %s", addr)
		case <-tick.C:
		}
	}
}

// spanStarted is a span processor that closes started when a span called
// name starts.
type spanStarted struct {
	name    string
	started chan struct{}
	once    sync.Once
}

func (s *spanStarted) OnStart(_ context.Context, span sdktrace.ReadWriteSpan) {
	if span.Name() == s.name {
		s.once.Do(func() { close(s.started) })
	}
}

func (*spanStarted) OnEnd(sdktrace.ReadOnlySpan)      {}
func (*spanStarted) Shutdown(context.Context) error   { return nil }
func (*spanStarted) ForceFlush(context.Context) error { return nil }

// TestStopDuringRequest stops both services while a request is in flight:
// the request still completes, both Runs return nil, and all five spans of
// the request reach the exporters in the final flush.
func TestStopDuringRequest(t *testing.T) {
	backendAddr, frontendAddr := freeAddr(t), freeAddr(t)
	testkit.SetOTelEnv(t, nil)
	backendSpans, frontendSpans := testkit.NewMemoryExporter(), testkit.NewMemoryExporter()
	waiting := &spanStarted{name: "handle backend call", started: make(chan struct{})}

	t.Setenv("ADDR", backendAddr)
	stopBackend, backendDone := start(t, func(ctx context.Context) error {
		return server.Run(ctx, io.Discard, backend.Service,
			tracing.WithExporter(backendSpans), tracing.WithSpanProcessor(waiting))
	}, backendAddr)

	t.Setenv("ADDR", frontendAddr)
	t.Setenv("BACKEND_URL", "http://"+backendAddr)
	stopFrontend, frontendDone := start(t, func(ctx context.Context) error {
		return server.Run(ctx, io.Discard, frontend.Service, tracing.WithExporter(frontendSpans))
	}, frontendAddr)

	type result struct {
		status int
		err    error
	}
	answer := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + frontendAddr + "/?delay=500ms")
		if err != nil {
			answer <- result{0, err}
			return
		}
		resp.Body.Close()
		answer <- result{resp.StatusCode, nil}
	}()

	<-waiting.started // the backend is now waiting out the delay
	stopFrontend()
	stopBackend()

	got := <-answer
	require.NoError(t, got.err)
	assert.Equal(t, http.StatusOK, got.status, "a request in flight completes")
	assert.NoError(t, <-frontendDone)
	assert.NoError(t, <-backendDone)

	assert.ElementsMatch(t, []string{"backend call", "HTTP GET", "GET /"}, stubNames(frontendSpans.GetSpans()))
	assert.ElementsMatch(t, []string{"GET /hello", "handle backend call"}, stubNames(backendSpans.GetSpans()))
}

func stubNames(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// TestBadConfig: each bad setting stops Run before it serves anything, with
// an error naming the variable (exit code 2 in the binary).
func TestBadConfig(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()

	tests := []struct {
		name, variable, value string
	}{
		{"address without port", "ADDR", "localhost"},
		{"port in use", "ADDR", busy.Addr().String()},
		{"backend URL without scheme", "BACKEND_URL", "localhost:8081"},
		{"Jaeger UI URL not http", "JAEGER_UI_URL", "ftp://jaeger"},
		{"timeout not a duration", "BACKEND_TIMEOUT", "soon"},
		{"timeout zero", "BACKEND_TIMEOUT", "0s"},
		{"trust not a boolean", "TRUST_CALLER_TRACE", "yes"},
		{"log format", "LOG_FORMAT", "xml"},
		{"an OTEL variable", "OTEL_TRACES_SAMPLER", "sometimes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.SetOTelEnv(t, nil)
			t.Setenv("ADDR", "127.0.0.1:0")
			t.Setenv(tt.variable, tt.value)
			// A value Run took would have it serve until ctx ends: the
			// deadline turns that into a failure that says so.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := server.Run(ctx, io.Discard, frontend.Service)
			var envErr *settings.EnvError
			require.ErrorAs(t, err, &envErr, "%s=%q was taken: Run served until its deadline", tt.variable, tt.value)
			assert.Equal(t, tt.variable, envErr.Name)
			assert.Equal(t, 2, settings.ExitCode(err))
		})
	}
}

// TestNoJaegerNoLink: with the spans sent to no Jaeger (the console
// exporter of `make run`, or none), the answer names its trace without a
// link that would lead nowhere, and the log says why.
func TestNoJaegerNoLink(t *testing.T) {
	backendAddr, frontendAddr := freeAddr(t), freeAddr(t)
	testkit.SetOTelEnv(t, map[string]string{"OTEL_TRACES_EXPORTER": "none"})
	t.Setenv("JAEGER_UI_URL", "")
	t.Setenv("ADDR", backendAddr)
	start(t, func(ctx context.Context) error { return server.Run(ctx, io.Discard, backend.Service) }, backendAddr)
	t.Setenv("ADDR", frontendAddr)
	t.Setenv("BACKEND_URL", "http://"+backendAddr)
	logs := &testkit.SyncBuffer{}
	start(t, func(ctx context.Context) error { return server.Run(ctx, logs, frontend.Service) }, frontendAddr)

	resp, body := testkit.Get(t, "http://"+frontendAddr+"/?user=alice")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	traceID := strings.Split(resp.Header.Get("traceresponse"), "-")[1]
	assert.Contains(t, body, "\ntrace: "+traceID+" (no Jaeger configured: look for this trace ID in the services' output)\n")
	assert.NotContains(t, body, "http://")
	assert.Contains(t, logs.String(), `"msg":"no Jaeger configured: OTEL_TRACES_EXPORTER=none prints`)

	resp, body = testkit.Get(t, "http://"+frontendAddr+"/", "Accept", "application/json")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, `"trace_id":"`)
	assert.NotContains(t, body, "trace_url")
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/testkit"
)

// These tests build tracing in process, as run does (settings.Load, then
// setupTracing), and read slog.Default, which settings.Load replaces:
// loadSettings puts it back after each test.
func loadSettings(t *testing.T, service string, env map[string]string) (*settings.Settings, *testkit.SyncBuffer) {
	t.Helper()
	testkit.SetOTelEnv(t, env)
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	cfg, err := settings.Load(service, nil)
	require.NoError(t, err)
	logs := &testkit.SyncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	slog.SetDefault(cfg.Logger)
	return cfg, logs
}

// TestPublicEdgeSamplesItself: at the public edge, the frontend's own
// sampler decides, whatever the caller's traceparent says. At ratio 0.1,
// 200 requests each with a sampled caller, an unsampled caller and no
// caller are sampled about 20 times each: Binomial(200, 0.1) has mean 20
// and standard deviation 4.2, and 5 to 40 holds it with a chance of
// failing of about 1 in 10,000.
func TestPublicEdgeSamplesItself(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }))
	defer backend.Close()
	cfg, _ := loadSettings(t, "frontend", map[string]string{
		"OTEL_TRACES_EXPORTER": "none", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1",
	})
	cfg.Frontend.BackendURL, _ = cfg.Frontend.BackendURL.Parse(backend.URL)
	tp, propagator, shutdown, err := setupTracing("frontend", cfg)
	require.NoError(t, err)
	defer shutdown(context.Background())
	handler, _ := newHandler("frontend", cfg, tp, propagator)

	for _, caller := range []string{"01", "00", ""} {
		sampled := 0
		for i := range 200 {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if caller != "" {
				r.Header.Set("traceparent", fmt.Sprintf("00-%032x-00f067aa0ba902b7-%s", i+1, caller))
			}
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			if strings.HasSuffix(w.Header().Get("traceresponse"), "-01") {
				sampled++
			}
		}
		assert.True(t, sampled >= 5 && sampled <= 40, "caller flags %q: %d of 200 requests sampled at ratio 0.1, want 5 to 40", caller, sampled)
	}
}

// TestEarlyReturnStopsTracing: run returns early when its port is taken,
// after tracing was set up; tracing is shut down all the same, and the
// remote sampler stops asking Jaeger for its rate.
func TestEarlyReturnStopsTracing(t *testing.T) {
	var polls atomic.Int64
	jaeger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		fmt.Fprint(w, `{"probabilisticSampling":{"samplingRate":1}}`)
	}))
	defer jaeger.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	loadSettings(t, "frontend", map[string]string{
		"OTEL_TRACES_EXPORTER":    "none",
		"OTEL_TRACES_SAMPLER":     "jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG": "endpoint=" + jaeger.URL + ",pollingIntervalMs=100",
	})
	t.Setenv("LOG_FORMAT", "")
	defer slog.SetDefault(slog.Default())

	err = run("frontend", busy.Addr().String())
	assert.ErrorContains(t, err, "bad setting ADDR")
	assert.Equal(t, 2, settings.ExitCode(err))
	after := polls.Load()
	// A fixed wait is the point: five polling intervals in which a sampler
	// still running would ask again.
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, after, polls.Load(), "the remote sampler still polls after run returned")
}

// otlpReceiver is an OTLP/HTTP receiver; spans returns what it got.
func otlpReceiver(t *testing.T) (url string, spans func() []*tracepb.Span) {
	t.Helper()
	var mu sync.Mutex
	var got []*tracepb.Span
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spans, err := exportedSpans(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, spans...)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(receiver.Close)
	return receiver.URL, func() []*tracepb.Span {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// exportedSpans reads the spans of an OTLP/HTTP export request.
func exportedSpans(r *http.Request) ([]*tracepb.Span, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var spans []*tracepb.Span
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			spans = append(spans, ss.Spans...)
		}
	}
	return spans, nil
}

// TestSpansCountedAsWired: the line at the stop accounts for every span,
// against what an OTLP receiver got, with the counts wired into
// tracing.Setup as the services wire them.
func TestSpansCountedAsWired(t *testing.T) {
	url, received := otlpReceiver(t)
	cfg, logs := loadSettings(t, "backend", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url})
	tp, _, shutdown, err := setupTracing("backend", cfg)
	require.NoError(t, err)
	for range 300 {
		_, span := tp.Tracer("test").Start(context.Background(), "work")
		span.End()
	}
	require.NoError(t, shutdown(context.Background()))
	assert.Len(t, received(), 300)
	assert.Contains(t, logs.String(), `"msg":"spans at stop","ended":300,"exported":300,"failed":0,"dropped":0`)
	assert.NotContains(t, logs.String(), "ERROR")
}

// TestRemoteSampler: OTEL_TRACES_SAMPLER=jaeger_remote asks the endpoint
// what share of this service's traces to sample, as Jaeger's
// remote_sampling answers, and keeps asking: a new rate applies without a
// new Setup. A span whose caller decided keeps the caller's decision.
func TestRemoteSampler(t *testing.T) {
	var rate atomic.Value
	rate.Store("1")
	asked := make(chan string, 100)
	jaeger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- r.URL.Query().Get("service"):
		default:
		}
		fmt.Fprintf(w, `{"strategyType":0,"probabilisticSampling":{"samplingRate":%s}}`, rate.Load())
	}))
	defer jaeger.Close()
	cfg, logs := loadSettings(t, "frontend", map[string]string{
		"OTEL_TRACES_EXPORTER":    "none",
		"OTEL_SERVICE_NAME":       "shop",
		"OTEL_TRACES_SAMPLER":     "jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG": "endpoint=" + jaeger.URL + "/sampling,pollingIntervalMs=100,initialSamplingRate=0",
	})
	tp, _, shutdown, err := setupTracing("frontend", cfg)
	require.NoError(t, err)
	defer shutdown(context.Background())
	assert.Equal(t, "shop", <-asked, "the sampler asks for the service's strategy by its name")
	assert.NotContains(t, logs.String(), "unsupported sampler", "the SDK's complaint as the provider is built is no error of ours")

	sampledNow := func() bool {
		_, span := tp.Tracer("test").Start(context.Background(), "work")
		defer span.End()
		return span.SpanContext().IsSampled()
	}
	eventually := func(want bool) {
		t.Helper()
		require.Eventually(t, func() bool { return sampledNow() == want }, 5*time.Second, 10*time.Millisecond,
			"a root span sampled=%v at the rate Jaeger gives", want)
	}
	eventually(true) // the rate Jaeger gave, 1, replaced the initial 0
	rate.Store("0")
	eventually(false)

	// Parent-based: a caller's decision wins over the rate.
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	_, span := tp.Tracer("test").Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "child")
	assert.True(t, span.SpanContext().IsSampled(), "a sampled caller's trace stays sampled at rate 0")
	span.End()
}

// TestTracingSettings: what the services add to tracing.Setup, from the
// settings: OTEL_SDK_DISABLED samples nothing, each attribute's value is
// cut at 1,024 characters unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT or its
// span-only twin says otherwise, and the settings the check lets through
// are ones that setupTracing takes.
func TestTracingSettings(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		wantSpans  int
		wantLength int
	}{
		{"defaults", nil, 1, 1024},
		{"SDK disabled", map[string]string{"OTEL_SDK_DISABLED": "true"}, 0, 0},
		{"attribute length", map[string]string{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "10"}, 1, 10},
		{"span attribute length", map[string]string{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "20"}, 1, 20},
		{"good settings", testkit.GoodSettings, 1, 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, received := otlpReceiver(t)
			env := maps.Clone(tc.env)
			if env == nil {
				env = map[string]string{}
			}
			env["OTEL_EXPORTER_OTLP_ENDPOINT"], env["OTEL_TRACES_EXPORTER"] = url, "otlp"
			cfg, _ := loadSettings(t, "frontend", env)
			cfg.Tracing.Ratio = 1 // GoodSettings' ratio would sample a quarter
			tp, _, shutdown, err := setupTracing("frontend", cfg)
			require.NoError(t, err)
			_, span := tp.Tracer("test").Start(context.Background(), "work")
			span.SetAttributes(attribute.String("long", strings.Repeat("x", 5000)))
			span.End()
			require.NoError(t, shutdown(context.Background()))
			got := received()
			require.Len(t, got, tc.wantSpans)
			if tc.wantSpans > 0 {
				assert.Len(t, got[0].Attributes[0].Value.GetStringValue(), tc.wantLength)
			}
		})
	}
}

// TestHardenedHandler: what each request gets from a service's handler as
// newHandler builds it, here the backend's: /healthz, and a method that
// is none of HTTP's, are answered before any span or log line.
func TestHardenedHandler(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantSpan     bool
	}{
		{"GET", "/hello", 200, true},
		{"GET", "/nowhere", 404, true},
		{"GET", "/hello/..", 404, true}, // not redirected to a clean path (server.NewRouter)
		{"POST", "/hello", 405, true},
		{"FOO", "/hello", 405, false},
		{strings.Repeat("X", 36000), "/nowhere", 405, false},
		{"FOO", "/healthz", 405, false},
		{"GET", "/healthz", 200, false},
		{"HEAD", "/healthz", 200, false}, // what many health checkers send
		{"POST", "/healthz", 405, false},
	}
	for _, tt := range tests {
		t.Run(tt.method[:min(len(tt.method), 8)]+" "+tt.path, func(t *testing.T) {
			cfg, logs := loadSettings(t, "backend", map[string]string{"OTEL_TRACES_EXPORTER": "none"})
			tp, propagator, shutdown, err := setupTracing("backend", cfg)
			require.NoError(t, err)
			handler, finishJobs := newHandler("backend", cfg, tp, propagator)
			defer finishJobs(context.Background())

			w := httptest.NewRecorder()
			handler.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			require.NoError(t, shutdown(context.Background()))
			assert.Equal(t, tt.wantStatus, w.Code)
			assert.NotContains(t, w.Body.String(), "XXXX", "the answer does not echo the method")
			if !tt.wantSpan {
				assert.NotContains(t, logs.String(), `"msg":"request"`)
				assert.Empty(t, w.Header().Get("traceresponse"))
				return
			}
			assert.Contains(t, logs.String(), `"msg":"spans at stop","ended":`)
			assert.Contains(t, logs.String(), fmt.Sprintf(`"msg":"request","method":%q`, tt.method))
			assert.NotEmpty(t, w.Header().Get("traceresponse"))
		})
	}
}

// TestDefaultOTLPEndpoint: with no endpoint set, the OTLP exporter sends to
// the specification's default, localhost:4318 over plain HTTP (4317 for
// gRPC), not to Go's HTTPS one; an endpoint that is set wins. Each case
// exports one span and sees where it arrives. The ports are those a local
// Jaeger holds (make run-jaeger), so the test runs again in a network
// namespace of its own, where they are free.
func TestDefaultOTLPEndpoint(t *testing.T) {
	if os.Getenv("OWN_NETWORK_NAMESPACE") == "" {
		inOwnNetworkNamespace(t, "^TestDefaultOTLPEndpoint$")
		return
	}
	// What arrives, at an address: the first bytes of each connection.
	listen := func(t *testing.T, addr string) (string, <-chan string) {
		ln, err := net.Listen("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		got := make(chan string, 10)
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				line, _ := bufio.NewReader(conn).ReadString('\n')
				got <- strings.TrimSpace(line)
				conn.Close()
			}
		}()
		return "http://" + ln.Addr().String(), got
	}
	for _, tt := range []struct {
		name   string
		listen string            // where the span should arrive
		env    map[string]string // with "URL" standing for that address
		want   string            // the first line there
	}{
		{"no protocol", "127.0.0.1:4318", nil, "POST /v1/traces HTTP/1.1"},
		{"http/protobuf", "127.0.0.1:4318", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "POST /v1/traces HTTP/1.1"},
		{"grpc", "127.0.0.1:4317", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "PRI * HTTP/2.0"},
		{"grpc for traces", "127.0.0.1:4317", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "PRI * HTTP/2.0"},
		{"an endpoint is kept", "127.0.0.1:0", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "URL"}, "POST /v1/traces HTTP/1.1"},
		{"a traces endpoint is enough", "127.0.0.1:0", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "URL/spans"}, "POST /spans HTTP/1.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url, got := listen(t, tt.listen)
			env := map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "500"}
			for k, v := range tt.env {
				env[k] = strings.Replace(v, "URL", url, 1)
			}
			cfg, _ := loadSettings(t, "frontend", env)
			tp, _, shutdown, err := setupTracing("frontend", cfg)
			require.NoError(t, err)
			_, span := tp.Tracer("test").Start(context.Background(), "work")
			span.End()
			shutdown(context.Background()) // the receiver answers nothing: the export fails
			select {
			case line := <-got:
				assert.Equal(t, tt.want, line)
			case <-time.After(5 * time.Second):
				t.Fatalf("no span arrived at %s", tt.listen)
			}
		})
	}
}

// inOwnNetworkNamespace runs the test binary's tests that match run again,
// in a network namespace of their own (a user namespace makes it root
// there), with its loopback up, and fails the test if they fail or cannot
// run there.
func inOwnNetworkNamespace(t *testing.T, run string) {
	t.Helper()
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--net", "sh", "-c", `ip link set lo up && exec "$0" "$@"`,
		os.Args[0], "-test.run="+run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "OWN_NETWORK_NAMESPACE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("in a network namespace of its own (unshare, ip: util-linux and iproute2): %v\n%s", err, out)
	}
	t.Logf("in a network namespace of its own:\n%s", out)
}

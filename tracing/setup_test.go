package tracing_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"example.com/tracingdemo/tracing"
)

// Setup reads the process environment, so these tests use t.Setenv and do
// not run in parallel. The bad values that Setup never sees, because the
// services refuse them first, are tested in internal/settings.

// memoryExporter keeps its spans after Shutdown, so that a test can read
// what the final flush delivered (tracetest.InMemoryExporter clears them).
type memoryExporter struct{ *tracetest.InMemoryExporter }

func newMemoryExporter() memoryExporter { return memoryExporter{tracetest.NewInMemoryExporter()} }

func (memoryExporter) Shutdown(context.Context) error { return nil }

// setup returns what tracing.Setup builds for the service "svc", exporting
// to exporter, or, when it is nil, to the one OTEL_TRACES_EXPORTER names.
// tp.Shutdown is Setup's shutdown.
func setup(t *testing.T, exporter sdktrace.SpanExporter) (*sdktrace.TracerProvider, propagation.TextMapPropagator) {
	t.Helper()
	if exporter == nil {
		var err error
		exporter, err = tracing.NewExporter(context.Background())
		require.NoError(t, err)
	}
	tp, propagator, _, err := tracing.Setup(context.Background(), "svc", exporter)
	require.NoError(t, err)
	return tp, propagator
}

// setOTelEnv clears every OTEL_* variable for the test, then sets env; the
// test's cleanup restores them all.
func setOTelEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "OTEL_") {
			t.Setenv(name, "")
		}
	}
	for name, value := range env {
		t.Setenv(name, value)
	}
}

// TestSetupFailsWithItsExporterShutDown: a resource the SDK refuses is
// Setup's error, and the exporter it was given is shut down.
func TestSetupFailsWithItsExporterShutDown(t *testing.T) {
	setOTelEnv(t, map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team"})
	exporter := &shutdownExporter{}
	_, _, _, err := tracing.Setup(context.Background(), "svc", exporter)
	require.Error(t, err)
	assert.True(t, exporter.shutDown)
}

type shutdownExporter struct{ shutDown bool }

func (*shutdownExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (e *shutdownExporter) Shutdown(context.Context) error                           { e.shutDown = true; return nil }

// oneSpan makes one span through the global TracerProvider, shuts tracing
// down, and returns what reached the exporter.
func oneSpan(t *testing.T) tracetest.SpanStubs {
	t.Helper()
	exporter := newMemoryExporter()
	tp, _ := setup(t, exporter)
	_, span := tp.Tracer("test").Start(context.Background(), "work")
	span.End()
	require.NoError(t, tp.Shutdown(context.Background()))
	return exporter.GetSpans()
}

func TestServiceName(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, "svc"},
		{"OTEL_SERVICE_NAME wins", map[string]string{"OTEL_SERVICE_NAME": "shop-frontend"}, "shop-frontend"},
		{"OTEL_RESOURCE_ATTRIBUTES wins", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"}, "from-attrs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setOTelEnv(t, tt.env)
			spans := oneSpan(t)
			require.Len(t, spans, 1)
			got, _ := spans[0].Resource.Set().Value(semconv.ServiceNameKey)
			assert.Equal(t, tt.want, got.AsString())
		})
	}
}

func TestSampler(t *testing.T) {
	tests := []struct {
		sampler, arg string
		wantSpans    int
	}{
		{"", "", 1}, // parentbased_always_on
		{"always_off", "", 0},
		{"traceidratio", "0", 0},
		{"parentbased_traceidratio", "1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.sampler+tt.arg, func(t *testing.T) {
			setOTelEnv(t, nil)
			t.Setenv("OTEL_TRACES_SAMPLER", tt.sampler)
			t.Setenv("OTEL_TRACES_SAMPLER_ARG", tt.arg)
			assert.Len(t, oneSpan(t), tt.wantSpans)
		})
	}
}

func TestPropagators(t *testing.T) {
	setOTelEnv(t, nil)
	_, propagator := setup(t, tracetest.NewInMemoryExporter())
	assert.ElementsMatch(t, []string{"traceparent", "tracestate", "baggage"}, propagator.Fields())

	t.Setenv("OTEL_PROPAGATORS", "b3")
	_, propagator = setup(t, tracetest.NewInMemoryExporter())
	assert.Equal(t, []string{"b3"}, propagator.Fields())
}

// TestExporterChoice checks that OTEL_TRACES_EXPORTER and the endpoint
// variables choose what goes on the wire. The HTTP exporters post to a
// local server that records what came; the end-to-end test in e2e/ sends
// the same to a real Jaeger.
func TestExporterChoice(t *testing.T) {
	type request struct{ path, contentType string }
	requests := make(chan request, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		requests <- request{r.URL.Path, r.Header.Get("Content-Type")}
	}))
	defer receiver.Close()

	tests := []struct {
		name string
		env  map[string]string
		want request
	}{
		{"otlp over HTTP by default", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.URL,
		}, request{"/v1/traces", "application/x-protobuf"}},
		{"otlp with a traces endpoint", map[string]string{
			"OTEL_TRACES_EXPORTER":               "otlp",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.URL + "/custom",
		}, request{"/custom", "application/x-protobuf"}},
		{"jaeger: Thrift over HTTP", map[string]string{
			"OTEL_TRACES_EXPORTER":          "jaeger",
			"OTEL_EXPORTER_JAEGER_ENDPOINT": receiver.URL + "/api/traces",
		}, request{"/api/traces", "application/x-thrift"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setOTelEnv(t, tt.env)
			tp, _ := setup(t, nil)
			_, span := tp.Tracer("test").Start(context.Background(), "work")
			span.End()
			require.NoError(t, tp.Shutdown(context.Background()))
			select {
			case got := <-requests:
				assert.Equal(t, tt.want, got)
			case <-time.After(5 * time.Second):
				t.Fatal("no export request arrived")
			}
		})
	}
}

// TestExporterGRPC: with OTEL_EXPORTER_OTLP_PROTOCOL=grpc, the exporter
// opens an HTTP/2 connection (gRPC's transport) to the endpoint.
func TestExporterGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	preface := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 24)
		_, _ = io.ReadFull(bufio.NewReader(conn), buf)
		preface <- string(buf)
	}()

	setOTelEnv(t, nil)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+ln.Addr().String())
	tp, _ := setup(t, nil)
	_, span := tp.Tracer("test").Start(context.Background(), "work")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = tp.Shutdown(ctx) // our listener never answers: the flush times out

	select {
	case got := <-preface:
		assert.Equal(t, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", got)
	case <-time.After(5 * time.Second):
		t.Fatal("the gRPC exporter did not connect")
	}
}

// TestConsoleExporter: OTEL_TRACES_EXPORTER=console writes spans to stdout.
// The exporter holds on to the stdout it found at start, so the test runs
// itself again as a child process and reads the child's stdout.
func TestConsoleExporter(t *testing.T) {
	if os.Getenv("CONSOLE_EXPORTER_CHILD") == "1" {
		tp, _ := setup(t, nil)
		_, span := tp.Tracer("test").Start(context.Background(), "console-work")
		span.End()
		require.NoError(t, tp.Shutdown(context.Background()))
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConsoleExporter$")
	cmd.Env = append(os.Environ(), "CONSOLE_EXPORTER_CHILD=1", "OTEL_TRACES_EXPORTER=console")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), `"Name":"console-work"`)
}

// batchSizes records the size of each batch it is given.
type batchSizes struct {
	mu    sync.Mutex
	sizes []int
}

func (b *batchSizes) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes = append(b.sizes, len(spans))
	return nil
}

func (*batchSizes) Shutdown(context.Context) error { return nil }

// TestBatchSize: batches of the SDK's 512 spans, unless
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise (docker-compose.yml and
// the manifests say 128: docs/performance.md has why).
func TestBatchSize(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want []int
	}{
		{env: "", want: []int{512, 88}},
		{env: "128", want: []int{128, 128, 128, 128, 88}},
	} {
		t.Run("OTEL_BSP_MAX_EXPORT_BATCH_SIZE="+tc.env, func(t *testing.T) {
			// A long schedule delay: only a full batch or the stop sends.
			setOTelEnv(t, map[string]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": tc.env, "OTEL_BSP_SCHEDULE_DELAY": "60000"})
			exporter := &batchSizes{}
			tp, _ := setup(t, exporter)
			for range 600 {
				_, span := tp.Tracer("test").Start(context.Background(), "work")
				span.End()
			}
			require.NoError(t, tp.Shutdown(context.Background()))
			assert.Equal(t, tc.want, exporter.sizes)
			assert.Equal(t, tc.env, os.Getenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), "the environment is left as it was")
		})
	}
}

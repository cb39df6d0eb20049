package tracing_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/testkit"
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
func setup(t *testing.T, exporter sdktrace.SpanExporter) (*sdktrace.TracerProvider, propagation.TextMapPropagator) {
	t.Helper()
	if exporter == nil {
		var err error
		exporter, err = tracing.NewExporter(context.Background())
		require.NoError(t, err)
	}
	tp, propagator, err := tracing.Setup(context.Background(), "svc", exporter)
	require.NoError(t, err)
	return tp, propagator
}

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
			testkit.SetOTelEnv(t, tt.env)
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
			testkit.SetOTelEnv(t, nil)
			t.Setenv("OTEL_TRACES_SAMPLER", tt.sampler)
			t.Setenv("OTEL_TRACES_SAMPLER_ARG", tt.arg)
			assert.Len(t, oneSpan(t), tt.wantSpans)
		})
	}
}

// TestLinkedRootSampledWithItsLink: a job's span, a new root with a link to
// the span that sent it, is sampled exactly when that span was, at any
// ratio, rather than decided afresh: a kept job always links to a kept
// request, and a kept request always has its job.
func TestLinkedRootSampledWithItsLink(t *testing.T) {
	// The request as the backend gets it: from a frontend that sampled it,
	// or not (its traceparent's flag).
	request := func(sampled bool) context.Context {
		flags := trace.TraceFlags(0)
		if sampled {
			flags = trace.FlagsSampled
		}
		return trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: flags, Remote: true}))
	}
	for _, tc := range []struct {
		name, sampler, ratio string
		frontendSampled      func(i int) bool
	}{
		{"the frontend at ratio 0, the backend at its default", "", "", func(int) bool { return false }},
		{"the frontend samples half, the backend at its default", "", "", func(i int) bool { return i%2 == 0 }},
		{"no frontend, the backend at ratio 0.5", "parentbased_traceidratio", "0.5", nil},
		{"no frontend, the backend at ratio 0", "parentbased_traceidratio", "0", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testkit.SetOTelEnv(t, map[string]string{"OTEL_TRACES_SAMPLER": tc.sampler, "OTEL_TRACES_SAMPLER_ARG": tc.ratio})
			tp, _ := setup(t, tracetest.NewInMemoryExporter())
			tracer := tp.Tracer("test")
			sampled := 0
			for i := range 200 {
				ctx := context.Background()
				if tc.frontendSampled != nil {
					ctx = request(tc.frontendSampled(i))
				}
				_, send := tracer.Start(ctx, "send jobs")
				_, process := tracer.Start(context.Background(), "process jobs", trace.WithNewRoot(),
					trace.WithLinks(trace.Link{SpanContext: send.SpanContext()}))
				require.Equal(t, send.SpanContext().IsSampled(), process.SpanContext().IsSampled())
				if process.SpanContext().IsSampled() {
					sampled++
				}
				send.End()
				process.End()
			}
			if tc.ratio == "0.5" {
				assert.InDelta(t, 100, sampled, 40, "about half of 200 sampled")
			}
		})
	}
}

func TestSDKDisabled(t *testing.T) {
	testkit.SetOTelEnv(t, nil)
	t.Setenv("OTEL_SDK_DISABLED", "true")
	exporter := newMemoryExporter()
	tp, _ := setup(t, exporter)
	_, span := tp.Tracer("test").Start(context.Background(), "work")
	assert.False(t, span.IsRecording())
	span.End()
	require.NoError(t, tp.Shutdown(context.Background()))
	assert.Empty(t, exporter.GetSpans())
}

func TestPropagators(t *testing.T) {
	testkit.SetOTelEnv(t, nil)
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
			testkit.SetOTelEnv(t, tt.env)
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

	testkit.SetOTelEnv(t, nil)
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

	testkit.SetOTelEnv(t, map[string]string{
		"OTEL_SERVICE_NAME":       "shop",
		"OTEL_TRACES_SAMPLER":     "jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG": "endpoint=" + jaeger.URL + "/sampling,pollingIntervalMs=100,initialSamplingRate=0",
	})
	exporter := newMemoryExporter()
	tp, _ := setup(t, exporter)
	defer tp.Shutdown(context.Background())
	assert.Equal(t, "shop", <-asked, "the sampler asks for the service's strategy by its name")

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
	// Its root spans say so (jaeger/adaptive-sampling.yaml copies the tags
	// to the names Jaeger's adaptive sampling reads).
	require.NoError(t, tp.ForceFlush(context.Background()))
	roots := exporter.GetSpans()
	require.NotEmpty(t, roots)
	tags := map[attribute.Key]string{}
	for _, kv := range roots[len(roots)-1].Attributes {
		tags[kv.Key] = kv.Value.Emit()
	}
	assert.Equal(t, "probabilistic", tags["jaeger.sampler.type"], "the root span's tags: %v", tags)
	assert.Equal(t, "1", tags["jaeger.sampler.param"], "the root span's tags: %v", tags)
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

// TestBatchSize: batches of 128 spans unless OTEL_BSP_MAX_EXPORT_BATCH_SIZE
// says otherwise; the default is set in code, not in the environment.
func TestBatchSize(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want []int
	}{
		{env: "", want: []int{128, 128, 44}},
		{env: "100", want: []int{100, 100, 100}},
	} {
		t.Run("OTEL_BSP_MAX_EXPORT_BATCH_SIZE="+tc.env, func(t *testing.T) {
			// A long schedule delay: only a full batch or the stop sends.
			testkit.SetOTelEnv(t, map[string]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": tc.env, "OTEL_BSP_SCHEDULE_DELAY": "60000"})
			exporter := &batchSizes{}
			tp, _ := setup(t, exporter)
			for range 300 {
				_, span := tp.Tracer("test").Start(context.Background(), "work")
				span.End()
			}
			require.NoError(t, tp.Shutdown(context.Background()))
			assert.Equal(t, tc.want, exporter.sizes)
			assert.Equal(t, tc.env, os.Getenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), "the environment is left as it was")
		})
	}
}

// TestAttributeLength: an attribute's value is cut to 1,024 characters
// unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT or its span-only twin says
// otherwise.
func TestAttributeLength(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want int
	}{
		{nil, 1024},
		{map[string]string{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "10"}, 10},
		{map[string]string{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "20"}, 20},
	} {
		t.Run(fmt.Sprint(tc.env), func(t *testing.T) {
			testkit.SetOTelEnv(t, tc.env)
			exporter := newMemoryExporter()
			tp, _ := setup(t, exporter)
			_, span := tp.Tracer("test").Start(context.Background(), "work")
			span.SetAttributes(attribute.String("long", strings.Repeat("x", 5000)))
			span.End()
			require.NoError(t, tp.Shutdown(context.Background()))
			spans := exporter.GetSpans()
			require.Len(t, spans, 1)
			require.Len(t, spans[0].Attributes, 1)
			assert.Equal(t, tc.want, len(spans[0].Attributes[0].Value.AsString()), "the length of the attribute's value")
			if tc.env == nil {
				assert.Empty(t, os.Getenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"), "the environment is left as it was")
			}
		})
	}
}

// TestDefaultOTLPEndpoint: with no endpoint set, the OTLP exporter sends to
// the specification's default, localhost:4318 over plain HTTP (4317 for
// gRPC), not to Go's HTTPS one; an endpoint that is set wins. Each case
// exports one span and sees where it arrives.
func TestDefaultOTLPEndpoint(t *testing.T) {
	// What arrives, at an address: the first bytes of each connection.
	listen := func(t *testing.T, addr string) (string, <-chan string) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("SKIPPED: %s is in use here, so the default endpoint cannot be checked: %v", addr, err)
		}
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
			testkit.SetOTelEnv(t, env)
			tp, _ := setup(t, nil)
			_, span := tp.Tracer("test").Start(context.Background(), "work")
			span.End()
			tp.Shutdown(context.Background()) // the receiver answers nothing: the export fails
			select {
			case line := <-got:
				assert.Equal(t, tt.want, line)
			case <-time.After(5 * time.Second):
				t.Fatalf("no span arrived at %s", tt.listen)
			}
		})
	}
}

// TestGoodSettingsTaken: the values that the settings check lets through
// (internal/settings, TestGoodSettingsAccepted) are ones that NewExporter
// and Setup take.
func TestGoodSettingsTaken(t *testing.T) {
	testkit.SetOTelEnv(t, testkit.GoodSettings)
	tp, _ := setup(t, nil)
	require.NoError(t, tp.Shutdown(context.Background()))
}

package spans_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"example.com/tracingdemo/internal/spans"
)

// TestOwnStrings: a SERVER span made by otelhttp on a real server, with a
// 30 KB path and User-Agent cut at 1,024 characters, shares no memory with
// its request: neither its name nor any string value points into the
// strings Go's server cut the request into (the request line, the
// headers), which the span would otherwise keep alive.
func TestOwnStrings(t *testing.T) {
	var keysWithout []attribute.Key // the span's attributes, without OwnStrings
	for _, tc := range []struct {
		name       string
		own        bool
		wantShared bool
	}{
		{"without OwnStrings", false, true},
		{"with OwnStrings", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recorder := tracetest.NewSpanRecorder()
			limits := sdktrace.NewSpanLimits()
			limits.AttributeValueLengthLimit = 1024
			opts := []sdktrace.TracerProviderOption{sdktrace.WithRawSpanLimits(limits)}
			if tc.own {
				opts = append(opts, sdktrace.WithSpanProcessor(spans.OwnStrings{}))
			}
			tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithSpanProcessor(recorder))...)
			defer tp.Shutdown(context.Background())

			var request []string // the request's own strings, as the handler saw them
			srv := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				request = []string{r.Method, r.URL.Path, r.Proto, r.RequestURI, r.Header.Get("User-Agent")}
			}), "", otelhttp.WithTracerProvider(tp)))
			defer srv.Close()
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/"+strings.Repeat("p", 30<<10), nil)
			require.NoError(t, err)
			req.Header.Set("User-Agent", strings.Repeat("u", 30<<10))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			srv.Close() // the span has ended

			require.Len(t, recorder.Ended(), 1)
			span := recorder.Ended()[0]
			values := map[string]string{"the span's name": span.Name()}
			for _, kv := range span.Attributes() {
				if kv.Value.Type() == attribute.STRING {
					values[string(kv.Key)] = kv.Value.AsString()
				}
			}
			var shared []string
			for what, v := range values {
				for _, r := range request {
					if within(v, r) {
						shared = append(shared, what)
					}
				}
			}
			assert.Equal(t, tc.wantShared, len(shared) > 0, "values that share the request's memory: %v", shared)
			var keys []attribute.Key
			for _, kv := range span.Attributes() {
				keys = append(keys, kv.Key)
			}
			if !tc.own {
				keysWithout = keys
			} else {
				assert.ElementsMatch(t, keysWithout, keys, "every attribute is kept, the numbers too")
			}
		})
	}
}

// within reports whether v's bytes lie inside s's.
func within(v, s string) bool {
	if len(v) == 0 || len(s) == 0 {
		return false
	}
	start, end := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(s)))+uintptr(len(s))
	p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	return p >= start && p < end
}

// TestPoisonedRequestCostsNoSpans: one request with a byte that is not
// UTF-8 in its User-Agent and path, among ten clean ones in one batch,
// costs nobody their spans: the OTLP exporter refuses a whole batch with
// such a string, unless OwnStrings made it valid, and then the poisoned
// request's span goes too, with replacement characters.
func TestPoisonedRequestCostsNoSpans(t *testing.T) {
	for _, tc := range []struct {
		name      string
		own       bool
		wantSpans int
	}{
		{"without OwnStrings", false, 0},
		{"with OwnStrings", true, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []*tracepb.Span
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var req collectortrace.ExportTraceServiceRequest
				if err := proto.Unmarshal(body, &req); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, rs := range req.ResourceSpans {
					for _, ss := range rs.ScopeSpans {
						got = append(got, ss.Spans...)
					}
				}
				w.Header().Set("Content-Type", "application/x-protobuf")
			}))
			defer receiver.Close()
			exporter, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(receiver.URL+"/v1/traces"))
			require.NoError(t, err)
			opts := []sdktrace.TracerProviderOption{sdktrace.WithBatcher(exporter)}
			if tc.own {
				opts = append(opts, sdktrace.WithSpanProcessor(spans.OwnStrings{}))
			}
			tp := sdktrace.NewTracerProvider(opts...)
			otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) // the refused batch, without OwnStrings
			srv := httptest.NewServer(otelhttp.NewHandler(http.NotFoundHandler(), "", otelhttp.WithTracerProvider(tp)))
			defer srv.Close()
			for i := range 11 {
				path, agent := "/clean", "curl/8.0"
				if i == 5 {
					path, agent = "/%ff", "x\xff"
				}
				req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				require.NoError(t, err)
				req.Header.Set("User-Agent", agent)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
			}
			srv.Close()
			_ = tp.Shutdown(context.Background())
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, tc.wantSpans)
			if tc.own {
				agents := map[string]bool{}
				for _, s := range got {
					for _, kv := range s.Attributes {
						if kv.Key == "user_agent.original" {
							agents[kv.Value.GetStringValue()] = true
						}
					}
				}
				assert.Equal(t, map[string]bool{"curl/8.0": true, "x\uFFFD": true}, agents)
			}
		})
	}
}

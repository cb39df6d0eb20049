package spans_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"example.com/tracingdemo/internal/spans"
)

// TestOwnStrings: a SERVER span made by otelhttp on a real server, with a
// 30 KB path and User-Agent cut at 1,024 characters, shares no memory with
// its request: neither its name nor any string value points into the
// strings Go's server cut the request into (the request line, the
// headers), which the span would otherwise keep alive.
func TestOwnStrings(t *testing.T) {
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

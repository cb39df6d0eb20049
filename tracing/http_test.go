package tracing_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"example.com/tracingdemo/tracing"
)

// TestHandler: what Handler gives each request, on a router with one
// route, GET /hello: the routed and the unmatched alike get their span,
// named after the route or, with none, the method, as the semantic
// conventions name it, a log line with the trace ID, and the traceresponse
// header.
func TestHandler(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantSpan     string
		wantLog      string
	}{
		{"GET", "/hello", 200, "GET /hello", `"method":"GET","route":"/hello","status":200`},
		{"GET", "/nowhere", 404, "GET", `"method":"GET","route":"","status":404`},
		{"POST", "/hello", 405, "POST", `"method":"POST","route":"","status":405`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			defer tp.Shutdown(context.Background())
			var logs bytes.Buffer
			logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(&logs, nil)))

			r := mux.NewRouter()
			r.HandleFunc("/hello", func(http.ResponseWriter, *http.Request) {}).Methods(http.MethodGet)
			h := tracing.Handler(r, tp, autoprop.NewTextMapPropagator(), logger, false)

			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			assert.Equal(t, tt.wantStatus, w.Code)
			require.Len(t, spans.Ended(), 1)
			span := spans.Ended()[0]
			assert.Equal(t, tt.wantSpan, span.Name())
			assert.Contains(t, logs.String(), tt.wantLog)
			assert.Contains(t, logs.String(), `"trace_id":"`+span.SpanContext().TraceID().String())
			want := "00-" + span.SpanContext().TraceID().String() + "-" + span.SpanContext().SpanID().String() + "-01"
			assert.Equal(t, want, w.Header().Get("traceresponse"))
		})
	}
}

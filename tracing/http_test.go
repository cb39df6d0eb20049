package tracing_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/tracing"
)

// TestHandler: what Handler gives each request, on a router with one
// route, GET /hello: the routed and the unmatched alike get their span and
// log line from it, and /healthz neither. Each request gets the status,
// the span and the log line that the table says.
func TestHandler(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantSpan     string // "": no span
		wantLog      string // "": no log line
	}{
		{"GET", "/hello", 200, "GET /hello", `"route":"/hello","status":200`},
		{"GET", "/nowhere", 404, "GET NotFound", `"route":"NotFound","status":404`},
		{"GET", "/hello/..", 404, "GET NotFound", `"route":"NotFound","status":404`},
		{"POST", "/hello", 405, "POST MethodNotAllowed", `"method":"POST","route":"MethodNotAllowed","status":405`},
		// A caller cannot make up operation names, nor long log lines.
		{"FOO", "/hello", 405, "_OTHER MethodNotAllowed", `"method":"_OTHER","route":"MethodNotAllowed","status":405`},
		{strings.Repeat("X", 36000), "/nowhere", 404, "_OTHER NotFound", `"method":"_OTHER","route":"NotFound","status":404`},
		{"FOO", "/healthz", 405, "", ""},
		{"GET", "/healthz", 200, "", ""},
		{"HEAD", "/healthz", 200, "", ""}, // what many health checkers send
		{"POST", "/healthz", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method[:min(len(tt.method), 8)]+" "+tt.path, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			defer tp.Shutdown(context.Background())
			var logs bytes.Buffer
			logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(&logs, nil)))
			propagator := autoprop.NewTextMapPropagator()

			r := server.NewRouter()
			r.HandleFunc("/hello", func(http.ResponseWriter, *http.Request) {}).Methods(http.MethodGet)
			h := tracing.Handler(r, tp, propagator, logger, false)

			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			assert.Equal(t, tt.wantStatus, w.Code)
			if tt.wantSpan == "" {
				assert.Empty(t, spans.Ended())
				assert.Empty(t, logs.String())
				assert.Empty(t, w.Header().Get("traceresponse"))
				return
			}
			require.Len(t, spans.Ended(), 1)
			span := spans.Ended()[0]
			assert.Equal(t, tt.wantSpan, span.Name())
			assert.Contains(t, logs.String(), tt.wantLog)
			assert.Less(t, logs.Len(), 1000, "one short log line")
			assert.NotContains(t, w.Body.String(), "XXXX", "the answer does not echo the method")
			assert.Contains(t, logs.String(), `"trace_id":"`+span.SpanContext().TraceID().String())
			assert.Contains(t, w.Header().Get("traceresponse"), span.SpanContext().TraceID().String())
		})
	}
}

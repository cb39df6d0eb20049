package backend_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/internal/testkit"
	"example.com/tracingdemo/tracing"
)

func newBackend(t *testing.T) (*httptest.Server, *tracetest.SpanRecorder) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(io.Discard, nil)))
	jobs := backend.StartJobs(tp, autoprop.NewTextMapPropagator(), logger, backend.LinkedTrace)
	srv := httptest.NewServer(backend.New(tp, autoprop.NewTextMapPropagator(), logger, jobs))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { jobs.Finish(context.Background()) })
	return srv, spans
}

// ended waits until every request to srv is done, then returns the spans
// that ended: closing the server waits for its handlers to return, and so
// for their spans to end.
func ended(srv *httptest.Server, spans *tracetest.SpanRecorder) []sdktrace.ReadOnlySpan {
	srv.Close()
	return spans.Ended()
}

// TestJoinsCallersTrace: the backend's spans continue the trace named in
// the traceparent header, and read the user from the baggage header.
func TestJoinsCallersTrace(t *testing.T) {
	srv, spans := newBackend(t)
	resp, body := testkit.Get(t, srv.URL+"/hello",
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"baggage", "user=carol")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "hello, carol, from the backend\n", body)

	got := ended(srv, spans)
	require.Len(t, got, 2)
	handle, server := got[0], got[1] // the inner span ends first
	assert.Equal(t, "handle backend call", handle.Name())
	assert.Equal(t, "GET /hello", server.Name())
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", server.SpanContext().TraceID().String())
	assert.Equal(t, "00f067aa0ba902b7", server.Parent().SpanID().String())
	assert.True(t, server.Parent().IsRemote())
	assert.Equal(t, server.SpanContext().SpanID(), handle.Parent().SpanID())
}

func TestBadKnobs(t *testing.T) {
	tests := []struct{ query, wantBody string }{
		{"delay=abc", "delay=\"abc\": want a Go duration from 0s to 10s, e.g. delay=200ms\n"},
		{"delay=11s", "delay=\"11s\": want a Go duration from 0s to 10s, e.g. delay=200ms\n"},
		{"fail=maybe", "fail=\"maybe\": want true or false\n"},
		{"delay=%zz", "query: invalid URL escape \"%zz\"\n"},
		// The user comes in the baggage, but a bad one in the query is
		// refused too, by the same rule as the frontend's.
		{"user=%3Cb%3E", "user=\"<b>\": want 1 to 64 letters, digits, '_' or '-'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			srv, _ := newBackend(t)
			resp, body := testkit.Get(t, srv.URL+"/hello?"+tt.query)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, tt.wantBody, body)
		})
	}
}

// TestBaggageChecked: the backend does not rely on the frontend to check the
// user. Called directly with a user that the frontend would refuse, it
// refuses it too, quoted, and its answers are plain text that a browser may
// not sniff as HTML.
func TestBaggageChecked(t *testing.T) {
	for _, bag := range []string{"user=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "user=a%0D%0AX-Injected:%201"} {
		t.Run(bag, func(t *testing.T) {
			srv, spans := newBackend(t)
			resp, body := testkit.Get(t, srv.URL+"/hello", "baggage", bag)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Contains(t, body, "baggage: user=")
			assert.Contains(t, body, "want 1 to 64 letters, digits, '_' or '-'")
			assert.NotContains(t, body, "\r")
			assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			got := ended(srv, spans)
			require.Len(t, got, 2)
			assert.Equal(t, codes.Error, got[0].Status().Code)
		})
	}
	srv, _ := newBackend(t)
	resp, _ := testkit.Get(t, srv.URL+"/hello", "baggage", "user=carol")
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
}

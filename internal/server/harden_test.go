package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInFlightCap: with maxInFlight requests under way, the next one gets
// 503 with Retry-After at once, /healthz still answers, and once one
// finishes, a new one is served again.
func TestInFlightCap(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	h := Harden(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			started.Done()
			<-release
		}
	}), false)
	var done sync.WaitGroup
	started.Add(maxInFlight)
	for range maxInFlight {
		done.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/wait", nil)) })
	}
	started.Wait()

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), "too many requests in flight")

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, http.StatusOK, w.Code, "health checks are never refused")

	close(release)
	done.Wait()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusOK, w.Code)
}

// TestCallersBaggageNotRead: at the public edge, what a stranger could
// write into the span is gone before the span starts: the baggage (the
// frontend sets its own, so a malformed one costs not even the SDK's
// complaint), tracestate, X-Forwarded-For and Forwarded; the Host is the
// address the connection reached.
func TestCallersBaggageNotRead(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(PublicEdge(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r })))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	require.NoError(t, err)
	for name, value := range map[string]string{
		"Baggage": strings.Repeat("k=v,", 100) + "k=v", "Tracestate": "vendor=x", "X-Forwarded-For": "10.0.0.1", "Forwarded": "for=10.0.0.1",
		"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	} {
		req.Header.Set(name, value)
	}
	req.Host = "forged.example:666"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	for _, name := range []string{"Baggage", "Tracestate", "X-Forwarded-For", "Forwarded"} {
		assert.Empty(t, got.Header.Values(name), name)
	}
	assert.NotEmpty(t, got.Header.Get("Traceparent"), "the caller's trace context stays: otelhttp links it")
	assert.Equal(t, srv.Listener.Addr().String(), got.Host)
}

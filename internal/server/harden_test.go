package server

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
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
	}), mux.NewRouter(), false)
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

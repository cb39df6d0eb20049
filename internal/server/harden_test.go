package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unsafe"

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

// TestRequestLineNotShared: the strings otelhttp copies into a span from
// the request line (the method, the path, the protocol, a host written in
// the line) share the line's memory as Go's server hands them over; after
// Harden, none does, so that a queued span keeps none of a long line alive.
func TestRequestLineNotShared(t *testing.T) {
	query := "?q=" + strings.Repeat("x", 30<<10)
	router := NewRouter()
	router.HandleFunc("/hello", func(http.ResponseWriter, *http.Request) {}).Methods(http.MethodGet)
	type span struct{ start, end uintptr } // the request line's memory
	var line span
	checked := make(chan []string, 1)
	inner := Harden(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var shared []string
		for name, v := range map[string]string{"method": r.Method, "path": r.URL.Path, "protocol": r.Proto, "host": r.Host} {
			if p := uintptr(unsafe.Pointer(unsafe.StringData(v))); p >= line.start && p < line.end {
				shared = append(shared, name)
			}
		}
		checked <- shared
	}), router, false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As Go's server hands them over, the method, the path and the
		// protocol are pieces of one string, the line.
		line = span{uintptr(unsafe.Pointer(unsafe.StringData(r.Method))), uintptr(unsafe.Pointer(unsafe.StringData(r.Proto))) + uintptr(len(r.Proto))}
		if p := uintptr(unsafe.Pointer(unsafe.StringData(r.URL.Path))); p < line.start || p >= line.end {
			t.Errorf("%s: the path is not a piece of the request line: this test checks nothing", r.RequestURI[:min(len(r.RequestURI), 20)])
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, requestLine := range []string{
		"GET /hello" + query + " HTTP/1.1", // a route, as the path
		"GET /nowhere" + query + " HTTP/1.1",
		"FOO /hello" + query + " HTTP/1.1",
		"GET http://elsewhere.example/hello" + query + " HTTP/1.1",
		"GET /hello" + query + " HTTP/1.0",
	} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "%s\r\nHost: localhost\r\nConnection: close\r\n\r\n", requestLine)
		_, _ = io.Copy(io.Discard, conn)
		conn.Close()
		assert.Empty(t, <-checked, "%s: shares the request line", requestLine[:20])
	}
}

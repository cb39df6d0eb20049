package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Harden wraps a service's traced handler in the middlewares below, the
// outermost first. At a public edge (public), the caller's headers that
// would write into the span are dropped first.
func Harden(traced http.Handler, public bool) http.Handler {
	h := IgnoreBody(traced)
	h = LimitInFlight(maxInFlight, h)
	h = KnownMethods(h)
	h = AnswerHealth(h)
	if public {
		h = PublicEdge(h)
	}
	return h
}

// healthPath answers 200 on both services, with no span and no log line, so
// that health checks every few seconds do not crowd out the real traces.
const healthPath = "/healthz"

// healthy is the answer to /healthz. HealthCheck wants exactly this, so that
// another server that answers 200 to anything does not pass for the service.
const healthy = "ok\n"

// AnswerHealth answers GET and HEAD /healthz itself, never reaching next:
// no span, no log line, and never refused by a limit.
func AnswerHealth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != healthPath:
			next.ServeHTTP(w, r)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			fmt.Fprint(w, healthy)
		default:
			http.Error(w, "method not allowed here", http.StatusMethodNotAllowed)
		}
	})
}

// PublicEdge drops, before the span starts, what a stranger could write
// into it: tracestate (the span's link then holds the caller's trace and
// span IDs only), baggage (the frontend sets its own), and X-Forwarded-For
// and Forwarded (client.address is then the peer's own address). The Host
// the caller wrote is replaced by the address its connection reached,
// which otelhttp records as server.address.
func PublicEdge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"Tracestate", "Baggage", "X-Forwarded-For", "Forwarded"} {
			r.Header.Del(name)
		}
		if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			r.Host = local.String()
		}
		next.ServeHTTP(w, r)
	})
}

// KnownMethods answers 405, with no span, a method that is none of HTTP's
// own: a caller cannot make up operation names, nor write a method of
// 30 KB into a log line.
func KnownMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
			http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
			next.ServeHTTP(w, r)
		default:
			http.Error(w, "method not allowed here: not one of HTTP's", http.StatusMethodNotAllowed)
		}
	})
}

// LimitInFlight answers 503 with Retry-After, and no span, past max
// requests at once, with a warning at most once per 10 s with the count.
func LimitInFlight(max int, next http.Handler) http.Handler {
	inFlight := make(chan struct{}, max)
	var refused atomic.Int64
	warn := rate.Sometimes{Interval: 10 * time.Second}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case inFlight <- struct{}{}:
			defer func() { <-inFlight }()
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests in flight; try again later", http.StatusServiceUnavailable)
			n := refused.Add(1)
			warn.Do(func() { slog.Warn("requests refused: too many in flight", "refused_so_far", n, "max_in_flight", max) })
		}
	})
}

// IgnoreBody answers a request with a body, which no route reads, at once,
// and closes the connection right after. Otherwise Go's server would read
// a body that trickles in, for up to its ReadTimeout, before it sent the
// answer, and again before it closed.
func IgnoreBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 { // -1: a chunked body, of unknown length
			w.Header().Set("Connection", "close")
			// Once answered, the server would read the rest of the body
			// before it closed: a read deadline of now ends that at once.
			defer http.NewResponseController(w).SetReadDeadline(time.Now())
		}
		next.ServeHTTP(w, r)
	})
}

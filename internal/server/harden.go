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

// Harden wraps a service's traced handler in the middlewares below. At a
// public edge, the caller's headers that would write into the span are
// dropped first.
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

// HealthPath answers Healthy, with no span and no log line: health checks
// every few seconds do not crowd out the real traces. A health check wants
// exactly that answer, which another server on the port does not give.
const (
	HealthPath = "/healthz"
	Healthy    = "ok\n"
)

// AnswerHealth answers GET and HEAD /healthz itself, before any limit.
func AnswerHealth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != HealthPath:
			next.ServeHTTP(w, r)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			fmt.Fprint(w, Healthy)
		default:
			http.Error(w, "method not allowed here", http.StatusMethodNotAllowed)
		}
	})
}

// PublicEdge drops, before the span starts, what a stranger could write
// into it: tracestate (the link keeps only the caller's IDs), baggage (the
// frontend sets its own), X-Forwarded-For and Forwarded (client.address is
// the peer's). Host becomes the address the connection reached
// (server.address).
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

// KnownMethods answers 405, with no span, a method that is none of HTTP's:
// a caller cannot write a method of 30 KB into a log line.
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

// IgnoreBody answers a request with a body, which no route reads, and
// closes the connection: Go's server would otherwise read a body that
// trickles in, for up to its ReadTimeout, before and after the answer.
func IgnoreBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 { // -1: a chunked body, of unknown length
			w.Header().Set("Connection", "close")
			// A read deadline of now: no reading the rest before the close.
			defer http.NewResponseController(w).SetReadDeadline(time.Now())
		}
		next.ServeHTTP(w, r)
	})
}

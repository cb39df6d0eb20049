package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/felixge/httpsnoop"
	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/queue"
	"example.com/tracingdemo/internal/ratelimit"
)

// healthPath answers 200 on both services, with no span and no log line, so
// that health checks every few seconds do not crowd out the real traces.
const healthPath = "/healthz"

// healthy is the answer to /healthz. HealthCheck wants exactly this, so that
// another server that answers 200 to anything does not pass for the service.
const healthy = "ok\n"

// NewRouter returns a mux router for a service's routes, which keeps paths
// as sent: by default mux answers a path such as /a/../b with a redirect
// to its clean form, which would be a span named after no route. Such a
// path now matches no route, and gets a 404 like any other unknown path.
// A method a route does not take gets a 405 that names it.
func NewRouter() *mux.Router {
	r := mux.NewRouter().SkipClean(true)
	r.MethodNotAllowedHandler = http.HandlerFunc(methodNotAllowed)
	return r
}

// Transport returns the transport of a client that calls one service for
// every request: it keeps enough idle connections to reuse them under load
// instead of opening one per request.
func Transport() *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 256
	transport.MaxIdleConnsPerHost = 256
	return transport
}

// Harden answers, before next (the traced handler):
//   - GET and HEAD /healthz: no span, no log line;
//   - at a public edge (public), the caller's tracestate, X-Forwarded-For
//     and Forwarded are dropped before the span starts: its link holds the
//     caller's trace and span IDs only, and client.address is the peer's
//     own address, not one a stranger wrote. The Host the caller wrote is
//     replaced by the address its connection reached, which otelhttp
//     records as server.address;
//   - past maxInFlight requests at once, 503 with Retry-After, no span,
//     and a warning at most once per 10 s with the count;
//   - the route router matches is set as r.Pattern, as net/http's own
//     ServeMux sets it: otelhttp records it as http.route, and SpanName and
//     RouteOf read it, so that a request is matched once, not once for
//     each;
//   - the strings otelhttp copies into the span from the request line
//     (ownLine) no longer share its memory, so that a span waiting for
//     Jaeger keeps none of a request line of up to 36 KB alive;
//   - a request body, which no route reads, is not waited for: the answer
//     goes out at once and the connection is closed right after it.
//     Otherwise Go's server would read a body that trickles in, for up to
//     its ReadTimeout, before it sent the answer, and again before it
//     closed.
func Harden(next http.Handler, router *mux.Router, public bool) http.Handler {
	inFlight := make(chan struct{}, maxInFlight)
	var refused atomic.Int64
	var warned ratelimit.Limiter
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public {
			for _, name := range []string{"Tracestate", "X-Forwarded-For", "Forwarded"} {
				r.Header.Del(name)
			}
			if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
				r.Host = local.String()
			}
		}
		if r.ContentLength != 0 { // -1: a chunked body, of unknown length
			w.Header().Set("Connection", "close")
			// Once answered, the server would read the rest of the body
			// before it closed: a read deadline of now ends that at once.
			defer http.NewResponseController(w).SetReadDeadline(time.Now())
		}
		switch {
		case r.URL.Path != healthPath:
			select {
			case inFlight <- struct{}{}:
				defer func() { <-inFlight }()
				route, matched := Route(router, r)
				if matched {
					r.Pattern = route
				}
				ownLine(r, route)
				next.ServeHTTP(w, r)
			default:
				w.Header().Set("Retry-After", "1")
				http.Error(w, "too many requests in flight; try again later", http.StatusServiceUnavailable)
				if n := refused.Add(1); warned.Allow() {
					slog.Warn("requests refused: too many in flight", "refused_so_far", n, "max_in_flight", maxInFlight)
				}
			}
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			fmt.Fprint(w, healthy)
		default:
			methodNotAllowed(w, r)
		}
	})
}

// ownLine gives r's method, path, protocol and host, which Go's server
// cut from the request line, memory of their own, where otelhttp copies
// them into the span: the method and the protocol net/http's constants,
// the path its route's (the router's own string), when they are the same;
// the others a copy, which only a request out of the ordinary pays for (an
// unknown method, a path that is no route, a host in the request line).
// The values stay the same. The other strings of a span come from headers,
// each a string of its own: spans.Batcher copies those the length limit cut.
func ownLine(r *http.Request, route string) {
	if method := Method(r); method != "_OTHER" {
		r.Method = method
	} else {
		r.Method = strings.Clone(r.Method)
	}
	if r.URL.Path == route {
		r.URL.Path = route
	} else {
		r.URL.Path = strings.Clone(r.URL.Path)
	}
	switch r.Proto {
	case "HTTP/1.1":
		r.Proto = "HTTP/1.1"
	case "HTTP/1.0":
		r.Proto = "HTTP/1.0"
	default:
		r.Proto = strings.Clone(r.Proto)
	}
	if r.URL.Host != "" {
		r.Host = strings.Clone(r.Host)
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	http.Error(w, fmt.Sprintf("method %s not allowed here", Method(r)), http.StatusMethodNotAllowed)
}

// Unavailable answers 503 with Retry-After, and the reason err wraps:
// queue.ErrFull or queue.ErrStopping, not the figures wrapped around it.
func Unavailable(w http.ResponseWriter, err error) {
	for _, public := range []error{queue.ErrFull, queue.ErrStopping} {
		if errors.Is(err, public) {
			err = public
		}
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, err.Error(), http.StatusServiceUnavailable)
}

// Reply answers 200 with the line text.
func Reply(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprintln(w, text)
}

// BadRequest answers 400 with err, which names what was wrong, logs it, and
// marks the request's span (in ctx) an error.
func BadRequest(ctx context.Context, w http.ResponseWriter, logger *slog.Logger, err error) {
	trace.SpanFromContext(ctx).SetStatus(codes.Error, err.Error())
	logger.WarnContext(ctx, "bad request", "err", err)
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// ServeLogged serves r with next, then logs one line for it, with method,
// route, status and duration, and, logged with r's context, inside its
// span, the trace ID.
func ServeLogged(logger *slog.Logger, route string, next http.Handler, w http.ResponseWriter, r *http.Request) {
	m := httpsnoop.CaptureMetrics(next, w, r)
	logger.InfoContext(r.Context(), "request", "method", Method(r), "route", route, "status", m.Code,
		"duration_ms", float64(m.Duration)/float64(time.Millisecond))
}

// RouteOf is the route Route names, read from r.Pattern where Harden set
// it: the template of the route r matched, or NotFound, or
// MethodNotAllowed.
func RouteOf(router *mux.Router, r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	route, _ := Route(router, r)
	return route
}

// SpanName returns the name of r's span, its method and route, e.g.
// "GET /hello" or "GET NotFound". Each name is made once and kept: there
// are ten methods at most (Method) and the router's routes.
func SpanName(router *mux.Router, r *http.Request) string {
	route := RouteOf(router, r)
	method := Method(r)
	spanNames.RLock()
	name, ok := spanNames.byMethod[method][route]
	spanNames.RUnlock()
	if ok {
		return name
	}
	name = method + " " + route
	spanNames.Lock()
	defer spanNames.Unlock()
	if spanNames.byMethod[method] == nil {
		spanNames.byMethod[method] = map[string]string{}
	}
	spanNames.byMethod[method][route] = name
	return name
}

var spanNames = struct {
	sync.RWMutex
	byMethod map[string]map[string]string // method, route: name
}{byMethod: map[string]map[string]string{}}

// SetTraceResponse sets the traceresponse header (W3C Trace Context Level
// 2) of an answer to the span sc: "00-{trace ID}-{span ID}-{flags}". It
// costs one allocation, which holds both the header's value and its text:
// fmt.Sprintf and Header.Set would take about eight.
func SetTraceResponse(h http.Header, sc trace.SpanContext) {
	v := new(struct {
		values [1]string
		text   [55]byte
	})
	traceID, spanID, flags := sc.TraceID(), sc.SpanID(), [1]byte{byte(sc.TraceFlags())}
	copy(v.text[:], "00-")
	hex.Encode(v.text[3:35], traceID[:])
	v.text[35] = '-'
	hex.Encode(v.text[36:52], spanID[:])
	v.text[52] = '-'
	hex.Encode(v.text[53:], flags[:])
	v.values[0] = unsafe.String(&v.text[0], len(v.text)) // the text is never written again
	h["Traceresponse"] = v.values[:]                     // the canonical key, as Header.Set would make it
}

// Route returns the template of the route of router that r matches, e.g.
// "/hello", and true; or, when none does, NotFound, or MethodNotAllowed
// when one would with another method.
func Route(router *mux.Router, r *http.Request) (string, bool) {
	var match mux.RouteMatch
	router.Match(r, &match)
	switch {
	case match.MatchErr == mux.ErrMethodMismatch:
		return "MethodNotAllowed", false
	case match.MatchErr != nil || match.Route == nil:
		return "NotFound", false
	}
	template, err := match.Route.GetPathTemplate()
	return template, err == nil
}

// Method returns r's method as a span name and a log line show it: one of
// HTTP's own, or "_OTHER", as otelhttp records an unknown one, so that a
// caller cannot make up Jaeger operations with methods of its own.
// The name is net/http's constant, not r's own string, which Go's server
// cut from the request line.
func Method(r *http.Request) string {
	for _, known := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace} {
		if r.Method == known {
			return known
		}
	}
	return "_OTHER"
}

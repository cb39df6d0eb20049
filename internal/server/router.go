package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/queue"
)

// NewRouter returns a mux router for a service's routes, which keeps paths
// as sent: by default mux answers a path such as /a/../b with a redirect
// to its clean form, which would be a span named after no route. Such a
// path now matches no route, and gets a 404 like any other unknown path.
// A method a route does not take gets a 405.
func NewRouter() *mux.Router {
	r := mux.NewRouter().SkipClean(true)
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed here", http.StatusMethodNotAllowed)
	})
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

// NoRedirect is the CheckRedirect of a client that calls one service: it
// follows no redirect, which would send the trace context and the baggage
// to wherever the redirect leads, or back to the caller in a loop.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

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

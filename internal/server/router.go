package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// NewRouter returns a mux router that keeps paths as sent: by default mux
// answers /a/../b with a redirect to its clean form, a span named after no
// route. Such a path gets a 404, a method a route does not take a 405.
func NewRouter() *mux.Router {
	r := mux.NewRouter().SkipClean(true)
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed here", http.StatusMethodNotAllowed)
	})
	return r
}

// Transport returns the transport of a client that calls one service for
// every request: enough idle connections to reuse them under load.
func Transport() *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 256
	transport.MaxIdleConnsPerHost = 256
	return transport
}

// NoRedirect is the CheckRedirect of a client that calls one service: a
// redirect would carry the trace context and the baggage elsewhere.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Unavailable answers 503 with Retry-After, and err, which says why.
func Unavailable(w http.ResponseWriter, err error) {
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

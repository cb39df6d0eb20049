package frontend

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/tracing"
)

// NewWithClient is New with the HTTP client for the backend given, so that
// the "break it" tests can build the frontend with a broken client.
func NewWithClient(cfg Config, tp trace.TracerProvider, propagator propagation.TextMapPropagator, client *http.Client) http.Handler {
	h := &handler{
		cfg:    cfg,
		tracer: tp.Tracer("example.com/tracingdemo/frontend"),
		client: client,
		logger: slog.New(slog.DiscardHandler),
	}
	r := mux.NewRouter()
	r.Use(tracing.Middleware(tp, propagator))
	r.HandleFunc("/", h.hello).Methods(http.MethodGet)
	return r
}

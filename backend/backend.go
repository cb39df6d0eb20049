// Package backend is the service the frontend calls. Its spans join the
// frontend's trace because otelhttp reads the trace context from the
// request's traceparent header.
//
// handler.go holds the path of a request, the lesson; this file how the
// service is run.
package backend

import (
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/server"
)

// Service is the backend, as cmd/backend runs it (see internal/server): on
// ADDR, :8081 by default. It has no settings of its own.
var Service = server.Service{Name: "backend", DefaultAddr: ":8081",
	Handler: func(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) (http.Handler, error) {
		return New(tp, propagator, logger), nil
	},
}

// Package backend is the service the frontend calls. Its spans join the
// frontend's trace because otelhttp reads the trace context from the
// request's traceparent header.
//
// handler.go holds the path of a request, the lesson; jobs.go the work a
// request leaves for later (async=true), and how its trace is linked to the
// request's. cmd/tracingdemo builds the backend with FromEnv.
package backend

import (
	"log/slog"
	"net/http"
	"os"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/settings"
)

// FromEnv starts the workers of the jobs, with the JobTrace that JOB_TRACE
// names (link, the default, or child), and returns New's handler, which
// queues jobs for them. Jobs.Finish stops the workers.
func FromEnv(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) (http.Handler, *Jobs, error) {
	jobTrace := LinkedTrace
	switch v := JobTrace(os.Getenv("JOB_TRACE")); v {
	case "", LinkedTrace:
	case ChildSpan:
		jobTrace = ChildSpan
	default:
		return nil, nil, &settings.EnvError{Name: "JOB_TRACE", Value: string(v), Reason: `want "link" or "child"`}
	}
	jobs := StartJobs(tp, propagator, logger, jobTrace)
	return New(tp, propagator, logger, jobs), jobs, nil
}

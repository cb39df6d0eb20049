// Command tracingdemo runs one of the demo's two services: `tracingdemo
// frontend` or `tracingdemo backend`. Both live the same life, which run
// shows in the order it happens; what a real service adds to a step
// (strict settings, span accounting, timeouts) is in internal/.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/tracing"
)

// main runs the service its first argument names, on ADDR (by default
// :8080 or :8081; server.Command also answers -healthcheck). Exit code 2
// is a bad setting, 1 any other failure.
func main() {
	name, addr := server.Command(os.Args, map[string]string{"frontend": ":8080", "backend": ":8081"})
	if err := run(name, addr); err != nil {
		slog.Error(name+" stopped", "err", err)
		os.Exit(settings.ExitCode(err))
	}
}

func run(name, addr string) error {
	// Check the settings first: a bad one stops the service, naming its variable.
	cfg, err := settings.Load(name, tracing.LogHandler) // log lines carry the trace ID
	if err != nil {
		return err
	}

	// Set up tracing: the spans go to the exporter OTEL_TRACES_EXPORTER names.
	exporter, err := tracing.NewExporter(context.Background())
	if err != nil {
		return err
	}
	tp, propagator, err := tracing.Setup(context.Background(), name, exporter)
	if err != nil {
		return err
	}

	// Build the handler (the backend's starts the workers of its jobs).
	handler, finishJobs := newHandler(name, cfg, tp, propagator)

	// Listen, and serve until SIGINT (Ctrl-C) or SIGTERM (docker stop).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := server.New(name, handler, cfg.Logger) // timeouts on every phase of a request
	if err := srv.Serve(ctx, addr); err != nil {
		return err
	}

	// Drain: the requests in flight finish, then the jobs they queued, in the same time.
	drainCtx, cancel := context.WithTimeout(context.Background(), server.DrainTimeout)
	defer cancel()
	drainErr := srv.Shutdown(drainCtx)
	finishJobs(drainCtx)

	// Flush: every finished request's and job's spans go out; a line counts them.
	flushCtx, cancel := context.WithTimeout(context.Background(), server.FlushTimeout)
	defer cancel()
	tp.Shutdown(flushCtx) // an outage costs spans, not the service: no error to return
	return drainErr
}

// newHandler builds the service's handler, and what finishes its jobs.
func newHandler(name string, cfg *settings.Settings, tp trace.TracerProvider, propagator propagation.TextMapPropagator) (http.Handler, func(context.Context)) {
	if name == "frontend" {
		return frontend.New(cfg.Frontend, tp, propagator, cfg.Logger), func(context.Context) {}
	}
	jobs := backend.StartJobs(tp, propagator, cfg.Logger, backend.JobTrace(cfg.JobTrace))
	return backend.New(tp, propagator, cfg.Logger, jobs), jobs.Finish
}

// Command tracingdemo runs one of the demo's two services, each in a
// process of its own: `tracingdemo frontend` (on :8080) or
// `tracingdemo backend` (on :8081). Both live the same life, which run
// shows in the order it happens: check the settings, set up tracing, build
// the handler, listen, serve until SIGINT or SIGTERM, let the requests in
// flight and the jobs they queued finish, then flush their spans. What a real service adds to a
// step (strict settings, span counts, timeouts, health checks) is behind
// the helpers of internal/.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/internal/errlog"
	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/spanattrs"
	"example.com/tracingdemo/internal/spancount"
	"example.com/tracingdemo/tracing"
)

// defaultAddr is where each service listens unless ADDR says otherwise.
var defaultAddr = map[string]string{"frontend": ":8080", "backend": ":8081"}

// main runs the service its first argument names; exit code 2 is a bad
// setting, 1 any other failure. With -healthcheck it instead asks the
// service already running on ADDR for /healthz, and exits 0 if it is
// healthy: the container health check, in an image with no shell and no
// curl.
func main() {
	name := ""
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	if defaultAddr[name] == "" {
		fmt.Fprintln(os.Stderr, "usage: tracingdemo frontend|backend [-healthcheck]")
		os.Exit(2)
	}
	flags := flag.NewFlagSet(name, flag.ExitOnError)
	healthcheck := flags.Bool("healthcheck", false, "check the running "+name+"'s /healthz and exit")
	flags.Parse(os.Args[2:])
	addr := cmp.Or(os.Getenv("ADDR"), defaultAddr[name])

	if *healthcheck {
		if err := server.HealthCheck(addr); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(name, addr); err != nil {
		slog.Error(name+" stopped", "err", err)
		os.Exit(settings.ExitCode(err))
	}
}

func run(name, addr string) error {
	// Check the settings first: a bad one stops the service here, with a
	// message that names the variable.
	logger, err := settings.Load()
	if err != nil {
		return err
	}
	exportErrors := errlog.Install() // OpenTelemetry's own errors, at a bounded rate

	// Set up tracing: the exporter OTEL_TRACES_EXPORTER names, counted.
	exporter, err := tracing.NewExporter(context.Background())
	if err != nil {
		return settings.Refused("OTEL_TRACES_EXPORTER", err)
	}
	spans := spancount.New(logger)
	tp, propagator, err := tracing.Setup(context.Background(), name, spans.Exporter(exporter))
	if err != nil {
		return settings.Refused("OTEL_RESOURCE_ATTRIBUTES", err) // the one setting Setup can refuse
	}
	tp.RegisterSpanProcessor(spans)
	tp.RegisterSpanProcessor(spanattrs.Copy()) // no queued span keeps its request alive

	// Build the handler (the backend's starts the workers of its jobs), and
	// listen.
	handler, finishJobs, err := newHandler(name, tp, propagator, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return settings.Refused("ADDR", err)
	}
	logger.Info(name+" listening", "addr", ln.Addr().String())

	// Serve until SIGINT (Ctrl-C) or SIGTERM (docker stop).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := server.New(handler, logger) // timeouts on every phase of a request
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	stop()
	server.Stopping(logger) // from now on, a second signal exits at once

	// Drain: no new connections; the requests in flight finish.
	drainCtx, cancel := context.WithTimeout(context.Background(), server.DrainTimeout)
	defer cancel()
	drainErr := srv.Shutdown(drainCtx)
	// Then the jobs those requests queued, within the same time.
	finishJobs(drainCtx)

	// Flush: every finished request's and job's spans are queued by now.
	flushCtx, cancel := context.WithTimeout(context.Background(), server.FlushTimeout)
	defer cancel()
	if err := tp.Shutdown(flushCtx); err != nil {
		// An outage costs spans, not the service: no exit 1.
		logger.Warn("the final flush of the spans did not finish", "err", err)
	}
	exportErrors.Summarize()
	spans.Log()
	if drainErr != nil {
		return fmt.Errorf("stopping the server: %w", drainErr)
	}
	return nil
}

// newHandler builds the handler of the service name, traced with tp and
// propagator, with its own settings (BACKEND_URL, JOB_TRACE and the
// others), and the function that finishes the jobs its requests queued:
// the backend's async=true; the frontend queues none.
func newHandler(name string, tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) (http.Handler, func(context.Context), error) {
	if name == "frontend" {
		handler, err := frontend.FromEnv(tp, propagator, logger)
		return handler, func(context.Context) {}, err
	}
	handler, jobs, err := backend.FromEnv(tp, propagator, logger)
	if err != nil {
		return nil, nil, err
	}
	return handler, jobs.Finish, nil
}

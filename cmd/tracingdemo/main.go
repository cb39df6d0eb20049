// Command tracingdemo runs the frontend or the backend: run is their life.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/tracing"
)

// main runs the service its first argument names, on ADDR (:8080 or :8081
// by default). Exit code 2 is a bad setting, 1 any other failure.
func main() {
	name, addr := command(os.Args, map[string]string{"frontend": ":8080", "backend": ":8081"})
	err := run(name, addr)
	if err != nil {
		slog.Error(name+" stopped", "err", err)
	}
	settings.FlushLog() // the last lines, 2 s at most: the log's reader may be stalled
	os.Exit(settings.ExitCode(err))
}

func run(name, addr string) (err error) {
	// Stop on Ctrl-C, SIGTERM or SIGHUP, caught to the end: none cuts the flush.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	// Check the settings first: a bad one stops the service, naming its variable.
	cfg, err := settings.Load(name, tracing.LogHandler) // log lines carry the trace ID
	if err != nil {
		return err
	}

	// Set up tracing: tracing.Setup, with the hardening as options (hardening.go).
	tp, propagator, shutdown, err := setupTracing(name, cfg)
	if err != nil {
		return err
	}
	defer func() {
		// Flush: every finished request's and job's spans go out; a line counts them.
		flushCtx, cancel := context.WithTimeout(context.Background(), cfg.FlushTimeout)
		defer cancel()
		err = errors.Join(err, shutdown(flushCtx))
	}()

	// Build the handler (the backend's starts its jobs' workers).
	handler, finishJobs := newHandler(name, cfg, tp, propagator)

	// Serve until a signal; then the requests in flight finish (serve.go).
	return serve(ctx, name, addr, cfg, handler, finishJobs)
}

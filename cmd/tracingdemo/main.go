// Command tracingdemo runs one of the demo's two services: `tracingdemo
// frontend` or `tracingdemo backend`. run shows their life in the order it
// happens; hardening.go and serve.go add what a real service needs.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/tracing"
)

// main runs the service its first argument names, on ADDR (:8080 or :8081
// by default). Exit code 2 is a bad setting, 1 any other failure.
func main() {
	name, addr := server.Command(os.Args, map[string]string{"frontend": ":8080", "backend": ":8081"})
	if err := run(name, addr); err != nil {
		slog.Error(name+" stopped", "err", err)
		os.Exit(settings.ExitCode(err))
	}
}

func run(name, addr string) (err error) {
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
		ctx, cancel := context.WithTimeout(context.Background(), cfg.FlushTimeout)
		defer cancel()
		err = errors.Join(err, shutdown(ctx))
	}()

	// Build the handler (the backend's starts the workers of its jobs).
	handler, finishJobs := newHandler(name, cfg, tp, propagator)

	// Serve until SIGINT (Ctrl-C) or SIGTERM (docker stop), then let the
	// requests in flight finish, and the jobs they queued (serve.go).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, name, addr, cfg, handler, finishJobs)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
)

// serve serves handler on addr until ctx ends, then stops gracefully: no
// new connections; the requests in flight finish, then the jobs they
// queued (finishJobs), within cfg.DrainTimeout. Only a second Ctrl-C cuts
// that wait short; the spans of what finished are flushed all the same.
func serve(ctx context.Context, name, addr string, cfg *settings.Settings, handler http.Handler, finishJobs func(context.Context)) error {
	srv := server.New(handler, cfg.Logger, cfg.DrainTimeout) // timeouts on every phase of a request
	ln, err := server.Listen(srv, name, addr, cfg.MaxConnsPerClient, cfg.Logger)
	if err != nil {
		return settings.Refused("ADDR", err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	cfg.Logger.Info("stopping: no new connections; waiting for requests in flight (Ctrl-C again stops waiting)",
		"max_wait", cfg.DrainTimeout.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	defer onSecondInterrupt(cfg.Logger, cancel)()
	err = srv.Shutdown(drainCtx)
	finishJobs(drainCtx)
	if errors.Is(err, context.Canceled) {
		return errors.New("the stop was cut short by a second Ctrl-C: requests in flight were not answered")
	}
	return err
}

// onSecondInterrupt calls cut on a second SIGINT during a stop: a person
// pressed Ctrl-C twice, and will not wait for the requests in flight. A
// second SIGTERM or SIGHUP changes nothing: a supervisor that sends its
// signal twice (GNU timeout does, to the child and to its group) or make's
// trap after the terminal's Ctrl-C would otherwise cut the flush short.
// Call the stop it returns once the stop is over.
func onSecondInterrupt(logger *slog.Logger, cut func()) (stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-signals:
				if sig != os.Interrupt {
					logger.Info("signal during the stop: the stop goes on", "signal", sig.String())
					continue
				}
				logger.Warn("second Ctrl-C during the stop: not waiting for the requests in flight; the spans of those that finished are still flushed")
				cut()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(signals); close(done) }
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
)

// serve serves handler on addr until ctx ends, then stops gracefully: no
// new connections; the requests in flight finish, then the jobs they
// queued (finishJobs), within cfg.DrainTimeout. Only a second Ctrl-C cuts
// that wait short; the spans of what finished are flushed all the same.
func serve(ctx context.Context, name, addr string, cfg *settings.Settings, handler http.Handler, finishJobs func(context.Context)) error {
	ln, err := server.Listen(name, addr, cfg.Logger)
	if err != nil {
		return settings.Refused("ADDR", err)
	}
	srv := server.New(handler, cfg.Logger, cfg.DrainTimeout) // timeouts on every phase of a request
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
	defer server.OnSecondInterrupt(cfg.Logger, cancel)()
	err = srv.Shutdown(drainCtx)
	finishJobs(drainCtx)
	if errors.Is(err, context.Canceled) {
		return errors.New("the stop was cut short by a second Ctrl-C: requests in flight were not answered")
	}
	return err
}

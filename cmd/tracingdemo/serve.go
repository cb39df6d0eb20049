package main

import (
	"context"
	"fmt"
	"net/http"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
)

// serve serves handler on addr until ctx ends, then stops gracefully: no
// new connections; the requests in flight finish, then the jobs they
// queued (finishJobs), within cfg.DrainTimeout. A second signal during
// that wait exits at once.
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

	cfg.Logger.Info("stopping: no new connections; waiting for requests in flight (a second signal stops at once)",
		"max_wait", cfg.DrainTimeout.String())
	server.ExitOnSecondSignal(cfg.Logger)
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	err = srv.Shutdown(drainCtx)
	finishJobs(drainCtx)
	return err
}

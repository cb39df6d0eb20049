// Package server runs the demo's two services: settings checked at start,
// tracing set up and flushed at the stop, an HTTP server with timeouts on
// every phase of a request, a graceful stop that lets the requests in
// flight finish, health checks, and a log line per request.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"example.com/tracingdemo/internal/params"
)

// How long things may take. Each bound outlasts the one before it, so that
// the slowest request a user can ask for is never cut short, by a timeout
// or by a stop:
//
//	the largest delay           params.MaxDelay  10 s
//	< the wait for the backend  BackendTimeout   12 s (BACKEND_TIMEOUT)
//	< a stop's wait for drain   drainTimeout     15 s
//	< the write timeout         writeTimeout     30 s
//
// After the drain, the final flush of the spans takes flushTimeout at most;
// docker-compose.yml's stop_grace_period (30 s) covers both.
const (
	BackendTimeout = params.MaxDelay + 2*time.Second
	drainTimeout   = BackendTimeout + 3*time.Second
	writeTimeout   = 2 * drainTimeout
	flushTimeout   = 5 * time.Second
)

// maxHeaderBytes caps request headers (larger ones get 431). W3C caps
// baggage at 8192 bytes and tracestate at 32 members; nothing honest needs
// more than this.
const maxHeaderBytes = 32 << 10

// Serve serves handler on ln until ctx is done (SIGINT or SIGTERM), then
// stops accepting connections and waits, at most drainTimeout, for the
// requests in flight to finish. Those requests keep running with their own
// contexts: a stop does not cancel them.
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler: handler,
		// A client that trickles its headers (slowloris) is cut off.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	logger.Info("stopping: no new connections; waiting for requests in flight (a second signal stops at once)",
		"max_wait", drainTimeout.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		return fmt.Errorf("stopping the server: %w", err)
	}
	// srv.Serve has returned http.ErrServerClosed: a normal stop.
	return nil
}

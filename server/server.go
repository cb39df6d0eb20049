// Package server runs the services' HTTP servers: with timeouts on every
// phase of a request, and with a graceful stop that lets the requests in
// flight finish.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

const (
	// DrainTimeout bounds how long a stop waits for the requests in flight.
	// It is longer than the slowest request the demo serves: a 10 s delay
	// inside the frontend's 12 s backend timeout.
	DrainTimeout = 15 * time.Second

	// MaxHeaderBytes caps request headers (larger ones get 431). W3C caps
	// baggage at 8192 bytes and tracestate at 32 members; nothing honest
	// needs more than this.
	MaxHeaderBytes = 32 << 10
)

// Serve serves handler on ln until ctx is done (SIGINT or SIGTERM), then
// stops accepting connections and waits, at most DrainTimeout, for the
// requests in flight to finish. Those requests keep running with their own
// contexts: a stop does not cancel them.
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler: handler,
		// A client that trickles its headers (slowloris) is cut off.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// Longer than the slowest request, so its answer is not cut off.
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	logger.Info("stopping: no new connections; waiting for requests in flight", "max_wait", DrainTimeout.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		return fmt.Errorf("stopping the server: %w", err)
	}
	// srv.Serve has returned http.ErrServerClosed: a normal stop.
	return nil
}

// HealthCheck asks the service listening on addr (an ADDR value, such as
// ":8080") for GET /healthz, and returns an error unless it answers 200.
// The binaries run it for their -healthcheck flag: the container images
// have no shell and no curl to do it.
func HealthCheck(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ADDR=%q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening on every address: ask on loopback
	}
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %s", resp.Status)
	}
	return nil
}

// Package server holds what the demo's two services need around their
// handlers, beside the lesson of cmd/tracingdemo: an HTTP server with
// timeouts on every phase of a request, a second signal that does not wait
// for the graceful stop, health checks, and a log line per request.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/net/netutil"

	"example.com/tracingdemo/internal/settings"
)

// How long things may take. Each bound outlasts the one before it, so that
// the slowest request a user can ask for is never cut short, by a timeout
// or by a stop:
//
//	the largest delay           params.MaxDelay          10 s (the backend's delay=)
//	< the wait for the backend  settings.BackendTimeout  12 s (BACKEND_TIMEOUT)
//	< a stop's wait for drain   DrainTimeout             15 s
//	< the write timeout         writeTimeout             30 s
//
// After the drain, the final flush of the spans takes FlushTimeout at most;
// docker-compose.yml's stop_grace_period (30 s) covers both.
const (
	DrainTimeout = settings.BackendTimeout + 3*time.Second
	writeTimeout = 2 * DrainTimeout
	FlushTimeout = 5 * time.Second
)

// The bounds that keep a service under its pods' memory limit (128 Mi)
// whatever a client does, measured by TestMemoryUnderAttack: each open
// connection costs about 20 KB (a goroutine and its buffers), each request
// in flight more, a call to the backend with it. Past maxConns, a new
// connection waits in the kernel's queue until one closes; an idle one
// closes after idleTimeout. Past maxInFlight, a request gets 503 (Harden).
const (
	maxConns    = 1024
	maxInFlight = 256
	idleTimeout = 30 * time.Second
)

// maxHeaderBytes caps request headers (larger ones get 431). W3C caps
// baggage at 8192 bytes and tracestate at 32 members; nothing honest needs
// more than this.
const maxHeaderBytes = 32 << 10

// Server is a service's HTTP server.
type Server struct {
	*http.Server
	name   string // the service's, for the line that says it listens
	logger *slog.Logger
}

// New returns the server of the service name for handler, which has a
// timeout on every phase of a request, and logs its own complaints (a bad
// TLS handshake, a panic) as warnings.
func New(name string, handler http.Handler, logger *slog.Logger) *Server {
	return &Server{Server: &http.Server{
		Handler: handler,
		// A client that trickles its headers (slowloris) is cut off.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, name: name, logger: logger}
}

// Serve listens on addr (ADDR) and serves until ctx ends. Then it logs that
// the graceful stop has begun (Shutdown is next), and makes the next
// SIGINT or SIGTERM, from someone who will not wait for it, exit at once,
// with code 1: the requests still in flight get no answer, and their spans
// are lost.
func (s *Server) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return settings.Refused("ADDR", err)
	}
	s.logger.Info(s.name+" listening", "addr", ln.Addr().String(), "max_connections", maxConns, "max_in_flight", maxInFlight)
	ln = netutil.LimitListener(ln, maxConns)
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.Server.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.logger.Info("stopping: no new connections; waiting for requests in flight (a second signal stops at once)",
		"max_wait", DrainTimeout.String())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		s.logger.Error("second signal during the stop: exiting now, without waiting for the requests in flight",
			"signal", sig.String())
		os.Exit(1)
	}()
	return nil
}

// Package server holds what the demo's two services need around their
// handlers, beside the lesson of cmd/tracingdemo: an HTTP server with
// timeouts on every phase of a request, the middlewares that bound what a
// client can ask (harden.go), health checks, and the answers both give.
package server

import (
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/net/netutil"
)

// The bounds that keep a service under its pods' memory limit (128 Mi)
// whatever a client does, measured by TestMemoryUnderAttack: each open
// connection costs about 20 KB (a goroutine and its buffers), each request
// in flight more, a call to the backend with it. Past maxConns, a new
// connection waits in the kernel's queue until one closes; an idle one
// closes after idleTimeout. Past maxInFlight, a request gets 503
// (LimitInFlight).
const (
	maxConns    = 1024
	maxInFlight = 256
	idleTimeout = 30 * time.Second
)

// maxHeaderBytes caps request headers (larger ones get 431). W3C caps
// baggage at 8192 bytes and tracestate at 32 members; nothing honest needs
// more than this.
const maxHeaderBytes = 32 << 10

// New returns a server for handler with a timeout on every phase of a
// request, which logs its own complaints (a bad TLS handshake, a panic) as
// warnings. Its write timeout outlasts drain, a stop's wait for the
// requests in flight, so that a stop, not the timeout, ends the slowest.
func New(handler http.Handler, logger *slog.Logger, drain time.Duration) *http.Server {
	return &http.Server{
		Handler: handler,
		// A client that trickles its headers (slowloris) is cut off.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      2 * drain,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Listen listens on addr (ADDR) for the service name, at most maxConns
// connections at once, and logs that it does.
func Listen(name, addr string, logger *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	logger.Info(name+" listening", "addr", ln.Addr().String(), "max_connections", maxConns, "max_in_flight", maxInFlight)
	return netutil.LimitListener(ln, maxConns), nil
}

// OnSecondInterrupt calls cut on a second SIGINT during a stop: a person
// pressed Ctrl-C twice, and will not wait for the requests in flight. A
// second SIGTERM or SIGHUP changes nothing: a supervisor that sends its
// signal twice (GNU timeout does, to the child and to its group) or make's
// trap after the terminal's Ctrl-C would otherwise cut the flush short.
// Call the stop it returns once the stop is over.
func OnSecondInterrupt(logger *slog.Logger, cut func()) (stop func()) {
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

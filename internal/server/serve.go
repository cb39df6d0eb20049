// Package server is what both services need around their handlers: an HTTP
// server with a timeout on every phase of a request, the middlewares that
// bound what a client can ask (harden.go), and the answers both give.
package server

import (
	"log/slog"
	"net"
	"net/http"
	"time"
)

// The bounds that keep a service under its pods' 128 Mi whatever a client
// does (TestMemoryUnderAttack): an open connection costs about 20 KB, a
// request in flight more. Past maxConns, an idle connection makes room for
// a new one (conns.go); past maxInFlight, a request gets 503 (LimitInFlight).
// Headers past maxHeaderBytes get 431: W3C caps baggage at 8,192 bytes.
const (
	maxConns       = 1024
	maxInFlight    = 256
	maxHeaderBytes = 32 << 10
)

// New returns a server for handler with a timeout on every phase of a
// request, which logs its complaints (a panic, a bad handshake) as
// warnings. Its write timeout outlasts drain, a stop's wait for the
// requests in flight: a stop, not the timeout, ends the slowest.
func New(handler http.Handler, logger *slog.Logger, drain time.Duration) *http.Server {
	return &http.Server{
		Handler: handler,
		// A client that trickles its headers (slowloris) is cut off.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      2 * drain,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Listen listens on addr for srv, the server of the service name: at most
// maxConns connections, or fewer if the process may not open as many
// files, and at most perClient from one address (connLimiter). It logs the
// caps.
func Listen(srv *http.Server, name, addr string, perClient int, logger *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	conns, files := fitToFiles(maxConns)
	l := newConnLimiter(ln, conns, min(perClient, conns), logger)
	srv.ConnState = l.track
	logger.Info(name+" listening", "addr", ln.Addr().String(), "max_connections", conns, "max_per_client", l.perClient,
		"max_in_flight", maxInFlight, "open_files_limit", files)
	return l, nil
}

// Package backend is the service the frontend calls. Its spans join the
// frontend's trace because otelhttp reads the trace context from the
// request's traceparent header.
//
// This file holds the configuration and the life of the process; handler.go
// holds the path of a request.
package backend

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"go.opentelemetry.io/otel"

	"example.com/tracingdemo/server"
	"example.com/tracingdemo/tracing"
)

// DefaultAddr is where the backend listens unless ADDR says otherwise.
const DefaultAddr = ":8081"

// Run serves the backend on ADDR (default :8081) until ctx is done, then
// stops gracefully: the requests in flight finish, then their spans are
// flushed to the exporter. It logs to stdout. opts are passed to
// tracing.Setup.
func Run(ctx context.Context, stdout io.Writer, opts ...tracing.Option) (err error) {
	logger, err := tracing.NewLogger(stdout)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)

	addr := cmp.Or(os.Getenv("ADDR"), DefaultAddr)

	shutdownTracing, err := tracing.Setup(ctx, "backend", opts...)
	if err != nil {
		return err
	}
	defer func() {
		// Same order as the frontend: the server has drained; flush.
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, shutdownTracing(flushCtx))
	}()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &tracing.EnvError{Name: "ADDR", Value: addr, Reason: err.Error()}
	}
	logger.Info("backend listening", "addr", ln.Addr().String())

	handler := New(otel.GetTracerProvider(), otel.GetTextMapPropagator(), logger)
	return server.Serve(ctx, ln, handler, logger)
}

// Package frontend is the service users call. Its GET / calls the backend and
// relays the answer; one trace follows the request through both services.
//
// This file holds the configuration and the life of the process; handler.go
// holds the path of a request.
package frontend

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"time"

	"go.opentelemetry.io/otel"

	"example.com/tracingdemo/server"
	"example.com/tracingdemo/tracing"
)

// DefaultAddr is where the frontend listens unless ADDR says otherwise.
const DefaultAddr = ":8080"

// Config is the frontend's own settings, read from the environment. The
// OTEL_* variables are read by the tracing package.
type Config struct {
	Addr           string        // ADDR: where to listen
	BackendURL     *url.URL      // BACKEND_URL: where the backend listens
	JaegerUIURL    string        // JAEGER_UI_URL: base of the trace links in responses
	BackendTimeout time.Duration // BACKEND_TIMEOUT: how long to wait for the backend
}

// ConfigFromEnv reads Config, with the defaults for a run on one machine.
// A bad value is a *tracing.EnvError naming the variable.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		Addr:        cmp.Or(os.Getenv("ADDR"), DefaultAddr),
		JaegerUIURL: cmp.Or(os.Getenv("JAEGER_UI_URL"), "http://localhost:16686"),
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return cfg, &tracing.EnvError{Name: "ADDR", Value: cfg.Addr, Reason: "want host:port, e.g. :8080"}
	}
	var err error
	if cfg.BackendURL, err = tracing.ParseHTTPURL("BACKEND_URL", cmp.Or(os.Getenv("BACKEND_URL"), "http://localhost:8081")); err != nil {
		return cfg, err
	}
	if _, err = tracing.ParseHTTPURL("JAEGER_UI_URL", cfg.JaegerUIURL); err != nil {
		return cfg, err
	}
	timeout := cmp.Or(os.Getenv("BACKEND_TIMEOUT"), "12s")
	// The default outlasts the longest delay a user can ask for (10s).
	if cfg.BackendTimeout, err = time.ParseDuration(timeout); err != nil || cfg.BackendTimeout <= 0 {
		return cfg, &tracing.EnvError{Name: "BACKEND_TIMEOUT", Value: timeout, Reason: "want a positive Go duration, e.g. 12s"}
	}
	return cfg, nil
}

// Run serves the frontend until ctx is done, then stops gracefully: the
// requests in flight finish, then their spans are flushed to the exporter.
// It logs to stdout. opts are passed to tracing.Setup.
func Run(ctx context.Context, stdout io.Writer, opts ...tracing.Option) (err error) {
	logger, err := tracing.NewLogger(stdout)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)

	cfg, err := ConfigFromEnv()
	if err != nil {
		return err
	}

	shutdownTracing, err := tracing.Setup(ctx, "frontend", opts...)
	if err != nil {
		return err
	}
	defer func() {
		// Runs after the server has drained, so every finished request's
		// spans are in the queue. Bounded, in case Jaeger is unreachable.
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, shutdownTracing(flushCtx))
	}()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return &tracing.EnvError{Name: "ADDR", Value: cfg.Addr, Reason: err.Error()}
	}
	logger.Info("frontend listening", "addr", ln.Addr().String(), "backend", cfg.BackendURL.String())

	handler := New(cfg, otel.GetTracerProvider(), otel.GetTextMapPropagator(), logger)
	return server.Serve(ctx, ln, handler, logger)
}

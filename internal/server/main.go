package server

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/errlog"
	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/spanattrs"
	"example.com/tracingdemo/internal/spancount"
	"example.com/tracingdemo/tracing"
)

// A Service is one of the demo's services, as Main and Run start it.
type Service struct {
	Name        string // in the logs, and in Jaeger unless OTEL_SERVICE_NAME says otherwise
	DefaultAddr string // where it listens unless ADDR says otherwise
	// Handler builds the service's HTTP handler, once tracing is set up,
	// from the service's own settings in the environment.
	Handler func(trace.TracerProvider, propagation.TextMapPropagator, *slog.Logger) (http.Handler, error)
}

// Main is the whole main function of a service:
//   - SIGINT (Ctrl-C) and SIGTERM (docker stop) cancel Run's context, which
//     starts its graceful stop; a second one exits at once (stopOnSignals);
//   - Run's error is logged, and the process exits 2 for a bad setting, 1
//     for anything else;
//   - with -healthcheck, it instead asks the service already running on
//     ADDR for /healthz and exits 0 if it is healthy: the container health
//     check, in an image with no shell and no curl.
func Main(s Service) {
	healthcheck := flag.Bool("healthcheck", false, "check the running "+s.Name+"'s /healthz and exit")
	flag.Parse()
	if *healthcheck {
		if err := HealthCheck(cmp.Or(os.Getenv("ADDR"), s.DefaultAddr)); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		return
	}

	if err := Run(stopOnSignals(), os.Stdout, s); err != nil {
		slog.Error(s.Name+" stopped", "err", err)
		os.Exit(settings.ExitCode(err))
	}
}

// stopOnSignals returns a context that the first SIGINT or SIGTERM cancels.
// A second signal, from someone who will not wait for the graceful stop,
// exits at once, with code 1: the requests still in flight get no answer,
// and their spans are lost.
func stopOnSignals() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		cancel()
		sig := <-signals
		slog.Error("second signal during the stop: exiting now, without waiting for the requests in flight",
			"signal", sig.String())
		os.Exit(1)
	}()
	return ctx
}

// Run serves s on ADDR until ctx is done, then stops gracefully: the
// requests in flight finish, then their spans are flushed to the exporter,
// and the last log line says what became of the service's spans. It logs
// to stdout. opts are passed to tracing.Setup.
func Run(ctx context.Context, stdout io.Writer, s Service, opts ...tracing.Option) (err error) {
	logger, err := settings.NewLogger(stdout)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)

	addr := cmp.Or(os.Getenv("ADDR"), s.DefaultAddr)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return &settings.EnvError{Name: "ADDR", Value: addr, Reason: "want host:port, e.g. " + s.DefaultAddr}
	}
	if err := settings.CheckOTel(ctx); err != nil {
		return err
	}
	settings.SetOTelDefaults()

	// OpenTelemetry's own errors, such as exports that failed because
	// Jaeger is down, are logged at a bounded rate.
	exportErrors := errlog.Install()
	var spans spancount.Counts
	// Count the spans, and let no queued span keep its request alive.
	opts = append(append(spans.Options(logger), tracing.WithSpanProcessor(spanattrs.Copy())), opts...)
	shutdownTracing, err := tracing.Setup(ctx, s.Name, opts...)
	if err != nil {
		return fmt.Errorf("setting up tracing: %w", err)
	}
	defer func() {
		// Runs after the server has drained, so every finished request's
		// spans are in the queue. Bounded, in case Jaeger is unreachable.
		flushCtx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		if flushErr := shutdownTracing(flushCtx); flushErr != nil {
			// A tracing outage costs spans, not the service: it is no
			// reason to exit 1. The line "spans at stop" counts the loss.
			logger.Warn("the final flush of the spans did not finish", "err", flushErr)
		}
		exportErrors.Summarize()
		spans.Log(logger)
	}()

	handler, err := s.Handler(otel.GetTracerProvider(), otel.GetTextMapPropagator(), logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &settings.EnvError{Name: "ADDR", Value: addr, Reason: err.Error()}
	}
	logger.Info(s.Name+" listening", "addr", ln.Addr().String())
	if settings.NoJaeger() {
		logger.Info("no Jaeger configured: OTEL_TRACES_EXPORTER=" + os.Getenv("OTEL_TRACES_EXPORTER") +
			` prints each span to this output as one JSON object ("console"), or drops it ("none")`)
	}
	return Serve(ctx, ln, handler, logger)
}

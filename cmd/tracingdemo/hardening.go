package main

// What a real service adds to the lesson, as ordinary options: tracing/
// knows nothing of it, and the handlers only meet it at their edges.

import (
	"context"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/internal/sampling"
	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/spans"
	"example.com/tracingdemo/tracing"
)

// setupTracing is tracing.Setup, with what the services add to it:
//   - the spans are counted on their way to the exporter (spans.Count): a
//     line says while the service runs that spans are being dropped, and
//     at its stop how many reached the exporter and how many were lost;
//   - the sampler is built from the checked settings (internal/sampling):
//     jaeger_remote too, bounded, and a job's span follows its request;
//   - each attribute's value is cut at 1,024 characters, unless
//     OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise, and what a SERVER span
//     took from its request gets memory of its own, as valid UTF-8
//     (spans.OwnStrings);
//   - OpenTelemetry's own errors go to the log, at most a line per 10 s.
//
// Its shutdown flushes, then stops the sampler and logs the counts. It
// returns no error: an outage costs spans, not the service's exit code.
func setupTracing(name string, cfg *settings.Settings) (*sdktrace.TracerProvider, propagation.TextMapPropagator, func(context.Context) error, error) {
	exporter, err := tracing.NewExporter(context.Background())
	if err != nil {
		return nil, nil, nil, settings.Refused("OTEL_TRACES_EXPORTER", err)
	}
	if printed, dropped := spanSink(exporter); printed || dropped {
		exporterName := "none"
		if printed {
			exporterName = "console"
		}
		cfg.Logger.Info("no Jaeger configured: OTEL_TRACES_EXPORTER=" + exporterName +
			` prints each span to this output as one JSON object ("console"), or drops it ("none")`)
	} else if cfg.Frontend.JaegerUIURL == "" {
		cfg.Frontend.JaegerUIURL = "http://localhost:16686" // the frontend's trace links: a local Jaeger's UI
	}
	counts := spans.Count(exporter, cfg.Tracing.SpanCapacity)
	sampler, stopSampler := sampling.New(cfg.Tracing.ServiceName, cfg.Tracing.Sampler, cfg.Tracing.Ratio, cfg.Tracing.Remote)
	errorLog := spans.LogErrors()
	tp, propagator, shutdown, err := tracing.Setup(context.Background(), name, counts.Exporter(),
		sdktrace.WithSampler(sampler),
		sdktrace.WithSpanProcessor(counts), // counts the spans that end
		sdktrace.WithRawSpanLimits(cfg.Tracing.SpanLimits),
		sdktrace.WithSpanProcessor(spans.OwnStrings{}))
	if err != nil {
		stopSampler()
		return nil, nil, nil, err
	}
	errorLog.Start() // the errors from now on (ErrorLog.Start says why)
	return tp, propagator, func(ctx context.Context) error {
		// An outage costs spans, not the service: a flush that did not
		// finish is a warning, and the line of the counts says what it cost.
		if err := shutdown(ctx); err != nil {
			slog.Warn("the final flush of the spans did not finish", "err", err)
		}
		stopSampler()
		errorLog.Summary()
		counts.LogAtStop()
		return nil
	}, nil
}

// spanSink reports whether exporter sends the spans to no Jaeger at all:
// it prints them (OTEL_TRACES_EXPORTER=console), or drops them (none).
func spanSink(exporter sdktrace.SpanExporter) (printed, dropped bool) {
	_, printed = exporter.(*stdouttrace.Exporter)
	return printed, autoexport.IsNoneSpanExporter(exporter)
}

// newHandler builds the service's handler, hardened (server.Harden), and
// what finishes its jobs.
func newHandler(name string, cfg *settings.Settings, tp trace.TracerProvider, propagator propagation.TextMapPropagator) (http.Handler, func(context.Context)) {
	if name == "frontend" {
		public := !cfg.Frontend.TrustCallerTrace // a caller's trace is linked, not joined
		return server.Harden(frontend.New(cfg.Frontend, tp, propagator, cfg.Logger), public), func(context.Context) {}
	}
	jobs := backend.StartJobs(tp, propagator, cfg.Logger, backend.JobTrace(cfg.JobTrace))
	return server.Harden(backend.New(tp, propagator, cfg.Logger, jobs), false), jobs.Finish
}

// Package spancount follows the sampled spans of a service through the
// batcher, so that the service can say at its stop how many of them reached
// the exporter and how many were lost on the way. The SDK keeps the same
// count only in an experimental metric (OTEL_GO_X_OBSERVABILITY), which
// would need a MeterProvider of its own.
//
// A span ends, waits in the batcher's queue, and goes out in a batch. The
// queue is bounded: when Jaeger is slow or down and the queue is full, the
// batcher drops new spans rather than grow. So, once the batcher has
// flushed at the stop, spans ended = exported + failed + dropped.
package spancount

import (
	"context"
	"log/slog"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/tracing"
)

// Counts is what became of a service's spans.
type Counts struct {
	ended    atomic.Int64 // sampled spans that ended and entered the batcher
	exported atomic.Int64 // spans in batches the exporter sent
	failed   atomic.Int64 // spans in batches the exporter failed to send
}

// Options are the tracing.Setup options that make c count the spans: a span
// processor beside the batcher counts those that end, and a wrapper around
// the exporter counts what it sends.
func (c *Counts) Options() []tracing.Option {
	return []tracing.Option{
		tracing.WithSpanProcessor(endCounter{c}),
		tracing.WrapExporter(func(next sdktrace.SpanExporter) sdktrace.SpanExporter {
			return countingExporter{next, c}
		}),
	}
}

// Log writes the counts as the line "spans at stop", after the final
// flush. It is silent when no span ended, e.g. after a failed start, which
// must log one line only: the one that names the problem.
func (c *Counts) Log(logger *slog.Logger) {
	if ended := c.ended.Load(); ended > 0 {
		logger.Info("spans at stop", "ended", ended, "exported", c.exported.Load(),
			"failed", c.failed.Load(), "dropped", c.dropped())
	}
}

// dropped is the number of spans that ended but never reached the exporter:
// dropped from a full queue, or still queued when the final flush ran out of
// time.
func (c *Counts) dropped() int64 {
	return c.ended.Load() - c.exported.Load() - c.failed.Load()
}

type endCounter struct{ counts *Counts }

func (e endCounter) OnEnd(s sdktrace.ReadOnlySpan) {
	// The batcher ignores unsampled spans too (a recording, unsampled span
	// is possible with a custom sampler).
	if s.SpanContext().IsSampled() {
		e.counts.ended.Add(1)
	}
}

func (endCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (endCounter) Shutdown(context.Context) error                  { return nil }
func (endCounter) ForceFlush(context.Context) error                { return nil }

type countingExporter struct {
	sdktrace.SpanExporter
	counts *Counts
}

func (e countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		e.counts.failed.Add(int64(len(spans)))
	} else {
		e.counts.exported.Add(int64(len(spans)))
	}
	return err
}

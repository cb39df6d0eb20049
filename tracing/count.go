package tracing

import (
	"context"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// spanCounts follows the sampled spans through the batcher, so that a
// service can say at its stop how many of its spans reached the exporter and
// how many were lost on the way. The SDK keeps the same count only in an
// experimental metric (OTEL_GO_X_OBSERVABILITY), which would need a
// MeterProvider of its own.
//
// A span ends, waits in the batcher's queue, and goes out in a batch. The
// queue is bounded: when Jaeger is slow or down and the queue is full, the
// batcher drops new spans rather than grow. So, once the batcher has
// flushed at the stop, spans ended = exported + failed + dropped.
type spanCounts struct {
	ended    atomic.Int64 // sampled spans that ended and entered the batcher
	exported atomic.Int64 // spans in batches the exporter sent
	failed   atomic.Int64 // spans in batches the exporter failed to send
}

// dropped is the number of spans that ended but never reached the exporter:
// dropped from a full queue, or still queued when the final flush ran out of
// time.
func (c *spanCounts) dropped() int64 {
	return c.ended.Load() - c.exported.Load() - c.failed.Load()
}

// processor counts the spans that end. Register it next to the batcher.
func (c *spanCounts) processor() sdktrace.SpanProcessor { return endCounter{c} }

// exporter counts what next sends and fails to send.
func (c *spanCounts) exporter(next sdktrace.SpanExporter) sdktrace.SpanExporter {
	return countingExporter{next, c}
}

type endCounter struct{ counts *spanCounts }

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
	counts *spanCounts
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

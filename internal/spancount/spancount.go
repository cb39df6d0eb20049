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
//
// While the service runs, the same sum shows drops as they happen: the
// batcher holds at most its queue and the one batch being exported, so if
// more spans than that have ended and not come out of the exporter, the
// rest were dropped.
package spancount

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/internal/ratelimit"
	"example.com/tracingdemo/tracing"
)

// Counts is what became of a service's spans.
type Counts struct {
	ended    atomic.Int64 // sampled spans that ended and entered the batcher
	exported atomic.Int64 // spans in batches the exporter sent
	failed   atomic.Int64 // spans in batches the exporter failed to send

	logger   *slog.Logger      // where drops are reported as they happen
	capacity int64             // the most spans the batcher holds without dropping
	warned   ratelimit.Limiter // drops are reported at most once per 10 s
}

// New returns the Counts of a service whose drops are reported to logger,
// while it runs, at most once per 10 s (ratelimit.Limiter). Give the
// service's TracerProvider the exporter that Exporter wraps, and register
// the Counts on it as a span processor, after its batcher.
func New(logger *slog.Logger) *Counts {
	return &Counts{logger: logger, capacity: batcherCapacity()}
}

// Exporter wraps next, so that c counts what it sends and fails to send.
func (c *Counts) Exporter(next sdktrace.SpanExporter) sdktrace.SpanExporter {
	return countingExporter{next, c}
}

// Log writes the counts as the line "spans at stop", after the final
// flush. It is silent when no span ended.
func (c *Counts) Log() {
	ended := c.ended.Load()
	if ended == 0 {
		return
	}
	level := slog.LevelInfo
	if c.notExported() > 0 || c.failed.Load() > 0 {
		level = slog.LevelWarn
	}
	c.logger.Log(context.Background(), level, "spans at stop", "ended", ended, "exported", c.exported.Load(),
		"failed", c.failed.Load(), "dropped", c.notExported())
}

// batcherCapacity is the batcher's queue plus one batch, as the SDK and
// tracing.Setup read them from the environment (an unusable value leaves
// the default).
func batcherCapacity() int64 {
	queue := envInt("OTEL_BSP_MAX_QUEUE_SIZE", 2048)
	batch := min(envInt("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", tracing.DefaultBatchSize), queue)
	return queue + batch
}

func envInt(name string, fallback int64) int64 {
	n, err := strconv.ParseInt(os.Getenv(name), 10, 64)
	if err != nil || n <= 0 {
		return fallback
	}
	return n
}

// reportDrops logs, at most once per 10 s, that spans have been
// dropped, and at least how many: the batcher cannot hold more than its
// capacity. The exact count comes in the line at the stop.
func (c *Counts) reportDrops() {
	waiting := c.notExported()
	if waiting <= c.capacity {
		return
	}
	if !c.warned.Allow() {
		return
	}
	c.logger.Warn("spans dropped: the exporter cannot keep up, and the batcher's queue is full",
		"dropped_at_least", waiting-c.capacity, "queue_and_batch", c.capacity)
}

// notExported is the number of spans that ended and have not come out of
// the exporter: while the service runs, those waiting in the batcher and
// those dropped; after the final flush, those dropped from a full queue or
// still queued when the flush ran out of time.
func (c *Counts) notExported() int64 {
	return c.ended.Load() - c.exported.Load() - c.failed.Load()
}

// OnEnd makes Counts a span processor that counts the spans that end. It
// runs after the batcher's own OnEnd (registered after it), so a span it
// counts is already queued or dropped.
func (c *Counts) OnEnd(s sdktrace.ReadOnlySpan) {
	// The batcher ignores unsampled spans too (a recording, unsampled span
	// is possible with a custom sampler).
	if s.SpanContext().IsSampled() {
		c.ended.Add(1)
		c.reportDrops()
	}
}

func (*Counts) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (*Counts) Shutdown(context.Context) error                  { return nil }
func (*Counts) ForceFlush(context.Context) error                { return nil }

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

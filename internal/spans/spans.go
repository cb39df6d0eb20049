// Package spans is the span accounting of the demo's services, beside the
// lesson: Batcher is the SDK's batcher, which tracing.Setup gives the
// TracerProvider, with what a real service adds around it:
//   - a span whose attribute the length limit cut gets strings of its own
//     before it is queued, so that it keeps nothing of its request alive
//     (copy.go; server.Harden does the same for the request line);
//   - OpenTelemetry's own errors, mostly failed exports, are logged at a
//     bounded rate (errors.go);
//   - the spans are counted through the batcher, so that a service says
//     while it runs that spans are being dropped, and at its stop how many
//     reached the exporter and how many were lost on the way. The SDK keeps
//     that count only in an experimental metric (OTEL_GO_X_OBSERVABILITY),
//     which would need a MeterProvider of its own.
//
// A span ends, waits in the batcher's queue, and goes out in a batch. The
// queue is bounded: when Jaeger is slow or down and the queue is full, the
// batcher drops new spans rather than grow. So, once the batcher has
// flushed at the stop, spans ended = exported + failed + dropped. While the
// service runs, the same sum shows drops as they happen: the batcher holds
// at most its queue and the one batch being exported, so if more spans
// than that have ended and not come out of the exporter, the rest were
// dropped.
package spans

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/internal/ratelimit"
)

// DefaultBatchSize is how many spans the batcher sends per export, unless
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise: 128, not the SDK's 512.
// Each batch is a burst of work, in this process and in Jaeger; smaller
// bursts delay fewer requests. Measured by `make bench` at 1,000 req/s over
// OTLP/HTTP (docs/performance.md): 512 added about 4 ms to the p99 latency,
// 128 about 1.7 ms, 2,048 about 20 ms; 64 cost more CPU than 128 for no
// better p99.
const DefaultBatchSize = 128

// defaultQueueSize is the SDK's own OTEL_BSP_MAX_QUEUE_SIZE default.
const defaultQueueSize = 2048

// MaxAttributeLength bounds a span attribute's value, in characters,
// unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT (or its span-only twin) says
// otherwise; the SDK sets no bound. Span attributes copy what a caller
// sends (user_agent.original, url.path, up to the 36 KiB header cap), and
// while Jaeger is slow up to 2,048 spans wait in memory.
const MaxAttributeLength = 1024

// Limits returns the SDK's span limits (the OTEL_SPAN_* and OTEL_ATTRIBUTE_*
// variables), with MaxAttributeLength where neither length variable is set.
func Limits() sdktrace.SpanLimits {
	limits := sdktrace.NewSpanLimits()
	if os.Getenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT") == "" && os.Getenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") == "" {
		limits.AttributeValueLengthLimit = MaxAttributeLength
	}
	return limits
}

// batcher is the SDK's batcher, counted.
type batcher struct {
	sdktrace.SpanProcessor // the SDK's batcher, which exports through countingExporter

	ended    atomic.Int64 // sampled spans that ended and entered the batcher
	exported atomic.Int64 // spans in batches the exporter sent
	failed   atomic.Int64 // spans in batches the exporter failed to send

	capacity int64             // the most spans the batcher holds without dropping
	limit    int               // the attribute length limit (Limits): a value this long may be cut
	warned   ratelimit.Limiter // drops are reported at most once per 10 s
	errors   *errorHandler
}

// Batcher returns the SDK's batcher for exporter, with the accounting
// around it, and makes OpenTelemetry's errors go to slog.Default at a
// bounded rate. Its Shutdown, which TracerProvider.Shutdown calls, flushes
// the batcher, then logs the line "spans at stop" (silent when no span
// ended).
func Batcher(exporter sdktrace.SpanExporter) sdktrace.SpanProcessor {
	queue := envInt("OTEL_BSP_MAX_QUEUE_SIZE", defaultQueueSize)
	batch := min(envInt("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", DefaultBatchSize), queue)
	b := &batcher{capacity: queue + batch, limit: Limits().AttributeValueLengthLimit, errors: installErrorHandler()}
	// The other OTEL_BSP_* variables are the SDK's to read.
	b.SpanProcessor = sdktrace.NewBatchSpanProcessor(countingExporter{exporter, b},
		sdktrace.WithMaxQueueSize(int(queue)), sdktrace.WithMaxExportBatchSize(int(batch)))
	return b
}

// envInt reads the variable name as a positive number, or fallback if it
// is unset; the SDK falls back the same way on a value it cannot use.
func envInt(name string, fallback int64) int64 {
	n, err := strconv.ParseInt(os.Getenv(name), 10, 64)
	if err != nil || n <= 0 {
		return fallback
	}
	return n
}

// OnEnd queues the span, with strings of its own (copy.go), and counts it
// once the batcher has queued or dropped it.
func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	// The batcher ignores unsampled spans too (a recording, unsampled span
	// is possible with a custom sampler).
	if !s.SpanContext().IsSampled() {
		return
	}
	b.SpanProcessor.OnEnd(ownStrings(s, b.limit))
	b.ended.Add(1)
	b.reportDrops()
}

// Shutdown flushes the batcher, then says what became of the spans.
func (b *batcher) Shutdown(ctx context.Context) error {
	err := b.SpanProcessor.Shutdown(ctx)
	if err != nil {
		slog.Warn("the final flush of the spans did not finish", "err", err)
	}
	b.errors.summarize()
	if ended := b.ended.Load(); ended > 0 {
		level := slog.LevelInfo
		if b.notExported() > 0 || b.failed.Load() > 0 {
			level = slog.LevelWarn
		}
		slog.Log(context.Background(), level, "spans at stop", "ended", ended, "exported", b.exported.Load(),
			"failed", b.failed.Load(), "dropped", b.notExported())
	}
	return err
}

// reportDrops logs, at most once per 10 s, that spans have been dropped,
// and at least how many: the batcher cannot hold more than its capacity.
// The exact count comes in the line at the stop.
func (b *batcher) reportDrops() {
	waiting := b.notExported()
	if waiting <= b.capacity || !b.warned.Allow() {
		return
	}
	slog.Warn("spans dropped: the exporter cannot keep up, and the batcher's queue is full",
		"dropped_at_least", waiting-b.capacity, "queue_and_batch", b.capacity)
}

// notExported is the number of spans that ended and have not come out of
// the exporter: while the service runs, those waiting in the batcher and
// those dropped; after the final flush, those dropped from a full queue or
// still queued when the flush ran out of time.
func (b *batcher) notExported() int64 {
	return b.ended.Load() - b.exported.Load() - b.failed.Load()
}

type countingExporter struct {
	sdktrace.SpanExporter
	counts *batcher
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

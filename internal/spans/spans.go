// Package spans is the span accounting of the demo's services, given to
// tracing.Setup as ordinary options. A span ends, waits in the batcher's
// bounded queue, and goes out in a batch; when the exporter cannot keep up
// and the queue is full, the batcher drops new spans. So, after the final
// flush, ended = exported + failed + dropped, and while the service runs,
// more spans ended and not yet out of the exporter than the batcher holds
// means some were dropped. (The SDK keeps that count only in an
// experimental metric, which would need a MeterProvider.)
package spans

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/time/rate"
)

// Counts is a span processor that counts the sampled spans that end, and
// the spans its Exporter sends or fails to send. Register it after the
// batcher that exports through Exporter.
type Counts struct {
	exporter                sdktrace.SpanExporter
	ended, exported, failed atomic.Int64
	capacity                int64          // the batcher's queue and one batch
	warn                    rate.Sometimes // a drop is logged at most once per 10 s
}

// Count returns the counts of the spans that go through exporter, from a
// batcher that holds capacity spans at most: its queue and one batch.
func Count(exporter sdktrace.SpanExporter, capacity int) *Counts {
	return &Counts{exporter: exporter, capacity: int64(capacity), warn: rate.Sometimes{Interval: 10 * time.Second}}
}

// Exporter is the exporter given to Count, counted: give it to the batcher.
func (c *Counts) Exporter() sdktrace.SpanExporter { return countingExporter{c.exporter, c} }

// OnEnd counts a sampled span (the batcher ignores the others), and says
// when spans are being dropped.
func (c *Counts) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	c.ended.Add(1)
	if waiting := c.notExported(); waiting > c.capacity {
		c.warn.Do(func() {
			slog.Warn("spans dropped: the exporter cannot keep up, and the batcher's queue is full",
				"dropped_at_least", waiting-c.capacity, "queue_and_batch", c.capacity)
		})
	}
}

func (*Counts) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (*Counts) Shutdown(context.Context) error                  { return nil }
func (*Counts) ForceFlush(context.Context) error                { return nil }

// LogAtStop logs the line "spans at stop" once the TracerProvider has shut
// down; nothing if no span ended.
func (c *Counts) LogAtStop() {
	ended := c.ended.Load()
	if ended == 0 {
		return
	}
	level := slog.LevelInfo
	if c.notExported() > 0 || c.failed.Load() > 0 {
		level = slog.LevelWarn
	}
	slog.Log(context.Background(), level, "spans at stop", "ended", ended, "exported", c.exported.Load(),
		"failed", c.failed.Load(), "dropped", c.notExported())
}

// notExported is the spans that ended and have not come out of the
// exporter: while the service runs, those in the batcher and those
// dropped; after the final flush, those dropped.
func (c *Counts) notExported() int64 { return c.ended.Load() - c.exported.Load() - c.failed.Load() }

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

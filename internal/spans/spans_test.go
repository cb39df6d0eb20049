package spans_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/internal/spans"
	"example.com/tracingdemo/internal/testkit"
)

// stuckExporter holds every batch until release is closed, as an exporter
// does while Jaeger does not answer, then fails or accepts it. It is the
// receiver: it counts what it got and what it accepted, so that the test
// checks the service's own counts against it.
type stuckExporter struct {
	release            chan struct{}
	fail               bool
	received, accepted atomic.Int64
}

func (e *stuckExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	select {
	case <-e.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	e.received.Add(int64(len(spans)))
	if e.fail {
		return errors.New("traces export: connection refused")
	}
	e.accepted.Add(int64(len(spans)))
	return nil
}

func (*stuckExporter) Shutdown(context.Context) error { return nil }

// TestSpansAtStop: the line logged at the stop accounts for every span.
// With a queue of 4 and an exporter that does not answer, 20 spans cannot
// all wait: the batcher drops the rest, and the line says how many.
func TestSpansAtStop(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       bool
		wantFailed bool
	}{
		{name: "export succeeds", fail: false},
		{name: "export fails", fail: true, wantFailed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := textLogs(t)
			exporter := &stuckExporter{release: make(chan struct{}), fail: tc.fail}
			tp, counts := countedProvider(exporter, 4, 4)
			for range 20 {
				_, span := tp.Tracer("test").Start(context.Background(), "work")
				span.End()
			}
			// The drops are reported as they happen, before the stop: the
			// 9th span could not fit in a queue of 4 and a batch of 4.
			assert.Contains(t, buf.String(), `level=WARN msg="spans dropped: the exporter cannot keep up, and the batcher's queue is full" dropped_at_least=1 queue_and_batch=8`)
			assert.Equal(t, 1, strings.Count(buf.String(), "spans dropped"), "once per interval")

			close(exporter.release)
			require.NoError(t, tp.Shutdown(context.Background()))
			counts.LogAtStop()

			_, line, found := strings.Cut(buf.String(), `level=WARN msg="spans at stop" `)
			require.True(t, found, buf.String())
			var ended, exported, failed, dropped int
			_, err := fmt.Sscanf(line, "ended=%d exported=%d failed=%d dropped=%d", &ended, &exported, &failed, &dropped)
			require.NoError(t, err, line)
			assert.Equal(t, 20, ended, line)
			// Against the receiver's own count: what it accepted was
			// exported, what it got and refused failed, and what never
			// reached it was dropped.
			assert.EqualValues(t, exporter.accepted.Load(), exported, "exported, against what the receiver accepted: %s", line)
			assert.EqualValues(t, exporter.received.Load()-exporter.accepted.Load(), failed, "failed, against what the receiver refused: %s", line)
			assert.EqualValues(t, 20-exporter.received.Load(), dropped, "dropped, against what never reached the receiver: %s", line)
			// At most 4 wait in the queue and 4 in the batch being exported.
			assert.GreaterOrEqual(t, dropped, 20-8, line)
			if tc.wantFailed {
				assert.Zero(t, exported, line)
				assert.Positive(t, failed, line)
			} else {
				assert.Positive(t, exported, line)
				assert.Zero(t, failed, line)
			}
		})
	}
}

// TestSilentWithoutSpans: a service that stopped before any span ended (a
// bad setting) logs nothing about spans: its one line names the problem.
func TestSilentWithoutSpans(t *testing.T) {
	buf := textLogs(t)
	tp, counts := countedProvider(&stuckExporter{}, 4, 4)
	require.NoError(t, tp.Shutdown(context.Background()))
	counts.LogAtStop()
	assert.Empty(t, buf.String())
}

// countedProvider is a TracerProvider whose batcher, of a queue and a
// batch of the sizes given, exports through the counts of exporter, as
// cmd/tracingdemo wires them (TestSpansCountedAsWired tests that wiring).
func countedProvider(exporter sdktrace.SpanExporter, queue, batch int) (*sdktrace.TracerProvider, *spans.Counts) {
	counts := spans.Count(exporter, queue+batch)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(counts.Exporter(), sdktrace.WithMaxQueueSize(queue), sdktrace.WithMaxExportBatchSize(batch)),
		sdktrace.WithSpanProcessor(counts))
	return tp, counts
}

// textLogs sends slog.Default, where the accounting logs, to a buffer for
// the test, as text.
func textLogs(t *testing.T) *testkit.SyncBuffer { return testkit.DefaultLog(t, slog.NewTextHandler) }

package tracing_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/tracing"
)

// stuckExporter holds every batch until release is closed, as an exporter
// does while Jaeger does not answer, then fails or accepts it.
type stuckExporter struct {
	release chan struct{}
	fail    bool
}

func (e *stuckExporter) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	select {
	case <-e.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	if e.fail {
		return errors.New("traces export: connection refused")
	}
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
			setOTelEnv(t, map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "4", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4"})
			var buf bytes.Buffer
			defer slog.SetDefault(slog.Default())
			slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))

			exporter := &stuckExporter{release: make(chan struct{}), fail: tc.fail}
			shutdown := setup(t, "svc", tracing.WithExporter(exporter))
			for range 20 {
				_, span := otel.Tracer("test").Start(context.Background(), "work")
				span.End()
			}
			close(exporter.release)
			require.NoError(t, shutdown(context.Background()))

			_, line, found := strings.Cut(buf.String(), `msg="spans at stop" `)
			require.True(t, found, buf.String())
			var ended, exported, failed, dropped int
			_, err := fmt.Sscanf(line, "ended=%d exported=%d failed=%d dropped=%d", &ended, &exported, &failed, &dropped)
			require.NoError(t, err, line)
			assert.Equal(t, 20, ended, line)
			assert.Equal(t, ended, exported+failed+dropped, line)
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

// batchSizes records the size of each batch it is given.
type batchSizes struct {
	mu    sync.Mutex
	sizes []int
}

func (b *batchSizes) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes = append(b.sizes, len(spans))
	return nil
}

func (*batchSizes) Shutdown(context.Context) error { return nil }

// TestBatchSize: batches of 128 spans unless OTEL_BSP_MAX_EXPORT_BATCH_SIZE
// says otherwise (see defaultBatchSize).
func TestBatchSize(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want []int
	}{
		{env: "", want: []int{128, 128, 44}},
		{env: "100", want: []int{100, 100, 100}},
	} {
		t.Run("OTEL_BSP_MAX_EXPORT_BATCH_SIZE="+tc.env, func(t *testing.T) {
			// A long schedule delay: only a full batch or the stop sends.
			setOTelEnv(t, map[string]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": tc.env, "OTEL_BSP_SCHEDULE_DELAY": "60000"})
			exporter := &batchSizes{}
			shutdown := setup(t, "svc", tracing.WithExporter(exporter))
			for range 300 {
				_, span := otel.Tracer("test").Start(context.Background(), "work")
				span.End()
			}
			require.NoError(t, shutdown(context.Background()))
			assert.Equal(t, tc.want, exporter.sizes)
		})
	}
}

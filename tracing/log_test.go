package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/tracing"
)

var spanContext = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	TraceFlags: trace.FlagsSampled,
})

func TestLoggerAddsTraceIDs(t *testing.T) {
	t.Setenv("LOG_FORMAT", "")
	var buf bytes.Buffer
	logger, err := tracing.NewLogger(&buf)
	require.NoError(t, err)

	ctx := trace.ContextWithSpanContext(context.Background(), spanContext)
	logger.With("service", "test").InfoContext(ctx, "in a span")
	logger.Info("outside any span")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var inSpan, outside map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &inSpan))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &outside))
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", inSpan["trace_id"])
	assert.Equal(t, "00f067aa0ba902b7", inSpan["span_id"])
	assert.Equal(t, "test", inSpan["service"])
	assert.NotContains(t, outside, "trace_id")
}

func TestLoggerText(t *testing.T) {
	t.Setenv("LOG_FORMAT", "text")
	var buf bytes.Buffer
	logger, err := tracing.NewLogger(&buf)
	require.NoError(t, err)
	logger.InfoContext(trace.ContextWithSpanContext(context.Background(), spanContext), "hello")
	assert.Contains(t, buf.String(), "msg=hello trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7")
}

func TestLoggerBadFormat(t *testing.T) {
	t.Setenv("LOG_FORMAT", "xml")
	_, err := tracing.NewLogger(&bytes.Buffer{})
	var envErr *tracing.EnvError
	require.ErrorAs(t, err, &envErr)
	assert.Equal(t, "LOG_FORMAT", envErr.Name)
}

// TestExportErrorsDoNotFlood: while Jaeger is down, every batch fails;
// the log gets one line, and a count of the rest at shutdown.
func TestExportErrorsDoNotFlood(t *testing.T) {
	setOTelEnv(t, nil)
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))

	shutdown := setup(t, "svc")
	for range 100 {
		otel.Handle(errors.New("traces export: connection refused"))
	}
	require.NoError(t, shutdown(context.Background()))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	assert.Contains(t, lines[0], `"err":"traces export: connection refused","errors_suppressed":0`)
	assert.Contains(t, lines[1], `"errors_suppressed":99`)
}

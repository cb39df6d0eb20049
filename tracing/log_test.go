package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/tracing"
)

var spanContext = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	TraceFlags: trace.FlagsSampled,
})

func TestLogHandlerAddsTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil)))

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

// TestLogHandlerInGroup: under logger.WithGroup, the IDs stay at the top
// level of the line, where a search by trace_id finds them; the group
// keeps the attributes logged inside it, in order.
func TestLogHandlerInGroup(t *testing.T) {
	ctx := trace.ContextWithSpanContext(context.Background(), spanContext)
	var text bytes.Buffer
	logger := slog.New(tracing.LogHandler(slog.NewTextHandler(&text, nil)))
	logger.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").InfoContext(ctx, "hello", "k", "v")
	assert.Contains(t, text.String(), "msg=hello a=1 g.b=2 g.h.k=v trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7\n")

	var js bytes.Buffer
	logger = slog.New(tracing.LogHandler(slog.NewJSONHandler(&js, nil)))
	logger.WithGroup("g").InfoContext(ctx, "hello", "k", "v")
	var line map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &line))
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", line["trace_id"])
	assert.Equal(t, map[string]any{"k": "v"}, line["g"])

	js.Reset()
	logger.WithGroup("g").Info("outside any span") // an empty group is left out, as slog does
	assert.NotContains(t, js.String(), `"g"`)
}

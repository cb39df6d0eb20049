package spans_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"

	"example.com/tracingdemo/internal/spans"
)

// jsonLogs sends slog.Default to a buffer for the test, as JSON.
func jsonLogs(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// TestExportErrorsDoNotFlood: while Jaeger is down, every batch fails;
// the log gets one line, and a count of the rest at the stop.
func TestExportErrorsDoNotFlood(t *testing.T) {
	buf := jsonLogs(t)
	errorLog := spans.LogErrors()
	otel.Handle(errors.New("unsupported sampler: jaeger_remote")) // before Start: dropped
	errorLog.Start()
	for range 100 {
		otel.Handle(errors.New("traces export: connection refused"))
	}
	errorLog.Summary()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	assert.Contains(t, lines[0], `"err":"traces export: connection refused","errors_suppressed":0`)
	assert.Contains(t, lines[1], `"errors_suppressed":99`)

	// Nothing held back since: no line.
	buf.Reset()
	errorLog.Summary()
	assert.Empty(t, buf.String())
}

// TestExportErrorCut: an export error that carries the collector's whole
// answer, here one that echoes a bearer token after 300 bytes and names
// baggage, is logged once, cut short: what went wrong, not what the
// collector sent back. Every error is one line per 10 s at most, whatever
// its words.
func TestExportErrorCut(t *testing.T) {
	buf := jsonLogs(t)
	spans.LogErrors().Start()
	for range 20 {
		otel.Handle(errors.New("traces export: failed to send to http://collector:4318/v1/traces: 400 Bad Request (body: baggage " +
			strings.Repeat("x", 130<<10) + " token Bearer SECRET-TOKEN-42)"))
	}
	assert.Contains(t, buf.String(), "traces export: failed to send to http://collector:4318/v1/traces: 400 Bad Request")
	assert.NotContains(t, buf.String(), "SECRET-TOKEN-42")
	assert.Equal(t, 1, strings.Count(buf.String(), "\n"), "one line:\n%s", buf)
	assert.Less(t, buf.Len(), 600)
}

package spans

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// TestExportErrorsDoNotFlood: while Jaeger is down, every batch fails;
// the log gets one line, and a count of the rest at the stop.
func TestExportErrorsDoNotFlood(t *testing.T) {
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))

	h := installErrorHandler()
	for range 100 {
		otel.Handle(errors.New("traces export: connection refused"))
	}
	h.summarize()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	assert.Contains(t, lines[0], `"err":"traces export: connection refused","errors_suppressed":0`)
	assert.Contains(t, lines[1], `"errors_suppressed":99`)

	// Nothing held back since: no line.
	buf.Reset()
	h.summarize()
	assert.Empty(t, buf.String())
}

// TestRemoteSamplerIsNoError: the SDK reports the sampler jaeger_remote as
// unsupported before tracing.Setup gives it one; that is not logged.
func TestRemoteSamplerIsNoError(t *testing.T) {
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	installErrorHandler()
	otel.Handle(errors.New("unsupported sampler: jaeger_remote"))
	assert.Empty(t, buf.String())
	otel.Handle(errors.New("unsupported sampler: sometimes"))
	assert.Contains(t, buf.String(), "unsupported sampler: sometimes")
}

// TestCallersBaggageIsNoError: a caller that sends too much baggage gets a
// WARN line, not an ERROR, and does not hold back the next real error.
func TestCallersBaggageIsNoError(t *testing.T) {
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	installErrorHandler()

	header := http.Header{}
	var members []string
	for i := range 100 { // the W3C limit is 64
		members = append(members, fmt.Sprintf("k%d=v", i))
	}
	header.Set("baggage", strings.Join(members, ","))
	propagation.Baggage{}.Extract(context.Background(), propagation.HeaderCarrier(header))
	otel.Handle(errors.New("traces export: connection refused"))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	assert.Contains(t, lines[0], `"level":"WARN","msg":"a caller sent a malformed baggage header; it was ignored","err":"too many list-members in baggage-string"`)
	assert.Contains(t, lines[1], `"level":"ERROR","msg":"opentelemetry error","err":"traces export: connection refused"`)
}

// TestExportErrorCut: an export error that carries the collector's whole
// answer, here one that echoes a bearer token after 300 bytes, is logged
// cut short: what went wrong, not what the collector sent back.
func TestExportErrorCut(t *testing.T) {
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	installErrorHandler()
	otel.Handle(errors.New("traces export: failed to send to http://collector:4318/v1/traces: 401 Unauthorized (body: " +
		strings.Repeat("x", 300) + " token Bearer SECRET-TOKEN-42)"))
	assert.Contains(t, buf.String(), "traces export: failed to send to http://collector:4318/v1/traces: 401 Unauthorized")
	assert.NotContains(t, buf.String(), "SECRET-TOKEN-42")
	assert.Less(t, buf.Len(), 600)
}

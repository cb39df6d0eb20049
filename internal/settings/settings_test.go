package settings_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/testkit"
	"example.com/tracingdemo/tracing"
)

// These tests read and write the process environment: they use t.Setenv
// and do not run in parallel. Load makes its logger slog's default:
// TestMain puts the default back after them.
func TestMain(m *testing.M) {
	defer slog.SetDefault(slog.Default())
	m.Run()
}

func TestBadSettings(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantName string // the variable the error must name
	}{
		{"unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"unknown traces protocol", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{"endpoint without scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"endpoint not a URL", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:43 18"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"traces endpoint without host", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{"jaeger endpoint wrong scheme", map[string]string{"OTEL_EXPORTER_JAEGER_ENDPOINT": "udp://jaeger:6831"}, "OTEL_EXPORTER_JAEGER_ENDPOINT"},
		{"unknown sampler", map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"},
		{"ratio above 1", map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG"},
		{"ratio not a number", map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG"},
		{"ratio below 0", map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "-0.1"}, "OTEL_TRACES_SAMPLER_ARG"},
		{"unknown propagator", map[string]string{"OTEL_PROPAGATORS": "tracecontext,w3c"}, "OTEL_PROPAGATORS"},
		{"SDK disabled not a boolean", map[string]string{"OTEL_SDK_DISABLED": "yes please"}, "OTEL_SDK_DISABLED"},
		{"remote sampler, unknown key", remote("endpoint=http://jaeger:5778/sampling,interval=5"), "OTEL_TRACES_SAMPLER_ARG"},
		{"remote sampler, not key=value", remote("http://jaeger:5778/sampling"), "OTEL_TRACES_SAMPLER_ARG"},
		{"remote sampler, endpoint not http", remote("endpoint=jaeger:5778"), "OTEL_TRACES_SAMPLER_ARG"},
		{"remote sampler, interval not a number", remote("pollingIntervalMs=5s"), "OTEL_TRACES_SAMPLER_ARG"},
		{"remote sampler, interval zero", remote("pollingIntervalMs=0"), "OTEL_TRACES_SAMPLER_ARG"},
		{"remote sampler, rate above 1", remote("initialSamplingRate=2"), "OTEL_TRACES_SAMPLER_ARG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.SetOTelEnv(t, tt.env)
			_, err := settings.Load()
			require.Error(t, err)
			var envErr *settings.EnvError
			require.ErrorAs(t, err, &envErr)
			assert.Equal(t, tt.wantName, envErr.Name)
			assert.Contains(t, err.Error(), tt.wantName)
			assert.Equal(t, 2, settings.ExitCode(err))
		})
	}
}

// remote is the environment of the jaeger_remote sampler with arg.
func remote(arg string) map[string]string {
	return map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG": arg}
}

func TestRemoteSamplerAccepted(t *testing.T) {
	for _, arg := range []string{
		"",
		"endpoint=http://jaeger:5778/sampling",
		"endpoint=http://localhost:5778/sampling,pollingIntervalMs=5000,initialSamplingRate=0.25",
		" pollingIntervalMs = 100 , initialSamplingRate = 1 ",
	} {
		testkit.SetOTelEnv(t, remote(arg))
		_, err := settings.Load()
		assert.NoError(t, err, arg)
	}
}

// TestGoodSettingsAccepted: values the check lets through are ones that
// tracing.NewExporter and tracing.Setup take. (The values that those two
// refuse themselves are tested with the binary, in cmd/tracingdemo.)
func TestGoodSettingsAccepted(t *testing.T) {
	testkit.SetOTelEnv(t, map[string]string{
		"OTEL_TRACES_SAMPLER":           "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":       "0.25",
		"OTEL_PROPAGATORS":              "tracecontext,baggage,b3",
		"OTEL_RESOURCE_ATTRIBUTES":      "deployment.environment.name=demo",
		"OTEL_EXPORTER_OTLP_ENDPOINT":   "https://collector.example:4318",
		"OTEL_EXPORTER_JAEGER_ENDPOINT": "http://jaeger:14268/api/traces",
		"OTEL_SDK_DISABLED":             "false",
		"OTEL_TRACES_EXPORTER":          "none",
	})
	_, err := settings.Load()
	require.NoError(t, err)
	exporter, err := tracing.NewExporter(context.Background())
	require.NoError(t, err)
	tp, _, err := tracing.Setup(context.Background(), "svc", exporter)
	require.NoError(t, err)
	require.NoError(t, tp.Shutdown(context.Background()))
}

func TestExitCode(t *testing.T) {
	assert.Equal(t, 2, settings.ExitCode(&settings.EnvError{Name: "ADDR"}))
	assert.Equal(t, 1, settings.ExitCode(os.ErrClosed))
}

func TestLoggerFormats(t *testing.T) {
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	}))
	for _, tt := range []struct{ format, want string }{
		{"", `"msg":"hello","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`},
		{"json", `"msg":"hello","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`},
		{"text", "msg=hello trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7"},
	} {
		t.Run("LOG_FORMAT="+tt.format, func(t *testing.T) {
			t.Setenv("LOG_FORMAT", tt.format)
			var buf bytes.Buffer
			logger, err := settings.NewLogger(&buf)
			require.NoError(t, err)
			logger.InfoContext(ctx, "hello")
			assert.Contains(t, buf.String(), tt.want)
		})
	}
}

func TestLoggerBadFormat(t *testing.T) {
	t.Setenv("LOG_FORMAT", "xml")
	_, err := settings.NewLogger(&bytes.Buffer{})
	var envErr *settings.EnvError
	require.ErrorAs(t, err, &envErr)
	assert.Equal(t, "LOG_FORMAT", envErr.Name)
}

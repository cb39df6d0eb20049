package settings_test

import (
	"bytes"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/testkit"
	"example.com/tracingdemo/params"
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
		{"resource attribute without a value", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team"}, "OTEL_RESOURCE_ATTRIBUTES"},
		{"queue not a number", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "-1"}, "OTEL_BSP_MAX_QUEUE_SIZE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.SetOTelEnv(t, tt.env)
			_, err := settings.Load("frontend", nil)
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
		_, err := settings.Load("frontend", nil)
		assert.NoError(t, err, arg)
	}
}

// TestGoodSettingsAccepted: values the check lets through. That
// tracing.NewExporter and tracing.Setup take them too is tested in
// tracing (TestGoodSettingsTaken); the values that those two refuse
// themselves are tested with the binary, in cmd/tracingdemo.
func TestGoodSettingsAccepted(t *testing.T) {
	testkit.SetOTelEnv(t, testkit.GoodSettings)
	_, err := settings.Load("frontend", nil)
	require.NoError(t, err)
}

func TestExitCode(t *testing.T) {
	assert.Equal(t, 2, settings.ExitCode(&settings.EnvError{Name: "ADDR"}))
	assert.Equal(t, 1, settings.ExitCode(os.ErrClosed))
}

func TestLoggerBadFormat(t *testing.T) {
	t.Setenv("LOG_FORMAT", "xml")
	_, err := settings.NewLogger(&bytes.Buffer{}, nil)
	var envErr *settings.EnvError
	require.ErrorAs(t, err, &envErr)
	assert.Equal(t, "LOG_FORMAT", envErr.Name)
}

// TestFrontendSettings: the frontend's own settings, their defaults, and a
// bad value of each, refused naming its variable.
func TestFrontendSettings(t *testing.T) {
	testkit.SetOTelEnv(t, nil)
	s, err := settings.Load("frontend", nil)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8081", s.Frontend.BackendURL.String())
	assert.Equal(t, settings.DefaultBackendTimeout, s.Frontend.BackendTimeout)
	assert.False(t, s.Frontend.TrustCallerTrace)
	assert.False(t, s.Frontend.NetworkSpans)
	for name, bad := range map[string]string{
		"BACKEND_URL": "localhost:8081", "JAEGER_UI_URL": "http://admin:PASSWORD99@jaeger:16686", "BACKEND_TIMEOUT": "0s", "TRUST_CALLER_TRACE": "yes",
		"NETWORK_SPANS": "1",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, bad)
			_, err := settings.Load("frontend", nil)
			var envErr *settings.EnvError
			require.ErrorAs(t, err, &envErr)
			assert.Equal(t, name, envErr.Name)
			_, err = settings.Load("backend", nil)
			assert.NoError(t, err, "the backend does not read %s", name)
		})
	}
	t.Setenv("BACKEND_TIMEOUT", "6m")
	_, err = settings.Load("frontend", nil)
	assert.ErrorContains(t, err, `bad setting BACKEND_TIMEOUT="6m": want a positive Go duration of at most 5m`)
	t.Setenv("BACKEND_TIMEOUT", "")

	t.Setenv("JOB_TRACE", "sideways")
	_, err = settings.Load("backend", nil)
	assert.ErrorContains(t, err, `bad setting JOB_TRACE="sideways": want "link" or "child"`)
}

// TestRefusedURLHidesPassword: a refused URL is named with its password
// shown as xxxxx.
func TestRefusedURLHidesPassword(t *testing.T) {
	_, err := settings.ParseHTTPURL("BACKEND_URL", "ftp://alice:PASSWORD99@backend:8081")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "PASSWORD99")
	assert.Contains(t, err.Error(), `bad setting BACKEND_URL="ftp://alice:xxxxx@backend:8081"`)
}

// TestTimeoutsInOrder: the stop's wait for the requests in flight outlasts
// the frontend's wait for the backend, whatever BACKEND_TIMEOUT says, so
// that a stop never cuts short a request that would have been answered.
// (The server's write timeout is twice the drain: server.New.)
func TestTimeoutsInOrder(t *testing.T) {
	for _, timeout := range []string{"", "300ms", "12s", "40s", "5m"} {
		testkit.SetOTelEnv(t, nil)
		t.Setenv("BACKEND_TIMEOUT", timeout)
		s, err := settings.Load("frontend", nil)
		require.NoError(t, err, timeout)
		assert.Greater(t, s.DrainTimeout, s.Frontend.BackendTimeout, "BACKEND_TIMEOUT=%s", timeout)
		assert.Greater(t, s.DrainTimeout, params.MaxDelay, "BACKEND_TIMEOUT=%s", timeout)
	}
}

// TestSamplerSettings: what the sampler is built from, read from the
// variables as the SDK reads them.
func TestSamplerSettings(t *testing.T) {
	testkit.SetOTelEnv(t, map[string]string{"OTEL_TRACES_SAMPLER": " TraceIDRatio ", "OTEL_TRACES_SAMPLER_ARG": "0.25", "OTEL_SERVICE_NAME": "shop"})
	s, err := settings.Load("frontend", nil)
	require.NoError(t, err)
	assert.Equal(t, "traceidratio", s.Tracing.Sampler)
	assert.Equal(t, 0.25, s.Tracing.Ratio)
	assert.Equal(t, "shop", s.Tracing.ServiceName)

	t.Setenv("OTEL_SDK_DISABLED", "true")
	s, err = settings.Load("frontend", nil)
	require.NoError(t, err)
	assert.Equal(t, "always_off", s.Tracing.Sampler, "OTEL_SDK_DISABLED samples nothing")
}

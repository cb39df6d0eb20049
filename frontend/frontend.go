// Package frontend is the service users call. Its GET / calls the backend and
// relays the answer; one trace follows the request through both services.
//
// handler.go holds the path of a request, the lesson; this file the
// frontend's settings, and answer.go how it answers.
package frontend

import (
	"cmp"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
)

// Config is the frontend's own settings. The OTEL_* variables are read by
// the OpenTelemetry SDK (tracing.Setup).
type Config struct {
	BackendURL     *url.URL      // BACKEND_URL: where the backend listens
	JaegerUIURL    string        // JAEGER_UI_URL: base of the trace links in answers; "": no links
	BackendTimeout time.Duration // BACKEND_TIMEOUT: how long to wait for the backend
	// TRUST_CALLER_TRACE=true: join a caller's trace, for a frontend behind
	// a gateway of ours that traces; by default a caller's trace is only
	// linked (tracing.Middleware).
	TrustCallerTrace bool
}

// FromEnv is New with the Config in the environment: cmd/tracingdemo
// builds the frontend with it.
func FromEnv(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger) (http.Handler, error) {
	cfg, err := configFromEnv()
	if err != nil {
		return nil, err
	}
	return New(cfg, tp, propagator, logger), nil
}

// configFromEnv reads Config, with the defaults for a run on one machine.
// A bad value is a *settings.EnvError naming the variable.
func configFromEnv() (Config, error) {
	cfg := Config{JaegerUIURL: os.Getenv("JAEGER_UI_URL")}
	// With spans sent to no Jaeger, a link to one would lead nowhere.
	if cfg.JaegerUIURL == "" && !settings.NoJaeger() {
		cfg.JaegerUIURL = "http://localhost:16686"
	}
	var err error
	if cfg.BackendURL, err = settings.ParseHTTPURL("BACKEND_URL", cmp.Or(os.Getenv("BACKEND_URL"), "http://localhost:8081")); err != nil {
		return cfg, err
	}
	if cfg.JaegerUIURL != "" {
		if _, err = settings.ParseHTTPURL("JAEGER_UI_URL", cfg.JaegerUIURL); err != nil {
			return cfg, err
		}
	}
	switch v := os.Getenv("TRUST_CALLER_TRACE"); v {
	case "", "false":
	case "true":
		cfg.TrustCallerTrace = true
	default:
		return cfg, &settings.EnvError{Name: "TRUST_CALLER_TRACE", Value: v, Reason: `want "true" or "false"`}
	}
	timeout := cmp.Or(os.Getenv("BACKEND_TIMEOUT"), server.BackendTimeout.String())
	if cfg.BackendTimeout, err = time.ParseDuration(timeout); err != nil || cfg.BackendTimeout <= 0 {
		return cfg, &settings.EnvError{Name: "BACKEND_TIMEOUT", Value: timeout, Reason: "want a positive Go duration, e.g. 12s"}
	}
	return cfg, nil
}

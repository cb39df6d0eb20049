// Package settings reads and checks the services' settings, all of them
// environment variables: a bad value stops a service at start, with exit
// code 2 and a message that names the variable.
package settings

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/internal/params"
	"example.com/tracingdemo/internal/sampling"
)

// EnvError is a bad value in an environment variable. The services stop at
// start with exit code 2 and this message, which names the variable.
type EnvError struct {
	Name   string // the variable, e.g. OTEL_TRACES_SAMPLER
	Value  string // what it was set to
	Reason string // what was wrong, and what is allowed
	Secret bool   // the value may hold a secret: the message leaves it out
}

// Error names the variable and the reason, and the value, but for a
// secret; a URL's password is shown as xxxxx.
func (e *EnvError) Error() string {
	if e.Secret {
		return fmt.Sprintf("bad setting %s (its value is not shown: it may hold a secret): %s", e.Name, e.Reason)
	}
	value := e.Value
	if u, err := url.Parse(value); err == nil && u.User != nil {
		value = u.Redacted()
	}
	return fmt.Sprintf("bad setting %s=%q: %s", e.Name, value, e.Reason)
}

// ExitCode is the exit status for a service that stopped with err: 2 for a
// bad setting (an *EnvError), 1 for anything else.
func ExitCode(err error) int {
	var envErr *EnvError
	if errors.As(err, &envErr) {
		return 2
	}
	return 1
}

// Refused is the error err of a library that refused the value of the
// variable name, as a bad setting.
func Refused(name string, err error) error {
	return &EnvError{Name: name, Value: os.Getenv(name), Reason: err.Error()}
}

// Settings are the services' own settings, and what the hardening added
// to tracing.Setup needs of the OTEL_* ones, read and checked.
type Settings struct {
	Logger   *slog.Logger // LOG_FORMAT
	Frontend Frontend     // the frontend's; zero in the backend
	JobTrace string       // the backend's JOB_TRACE: "link" (the default) or "child"
	Tracing  Tracing
	// How long a stop may take: the requests in flight, then the jobs, get
	// DrainTimeout; then the final flush of the spans FlushTimeout.
	DrainTimeout, FlushTimeout time.Duration
}

// Tracing is what the services' sampler and span accounting need of the
// OTEL_* variables (the SDK reads them too).
type Tracing struct {
	ServiceName  string          // OTEL_SERVICE_NAME, or the service's own
	Sampler      string          // OTEL_TRACES_SAMPLER, or always_off with OTEL_SDK_DISABLED=true
	Ratio        float64         // OTEL_TRACES_SAMPLER_ARG, for the ratio samplers
	Remote       sampling.Config // OTEL_TRACES_SAMPLER_ARG, for jaeger_remote
	SpanCapacity int             // the batcher's queue and one batch (OTEL_BSP_*)
	SpanLimits   sdktrace.SpanLimits
}

// DefaultBackendTimeout is how long the frontend waits for the backend,
// unless BACKEND_TIMEOUT says otherwise: longer than the largest delay a
// caller may ask for.
const DefaultBackendTimeout = params.MaxDelay + 2*time.Second

// Frontend is the frontend's settings.
type Frontend struct {
	BackendURL     *url.URL      // BACKEND_URL: where the backend listens
	JaegerUIURL    string        // JAEGER_UI_URL: base of the trace links in answers; "": no links
	BackendTimeout time.Duration // BACKEND_TIMEOUT: how long to wait for the backend
	// TRUST_CALLER_TRACE=true: join a caller's trace, for a frontend behind
	// a gateway of ours that traces; by default a caller's trace is only
	// linked (the public edge).
	TrustCallerTrace bool
}

// Load reads and checks the settings of service, frontend or backend, and
// makes its logger, whose handler wrap wraps (nil: none), slog's default
// first, so that a bad setting is reported in the service's own format.
// OpenTelemetry's own log lines go through it too.
func Load(service string, wrap func(slog.Handler) slog.Handler) (*Settings, error) {
	logger, err := NewLogger(os.Stdout, wrap)
	if err != nil {
		return nil, err
	}
	slog.SetDefault(logger)
	otel.SetLogger(logr.FromSlogHandler(logger.Handler()))

	s := &Settings{Logger: logger, FlushTimeout: 5 * time.Second}
	if s.Tracing, err = loadTracing(service); err != nil {
		return nil, err
	}
	backendTimeout := DefaultBackendTimeout
	if service == "frontend" {
		s.Frontend, err = loadFrontend()
		backendTimeout = s.Frontend.BackendTimeout
	} else {
		s.JobTrace, err = oneOf("JOB_TRACE", "link", "link", "child")
	}
	// A stop never cuts short a request still waiting for the backend: the
	// drain outlasts that wait (and the server's write timeout, twice the
	// drain, outlasts both).
	s.DrainTimeout = max(backendTimeout, DefaultBackendTimeout) + 3*time.Second
	return s, err
}

// loadFrontend reads the frontend's settings, with the defaults for a run
// on one machine.
func loadFrontend() (Frontend, error) {
	f := Frontend{JaegerUIURL: os.Getenv("JAEGER_UI_URL")}
	var err error
	if f.BackendURL, err = ParseHTTPURL("BACKEND_URL", cmp.Or(os.Getenv("BACKEND_URL"), "http://localhost:8081")); err != nil {
		return f, err
	}
	if f.JaegerUIURL != "" {
		u, err := ParseHTTPURL("JAEGER_UI_URL", f.JaegerUIURL)
		if err != nil {
			return f, err
		}
		if u.User != nil { // every answer's trace link would carry it to the caller
			return f, &EnvError{Name: "JAEGER_UI_URL", Value: f.JaegerUIURL, Reason: "want no user or password in it: it goes to every caller, in the trace link"}
		}
		if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(f.JaegerUIURL, "?") || strings.HasSuffix(f.JaegerUIURL, "#") {
			return f, &EnvError{Name: "JAEGER_UI_URL", Value: f.JaegerUIURL, Reason: "want no ? or # in it: /trace/{id} is added to its end"}
		}
	}
	if f.TrustCallerTrace, err = params.ParseBool(os.Getenv("TRUST_CALLER_TRACE")); err != nil {
		return f, Refused("TRUST_CALLER_TRACE", err)
	}
	timeout := cmp.Or(os.Getenv("BACKEND_TIMEOUT"), DefaultBackendTimeout.String())
	f.BackendTimeout, err = time.ParseDuration(timeout)
	if err != nil || f.BackendTimeout <= 0 || f.BackendTimeout > 5*time.Minute {
		return f, &EnvError{Name: "BACKEND_TIMEOUT", Value: timeout, Reason: "want a positive Go duration of at most 5m, e.g. 12s"}
	}
	return f, nil
}

// ParseHTTPURL reads the value of the variable name as an absolute http or
// https URL with a host (params.HTTPURL). A bad value is an *EnvError
// naming the variable.
func ParseHTTPURL(name, value string) (*url.URL, error) {
	u, err := params.HTTPURL(value)
	if err != nil {
		return nil, &EnvError{Name: name, Value: value, Reason: err.Error()}
	}
	return u, nil
}

// oneOf reads the variable name, which must be one of values; fallback
// when it is unset.
func oneOf(name, fallback string, values ...string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return fallback, nil
	}
	if err := choice(values...)(v); err != nil {
		return "", &EnvError{Name: name, Value: v, Reason: err.Error()}
	}
	return v, nil
}

// NewLogger returns the logger both services use, writing to w: one JSON
// object per line, or key=value text with LOG_FORMAT=text; wrap, if not
// nil, wraps its handler.
func NewLogger(w io.Writer, wrap func(slog.Handler) slog.Handler) (*slog.Logger, error) {
	format, err := oneOf("LOG_FORMAT", "json", "json", "text")
	if err != nil {
		return nil, err
	}
	var h slog.Handler = slog.NewJSONHandler(w, nil)
	if format == "text" {
		h = slog.NewTextHandler(w, nil)
	}
	if wrap != nil {
		h = wrap(h)
	}
	return slog.New(h), nil
}

// wholeNumber reads v as a whole number from min to max.
func wholeNumber(v string, min, max int64) (int64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= min && n <= max
}

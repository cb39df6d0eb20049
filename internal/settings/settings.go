// Package settings reads and checks the services' settings, all of them
// environment variables. A bad value stops a service at start, with exit
// code 2 and one line that names the variable.
package settings

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/internal/sampling"
)

// EnvError is a bad value of an environment variable.
type EnvError struct {
	Name, Value, Reason string
	Secret              bool // the value may hold a secret: Error leaves it out
}

func (e *EnvError) Error() string {
	if e.Secret {
		return fmt.Sprintf("bad setting %s (its value is not shown: it may hold a secret): %s", e.Name, e.Reason)
	}
	value := e.Value
	if u, err := url.Parse(value); err == nil && u.User != nil {
		value = u.Redacted() // the password as xxxxx
	}
	return fmt.Sprintf("bad setting %s=%q: %s", e.Name, value, e.Reason)
}

// ExitCode is 0 for no error, 2 for a bad setting (an *EnvError), 1 for
// any other error.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	if _, ok := errors.AsType[*EnvError](err); ok {
		return 2
	}
	return 1
}

// Refused is err, a library's refusal of the value of the variable name,
// as a bad setting.
func Refused(name string, err error) error {
	return &EnvError{Name: name, Value: os.Getenv(name), Reason: err.Error()}
}

// Settings are the services' own settings, and what the hardening needs of
// the OTEL_* ones (the SDK reads those itself).
type Settings struct {
	Logger   *slog.Logger // LOG_FORMAT
	Frontend Frontend     // the frontend's; zero in the backend
	JobTrace string       // the backend's JOB_TRACE: "link" (the default) or "child"
	Tracing  Tracing
	// MAX_CONNECTIONS_PER_CLIENT: the connections one address may hold.
	MaxConnsPerClient int
	// A stop gives the requests in flight, then the jobs, DrainTimeout;
	// then the final flush of the spans FlushTimeout.
	DrainTimeout, FlushTimeout time.Duration
}

// Tracing is what the sampler and the span accounting need.
type Tracing struct {
	ServiceName  string          // OTEL_SERVICE_NAME, or the service's own
	Sampler      string          // OTEL_TRACES_SAMPLER; always_off with OTEL_SDK_DISABLED=true
	Ratio        float64         // OTEL_TRACES_SAMPLER_ARG, for the ratio samplers
	Remote       sampling.Config // OTEL_TRACES_SAMPLER_ARG, for jaeger_remote
	SpanCapacity int             // the batcher's queue and one batch (OTEL_BSP_*)
	SpanLimits   sdktrace.SpanLimits
}

// DefaultBackendTimeout is how long the frontend waits for the backend,
// unless BACKEND_TIMEOUT says otherwise: 2 s more than the longest delay a
// caller may ask for (params.MaxDelay).
const DefaultBackendTimeout = 12 * time.Second

// Frontend is the frontend's settings.
type Frontend struct {
	BackendURL     *url.URL      // BACKEND_URL
	JaegerUIURL    string        // JAEGER_UI_URL: base of the trace links in answers; "": none
	BackendTimeout time.Duration // BACKEND_TIMEOUT
	// TRUST_CALLER_TRACE=true joins a caller's trace, for a frontend
	// behind a gateway of ours; by default it is only linked (the public edge).
	TrustCallerTrace bool
	// NETWORK_SPANS=true makes each call's network steps child spans of
	// its CLIENT span; by default they are events on it.
	NetworkSpans bool
}

// Load reads and checks the settings of service, frontend or backend. It
// first makes the logger, whose handler wrap wraps (nil: none), slog's
// default and OpenTelemetry's, so that a bad setting is reported in the
// service's own format.
func Load(service string, wrap func(slog.Handler) slog.Handler) (*Settings, error) {
	queue := newLineQueue(os.Stdout) // a stalled reader holds up nothing (logs.go)
	logger, err := NewLogger(queue, wrap)
	if err != nil {
		return nil, err
	}
	queue.direct, _ = NewLogger(os.Stdout, wrap) // checked just above
	stdout = queue
	slog.SetDefault(logger)
	otel.SetLogger(logr.FromSlogHandler(logger.Handler()))

	s := &Settings{Logger: logger, FlushTimeout: 5 * time.Second}
	if s.Tracing, err = loadTracing(service); err != nil {
		return nil, err
	}
	perClient := cmp.Or(os.Getenv("MAX_CONNECTIONS_PER_CLIENT"), "256")
	if err := number(1, 1024, "connections")(perClient); err != nil {
		return nil, &EnvError{Name: "MAX_CONNECTIONS_PER_CLIENT", Value: perClient, Reason: err.Error()}
	}
	s.MaxConnsPerClient, _ = strconv.Atoi(perClient)
	backendTimeout := DefaultBackendTimeout
	if service == "frontend" {
		s.Frontend, err = loadFrontend()
		backendTimeout = s.Frontend.BackendTimeout
	} else {
		s.JobTrace, err = oneOf("JOB_TRACE", "link", "child")
	}
	// A stop never cuts short a request still waiting for the backend: the
	// drain outlasts that wait (and the server's write timeout, twice the
	// drain, outlasts both).
	s.DrainTimeout = max(backendTimeout, DefaultBackendTimeout) + 3*time.Second
	return s, err
}

func loadFrontend() (Frontend, error) {
	f := Frontend{JaegerUIURL: os.Getenv("JAEGER_UI_URL")}
	var err error
	if f.BackendURL, err = ParseHTTPURL("BACKEND_URL", cmp.Or(os.Getenv("BACKEND_URL"), "http://localhost:8081")); err != nil {
		return f, err
	}
	if v := f.JaegerUIURL; v != "" {
		u, err := ParseHTTPURL("JAEGER_UI_URL", v)
		switch {
		case err != nil:
			return f, err
		case u.User != nil: // every answer's trace link would carry it to the caller
			return f, &EnvError{Name: "JAEGER_UI_URL", Value: v, Reason: "want no user or password in it: it goes to every caller, in the trace link"}
		case strings.ContainsAny(v, "?#"):
			return f, &EnvError{Name: "JAEGER_UI_URL", Value: v, Reason: "want no ? or # in it: /trace/{id} is added to its end"}
		}
	}
	if f.TrustCallerTrace, err = flag("TRUST_CALLER_TRACE"); err != nil {
		return f, err
	}
	if f.NetworkSpans, err = flag("NETWORK_SPANS"); err != nil {
		return f, err
	}
	timeout := cmp.Or(os.Getenv("BACKEND_TIMEOUT"), DefaultBackendTimeout.String())
	f.BackendTimeout, err = time.ParseDuration(timeout)
	if err != nil || f.BackendTimeout <= 0 || f.BackendTimeout > 5*time.Minute {
		return f, &EnvError{Name: "BACKEND_TIMEOUT", Value: timeout, Reason: "want a positive Go duration of at most 5m, e.g. 12s"}
	}
	return f, nil
}

// ParseHTTPURL reads value, of the variable name, as an absolute http or
// https URL with a host.
func ParseHTTPURL(name, value string) (*url.URL, error) {
	u, err := httpURL(value)
	if err != nil {
		return nil, &EnvError{Name: name, Value: value, Reason: err.Error()}
	}
	return u, nil
}

func httpURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("want an http:// or https:// URL with a host, e.g. http://localhost:4318")
	}
	return u, nil
}

// oneOf reads the variable name, one of values; the first when unset.
func oneOf(name string, values ...string) (string, error) {
	v := cmp.Or(os.Getenv(name), values[0])
	if err := choice(values...)(v); err != nil {
		return "", &EnvError{Name: name, Value: v, Reason: err.Error()}
	}
	return v, nil
}

// flag reads the variable name: "false" (the default) or "true".
func flag(name string) (bool, error) {
	v, err := oneOf(name, "false", "true")
	return v == "true", err
}

// choice wants one of values.
func choice(values ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(values, v) {
			return fmt.Errorf(`want "%s"`, strings.Join(values, `" or "`))
		}
		return nil
	}
}

// NewLogger returns the services' logger, writing to w: one JSON object per
// line, or key=value text with LOG_FORMAT=text; wrap, if not nil, wraps its
// handler.
func NewLogger(w io.Writer, wrap func(slog.Handler) slog.Handler) (*slog.Logger, error) {
	format, err := oneOf("LOG_FORMAT", "json", "text")
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

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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/net/http/httpguts"

	"example.com/tracingdemo/internal/params"
	"example.com/tracingdemo/internal/remotesampler"
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

// Settings are the services' own settings, read and checked. The OTEL_*
// variables are read by the OpenTelemetry libraries themselves.
type Settings struct {
	Logger   *slog.Logger // LOG_FORMAT
	Frontend Frontend     // the frontend's; zero in the backend
	JobTrace string       // the backend's JOB_TRACE: "link" (the default) or "child"
}

// BackendTimeout is how long the frontend waits for the backend, unless
// BACKEND_TIMEOUT says otherwise: longer than the largest delay a caller
// may ask for (server.DrainTimeout lists the bounds in order).
const BackendTimeout = params.MaxDelay + 2*time.Second

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
//
// The OpenTelemetry libraries read every OTEL_* variable themselves. Some
// refuse a bad value with an error, which tracing.Setup reports as a bad
// setting (Refused): autoexport an unknown exporter, the SDK a bad
// resource attribute. Others only log it and quietly use a default: a typo
// in the sampler or the endpoint would send every span somewhere else, or
// nowhere. Those are checked here, first, so that a demo fails loudly.
func Load(service string, wrap func(slog.Handler) slog.Handler) (*Settings, error) {
	logger, err := NewLogger(os.Stdout, wrap)
	if err != nil {
		return nil, err
	}
	slog.SetDefault(logger)
	// OpenTelemetry's own log lines (a header it cannot read, say) go
	// through the same handler, not in a format of their own to stderr.
	otel.SetLogger(logr.FromSlogHandler(logger.Handler()))
	if _, err := sdkDisabled(); err != nil {
		return nil, err
	}
	if err := checkNumbers(); err != nil {
		return nil, err
	}
	if err := checkHeaders(); err != nil {
		return nil, err
	}
	if err := checkSampler(); err != nil {
		return nil, err
	}
	// autoexport refuses an unknown protocol, but names neither variable.
	for _, name := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		if _, err := oneOf(name, "", "http/protobuf", "grpc"); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_JAEGER_ENDPOINT"} {
		if v := os.Getenv(name); v != "" {
			if _, err := ParseHTTPURL(name, v); err != nil {
				return nil, err
			}
		}
	}
	// autoprop.NewTextMapPropagator would only log an unknown name and fall
	// back to the default; asking for the names gets the error.
	if names := os.Getenv("OTEL_PROPAGATORS"); names != "" {
		if _, err := autoprop.TextMapPropagator(strings.Split(names, ",")...); err != nil {
			return nil, &EnvError{Name: "OTEL_PROPAGATORS", Value: names, Reason: err.Error()}
		}
	}
	if NoJaeger() {
		logger.Info("no Jaeger configured: OTEL_TRACES_EXPORTER=" + os.Getenv("OTEL_TRACES_EXPORTER") +
			` prints each span to this output as one JSON object ("console"), or drops it ("none")`)
	}
	s := &Settings{Logger: logger}
	if service == "frontend" {
		s.Frontend, err = loadFrontend()
	} else {
		s.JobTrace, err = oneOf("JOB_TRACE", "link", "link", "child")
	}
	return s, err
}

// loadFrontend reads the frontend's settings, with the defaults for a run
// on one machine.
func loadFrontend() (Frontend, error) {
	f := Frontend{JaegerUIURL: os.Getenv("JAEGER_UI_URL")}
	// With spans sent to no Jaeger, a link to one would lead nowhere.
	if f.JaegerUIURL == "" && !NoJaeger() {
		f.JaegerUIURL = "http://localhost:16686"
	}
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
	}
	if f.TrustCallerTrace, err = params.ParseBool(os.Getenv("TRUST_CALLER_TRACE")); err != nil {
		return f, Refused("TRUST_CALLER_TRACE", err)
	}
	timeout := cmp.Or(os.Getenv("BACKEND_TIMEOUT"), BackendTimeout.String())
	if f.BackendTimeout, err = time.ParseDuration(timeout); err != nil || f.BackendTimeout <= 0 {
		return f, &EnvError{Name: "BACKEND_TIMEOUT", Value: timeout, Reason: "want a positive Go duration, e.g. 12s"}
	}
	return f, nil
}

// numbers are the numeric OTEL_* settings that the SDK and the exporter
// read, each a whole number within bounds: the SDK takes what it cannot
// read, and what is out of range, without a word, and a typo would undo a
// bound (an attribute length "abc" means no limit at all), a negative
// queue panics, and a queue of two billion spans is allocated at start.
// The queue's bound keeps a full queue of spans, each at most about 32
// attributes of 1,024 characters, well under the pods' memory limit.
var numbers = []struct {
	name     string
	min, max int64
	unit     string
}{
	{"OTEL_BSP_MAX_QUEUE_SIZE", 1, 16384, "spans"},
	{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1, 16384, "spans"},
	{"OTEL_BSP_SCHEDULE_DELAY", 1, 60000, "milliseconds"},
	{"OTEL_BSP_EXPORT_TIMEOUT", 1, 300000, "milliseconds"},
	{"OTEL_EXPORTER_OTLP_TIMEOUT", 1, 300000, "milliseconds"},
	{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 1, 300000, "milliseconds"},
	{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 1, 65536, "characters"},
	{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", 1, 65536, "characters"},
	{"OTEL_ATTRIBUTE_COUNT_LIMIT", 0, 1024, "attributes"},
	{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", 0, 1024, "attributes"},
	{"OTEL_SPAN_EVENT_COUNT_LIMIT", 0, 1024, "events"},
	{"OTEL_SPAN_LINK_COUNT_LIMIT", 0, 1024, "links"},
	{"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", 0, 1024, "attributes"},
	{"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", 0, 1024, "attributes"},
}

func checkNumbers() error {
	for _, n := range numbers {
		v := os.Getenv(n.name)
		if v == "" {
			continue
		}
		if i, err := strconv.ParseInt(v, 10, 64); err != nil || i < n.min || i > n.max {
			return &EnvError{Name: n.name, Value: v, Reason: fmt.Sprintf("want a whole number of %s from %d to %d", n.unit, n.min, n.max)}
		}
	}
	return nil
}

// checkHeaders checks the headers that the OTLP exporter sends, as it reads
// them (key=value,…, each value %-escaped): it leaves out a pair it cannot
// read, with a log line that shows the value, a secret such as an API key.
// The error names the key at most, never the value.
func checkHeaders() error {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		v := os.Getenv(name)
		if v == "" {
			continue
		}
		for i, pair := range strings.Split(v, ",") {
			key, value, found := strings.Cut(pair, "=")
			key = strings.TrimSpace(key)
			reason := ""
			if _, err := url.PathUnescape(value); !found || !httpguts.ValidHeaderFieldName(key) {
				reason = fmt.Sprintf("pair %d is not key=value with a header name for key", i+1)
			} else if err != nil {
				reason = fmt.Sprintf("the value of %s has a bad %%-escape", strconv.Quote(key))
			}
			if reason != "" {
				return &EnvError{Name: name, Reason: reason + "; want key=value,… with each value %-escaped", Secret: true}
			}
		}
	}
	return nil
}

// SDKDisabled reports whether OTEL_SDK_DISABLED turns tracing off, which
// the SDK leaves to programs; Load has refused a value it cannot read.
func SDKDisabled() bool {
	disabled, _ := sdkDisabled()
	return disabled
}

func sdkDisabled() (bool, error) {
	v := os.Getenv("OTEL_SDK_DISABLED")
	if v == "" {
		return false, nil
	}
	disabled, err := strconv.ParseBool(v)
	if err != nil {
		return false, &EnvError{Name: "OTEL_SDK_DISABLED", Value: v, Reason: `want "true" or "false"`}
	}
	return disabled, nil
}

// sdkSamplers are the SDK's six samplers, by the names OTEL_TRACES_SAMPLER
// gives them ("" is its default), each built as the SDK builds it from the
// ratio of OTEL_TRACES_SAMPLER_ARG, which only the ratio samplers read.
var sdkSamplers = map[string]func(ratio float64) sdktrace.Sampler{
	"":                       func(float64) sdktrace.Sampler { return sdktrace.ParentBased(sdktrace.AlwaysSample()) },
	"parentbased_always_on":  func(float64) sdktrace.Sampler { return sdktrace.ParentBased(sdktrace.AlwaysSample()) },
	"parentbased_always_off": func(float64) sdktrace.Sampler { return sdktrace.ParentBased(sdktrace.NeverSample()) },
	"always_on":              func(float64) sdktrace.Sampler { return sdktrace.AlwaysSample() },
	"always_off":             func(float64) sdktrace.Sampler { return sdktrace.NeverSample() },
	"traceidratio":           func(r float64) sdktrace.Sampler { return sdktrace.TraceIDRatioBased(r) },
	"parentbased_traceidratio": func(r float64) sdktrace.Sampler {
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r))
	},
}

// SDKSampler is the sampler OTEL_TRACES_SAMPLER names, one of the SDK's
// six (sdkSamplers); Load has refused any other name, and a ratio out of
// range. With OTEL_SDK_DISABLED=true, which the SDK leaves to programs, it
// samples nothing.
func SDKSampler() sdktrace.Sampler {
	if SDKDisabled() {
		return sdktrace.NeverSample()
	}
	ratio, _ := samplerRatio()
	return sdkSamplers[Sampler()](ratio)
}

// Sampler is OTEL_TRACES_SAMPLER as the SDK reads it: trimmed, in lower case.
func Sampler() string {
	return strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER")))
}

// samplerRatio is OTEL_TRACES_SAMPLER_ARG as the ratio samplers read it:
// 1.0, as the SDK's, when it is unset.
func samplerRatio() (float64, error) {
	arg := os.Getenv("OTEL_TRACES_SAMPLER_ARG")
	if strings.TrimSpace(arg) == "" {
		return 1, nil
	}
	ratio, err := params.Ratio(arg)
	if err != nil {
		return 0, &EnvError{Name: "OTEL_TRACES_SAMPLER_ARG", Value: arg, Reason: err.Error() + ", e.g. 0.1"}
	}
	return ratio, nil
}

// checkSampler accepts the SDK's samplers, with a ratio from 0 to 1 for the
// two that take one, and jaeger_remote, which tracing.Setup builds.
func checkSampler() error {
	switch sampler := Sampler(); {
	case sampler == remotesampler.Name:
		if err := remotesampler.CheckArg(os.Getenv("OTEL_TRACES_SAMPLER_ARG")); err != nil {
			return Refused("OTEL_TRACES_SAMPLER_ARG", err)
		}
	case sdkSamplers[sampler] == nil:
		return &EnvError{Name: "OTEL_TRACES_SAMPLER", Value: sampler,
			Reason: "want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio or " + remotesampler.Name}
	case strings.HasSuffix(sampler, "traceidratio"):
		_, err := samplerRatio()
		return err
	}
	return nil
}

// oneOf reads the variable name, which must be one of values; fallback
// when it is unset.
func oneOf(name, fallback string, values ...string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return fallback, nil
	}
	if !slices.Contains(values, v) {
		return "", &EnvError{Name: name, Value: v, Reason: `want "` + strings.Join(values, `" or "`) + `"`}
	}
	return v, nil
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

// NoJaeger reports whether the spans go to no Jaeger at all:
// OTEL_TRACES_EXPORTER is console (they are printed) or none.
func NoJaeger() bool {
	exporter := os.Getenv("OTEL_TRACES_EXPORTER")
	return exporter == "console" || exporter == "none"
}

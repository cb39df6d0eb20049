// Package settings reads and checks the services' settings, all of them
// environment variables: a bad value stops a service at start, with exit
// code 2 and a message that names the variable.
package settings

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/propagators/autoprop"

	"example.com/tracingdemo/tracing"
)

// EnvError is a bad value in an environment variable. The services stop at
// start with exit code 2 and this message, which names the variable.
type EnvError struct {
	Name   string // the variable, e.g. OTEL_TRACES_SAMPLER
	Value  string // what it was set to
	Reason string // what was wrong, and what is allowed
}

func (e *EnvError) Error() string {
	return fmt.Sprintf("bad setting %s=%q: %s", e.Name, e.Value, e.Reason)
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

// Load reads and checks the settings that the libraries would let pass,
// and returns the services' logger (LOG_FORMAT), which it makes slog's
// default first, so that a bad setting is reported in the service's own
// format.
//
// The OpenTelemetry libraries read every OTEL_* variable themselves. Some
// refuse a bad value with an error, which the services report as a bad
// setting (Refused): autoexport an unknown exporter, the SDK a bad
// resource attribute. Others only log it and quietly use a default: a typo
// in the sampler or the endpoint would send every span somewhere else, or
// nowhere. Those are checked here, first, so that a demo fails loudly.
func Load() (*slog.Logger, error) {
	logger, err := NewLogger(os.Stdout)
	if err != nil {
		return nil, err
	}
	slog.SetDefault(logger)
	if v := os.Getenv("OTEL_SDK_DISABLED"); v != "" {
		if _, err := strconv.ParseBool(v); err != nil {
			return nil, &EnvError{Name: "OTEL_SDK_DISABLED", Value: v, Reason: `want "true" or "false"`}
		}
	}
	if err := checkSampler(); err != nil {
		return nil, err
	}
	// autoexport refuses an unknown protocol, but names neither variable.
	for _, name := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		if v := os.Getenv(name); v != "" && v != "grpc" && v != "http/protobuf" {
			return nil, &EnvError{Name: name, Value: v, Reason: `want "http/protobuf" or "grpc"`}
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
	return logger, nil
}

// Refused is the error err of a library that refused the value of the
// variable name, as a bad setting.
func Refused(name string, err error) error {
	return &EnvError{Name: name, Value: os.Getenv(name), Reason: err.Error()}
}

// checkSampler accepts the samplers the Go SDK knows, and a ratio from 0 to 1
// for the two that take one.
func checkSampler() error {
	sampler := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER")))
	switch sampler {
	case "", "always_on", "always_off", "parentbased_always_on", "parentbased_always_off":
		return nil
	case "traceidratio", "parentbased_traceidratio":
		arg := strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER_ARG"))
		if arg == "" {
			return nil // the SDK samples everything: ratio 1.0
		}
		if ratio, err := strconv.ParseFloat(arg, 64); err != nil || ratio < 0 || ratio > 1 {
			return &EnvError{Name: "OTEL_TRACES_SAMPLER_ARG", Value: arg, Reason: "want a ratio from 0 to 1, e.g. 0.1"}
		}
		return nil
	case tracing.RemoteSampler: // tracing.Setup's, not the SDK's
		arg := os.Getenv("OTEL_TRACES_SAMPLER_ARG")
		if err := tracing.CheckRemoteSamplerArg(arg); err != nil {
			return &EnvError{Name: "OTEL_TRACES_SAMPLER_ARG", Value: arg, Reason: err.Error()}
		}
		return nil
	default:
		return &EnvError{Name: "OTEL_TRACES_SAMPLER", Value: sampler,
			Reason: "want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio or jaeger_remote"}
	}
}

// ParseHTTPURL reads the value of the variable name as an absolute http or
// https URL with a host, as the exporters and the services expect (e.g.
// http://jaeger:4318). A bad value is an *EnvError naming the variable.
func ParseHTTPURL(name, value string) (*url.URL, error) {
	u, err := url.Parse(value)
	if err != nil {
		return nil, &EnvError{Name: name, Value: value, Reason: fmt.Sprintf("not a URL: %v", err)}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, &EnvError{Name: name, Value: value, Reason: "want an http:// or https:// URL with a host, e.g. http://localhost:4318"}
	}
	return u, nil
}

// NewLogger returns the logger both services use, writing to w: one JSON
// object per line, or key=value text with LOG_FORMAT=text; and every line
// logged inside a span carries its trace ID (tracing.LogHandler).
func NewLogger(w io.Writer) (*slog.Logger, error) {
	var h slog.Handler
	switch format := os.Getenv("LOG_FORMAT"); format {
	case "", "json":
		h = slog.NewJSONHandler(w, nil)
	case "text":
		h = slog.NewTextHandler(w, nil)
	default:
		return nil, &EnvError{Name: "LOG_FORMAT", Value: format, Reason: `want "json" or "text"`}
	}
	return slog.New(tracing.LogHandler(h)), nil
}

// NoJaeger reports whether the spans go to no Jaeger at all:
// OTEL_TRACES_EXPORTER is console (they are printed) or none.
func NoJaeger() bool {
	exporter := os.Getenv("OTEL_TRACES_EXPORTER")
	return exporter == "console" || exporter == "none"
}

package tracing

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
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

// checkEnv rejects the OTEL_* values that the SDK and the exporters would
// otherwise only log before quietly using a default: a typo in the sampler or
// the endpoint would send every span somewhere else, or nowhere. A demo should
// fail loudly instead. The libraries still read and apply every variable
// themselves; this only checks them first.
func checkEnv() error {
	if _, err := sdkDisabled(); err != nil {
		return err
	}
	if err := checkSampler(); err != nil {
		return err
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		if v := os.Getenv(name); v != "" && v != "grpc" && v != "http/protobuf" {
			return &EnvError{Name: name, Value: v, Reason: `want "http/protobuf" or "grpc"`}
		}
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_JAEGER_ENDPOINT"} {
		if v := os.Getenv(name); v != "" {
			if _, err := ParseHTTPURL(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// sdkDisabled reads OTEL_SDK_DISABLED, which the Go SDK leaves to us.
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
	default:
		return &EnvError{Name: "OTEL_TRACES_SAMPLER", Value: sampler,
			Reason: "want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"}
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

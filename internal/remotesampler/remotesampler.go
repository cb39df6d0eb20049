// Package remotesampler is all that this demo adds for
// OTEL_TRACES_SAMPLER=jaeger_remote, the sampler whose rate Jaeger sets. The
// Go SDK does not know that name; the contrib package jaegerremote builds
// the sampler, but checks its settings only by logging, to a logger that
// is off by default. So, in this one place:
//   - Enabled says whether the sampler is asked for, and New builds it;
//   - CheckArg checks OTEL_TRACES_SAMPLER_ARG at start;
//   - IsSDKNotice recognizes the SDK's complaint that it does not know the
//     name, which it makes before tracing.Setup gives it the sampler.
package remotesampler

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/samplers/jaegerremote"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Name is the value of OTEL_TRACES_SAMPLER that asks for this sampler.
const Name = "jaeger_remote"

// Enabled reports whether OTEL_TRACES_SAMPLER names this sampler.
func Enabled() bool {
	return strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER"))) == Name
}

// New returns the sampler that asks Jaeger, every pollingIntervalMs
// (OTEL_TRACES_SAMPLER_ARG, read by jaegerremote), what share of service's
// traces to sample.
func New(service string) sdktrace.Sampler {
	return jaegerremote.New(service)
}

// IsSDKNotice reports whether err is the SDK saying that it does not know
// this sampler: no error, since tracing.Setup gives the SDK the sampler.
func IsSDKNotice(err error) bool {
	return err.Error() == "unsupported sampler: "+Name
}

// CheckArg checks the sampler's argument as the OpenTelemetry
// specification writes it, e.g.
// endpoint=http://localhost:5778/sampling,pollingIntervalMs=5000,initialSamplingRate=0.25.
// Every key is optional. The error says what is wrong and what is allowed.
func CheckArg(arg string) error {
	if arg == "" {
		return nil
	}
	for _, kv := range strings.Split(arg, ",") {
		key, value, ok := strings.Cut(kv, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || strings.Contains(value, "=") {
			return fmt.Errorf("%q is not key=value; want endpoint, pollingIntervalMs or initialSamplingRate", kv)
		}
		switch key {
		case "endpoint":
			if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
				return fmt.Errorf("endpoint: want an http:// URL, e.g. endpoint=http://localhost:5778/sampling")
			}
		case "pollingIntervalMs":
			if ms, err := strconv.Atoi(value); err != nil || ms <= 0 {
				return fmt.Errorf("pollingIntervalMs: want a positive number of milliseconds, e.g. pollingIntervalMs=5000")
			}
		case "initialSamplingRate":
			if rate, err := strconv.ParseFloat(value, 64); err != nil || rate < 0 || rate > 1 {
				return fmt.Errorf("initialSamplingRate: want a ratio from 0 to 1, e.g. initialSamplingRate=0.25")
			}
		default:
			return fmt.Errorf("unknown key %q; want endpoint, pollingIntervalMs or initialSamplingRate", key)
		}
	}
	return nil
}

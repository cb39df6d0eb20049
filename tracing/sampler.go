package tracing

import (
	"os"
	"strings"

	"go.opentelemetry.io/contrib/samplers/jaegerremote"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// newSampler returns the sampler for OTEL_TRACES_SAMPLER=jaeger_remote,
// which the SDK does not know: one that asks Jaeger, every
// pollingIntervalMs, what share of this service's traces to sample, so
// that the rate can change without a restart. jaegerremote reads the rest
// of OTEL_TRACES_SAMPLER_ARG itself: endpoint (Jaeger's remote_sampling,
// default http://127.0.0.1:5778/sampling) and initialSamplingRate (until
// the first answer). ParentBased makes it decide only at the root, as the
// SDK's samplers do: a request that comes with a decision keeps it. It
// polls for as long as the process runs: the services set it up once.
//
// For any other sampler it returns nil, which leaves the SDK's own.
func newSampler(res *resource.Resource) sdktrace.Sampler {
	if strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER"))) != "jaeger_remote" {
		return nil
	}
	service, _ := res.Set().Value(semconv.ServiceNameKey)
	return sdktrace.ParentBased(jaegerremote.New(service.AsString()))
}

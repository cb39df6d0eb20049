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
// which the SDK does not know: it asks Jaeger, every pollingIntervalMs
// (OTEL_TRACES_SAMPLER_ARG, read by jaegerremote), what share of this
// service's traces to sample, so the rate changes without a restart.
// ParentBased makes it decide only at the root. For any other sampler it
// returns nil, which leaves the SDK's own.
func newSampler(res *resource.Resource) sdktrace.Sampler {
	if strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER"))) != "jaeger_remote" {
		return nil
	}
	service, _ := res.Set().Value(semconv.ServiceNameKey)
	return sdktrace.ParentBased(jaegerremote.New(service.AsString()))
}

package tracing

import (
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"example.com/tracingdemo/internal/remotesampler"
)

// newSampler returns the sampler for OTEL_TRACES_SAMPLER=jaeger_remote,
// which the SDK does not know: the contrib package jaegerremote asks
// Jaeger, every pollingIntervalMs (OTEL_TRACES_SAMPLER_ARG), what share of
// this service's traces to sample, so the rate changes without a restart
// (internal/remotesampler holds all that the demo adds for it). ParentBased
// makes it decide only at the root. For any other sampler it returns nil,
// which leaves the SDK's own.
func newSampler(res *resource.Resource) sdktrace.Sampler {
	if !remotesampler.Enabled() {
		return nil
	}
	service, _ := res.Set().Value(semconv.ServiceNameKey)
	return sdktrace.ParentBased(remotesampler.New(service.AsString()))
}

// Package sampling builds the services' sampler: the one
// OTEL_TRACES_SAMPLER names, as the SDK would build it, with two additions:
//   - jaeger_remote, whose rate Jaeger sets: contrib's jaegerremote, with
//     its answers bounded and checked (remote.go);
//   - a job's span follows the request that sent it (FollowLinks).
package sampling

import (
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Remote is the OTEL_TRACES_SAMPLER that asks Jaeger for the rate.
const Remote = "jaeger_remote"

// sdkSamplers are the SDK's samplers by their names in OTEL_TRACES_SAMPLER
// ("" is the default), from the ratio of OTEL_TRACES_SAMPLER_ARG.
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

// Known reports whether name is a sampler New builds.
func Known(name string) bool { return name == Remote || sdkSamplers[name] != nil }

// New returns the sampler name, for the service, and what stops it (the
// remote sampler polls Jaeger until stopped). ratio is the ratio samplers'
// argument, remote the remote sampler's (ParseArg).
func New(service, name string, ratio float64, remote Config) (sdktrace.Sampler, func()) {
	if name == Remote {
		s := newRemote(service, remote)
		return FollowLinks(sdktrace.ParentBased(s)), s.Close
	}
	return FollowLinks(sdkSamplers[name](ratio)), func() {}
}

// FollowLinks returns s, but for a job's span: a CONSUMER span that begins
// a trace of its own, linked to the span that sent the job, is sampled
// exactly when that span was. Decided afresh at a ratio r, both would be
// kept in r² of the cases. Any other new root, such as the frontend's span
// at the public edge, which links to its caller's, is s's to decide: a
// caller's flags never choose what the service samples.
func FollowLinks(s sdktrace.Sampler) sdktrace.Sampler { return followLinks{s} }

type followLinks struct{ sdktrace.Sampler }

func (s followLinks) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	parent := trace.SpanContextFromContext(p.ParentContext)
	if p.Kind != trace.SpanKindConsumer || parent.IsValid() || len(p.Links) == 0 || !p.Links[0].SpanContext.IsValid() {
		return s.Sampler.ShouldSample(p)
	}
	if p.Links[0].SpanContext.IsSampled() {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample}
	}
	return sdktrace.SamplingResult{Decision: sdktrace.Drop}
}

func (s followLinks) Description() string { return "FollowLinks{" + s.Sampler.Description() + "}" }

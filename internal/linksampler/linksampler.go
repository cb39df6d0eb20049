// Package linksampler keeps a linked trace sampled with the trace it links
// to: a job's span begins a trace of its own, a new root, which a sampler
// would decide afresh; at a ratio r, both traces would then be kept in r²
// of the cases, and a kept job would often link to a request no one kept.
package linksampler

import (
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Wrap returns s, but for a root span with a link, which it samples exactly
// when the span of its first link was sampled.
func Wrap(s sdktrace.Sampler) sdktrace.Sampler { return linked{s} }

type linked struct{ sdktrace.Sampler }

func (s linked) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	parent := trace.SpanContextFromContext(p.ParentContext)
	if parent.IsValid() || len(p.Links) == 0 || !p.Links[0].SpanContext.IsValid() {
		return s.Sampler.ShouldSample(p)
	}
	decision := sdktrace.Drop
	if p.Links[0].SpanContext.IsSampled() {
		decision = sdktrace.RecordAndSample
	}
	return sdktrace.SamplingResult{Decision: decision}
}

func (s linked) Description() string { return "LinkSampled{" + s.Sampler.Description() + "}" }

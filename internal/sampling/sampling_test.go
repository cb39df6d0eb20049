package sampling

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestJobFollowsItsRequest: a job's span, a CONSUMER span that begins a
// trace of its own, linked to the span that sent it, is sampled exactly
// when that span was, at any ratio, rather than decided afresh: a kept job
// always links to a kept request, and a kept request always has its job.
// A new root of another kind with a link, the frontend's SERVER span at
// the public edge, is the ratio's to decide (TestPublicEdgeSamplesItself
// tests that through the frontend).
func TestJobFollowsItsRequest(t *testing.T) {
	for _, ratio := range []float64{0, 0.5, 1} {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(must(New("backend", "parentbased_traceidratio", ratio, Config{}))))
		tracer := tp.Tracer("test")
		sampled, edgeFollowed := 0, 0
		for i := range 200 {
			request := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{byte(i), 1}, SpanID: trace.SpanID{1}, TraceFlags: trace.TraceFlags(i % 2), Remote: true}))
			_, send := tracer.Start(request, "send jobs", trace.WithSpanKind(trace.SpanKindProducer))
			_, process := tracer.Start(context.Background(), "process jobs", trace.WithNewRoot(),
				trace.WithSpanKind(trace.SpanKindConsumer), trace.WithLinks(trace.Link{SpanContext: send.SpanContext()}))
			require.Equal(t, send.SpanContext().IsSampled(), process.SpanContext().IsSampled(), "ratio %v", ratio)
			if process.SpanContext().IsSampled() {
				sampled++
			}
			_, edge := tracer.Start(context.Background(), "GET /", trace.WithNewRoot(),
				trace.WithSpanKind(trace.SpanKindServer), trace.WithLinks(trace.Link{SpanContext: send.SpanContext()}))
			if edge.SpanContext().IsSampled() == send.SpanContext().IsSampled() {
				edgeFollowed++
			}
		}
		assert.Equal(t, 100, sampled, "the requests sampled, half of them, have their jobs sampled: ratio %v", ratio)
		if ratio == 0 {
			assert.Equal(t, 100, edgeFollowed, "at ratio 0, a new SERVER root is never sampled, whatever its link")
		}
	}
}

func must(s sdktrace.Sampler, _ func()) sdktrace.Sampler { return s }

// TestSamplerDescriptions: each of the SDK's six samplers, as the
// services build it, is the one the SDK would build for that name.
func TestSamplerDescriptions(t *testing.T) {
	for name, want := range map[string]string{
		"":                         "ParentBased{root:AlwaysOnSampler,",
		"always_on":                "AlwaysOnSampler",
		"always_off":               "AlwaysOffSampler",
		"traceidratio":             "TraceIDRatioBased{0.25}",
		"parentbased_always_on":    "ParentBased{root:AlwaysOnSampler,",
		"parentbased_always_off":   "ParentBased{root:AlwaysOffSampler,",
		"parentbased_traceidratio": "ParentBased{root:TraceIDRatioBased{0.25},",
	} {
		s, stop := New("svc", name, 0.25, Config{})
		stop()
		assert.Contains(t, s.Description(), "FollowLinks{"+want, "OTEL_TRACES_SAMPLER=%q", name)
	}
}

// Package opentracing_test shows code instrumented with OpenTracing adding
// its span to an OpenTelemetry trace, through OpenTelemetry's bridge
// (go.opentelemetry.io/otel/bridge/opentracing): the migration path of
// docs/lessons/opentracing.md.
package opentracing_test

import (
	"context"
	"fmt"

	ot "github.com/opentracing/opentracing-go"
	otbridge "go.opentelemetry.io/otel/bridge/opentracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// lookupUser is code from before OpenTelemetry, instrumented with
// OpenTracing, as it always was: its span is a child of the one in ctx.
func lookupUser(ctx context.Context, tracer ot.Tracer, user string) {
	span, _ := ot.StartSpanFromContextWithTracer(ctx, tracer, "lookup user")
	defer span.Finish()
	span.SetTag("user", user)
}

func Example() {
	// OpenTelemetry, as in tracing.Setup: here the spans are kept in memory.
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))

	// The bridge: an OpenTracing tracer that makes OpenTelemetry spans, and
	// a TracerProvider whose spans OpenTracing code finds in a context.
	bridge, provider := otbridge.NewTracerPair(tp.Tracer("example.com/app"))

	// New code uses OpenTelemetry; old code, called with its context, OpenTracing.
	ctx, span := provider.Tracer("example.com/app").Start(context.Background(), "GET /")
	lookupUser(ctx, bridge, "alice")
	span.End()

	spans := recorder.Ended()
	names := map[string]string{} // span ID: name
	for _, s := range spans {
		names[s.SpanContext().SpanID().String()] = s.Name()
	}
	for _, s := range spans {
		parent := "none: the root"
		if s.Parent().IsValid() {
			parent = names[s.Parent().SpanID().String()]
		}
		fmt.Printf("%s: parent %s; in the trace of GET /: %t\n", s.Name(), parent, s.SpanContext().TraceID() == span.SpanContext().TraceID())
	}
	// Output:
	// lookup user: parent GET /; in the trace of GET /: true
	// GET /: parent none: the root; in the trace of GET /: true
}

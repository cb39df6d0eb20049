package tracing

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport is the client side of a traced HTTP call: it wraps base so that
// every request sent through it gets a CLIENT span, and carries the trace
// context (the W3C traceparent header: trace ID, this span's ID, sampled
// flag) and the baggage (the baggage header). The service that receives the
// request reads them (Middleware), and its spans join this trace.
//
// The request must be made with the context of the current span
// (http.NewRequestWithContext): that is where the transport finds it.
func Transport(base http.RoundTripper, tp trace.TracerProvider, propagator propagation.TextMapPropagator) http.RoundTripper {
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagator),
	)
}

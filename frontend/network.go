package frontend

import (
	"context"
	"net/http/httptrace"

	"go.opentelemetry.io/contrib/instrumentation/net/http/httptrace/otelhttptrace"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// NetworkSteps is the option of tracing.Transport that records the
// network's share of each call, from Go's net/http/httptrace hooks: the
// wait for a connection (http.getconn; on a new one, http.dns and
// http.connect), writing the request (http.send; as spans, http.headers
// too), and reading the answer (http.receive, which ends when the body is
// read to its end). They are events on the CLIENT span, or, if spans is
// true, its child spans. Give it once: wired twice, every step is
// recorded twice.
func NetworkSteps(spans bool) otelhttp.Option {
	return otelhttp.WithClientTrace(func(ctx context.Context) *httptrace.ClientTrace {
		// ctx holds the CLIENT span. The headers stay out of it: the
		// baggage header holds the user's name.
		opts := []otelhttptrace.ClientTraceOption{otelhttptrace.WithoutHeaders()}
		if !spans {
			opts = append(opts, otelhttptrace.WithoutSubSpans())
		}
		return otelhttptrace.NewClientTrace(ctx, opts...)
	})
}

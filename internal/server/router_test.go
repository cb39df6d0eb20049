package server

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/trace"
)

// TestSetTraceResponse: the header is exactly what the W3C format says,
// as fmt.Sprintf writes it, for a sampled span and an unsampled one.
func TestSetTraceResponse(t *testing.T) {
	for _, flags := range []trace.TraceFlags{trace.FlagsSampled, 0} {
		sc := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
			SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
			TraceFlags: flags,
		})
		h := http.Header{}
		SetTraceResponse(h, sc)
		assert.Equal(t, fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags()), h.Get("traceresponse"))
		assert.Len(t, h.Values("traceresponse"), 1)
	}
	h := http.Header{"Traceresponse": nil}
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { SetTraceResponse(h, trace.SpanContext{}) }), "one allocation")
}

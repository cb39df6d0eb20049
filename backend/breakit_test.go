package backend_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/internal/testkit"
)

// The README's "Break it" section ends with an edit of the backend's code:
// the test here makes it, in the function the README names, on a copy of
// the module, as frontend/breakit_test.go does for the frontend's.

// Break it 3: "In `publish`, inject into `map[string]string{}` instead of
// `msg.headers`." The trace context is written, but not into the message.
var noHeaders = testkit.BreakIt{Fn: "publish", Line: "j.propagator.Inject(",
	Old: "msg.headers", New: "map[string]string{}"}

// TestBreakItNoHeaders makes that edit in backend/jobs.go, on a copy of the
// module, and runs TestPrintJobTrace there: the job's span is a root with
// no link, and nothing leads from it to the request.
func TestBreakItNoHeaders(t *testing.T) {
	var got jobTrace
	testkit.RunBroken(t, noHeaders, "backend/jobs.go", "./backend/", "TestPrintJobTrace", &got)
	assert.False(t, got.JobParent, "the job's span has no parent")
	assert.Empty(t, got.Links, "the job's span has no link")
	assert.NotEqual(t, got.RequestTrace, got.JobTrace)
}

// TestJobTraceUnbroken is the same run on the code as it is: the one link
// leads to the PRODUCER span. Without it, TestBreakItNoHeaders could pass
// on a run that never links.
func TestJobTraceUnbroken(t *testing.T) {
	got := printJobTrace(t)
	assert.Equal(t, []string{got.RequestTrace + "/" + got.ProducerSpan}, got.Links)
}

// jobTrace is what TestPrintJobTrace prints of the job's span.
type jobTrace struct {
	RequestTrace, ProducerSpan string   // the PRODUCER span's IDs
	JobTrace                   string   // the CONSUMER span's trace
	JobParent                  bool     // whether the CONSUMER span has a parent
	Links                      []string // trace/span of each of its links
}

// TestPrintJobTrace is run by TestBreakItNoHeaders in its copy of the
// module: one job queued through the backend as New builds it, and how its
// span relates to the request, printed on one line.
func TestPrintJobTrace(t *testing.T) {
	testkit.SkipUnlessBroken(t)
	testkit.Print(t, printJobTrace(t))
}

func printJobTrace(t *testing.T) jobTrace {
	b := newJobsBackend(t, backend.LinkedTrace)
	status, body := b.queue(t, "")
	require.Equal(t, http.StatusOK, status, body)
	spans := b.stop(context.Background())
	send, process := spans["send jobs"], spans[processJobsSpan]
	require.NotNil(t, send)
	require.NotNil(t, process)
	got := jobTrace{
		RequestTrace: send.SpanContext().TraceID().String(),
		ProducerSpan: send.SpanContext().SpanID().String(),
		JobTrace:     process.SpanContext().TraceID().String(),
		JobParent:    process.Parent().IsValid(),
		Links:        []string{},
	}
	for _, l := range process.Links() {
		got.Links = append(got.Links, l.SpanContext.TraceID().String()+"/"+l.SpanContext.SpanID().String())
	}
	return got
}

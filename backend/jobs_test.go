package backend_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/internal/testkit"
	"example.com/tracingdemo/tracing"
)

// The frontend's span that calls the backend, as its traceparent header
// names it.
const (
	callerTrace     = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan      = "00f067aa0ba902b7"
	callerHeader    = "00-" + callerTrace + "-" + callerSpan + "-01"
	callerBaggage   = "user=carol"
	queuedAnswer    = "hello, carol, from the backend: your job is queued\n"
	processJobsSpan = "process jobs"
)

// jobsBackend is a backend with workers that trace their jobs the way
// jobTrace says, and the spans both end.
type jobsBackend struct {
	srv   *httptest.Server
	jobs  *backend.Jobs
	spans *tracetest.SpanRecorder
	logs  *testkit.SyncBuffer
}

func newJobsBackend(t testing.TB, jobTrace backend.JobTrace) *jobsBackend {
	b := &jobsBackend{spans: tracetest.NewSpanRecorder(), logs: &testkit.SyncBuffer{}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b.spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(b.logs, nil)))
	// The services' propagator: OTEL_PROPAGATORS, by default
	// tracecontext,baggage.
	propagator := autoprop.NewTextMapPropagator()
	b.jobs = backend.StartJobs(tp, propagator, logger, jobTrace)
	b.srv = httptest.NewServer(backend.New(tp, propagator, logger, b.jobs))
	t.Cleanup(b.srv.Close)
	return b
}

// queue asks for a job with query, as the frontend would, and returns the
// status and body of the answer.
func (b *jobsBackend) queue(t *testing.T, query string) (int, string) {
	resp, body := testkit.Get(t, b.srv.URL+"/hello?async=true&"+query,
		"traceparent", callerHeader, "baggage", callerBaggage)
	return resp.StatusCode, body
}

// stop stops the backend as main does, the server first, then the jobs
// within ctx, and returns the spans that ended, by name.
func (b *jobsBackend) stop(ctx context.Context) map[string]sdktrace.ReadOnlySpan {
	b.srv.Close()
	b.jobs.Finish(ctx)
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range b.spans.Ended() {
		byName[s.Name()] = s
	}
	return byName
}

// TestJobLinked: the answer does not wait for the job. The job's CONSUMER
// span begins a trace of its own, linked to the PRODUCER span that sent
// it, which is in the request's trace.
func TestJobLinked(t *testing.T) {
	b := newJobsBackend(t, backend.LinkedTrace)
	status, body := b.queue(t, "delay=300ms")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, queuedAnswer, body)
	spans := b.stop(context.Background())

	send, process := spans["send jobs"], spans[processJobsSpan]
	require.NotNil(t, send, "no PRODUCER span: %v", spans)
	require.NotNil(t, process, "no CONSUMER span: %v", spans)
	assert.Equal(t, trace.SpanKindProducer, send.SpanKind())
	assert.Equal(t, callerTrace, send.SpanContext().TraceID().String(), "send jobs is in the request's trace")
	assert.Equal(t, spans["handle backend call"].SpanContext().SpanID(), send.Parent().SpanID())

	assert.Equal(t, trace.SpanKindConsumer, process.SpanKind())
	assert.False(t, process.Parent().IsValid(), "process jobs is a root")
	assert.NotEqual(t, callerTrace, process.SpanContext().TraceID().String(), "process jobs is in a trace of its own")
	require.Len(t, process.Links(), 1)
	assert.Equal(t, send.SpanContext().TraceID(), process.Links()[0].SpanContext.TraceID())
	assert.Equal(t, send.SpanContext().SpanID(), process.Links()[0].SpanContext.SpanID())

	messageID := testkit.Attr(send, "messaging.message.id").AsString()
	assert.NotEmpty(t, messageID)
	assert.Equal(t, messageID, testkit.Attr(process, "messaging.message.id").AsString(), "both spans name the same message")
	assert.Equal(t, []string{"job started", "working", "job done"}, testkit.EventNames(process))
	assert.Contains(t, process.Attributes(), attribute.String("user", "carol"), "the baggage travelled in the message")
	// The answer did not wait for the job's 300 ms.
	assert.GreaterOrEqual(t, process.EndTime().Sub(process.StartTime()), 300*time.Millisecond)
	assert.True(t, spans["GET /hello"].EndTime().Before(process.StartTime().Add(300*time.Millisecond)),
		"the request ended before the job's delay was over")
	assert.Contains(t, b.logs.String(), `"msg":"jobs at stop","done":1,"cut_short":0,"never_started":0`)
}

// TestJobChild: with JOB_TRACE=child the CONSUMER span is the PRODUCER
// span's child, in the request's trace, and ends after the request's root.
func TestJobChild(t *testing.T) {
	b := newJobsBackend(t, backend.ChildSpan)
	status, _ := b.queue(t, "delay=200ms")
	require.Equal(t, http.StatusOK, status)
	spans := b.stop(context.Background())

	send, process, root := spans["send jobs"], spans[processJobsSpan], spans["GET /hello"]
	require.NotNil(t, process, "no CONSUMER span: %v", spans)
	assert.Equal(t, callerTrace, process.SpanContext().TraceID().String())
	assert.Equal(t, send.SpanContext().SpanID(), process.Parent().SpanID())
	assert.Empty(t, process.Links())
	assert.True(t, process.EndTime().After(root.EndTime()), "the job outlives the request")
}

// TestJobWithoutPropagation: with OTEL_PROPAGATORS=none, as
// docs/configuration.md says, a job's message carries no trace context and
// no baggage: its span is a root with no link, and no user.
func TestJobWithoutPropagation(t *testing.T) {
	t.Setenv("OTEL_PROPAGATORS", "none")
	b := newJobsBackend(t, backend.LinkedTrace)
	status, body := b.queue(t, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "hello, stranger, from the backend: your job is queued\n", body, "no baggage came in either")
	process := b.stop(context.Background())[processJobsSpan]
	require.NotNil(t, process)
	assert.False(t, process.Parent().IsValid())
	assert.Empty(t, process.Links())
	assert.Equal(t, attribute.INVALID, testkit.Attr(process, "user").Type(), "no user")
}

// TestJobFailure: fail=true fails the job, not the request, which was
// answered before the job began.
func TestJobFailure(t *testing.T) {
	b := newJobsBackend(t, backend.LinkedTrace)
	status, _ := b.queue(t, "fail=true")
	require.Equal(t, http.StatusOK, status)
	spans := b.stop(context.Background())
	assert.Equal(t, codes.Unset, spans["handle backend call"].Status().Code)
	assert.Equal(t, codes.Error, spans[processJobsSpan].Status().Code)
	assert.Equal(t, "simulated failure (fail=true)", spans[processJobsSpan].Status().Description)
	assert.Contains(t, b.logs.String(), `"msg":"job failed"`)
}

// TestJobsCutShortAtStop: a job still running when the stop's time is up
// ends at once, its span an error that says why; a job still queued then
// never starts, and its span says that instead. Every job's span says how
// long it waited for a worker, and the stop line counts each kind: no job
// vanishes from the traces.
func TestJobsCutShortAtStop(t *testing.T) {
	b := newJobsBackend(t, backend.LinkedTrace)
	for range 5 { // 4 workers busy, 1 job waiting
		status, body := b.queue(t, "delay=2s")
		require.Equal(t, http.StatusOK, status, body)
	}
	// Until the 4 workers have each taken a job.
	require.Eventually(t, func() bool {
		started := 0
		for _, s := range b.spans.Started() {
			if s.Name() == processJobsSpan {
				started++
			}
		}
		return started == 4
	}, 5*time.Second, 5*time.Millisecond, "4 workers busy")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	b.stop(ctx)
	assert.Less(t, time.Since(start), time.Second, "Finish waited for the jobs' 2 s")

	statuses := map[string]int{}
	for _, s := range b.spans.Ended() {
		if s.Name() != processJobsSpan {
			continue
		}
		assert.Equal(t, codes.Error, s.Status().Code)
		statuses[s.Status().Description]++
		waited, err := time.ParseDuration(testkit.Attr(s, "waited").AsString())
		require.NoError(t, err, "the span says how long the job waited")
		if s.Status().Description == "never started: the backend stopped first" {
			assert.Empty(t, testkit.EventNames(s), "a job that never started has no job started event")
			assert.GreaterOrEqual(t, waited, 200*time.Millisecond, "it waited at least until the stop's 200 ms were up")
		} else {
			assert.Less(t, waited, 100*time.Millisecond, "a worker was free at once")
		}
	}
	assert.Equal(t, map[string]int{
		"cut short: the backend stopped before the job was done": 4,
		"never started: the backend stopped first":               1,
	}, statuses)
	assert.Contains(t, b.logs.String(), `"msg":"jobs at stop","done":0,"cut_short":4,"never_started":1`)
}

// TestJobQueueFull: with every worker busy and the queue full, a request
// for one more job gets 503 and a message that says so; the jobs queued
// are kept. The refusals are logged, at most once per 10 s.
func TestJobQueueFull(t *testing.T) {
	b := newJobsBackend(t, backend.LinkedTrace)
	// 4 workers busy, 100 jobs waiting: more only if a 2 s job ended
	// while the queue filled, on a slow machine.
	accepted := 0
	for status, body := b.queue(t, "delay=2s"); status == http.StatusOK; status, body = b.queue(t, "delay=2s") {
		accepted++
		require.Equal(t, queuedAnswer, body)
		require.Less(t, accepted, 200, "the queue never filled")
	}
	require.GreaterOrEqual(t, accepted, 104)
	status, body := b.queue(t, "delay=2s")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "job queue full; try again later\n", body, "no internal figure in the public answer")
	logs := b.logs.String()
	assert.Contains(t, logs, `"msg":"job not queued","err":"job queue full; try again later","jobs_waiting":100,"refused_since_last_line":1`, "the log has the figure")
	assert.Equal(t, 1, strings.Count(logs, `"msg":"job not queued"`), "the second refusal is not logged")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	b.stop(ctx)
	var refused, process int
	for _, s := range b.spans.Ended() {
		switch {
		case s.Name() == "send jobs" && s.Status().Code == codes.Error:
			refused++
		case s.Name() == processJobsSpan:
			process++
		}
	}
	assert.Equal(t, 2, refused, "the refused jobs' PRODUCER spans are errors")
	assert.Equal(t, accepted, process, "every job queued has its span")
	assert.Regexp(t, `"msg":"jobs at stop","done":\d+,"cut_short":4,"never_started":\d+`, b.logs.String())
}

// TestNoJobsAfterStop: once the stop has begun, a request for a job gets
// 503, not a job that no worker will do.
func TestNoJobsAfterStop(t *testing.T) {
	b := newJobsBackend(t, backend.LinkedTrace)
	b.jobs.Finish(context.Background())
	b.jobs.Finish(context.Background()) // a second stop waits for nothing more
	status, body := b.queue(t, "")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "the backend is stopping: no new jobs\n", body)
}

//go:build e2e

package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestJobTraceInJaeger: a request with async=true is answered at once, and
// its job makes a trace of its own. Read back from Jaeger's API, the job's
// root "process jobs" refers to the request's span "send jobs" by
// FOLLOWS_FROM (how Jaeger shows a span link), with that span's trace and
// span IDs.
func TestJobTraceInJaeger(t *testing.T) {
	p := startPair(t, 0, exporterEnv("otlp-http")...)
	status, body, traceID := p.get(t, "/?user=alice&async=true&delay=300ms")
	if status != http.StatusOK || !strings.HasPrefix(body, "hello, alice, from the backend: your job is queued") {
		t.Fatalf("GET /?async=true answered %d %q, want 200 and the queued job's hello", status, body)
	}

	// The request's trace: the five spans, and "send jobs" below "handle
	// backend call".
	request := jg.checkTree(t, traceID, jobTree(map[string]string{"user": "alice", "delay": "300ms"}, false))
	send := request["send jobs"]
	if send.SpanID == "" {
		t.FailNow() // checkTree has said what the trace holds
	}

	// The job's trace, found as a user finds it in the UI's search: by its
	// message's ID, which both spans carry.
	job := jg.findTrace(t, "backend", "process jobs", "messaging.message.id", send.tag("messaging.message.id"))
	if job.TraceID == traceID || len(job.Spans) != 1 {
		t.Fatalf("the job's trace %s has %d spans; want 1, in a trace other than the request's %s", job.TraceID, len(job.Spans), traceID)
	}
	process := job.Spans[0]
	if process.tag("span.kind") != "consumer" {
		t.Errorf("process jobs has span.kind %q, want consumer", process.tag("span.kind"))
	}
	if want := []string{"FOLLOWS_FROM " + traceID + "/" + send.SpanID}; !slices.Equal(process.refs(), want) {
		t.Errorf("process jobs refers to %q, want only %q (the link to send jobs)", process.refs(), want)
	}
	if want := []string{"job started", "working", "job done"}; !slices.Equal(process.events(), want) {
		t.Errorf("process jobs has the events %q, want %q", process.events(), want)
	}
	// The request was answered before the job's 300 ms were over.
	root := request["GET /"]
	if rootEnd := root.StartTime + root.Duration; process.Duration < 300_000 || rootEnd >= process.StartTime+300_000 {
		t.Errorf("the job lasted %d µs, and the request ended %d µs after the job began: want the request answered within the job's 300 ms",
			process.Duration, rootEnd-process.StartTime)
	}
}

// TestJobChildInJaeger: with JOB_TRACE=child the job's span joins the
// request's trace, as the child of "send jobs", and the trace lasts longer
// than its root.
func TestJobChildInJaeger(t *testing.T) {
	p := startPair(t, 0, append(exporterEnv("otlp-http"), "JOB_TRACE=child")...)
	status, body, traceID := p.get(t, "/?async=true&delay=300ms")
	if status != http.StatusOK {
		t.Fatalf("GET /?async=true answered %d %q", status, body)
	}
	spans := jg.checkTree(t, traceID, jobTree(nil, true))
	root, send, process := spans["GET /"], spans["send jobs"], spans["process jobs"]
	if want := []string{"CHILD_OF " + traceID + "/" + send.SpanID}; !slices.Equal(process.refs(), want) {
		t.Errorf("process jobs refers to %q, want only %q", process.refs(), want)
	}
	if end, rootEnd := process.StartTime+process.Duration, root.StartTime+root.Duration; end <= rootEnd {
		t.Errorf("the job ended %d µs after the root began, the root %d µs: want the job to outlive the root",
			end-root.StartTime, rootEnd-root.StartTime)
	}
}

//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
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

// TestJobSampledWithItsRequest: a job's trace is stored exactly when its
// request's is, read back from the real Jaeger. With the frontend at ratio
// 0 and the backend at its default, no job trace is stored (before: every
// job was, each linking to a trace Jaeger did not have). With both at 0.5,
// every stored job links to a stored request, and every stored request
// that queued a job has it.
func TestJobSampledWithItsRequest(t *testing.T) {
	ratio := func(r string) []string {
		return []string{"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=" + r}
	}
	for _, tc := range []struct {
		name              string
		frontend, backend []string
		requests          int
	}{
		{"frontend at 0, backend at its default", ratio("0"), nil, 20},
		{"both at 0.5", ratio("0.5"), ratio("0.5"), 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Service names of their own, to find this run's traces.
			run := strings.NewReplacer(" ", "-", ",", "").Replace(tc.name)
			backendPort, frontendPort := freePort(), freePort()
			backend := startSampled(t, "backend", append(tc.backend, "OTEL_SERVICE_NAME=backend-"+run), backendPort)
			frontend := startSampled(t, "frontend", append(tc.frontend, "OTEL_SERVICE_NAME=frontend-"+run,
				"BACKEND_URL=http://127.0.0.1:"+strconv.Itoa(backendPort)), frontendPort)

			sampled := map[string]bool{} // the requests' traces, and whether each was sampled
			client := &http.Client{Timeout: 5 * time.Second}
			for range tc.requests {
				status, traceID, isSampled := loadGet(client, "http://127.0.0.1:"+strconv.Itoa(frontendPort)+"/?async=true")
				if status != http.StatusOK {
					t.Fatalf("GET /?async=true: %d", status)
				}
				sampled[traceID] = isSampled
			}
			// The stop does the jobs and flushes every span.
			for _, p := range []*process{frontend, backend} {
				if exit := p.stop(); exit != 0 {
					t.Fatalf("%s exited %d:\n%s", p.name, exit, p.out)
				}
			}

			jobs := jg.traces(t, "backend-"+run, "process jobs")
			linked := map[string]bool{}
			for _, job := range jobs {
				refs := job.Spans[0].refs()
				if len(refs) != 1 {
					t.Fatalf("a job's span has the references %q, want one link", refs)
				}
				request, _, _ := strings.Cut(strings.TrimPrefix(refs[0], "FOLLOWS_FROM "), "/")
				linked[request] = true
				if !sampled[request] {
					t.Errorf("the stored job %s links to the request %s, which was not sampled", job.TraceID, request)
				}
			}
			kept := 0
			for traceID, isSampled := range sampled {
				if isSampled {
					kept++
					if !linked[traceID] {
						t.Errorf("the sampled request %s has no stored job", traceID)
					}
				}
			}
			if tc.frontend[1] == "OTEL_TRACES_SAMPLER_ARG=0" && len(jobs) != 0 {
				t.Errorf("%d job traces stored for requests that were all unsampled", len(jobs))
			}
			fmt.Printf("sampling: %s: %d of %d async requests sampled, %d job traces stored, each linked to a stored request\n",
				tc.name, kept, tc.requests, len(jobs))
		})
	}
}

// startSampled starts service on port with env and OTLP/HTTP to the test's
// Jaeger, batching every 100 ms, and waits until it is ready.
func startSampled(t *testing.T, service string, env []string, port int) *process {
	t.Helper()
	env = append(env, exporterEnv("otlp-http")...)
	p, err := startService(service, append(env, "OTEL_BSP_SCHEDULE_DELAY=100", "ADDR=127.0.0.1:"+strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	if err := p.waitReady("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"); err != nil {
		t.Fatal(err)
	}
	return p
}

//go:build e2e

// Package e2e runs the real frontend and backend binaries against a real
// Jaeger v2 on loopback, and checks the trace as Jaeger stores and serves it:
// over each exporter, on the success, error and delay paths, and with Jaeger
// down. `make e2e` runs it (part of `make test`); it needs bin/jaeger, which
// `make jaeger` builds from the Go module proxy.
package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pair is the frontend and backend, running as processes.
type pair struct {
	frontend, backend         *process
	frontendPort, backendPort int
	env                       []string // what both were started with
}

// startPair starts backend then frontend with env added to both, and stops
// them when the test ends: SIGTERM, then checks that they exited with
// wantExit and that their ports are free again. A failed test shows their
// output. A BACKEND_URL in env replaces the frontend's, http://127.0.0.1
// and the backend's port, with {port} standing for that port.
func startPair(t *testing.T, wantExit int, env ...string) *pair {
	t.Helper()
	p := &pair{frontendPort: freePort(), backendPort: freePort()}
	// Spans are exported every 100 ms instead of every 5 s, so that the
	// test does not wait on the batcher, unless the test says otherwise.
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "OTEL_BSP_SCHEDULE_DELAY=") }) {
		env = append(env, "OTEL_BSP_SCHEDULE_DELAY=100")
	}
	p.env = env

	p.startBackend(t)
	t.Cleanup(func() { p.stopAndCheck(t, p.backend, p.backendPort, wantExit) })

	backendURL := "BACKEND_URL=" + p.backendURL("")
	if i := slices.IndexFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "BACKEND_URL=") }); i >= 0 {
		backendURL = strings.ReplaceAll(env[i], "{port}", strconv.Itoa(p.backendPort))
	}
	var err error
	p.frontend, err = startService("frontend", append(env,
		"ADDR=127.0.0.1:"+strconv.Itoa(p.frontendPort),
		backendURL,
		"JAEGER_UI_URL="+jg.url(jg.queryPort, "")))
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the frontend stops before the backend.
	t.Cleanup(func() { p.stopAndCheck(t, p.frontend, p.frontendPort, wantExit) })
	if err := p.frontend.waitReady(p.frontendURL("/healthz")); err != nil {
		t.Fatal(err)
	}
	return p
}

// startBackend starts the backend on its port and waits until it is ready.
func (p *pair) startBackend(t *testing.T) {
	t.Helper()
	var err error
	p.backend, err = startService("backend", append(p.env, "ADDR=127.0.0.1:"+strconv.Itoa(p.backendPort)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.backend.waitReady(p.backendURL("/healthz")); err != nil {
		p.backend.stop()
		t.Fatal(err)
	}
}

func (p *pair) frontendURL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(p.frontendPort) + path
}

func (p *pair) backendURL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(p.backendPort) + path
}

func (p *pair) stopAndCheck(t *testing.T, proc *process, port, wantExit int) {
	if exit := proc.stop(); exit != wantExit {
		t.Errorf("%s exited with %d after SIGTERM, want %d", proc.name, exit, wantExit)
	}
	if !portFree(port) {
		t.Errorf("%s's port %d is still held after it stopped", proc.name, port)
	}
	if t.Failed() {
		t.Logf("%s's output:\n%s", proc.name, proc.out)
	}
}

// get requests path from the frontend and returns the status, the body and
// the trace ID from the traceresponse header.
func (p *pair) get(t *testing.T, path string) (status int, body, traceID string) {
	t.Helper()
	return getTraced(t, p.frontendURL(path))
}

// TestTraceInJaeger sends requests through the pair over each exporter and
// checks the trees Jaeger stores: the plain request with baggage, the
// failing one, and the slow one.
func TestTraceInJaeger(t *testing.T) {
	for _, exporter := range []string{"otlp-http", "otlp-grpc", "jaeger"} {
		t.Run(exporter, func(t *testing.T) {
			p := startPair(t, 0, exporterEnv(exporter)...)

			t.Run("success with baggage", func(t *testing.T) {
				status, body, traceID := p.get(t, "/?user=alice")
				jg.checkTree(t, traceID, theTree(map[string]string{"user": "alice", "fail": "false", "delay": "0s"}))
				if status != http.StatusOK || !strings.HasPrefix(body, "hello, alice, from the backend") {
					t.Errorf("GET /?user=alice answered %d %q, want 200 and the backend's hello to alice", status, body)
				}
				if want := "trace: " + jg.url(jg.queryPort, "/trace/"+traceID); !strings.Contains(body, want) {
					t.Errorf("the answer %q does not link to the trace (%s)", body, want)
				}
			})

			t.Run("backend fails", func(t *testing.T) {
				status, body, traceID := p.get(t, "/?fail=true")
				if status != http.StatusBadGateway || !strings.Contains(body, "simulated failure (fail=true)") {
					t.Fatalf("GET /?fail=true: %d %q, want 502 naming the failure", status, body)
				}
				tree := theTree(map[string]string{"fail": "true", "error": "true", "otel.status_code": "ERROR"})
				tree[0].tags = map[string]string{"http.response.status_code": "502", "error": "true"}
				tree[1].tags = map[string]string{"error": "true"}
				tree[3].tags = map[string]string{"http.response.status_code": "500", "error": "true"}
				tree[4].events = []string{"handling backend call", "exception"}
				jg.checkTree(t, traceID, tree)
			})

			t.Run("backend waits", func(t *testing.T) {
				status, _, traceID := p.get(t, "/?delay=200ms")
				if status != http.StatusOK {
					t.Fatalf("GET /?delay=200ms: %d", status)
				}
				tree := theTree(map[string]string{"delay": "200ms"})
				tree[4].events = []string{"handling backend call", "waiting"}
				spans := jg.checkTree(t, traceID, tree)
				handle, root := spans["handle backend call"], spans["GET /"]
				if handle.Duration < 200_000 {
					t.Errorf("handle backend call lasted %d µs, want at least the 200 ms delay", handle.Duration)
				}
				if root.Duration < handle.Duration {
					t.Errorf("the root lasted %d µs, less than its descendant's %d µs", root.Duration, handle.Duration)
				}
			})
		})
	}
}

// TestJaegerDown: with nothing listening where the spans go, users see no
// difference, and the log reports the failed exports without a line per
// batch.
func TestJaegerDown(t *testing.T) {
	nowhere := freePort()
	// Each export gives up after 2 s at most, instead of 10 s. The spans
	// still queued at the stop are lost too; the log counts the failures
	// and the services still exit 0: a tracing outage is not theirs.
	p := startPair(t, 0,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:"+strconv.Itoa(nowhere),
		"OTEL_EXPORTER_OTLP_TIMEOUT=2000")

	var slowest time.Duration
	requests := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		start := time.Now()
		status, body, _ := p.get(t, "/?user=dave")
		if status != http.StatusOK {
			t.Fatalf("with Jaeger down, GET / answered %d %q", status, body)
		}
		slowest = max(slowest, time.Since(start))
		requests++
	}
	// Exports run beside the requests, never on their path: no request
	// waits for even one export attempt to time out.
	if slowest >= 2*time.Second {
		t.Errorf("the slowest request took %s: it waited on an export", slowest)
	}
	t.Logf("slowest request with Jaeger down: %s", slowest)

	p.frontend.stop()
	out := p.frontend.out.String()
	lines := strings.Count(out, `"msg":"opentelemetry error`)
	if lines == 0 || lines > 2 {
		t.Errorf("the frontend logged %d export-failure lines in 5 s, want 1 (then a count at the stop):\n%s", lines, out)
	}
	if !strings.Contains(out, "errors_suppressed") || !strings.Contains(out, "connection refused") {
		t.Errorf("the frontend's log does not say the export failed and why:\n%s", out)
	}
	fmt.Printf("reliability: Jaeger unreachable for 5 s: %d requests, 0 failed, slowest %s; %d log lines about failed exports\n",
		requests, slowest.Round(100*time.Microsecond), lines)
}

// TestBadSettingsStopAtStart: the real binary, given one bad setting, exits
// with code 2 and one log line naming the variable, without serving.
func TestBadSettingsStopAtStart(t *testing.T) {
	busy := freePort()
	holder, err := startProcess("port holder", filepath.Join(binDir, "tracingdemo"), []string{"ADDR=127.0.0.1:" + strconv.Itoa(busy)}, "backend")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.stop()
	if err := holder.waitReady("http://127.0.0.1:" + strconv.Itoa(busy) + "/healthz"); err != nil {
		t.Fatal(err)
	}

	tests := []struct{ variable, value string }{
		{"OTEL_TRACES_EXPORTER", "zipkin"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "jaeger:4318"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
		{"OTEL_TRACES_SAMPLER_ARG", "2"},
		{"OTEL_PROPAGATORS", "w3c"},
		{"ADDR", "localhost"},
		{"ADDR", "127.0.0.1:" + strconv.Itoa(busy)},
		{"BACKEND_URL", "backend:8081"},
		{"BACKEND_TIMEOUT", "-1s"},
		{"LOG_FORMAT", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value, func(t *testing.T) {
			env := []string{"ADDR=127.0.0.1:" + strconv.Itoa(freePort()), tt.variable + "=" + tt.value}
			if tt.variable == "OTEL_TRACES_SAMPLER_ARG" {
				env = append(env, "OTEL_TRACES_SAMPLER=traceidratio")
			}
			p, err := startService("frontend", env)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("the frontend is still running with %s=%s", tt.variable, tt.value)
			}
			out := strings.TrimSpace(p.out.String())
			if exit := p.stop(); exit != 2 {
				t.Errorf("exit code %d, want 2; output:\n%s", exit, out)
			}
			if lines := strings.Split(out, "\n"); len(lines) != 1 || !strings.Contains(out, tt.variable) {
				t.Errorf("want one line naming %s, got:\n%s", tt.variable, out)
			}
		})
	}
	if !t.Failed() {
		fmt.Printf("reliability: bad settings: %d of %d stop the frontend at start with exit code 2 and one line naming the variable\n", len(tests), len(tests))
	}
}

// TestJaegerUI is a user's last step, in a real browser: the link the
// frontend printed opens the trace in the Jaeger UI, with the five spans in
// their tree and both services; a fail=true trace shows the error icon on
// each span; the search page lists both services and finds frontend's
// traces; and the later lessons show what the README says they show
// (e2e/lessons_test.go).
func TestJaegerUI(t *testing.T) {
	b := newBrowser(t)
	p := startPair(t, 0, exporterEnv("otlp-http")...)
	_, body, traceID := p.get(t, "/?user=alice")
	_, failBody, failID := p.get(t, "/?fail=true")
	// The page shows what Jaeger has when it loads: give Jaeger the time
	// to receive every span (the page then judges what it got).
	jg.waitTrace(t, traceID, 5)
	jg.waitTrace(t, failID, 5)

	b.checkTrace(linkIn(t, body), traceID, wantTimeline(false))
	b.checkTrace(linkIn(t, failBody), failID, wantTimeline(true))
	b.checkSearch(jg.url(jg.queryPort, ""), traceID, failID)
	b.checkComparison(traceID, failID, sameShape())

	// The later lessons: the critical path, a job's traces.
	l := makeLessons(t, p)
	base := jg.url(jg.queryPort, "")
	b.checkCriticalPath(base, l.slow)
	b.checkJobTrace(base, l.job, l.async, l.send)
	b.checkChildTrace(base, l.childOfParent)

	// Lesson 4: System Architecture, the map of the services' calls.
	checkFrontendCallsBackend(t, base)
	b.checkSystemArchitecture(base)
}

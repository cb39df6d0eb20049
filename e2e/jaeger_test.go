//go:build e2e || compose || bench

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// jaeger is the real Jaeger v2 the tests export to, with memory storage and
// every port its own (testdata/jaeger.yaml).
type jaeger struct {
	*process
	jaegerAPI
	queryPort, healthPort                  int
	otlpHTTPPort, otlpGRPCPort, thriftPort int
	samplingPort                           int    // remote_sampling's HTTP endpoint
	metricsPort                            int    // Jaeger's own metrics, where its config reads JAEGER_METRICS_PORT
	strategies                             string // the file of sampling strategies it serves
	bin                                    string
	env, args                              []string
}

// jaegerAPI is Jaeger's query API at base, e.g. http://127.0.0.1:16686.
type jaegerAPI struct{ base string }

func startJaeger(bin string) (*jaeger, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no Jaeger binary at %s (build it with `make jaeger`): %w", bin, err)
	}
	j := &jaeger{
		queryPort: freePort(), healthPort: freePort(),
		otlpHTTPPort: freePort(), otlpGRPCPort: freePort(), thriftPort: freePort(),
		samplingPort: freePort(),
	}
	// A copy of the repository's strategies, which a test may change.
	strategies, err := os.ReadFile("../jaeger/sampling-strategies.json")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tracingdemo-jaeger-")
	if err != nil {
		return nil, err
	}
	j.strategies = filepath.Join(dir, "sampling-strategies.json")
	if err := os.WriteFile(j.strategies, strategies, 0o644); err != nil {
		return nil, err
	}
	config, err := filepath.Abs("testdata/jaeger.yaml")
	if err != nil {
		return nil, err
	}
	ui, err := filepath.Abs(*jaegerUI)
	if err != nil {
		return nil, err
	}
	env := []string{
		"E2E_QUERY_PORT=" + strconv.Itoa(j.queryPort),
		"E2E_QUERY_GRPC_PORT=" + strconv.Itoa(freePort()),
		"E2E_HEALTH_PORT=" + strconv.Itoa(j.healthPort),
		"E2E_OTLP_HTTP_PORT=" + strconv.Itoa(j.otlpHTTPPort),
		"E2E_OTLP_GRPC_PORT=" + strconv.Itoa(j.otlpGRPCPort),
		"E2E_THRIFT_HTTP_PORT=" + strconv.Itoa(j.thriftPort),
		"E2E_UI_ASSETS=" + ui,
		"E2E_SAMPLING_STRATEGIES=" + j.strategies,
		"E2E_SAMPLING_PORT=" + strconv.Itoa(j.samplingPort),
		"E2E_SAMPLING_GRPC_PORT=" + strconv.Itoa(freePort()),
	}
	j.jaegerAPI = jaegerAPI{base: j.url(j.queryPort, "")}
	j.bin, j.env, j.args = bin, env, []string{"--config", config}
	if err := j.start(); err != nil {
		return nil, err
	}
	return j, nil
}

// startJaegerConfig starts the Jaeger of one of the project's own config
// files (jaeger/*.yaml), as it is, but with every listener moved to
// 127.0.0.1 and a free port, and with the real UI: a test checks the file
// users run, without colliding with a Jaeger already running. It stops
// Jaeger when the test ends, and checks that it exited 0.
//
// extra are more --set flags, for the listeners that only that file has.
func startJaegerConfig(t *testing.T, config string, extra ...string) *jaeger {
	t.Helper()
	config, err := filepath.Abs(config)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := filepath.Abs(*jaegerUI)
	if err != nil {
		t.Fatal(err)
	}
	j := &jaeger{queryPort: freePort(), healthPort: freePort(), otlpHTTPPort: freePort(), otlpGRPCPort: freePort(), metricsPort: freePort()}
	j.bin = *jaegerBin
	j.env = []string{"JAEGER_METRICS_PORT=" + strconv.Itoa(j.metricsPort)}
	j.args = []string{"--config", config,
		setAddr("extensions.jaeger_query.http.endpoint", j.queryPort),
		setAddr("extensions.jaeger_query.grpc.endpoint", freePort()),
		setAddr("extensions.healthcheckv2.http.endpoint", j.healthPort),
		setAddr("receivers.otlp.protocols.http.endpoint", j.otlpHTTPPort),
		setAddr("receivers.otlp.protocols.grpc.endpoint", j.otlpGRPCPort),
		"--set=extensions.jaeger_query.ui.assets_path=" + ui,
	}
	j.args = append(j.args, extra...)
	j.jaegerAPI = jaegerAPI{base: j.url(j.queryPort, "")}
	j.run(t, "the Jaeger of "+config)
	return j
}

// setAddr is the flag that moves a listener of a Jaeger or Collector config
// to 127.0.0.1:port.
func setAddr(key string, port int) string {
	return fmt.Sprintf("--set=%s=127.0.0.1:%d", key, port)
}

// run starts j and stops it when the test ends, checking that it exited 0;
// what names it in the failure.
func (j *jaeger) run(t *testing.T, what string) {
	t.Helper()
	if err := j.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exit := j.stop(); exit != 0 {
			t.Errorf("%s exited with %d:\n%s", what, exit, j.out)
		}
	})
}

// start starts Jaeger on its ports, empty (memory storage), and waits until
// its health endpoint says every pipeline is running. After a stop, it
// starts it again.
func (j *jaeger) start() (err error) {
	if j.process, err = startProcess("jaeger", j.bin, j.env, j.args...); err != nil {
		return err
	}
	if err := j.waitReady(j.url(j.healthPort, "/status")); err != nil {
		j.stop()
		return err
	}
	return nil
}

func (j *jaeger) url(port int, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + path
}

// The trace as Jaeger's query API (GET /api/traces/{id}) returns it.
type jaegerTrace struct {
	TraceID   string       `json:"traceID"`
	Spans     []jaegerSpan `json:"spans"`
	Processes map[string]struct {
		Service string `json:"serviceName"`
	} `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64      `json:"startTime"` // µs since the epoch
	Duration  int64      `json:"duration"`  // µs
	Tags      []jaegerKV `json:"tags"`
	Logs      []struct {
		Timestamp int64      `json:"timestamp"`
		Fields    []jaegerKV `json:"fields"`
	} `json:"logs"`
	ProcessID string `json:"processID"`
}

type jaegerKV struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// tag returns the span's tag as text ("" if absent).
func (s jaegerSpan) tag(key string) string {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return fmt.Sprint(kv.Value)
		}
	}
	return ""
}

// events returns the names of the span's events (Jaeger calls them logs).
func (s jaegerSpan) events() []string {
	var names []string
	for _, l := range s.Logs {
		for _, f := range l.Fields {
			if f.Key == "event" {
				names = append(names, fmt.Sprint(f.Value))
			}
		}
	}
	return names
}

// trace polls Jaeger until the trace has at least wantSpans spans, or 30 s
// pass (the exporters send in batches), and returns what Jaeger has then:
// the caller compares that with what it wanted.
func (a jaegerAPI) trace(traceID string, wantSpans int) (jaegerTrace, []byte, error) {
	var (
		tr   jaegerTrace
		body []byte
		err  error
	)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		tr, body, err = a.fetch(traceID)
		if err == nil && len(tr.Spans) >= wantSpans {
			// Let any span too many arrive, so that the count is checked.
			time.Sleep(300 * time.Millisecond)
			return a.fetch(traceID)
		}
	}
	if err != nil {
		return tr, body, fmt.Errorf("trace %s: %w", traceID, err)
	}
	return tr, body, fmt.Errorf("trace %s has %d spans in Jaeger after 30 s, want %d", traceID, len(tr.Spans), wantSpans)
}

// waitTrace waits until Jaeger holds the trace with at least wantSpans
// spans, and fails the test, saying what Jaeger had, when it does not.
func (a jaegerAPI) waitTrace(t *testing.T, traceID string, wantSpans int) {
	t.Helper()
	if _, body, err := a.trace(traceID, wantSpans); err != nil {
		t.Fatalf("%v\nJaeger returned:\n%s", err, indent(body))
	}
}

// errNoTrace is Jaeger's 404: it holds no span of the trace.
var errNoTrace = errors.New("Jaeger holds no such trace (404)")

func (a jaegerAPI) fetch(traceID string) (jaegerTrace, []byte, error) {
	resp, err := http.Get(a.base + "/api/traces/" + traceID)
	if err != nil {
		return jaegerTrace{}, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return jaegerTrace{}, nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return jaegerTrace{}, body, errNoTrace
	}
	if resp.StatusCode != http.StatusOK {
		return jaegerTrace{}, body, fmt.Errorf("Jaeger answered %s: %s", resp.Status, body)
	}
	var out struct {
		Data []jaegerTrace `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return jaegerTrace{}, body, fmt.Errorf("decoding Jaeger's answer: %w", err)
	}
	if len(out.Data) != 1 {
		return jaegerTrace{}, body, fmt.Errorf("Jaeger returned %d traces", len(out.Data))
	}
	return out.Data[0], body, nil
}

// findTrace searches Jaeger, as its UI's search page does, for the one
// trace with a span of service and operation that has the tag key=value,
// polling for 30 s at most.
func (a jaegerAPI) findTrace(t *testing.T, service, operation, key, value string) jaegerTrace {
	t.Helper()
	tags, _ := json.Marshal(map[string]string{key: value})
	q := url.Values{"service": {service}, "operation": {operation}, "tags": {string(tags)}, "lookback": {"1h"}, "limit": {"20"}}
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(a.base + "/api/traces?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = fmt.Sprintf("%s: %s", resp.Status, body)
		var out struct {
			Data []jaegerTrace `json:"data"`
		}
		if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &out) == nil && len(out.Data) > 0 {
			if len(out.Data) > 1 {
				t.Fatalf("%d traces have a %s span with %s=%s, want 1", len(out.Data), operation, key, value)
			}
			return out.Data[0]
		}
	}
	t.Fatalf("no trace with a %s span %q tagged %s=%s in Jaeger after 30 s; its last answer: %s", service, operation, key, value, last)
	return jaegerTrace{}
}

// traces returns every trace stored with a span of service named
// operation, in the last hour; Jaeger stores what it received within a
// second or so, so it asks until two answers a second apart agree.
func (a jaegerAPI) traces(t *testing.T, service, operation string) []jaegerTrace {
	t.Helper()
	q := url.Values{"service": {service}, "operation": {operation}, "lookback": {"1h"}, "limit": {"1000"}}
	var last []jaegerTrace
	for i := 0; i < 10; i++ {
		time.Sleep(time.Second)
		resp, err := http.Get(a.base + "/api/traces?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Data []jaegerTrace `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && len(out.Data) == len(last) {
			return out.Data
		}
		last = out.Data
	}
	return last
}

// refs returns the span's references as "REFTYPE trace/span".
func (s jaegerSpan) refs() []string {
	var refs []string
	for _, r := range s.References {
		refs = append(refs, r.RefType+" "+r.TraceID+"/"+r.SpanID)
	}
	return refs
}

// services returns the services Jaeger has spans of (GET /api/services),
// as its search page lists them.
func (a jaegerAPI) services(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get(a.base + "/api/services")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data []string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET /api/services: %v", err)
	}
	return out.Data
}

// checkOnlyDemoServices: the search page of the Jaeger at base lists the
// demo's services and no other, for 6 s, longer than the 5 s in which an
// OpenTelemetry batcher (Jaeger's own, where it traced its query API) sends
// what it holds. The API is asked all along, so each ask would be traced.
func checkOnlyDemoServices(t *testing.T, base string) {
	t.Helper()
	api := jaegerAPI{base: base}
	for deadline := time.Now().Add(6 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		for _, service := range api.services(t) {
			if service != "frontend" && service != "backend" {
				t.Fatalf("Jaeger's search page lists the service %q beside the demo's frontend and backend", service)
			}
		}
		if time.Now().After(deadline) {
			return
		}
	}
}

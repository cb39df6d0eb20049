//go:build e2e

package e2e

import (
	"bytes"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The sampling tests check both kinds of sampling against the real Jaeger:
// head sampling, decided by the SDK at the root and carried in the
// traceparent flags, and tail sampling, decided by Jaeger once the trace is
// whole (jaeger/tail-sampling.yaml). Each prints one line of counts, which
// starts with "sampling:".

// stored asks Jaeger for a trace: how many spans it holds, 0 if none.
func (a jaegerAPI) stored(t *testing.T, traceID string) int {
	t.Helper()
	tr, _, err := a.fetch(traceID)
	if errors.Is(err, errNoTrace) {
		return 0
	}
	if err != nil {
		t.Fatalf("trace %s: %v", traceID, err)
	}
	return len(tr.Spans)
}

// sendAll requests each path from the pair's frontend, 10 at a time, and
// returns the trace ID and sampled flag of each answer's traceresponse.
func sendAll(t *testing.T, p *pair, paths []string) (traceIDs []string, sampled []bool) {
	t.Helper()
	traceIDs, sampled = make([]string, len(paths)), make([]bool, len(paths))
	client := &http.Client{Timeout: 30 * time.Second}
	next := make(chan int)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for i := range next {
				status, id, s := loadGet(client, p.frontendURL(paths[i]))
				if id == "" || (status != http.StatusOK && status != http.StatusBadGateway) {
					t.Errorf("GET %s: %d, traceresponse trace %q", paths[i], status, id)
				}
				traceIDs[i], sampled[i] = id, s
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return traceIDs, sampled
}

// TestHeadSampling: at a ratio of 0.5, the frontend decides at the root,
// says so in traceresponse, and every trace is either in Jaeger whole or
// not at all: the backend follows the decision it received in the
// traceparent flags.
func TestHeadSampling(t *testing.T) {
	const n = 200
	p := startPair(t, 0, append(exporterEnv("otlp-http"),
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.5")...)
	paths := make([]string, n)
	for i := range paths {
		paths[i] = "/?user=head"
	}
	traceIDs, sampled := sendAll(t, p, paths)

	kept, absent := 0, 0
	for i, id := range traceIDs {
		if !sampled[i] {
			continue
		}
		kept++
		spans := 0
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if spans = jg.stored(t, id); spans >= 5 {
				break
			}
		}
		if spans != 5 {
			t.Errorf("sampled trace %s (traceresponse -01) has %d spans in Jaeger, want 5", id, spans)
		}
	}
	// Every sampled trace has arrived, so the batches are flushed: an
	// unsampled trace that was exported would be there by now.
	for i, id := range traceIDs {
		if sampled[i] {
			continue
		}
		if spans := jg.stored(t, id); spans != 0 {
			t.Errorf("unsampled trace %s (traceresponse -00) has %d spans in Jaeger, want none", id, spans)
		} else {
			absent++
		}
	}
	// Binomial(200, 0.5): mean 100, standard deviation 7.1; 72 to 128 is
	// four standard deviations each side.
	if kept < 72 || kept > 128 {
		t.Errorf("%d of %d requests were sampled at ratio 0.5, want 72 to 128", kept, n)
	}
	fmt.Printf("sampling: head, ratio 0.5: %d of %d traces sampled, all 5 spans in Jaeger; %d unsampled, none in Jaeger\n", kept, n, absent)
}

// TestTailSampling runs jaeger/tail-sampling.yaml, as it is, with the
// services at their defaults (a batch every 5 s), and sends the request
// mix of a day: 30 that fail, 30 slow ones (600 ms) and 240 plain ones.
// Every error trace and every slow trace must be kept, about 10 % of the
// plain ones, and no trace in part.
func TestTailSampling(t *testing.T) {
	tail := startJaegerConfig(t, "../jaeger/tail-sampling.yaml")
	p := startPair(t, 0, "OTEL_EXPORTER_OTLP_ENDPOINT="+tail.url(tail.otlpHTTPPort, ""),
		"OTEL_BSP_SCHEDULE_DELAY=5000")

	shuffled, traceIDs, sent := sendMix(t, p)

	type counts struct {
		kept    map[string]int
		partial []string // "class trace: n spans of 5"
	}
	c := untilStable(t, func() counts {
		c := counts{kept: map[string]int{}}
		for i, id := range traceIDs {
			class := mixClass[shuffled[i]]
			switch spans := tail.stored(t, id); spans {
			case 0:
			case 5:
				c.kept[class]++
			default:
				c.partial = append(c.partial, fmt.Sprintf("%s trace %s: %d spans of 5", class, id, spans))
			}
		}
		return c
	})
	kept, partial := c.kept, len(c.partial)
	for _, part := range c.partial {
		t.Errorf("a trace is in Jaeger in part: %s", part)
	}
	if kept["errors"] != mixErrors {
		t.Errorf("%d of %d error traces kept, want all: the errors policy", kept["errors"], mixErrors)
	}
	if kept["slow"] != mixSlow {
		t.Errorf("%d of %d slow traces (600 ms) kept, want all: the latency policy", kept["slow"], mixSlow)
	}
	// Binomial(240, 0.1): mean 24, standard deviation 4.6.
	if kept["plain"] < 8 || kept["plain"] > 42 {
		t.Errorf("%d of %d plain traces kept, want about 10 %%: 8 to 42", kept["plain"], mixPlain)
	}
	fmt.Printf("sampling: tail (jaeger/tail-sampling.yaml): kept %d/%d error traces, %d/%d slow, %d/%d plain (10 %% expected); %d traces in part; decided within %s of the last request\n",
		kept["errors"], mixErrors, kept["slow"], mixSlow, kept["plain"], mixPlain, partial, time.Since(sent).Round(time.Second))
}

// The request mix of the tail-sampling tests: 30 that fail, 30 slow ones
// (600 ms) and 240 plain ones, the class of each path.
const mixErrors, mixSlow, mixPlain = 30, 30, 240

var mixClass = map[string]string{"/?fail=true": "errors", "/?delay=600ms": "slow", "/?user=plain": "plain"}

// sendMix sends the mix to the pair's frontend, in a random order, and
// waits until a tail sampler has decided on every trace: decision_wait
// (10 s) after a trace's first span arrives, which is up to one batch (5 s)
// after its request, and a little more. It returns the paths in the order
// sent, their trace IDs, and when the last answer came.
func sendMix(t *testing.T, p *pair) (paths, traceIDs []string, sent time.Time) {
	t.Helper()
	for i := range mixErrors + mixSlow + mixPlain {
		switch {
		case i < mixErrors:
			paths = append(paths, "/?fail=true")
		case i < mixErrors+mixSlow:
			paths = append(paths, "/?delay=600ms")
		default:
			paths = append(paths, "/?user=plain")
		}
	}
	rand.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	start := time.Now()
	traceIDs, _ = sendAll(t, p, paths)
	sent = time.Now()
	t.Logf("sent %d requests in %s", len(paths), sent.Sub(start).Round(time.Millisecond))
	// No decision can come sooner: a wait on purpose. Then the callers
	// poll the store until its counts stop changing (untilStable).
	time.Sleep(time.Until(sent.Add(5*time.Second + 10*time.Second)))
	return paths, traceIDs, sent
}

// untilStable calls count every second until two calls in a row return the
// same, and returns that: what a store holds once the samplers have
// decided. It fails the test if the counts still change after 30 s.
func untilStable[T any](t *testing.T, count func() T) T {
	t.Helper()
	last := count()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		next := count()
		if reflect.DeepEqual(next, last) {
			return next
		}
		last = next
	}
	t.Fatalf("the store's counts still changed after 30 s; the last: %+v", last)
	return last
}

// TestRemoteSampling: with OTEL_TRACES_SAMPLER=jaeger_remote, the services
// ask Jaeger what share of their traces to sample, from the strategies file
// Jaeger serves (a copy of jaeger/sampling-strategies.json). Set the
// frontend's rate to 0 in that file, and new requests come back unsampled,
// with no restart; set it back to 1, and they are sampled again.
func TestRemoteSampling(t *testing.T) {
	arg := "endpoint=" + jg.url(jg.samplingPort, "/sampling") + ",pollingIntervalMs=200,initialSamplingRate=1"
	p := startPair(t, 0, append(exporterEnv("otlp-http"),
		"OTEL_TRACES_SAMPLER=jaeger_remote", "OTEL_TRACES_SAMPLER_ARG="+arg)...)

	setRate := func(rate float64) time.Time {
		t.Helper()
		var strategies struct {
			Services []map[string]any `json:"service_strategies"`
			Default  map[string]any   `json:"default_strategy"`
		}
		raw, err := os.ReadFile(jg.strategies)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &strategies); err != nil || len(strategies.Services) == 0 || strategies.Services[0]["service"] != "frontend" {
			t.Fatalf("jaeger/sampling-strategies.json has no strategy for frontend first (%v):\n%s", err, raw)
		}
		strategies.Services[0]["param"] = rate
		raw, _ = json.MarshalIndent(strategies, "", "  ")
		if err := os.WriteFile(jg.strategies, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}
	t.Cleanup(func() { setRate(1) })

	// until asks until three answers in a row carry the flags want, and
	// returns how long that took from since.
	until := func(want string, since time.Time) time.Duration {
		t.Helper()
		client := &http.Client{Timeout: 5 * time.Second}
		inARow := 0
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			_, _, sampled := loadGet(client, p.frontendURL("/"))
			if got := map[bool]string{true: "01", false: "00"}[sampled]; got == want {
				if inARow++; inARow == 3 {
					return time.Since(since)
				}
			} else {
				inARow = 0
			}
		}
		t.Fatalf("no three answers in a row with traceresponse flags %s within 15 s", want)
		return 0
	}

	until("01", time.Now()) // the file's rate for frontend: 1
	toZero := until("00", setRate(0))
	backToOne := until("01", setRate(1))
	fmt.Printf("sampling: remote (jaeger_remote, polling every 200 ms, Jaeger reloading the file every 500 ms): rate 0 applied %s after the file changed, rate 1 again %s after; no restart\n",
		toZero.Round(10*time.Millisecond), backToOne.Round(10*time.Millisecond))
}

// TestTailSamplingFlood: 200 error traces, then, at once, more new traces
// than the tail sampler holds (num_traces, 50,000): 60,000 one-span traces
// sent straight to its OTLP port, as anyone who can reach it could. The
// flood evicts the error traces before their decision; memory stays
// bounded. What is lost must not be lost silently: Jaeger's own metrics
// count every trace dropped before its decision.
func TestTailSamplingFlood(t *testing.T) {
	tail := startJaegerConfig(t, "../jaeger/tail-sampling.yaml")
	endpoint := tail.url(tail.otlpHTTPPort, "/v1/traces")
	rssBefore := statusKB(tail.process, "VmRSS")

	var errorIDs []string
	for batch := range 4 {
		errorIDs = append(errorIDs, postSpans(t, endpoint, fmt.Sprintf("error-%d", batch), 50, true)...)
	}
	start := time.Now()
	for batch := range 60 {
		postSpans(t, endpoint, fmt.Sprintf("flood-%d", batch), 1000, false)
	}
	flooded := time.Since(start)
	rssFlood := statusKB(tail.process, "VmRSS")

	// decision_wait (10 s), then the store's counts settle.
	time.Sleep(12 * time.Second)
	kept := untilStable(t, func() int {
		n := 0
		for _, id := range errorIDs {
			if tail.stored(t, id) > 0 {
				n++
			}
		}
		return n
	})
	dropped := metricSum(t, tail.url(tail.metricsPort, "/metrics"), "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early")
	fmt.Printf("reliability: tail sampler flooded with 60,000 new traces in %s after 200 error traces: %d/200 error traces kept, %d traces counted as dropped before their decision; Jaeger RSS %d MB before, %d MB after the flood\n",
		flooded.Round(time.Millisecond), kept, int(dropped), rssBefore/1024, rssFlood/1024)

	if dropped == 0 {
		t.Errorf("no trace counted as dropped too early: the flood did not overflow num_traces, or the count is off")
	}
	if lost := len(errorIDs) - kept; float64(lost) > dropped {
		t.Errorf("%d error traces lost, only %v counted as dropped: a silent loss", lost, dropped)
	}
}

// postSpans sends n one-span traces, named name, to an OTLP/HTTP endpoint
// in one request, with the status Error if failed, and returns their trace
// IDs.
func postSpans(t *testing.T, endpoint, name string, n int, failed bool) []string {
	t.Helper()
	type span struct {
		TraceID string         `json:"traceId"`
		SpanID  string         `json:"spanId"`
		Name    string         `json:"name"`
		Kind    int            `json:"kind"`
		Start   string         `json:"startTimeUnixNano"`
		End     string         `json:"endTimeUnixNano"`
		Status  map[string]int `json:"status"`
	}
	now := time.Now().UnixNano()
	spans := make([]span, n)
	ids := make([]string, n)
	for i := range spans {
		ids[i] = randomHex(16)
		spans[i] = span{TraceID: ids[i], SpanID: randomHex(8), Name: name, Kind: 2,
			Start: strconv.FormatInt(now, 10), End: strconv.FormatInt(now+1e6, 10), Status: map[string]int{}}
		if failed {
			spans[i].Status["code"] = 2 // STATUS_CODE_ERROR
		}
	}
	if status := postOTLP(t, endpoint, spans); status != http.StatusOK {
		t.Fatalf("POST %s: %d", endpoint, status)
	}
	return ids
}

// randomHex is n random bytes, in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// metricSum is the sum of the samples of the metric name (with or without
// the _total suffix) on a Prometheus text endpoint; it fails the test if
// the endpoint does not answer or has no such metric.
func metricSum(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("Jaeger's own metrics: %v", err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	sum, found := 0.0, false
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+"_total{") &&
			!strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"_total ") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			sum, found = sum+v, true
		}
	}
	if !found {
		t.Fatalf("no metric %s on %s", name, url)
	}
	return sum
}

// TestTailSamplingMemoryBound: spans of big traces sent faster than the
// tail sampler decides, as in a flood of large spans. Its memory_limiter
// must refuse them (a retryable error, which a sender counts as failed)
// before its memory passes the limit. The test lowers the limit to 256 MiB
// (--set), so that a few hundred MB show it, and has it checked every
// 100 ms instead of every second: the peak is the limit plus what arrives
// between two checks, and this loop sends as fast as the machine lets it.
func TestTailSamplingMemoryBound(t *testing.T) {
	tail := startJaegerConfig(t, "../jaeger/tail-sampling.yaml",
		"--set=processors.memory_limiter.limit_mib=256", "--set=processors.memory_limiter.spike_limit_mib=64",
		"--set=processors.memory_limiter.check_interval=100ms")
	endpoint := tail.url(tail.otlpHTTPPort, "/v1/traces")
	big := strings.Repeat("x", 10<<10) // 10 KB an attribute, 1 MB a request
	sent, refused := 0, 0
	for sent < 1500 && refused == 0 {
		status := postBigSpans(t, endpoint, big, 100)
		switch status {
		case http.StatusOK:
			sent++
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			refused++
		default:
			t.Fatalf("POST %s: %d", endpoint, status)
		}
	}
	peak := statusKB(tail.process, "VmHWM")
	fmt.Printf("reliability: tail sampler sent 1 MB requests of big spans: %d accepted, then refused (memory_limiter at 256 MiB, checked every 100 ms, in this test); Jaeger peak RSS %d MB\n", sent, peak/1024)
	if refused == 0 {
		t.Errorf("%d MB of spans accepted, none refused: no memory_limiter at work", sent)
	}
	if peak > 450<<10 {
		t.Errorf("Jaeger's peak RSS %d MB, want at most 450 MB with a 256 MiB limit", peak/1024)
	}
}

// postBigSpans sends n spans, each with the attribute value v, of 10
// traces that stay undecided for decision_wait, to an OTLP/HTTP endpoint,
// and returns the answer's status.
func postBigSpans(t *testing.T, endpoint, v string, n int) int {
	t.Helper()
	now := strconv.FormatInt(time.Now().UnixNano(), 10)
	traceIDs := make([]string, 10)
	for i := range traceIDs {
		traceIDs[i] = randomHex(16)
	}
	spans := make([]any, n)
	for i := range spans {
		spans[i] = map[string]any{"traceId": traceIDs[i%10], "spanId": randomHex(8), "name": "big", "kind": 1,
			"startTimeUnixNano": now, "endTimeUnixNano": now,
			"attributes": []any{map[string]any{"key": "payload", "value": map[string]string{"stringValue": v}}}}
	}
	return postOTLP(t, endpoint, spans)
}

// postOTLP sends spans, of the service "flood", to an OTLP/HTTP endpoint
// in one request (OTLP's JSON encoding), and returns the answer's status.
func postOTLP(t *testing.T, endpoint string, spans any) int {
	t.Helper()
	body, err := json.Marshal(map[string]any{"resourceSpans": []any{map[string]any{
		"resource": map[string]any{"attributes": []any{map[string]any{
			"key": "service.name", "value": map[string]string{"stringValue": "flood"}}}},
		"scopeSpans": []any{map[string]any{"spans": spans}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(endpoint, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdaptiveSamplingTags: jaeger/adaptive-sampling.yaml loads in the real
// Jaeger, and its attributes processor gives the root span of a request
// sampled by jaeger_remote the tags adaptive sampling reads, sampler.type
// and sampler.param, beside jaegerremote's own jaeger.sampler.* names.
// (That Jaeger then adapts is blocked upstream: docs/sampling.md.)
func TestAdaptiveSamplingTags(t *testing.T) {
	sampling := freePort()
	j := startJaegerConfig(t, "../jaeger/adaptive-sampling.yaml",
		setAddr("extensions.remote_sampling.http.endpoint", sampling),
		setAddr("extensions.remote_sampling.grpc.endpoint", freePort()))
	arg := "endpoint=" + j.url(sampling, "/sampling") + ",initialSamplingRate=1"
	p := startPair(t, 0, "OTEL_EXPORTER_OTLP_ENDPOINT="+j.url(j.otlpHTTPPort, ""),
		"OTEL_TRACES_SAMPLER=jaeger_remote", "OTEL_TRACES_SAMPLER_ARG="+arg)

	// Until its first answer from Jaeger, jaegerremote samples with the
	// initial rate, which records no tag: wait for a tagged root span.
	var root jaegerSpan
	client := &http.Client{Timeout: 5 * time.Second}
	for deadline := time.Now().Add(15 * time.Second); root.tag("sampler.type") == "" && time.Now().Before(deadline); {
		status, traceID, _ := loadGet(client, p.frontendURL("/"))
		if status != http.StatusOK {
			t.Fatalf("GET /: %d", status)
		}
		time.Sleep(500 * time.Millisecond) // the batcher's 100 ms, and Jaeger's own batch
		trace, _, err := j.fetch(traceID)
		if err != nil {
			continue
		}
		for _, s := range trace.Spans {
			if s.OperationName == "GET /" {
				root = s
			}
		}
	}
	if root.tag("sampler.type") == "" {
		t.Fatalf("no root span with sampler.type within 15 s; the last: %+v", root)
	}
	for _, name := range []string{"sampler.type", "sampler.param"} {
		if got, want := root.tag(name), root.tag("jaeger."+name); got == "" || got != want {
			t.Errorf("the root span's %s is %q, want jaeger.%s's %q", name, got, name, want)
		}
	}
}

//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestREDMetrics runs jaeger/monitor.yaml and prometheus/prometheus.yml as
// they are (only their ports moved), with the real Jaeger and a real
// Prometheus, and asks Jaeger's query API, as the Monitor tab does, for the
// frontend's RED metrics: the rate of calls, the share of errors, and the
// 95th percentile of latency. With -screenshots, it also takes the picture
// of the Monitor tab.
func TestREDMetrics(t *testing.T) {
	promPort, metricsPort := freePort(), freePort()
	j := startJaegerConfig(t, "../jaeger/monitor.yaml",
		setAddr("exporters.prometheus.endpoint", metricsPort),
		fmt.Sprintf("--set=extensions.jaeger_storage.metric_backends.prometheus.prometheus.endpoint=http://127.0.0.1:%d", promPort))
	prom := startPrometheus(t, promPort, fmt.Sprintf("127.0.0.1:%d", metricsPort))
	p := startPair(t, 0, "OTEL_EXPORTER_OTLP_ENDPOINT="+j.url(j.otlpHTTPPort, ""), "JAEGER_UI_URL="+j.url(j.queryPort, ""))

	// A counter's first sample is its base line: the requests before it
	// are not in any rate. So each kind of request is made once first, and
	// the measured ones only after Prometheus has seen every series twice.
	for _, path := range []string{"/", "/?fail=true", "/?delay=200ms"} {
		getTraced(t, p.frontendURL(path))
	}
	waitPrometheus(t, promPort, `count(count_over_time(traces_span_metrics_calls_total{service_name="frontend",span_kind="SPAN_KIND_SERVER"}[1m]) >= 2) >= 2`)

	const plain, failing, slow = 240, 30, 30
	start := time.Now()
	for i := range plain + failing + slow {
		path := "/?user=red"
		switch {
		case i%10 == 3:
			path = "/?fail=true"
		case i%10 == 7:
			path = "/?delay=200ms"
		}
		getTraced(t, p.frontendURL(path))
		time.Sleep(10 * time.Millisecond) // pacing: about 30 s of traffic, not a burst
	}
	sent := time.Since(start)
	// The connector flushes every second, Prometheus scrapes every 2 s:
	// wait until Prometheus has counted every request, the 3 first ones too.
	waitPrometheus(t, promPort, fmt.Sprintf(`sum(traces_span_metrics_calls_total{service_name="frontend",span_kind="SPAN_KIND_SERVER"}) >= %d`, 3+plain+failing+slow))

	window := (sent + 10*time.Second).Round(time.Second)
	calls := j.metric(t, "calls", window, nil)
	errors := j.metric(t, "errors", window, nil)
	p95 := j.metric(t, "latencies", window, url.Values{"quantile": {"0.95"}})
	t.Logf("over the last %s: calls %.2f/s, errors %.3f, p95 %.1f ms", window.Round(time.Second), calls, errors, p95)

	if calls <= 0 {
		t.Errorf("/api/metrics/calls reports %.3f calls/s for frontend, want more than 0", calls)
	}
	// 30 of 300 requests failed: 0.1, give or take what the rate windows
	// do at their edges.
	if errors < 0.05 || errors > 0.2 {
		t.Errorf("/api/metrics/errors reports an error rate of %.3f for frontend, want about 0.1 (30 of 300 failed)", errors)
	}
	// One request in ten waited 200 ms: the 95th percentile shows it.
	if p95 < 150 {
		t.Errorf("/api/metrics/latencies reports a p95 of %.1f ms for frontend, want at least the 200 ms delay of one request in ten", p95)
	}
	fmt.Printf("metrics: %d requests in %s (%d failing, %d of 200 ms): calls %.2f/s, error rate %.3f, p95 latency %.0f ms, from Jaeger's query API over Prometheus\n",
		plain+failing+slow, sent.Round(time.Second), failing, slow, calls, errors, p95)

	if *screenshotDir != "" {
		b := newBrowser(t)
		b.open(j.url(j.queryPort, "/monitor"), `document.querySelectorAll('.ant-select input').length >= 3`, "the Monitor tab")
		// Pick frontend as the service, and the last 5 minutes, with the
		// keyboard, as on the search page.
		if err := chromedp.Do(b.ctx,
			chromedp.SendKeys(chromedp.JSPath(`document.querySelectorAll('.ant-select input')[0]`), "frontend"+kb.Enter),
		); err != nil {
			t.Fatal(err)
		}
		b.waitFor(`document.body.innerText.includes('Operations metrics under frontend')`, "frontend's metrics")
		b.waitFor(`document.body.innerText.includes('GET /')`, "frontend's operation GET /")
		time.Sleep(time.Second) // the graphs' drawing animation
		png, err := b.screenshot("")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(*screenshotDir, "monitor.png")
		if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d kB", path, len(png)/1000)
	}

	// A flood of made-up span names, sent straight to Jaeger's OTLP port:
	// the spanmetrics connector keeps at most 1,000 series for the service
	// and counts the rest in one overflow series, so that Jaeger and Prometheus stay small
	// and the Monitor tab keeps answering for the real services.
	rssBefore := statusKB(j.process, "VmRSS")
	for batch := range 50 {
		postNamedSpans(t, j.url(j.otlpHTTPPort, "/v1/traces"), fmt.Sprintf("made-up-%d-", batch), 1000)
	}
	waitPrometheus(t, promPort, `traces_span_metrics_calls_total{otel_metric_overflow="true"}`)
	series := waitPrometheus(t, promPort, `count(traces_span_metrics_calls_total{service_name="flood"})`)
	rssAfter := statusKB(j.process, "VmRSS")
	callsAfter := j.metric(t, "calls", window, nil)
	fmt.Printf("reliability: 50,000 made-up span names sent to Jaeger's OTLP port: %v call series for them in Prometheus (one of them the overflow); Jaeger RSS %d MB before, %d MB after; frontend's calls still answered: %.2f/s\n",
		series, rssBefore/1024, rssAfter/1024, callsAfter)
	if series > 1001 {
		t.Errorf("%v call series of the made-up names, want at most 1,000 and the overflow", series)
	}
	if callsAfter <= 0 {
		t.Errorf("after the flood, /api/metrics/calls reports %.3f calls/s for frontend: the Monitor tab is blind", callsAfter)
	}

	// Prometheus down: Jaeger's metrics API answers at once, with an error
	// (a 500 that names Prometheus's address: Jaeger's own message, which
	// only those who reach the query API see; compose publishes it on
	// 127.0.0.1). Prometheus back: the API answers again, no restart.
	if exit := prom.stop(); exit != 0 {
		t.Fatalf("prometheus exited with %d", exit)
	}
	status, body := j.metricsAnswer(t, "calls")
	fmt.Printf("reliability: Prometheus down: /api/metrics/calls answered %d: %.120s\n", status, body)
	if status != http.StatusInternalServerError {
		t.Errorf("with Prometheus down, /api/metrics/calls answered %d %s, want Jaeger's 500", status, body)
	}
	startPrometheus(t, promPort, fmt.Sprintf("127.0.0.1:%d", metricsPort))
	if status, body := j.metricsAnswer(t, "calls"); status != http.StatusOK {
		t.Errorf("with Prometheus back, /api/metrics/calls answered %d %s, want 200", status, body)
	}
}

// metric asks Jaeger's metrics API (GET /api/metrics/<name>) for the
// frontend's server spans over the last window, and returns the last value
// it reports. (Points with no data yet come as the string "NaN".)
func (j *jaeger) metric(t *testing.T, name string, window time.Duration, more url.Values) float64 {
	t.Helper()
	q := url.Values{
		"service":  {"frontend"},
		"spanKind": {"server"},
		"endTs":    {strconv.FormatInt(time.Now().UnixMilli(), 10)},
		"lookback": {strconv.FormatInt(window.Milliseconds(), 10)},
		"step":     {"1000"},
		"ratePer":  {strconv.FormatInt(window.Milliseconds(), 10)},
	}
	for k, v := range more {
		q[k] = v
	}
	resp, err := http.Get(j.url(j.queryPort, "/api/metrics/"+name+"?"+q.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Metrics []struct {
			MetricPoints []struct {
				GaugeValue struct {
					DoubleValue any `json:"doubleValue"`
				} `json:"gaugeValue"`
			} `json:"metricPoints"`
		} `json:"metrics"`
	}
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/metrics/%s: %s %v: %s", name, resp.Status, err, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Metrics) == 0 || len(out.Metrics[0].MetricPoints) == 0 {
		t.Fatalf("/api/metrics/%s reports no metric for frontend (%v): %s", name, err, raw)
	}
	points := out.Metrics[0].MetricPoints
	for i := len(points) - 1; i >= 0; i-- {
		if v, ok := points[i].GaugeValue.DoubleValue.(float64); ok {
			return v
		}
	}
	t.Fatalf("/api/metrics/%s reports no value for frontend: %s", name, raw)
	return 0
}

// startPrometheus runs the real Prometheus with prometheus/prometheus.yml,
// its target moved to target, and stops it when the test ends.
func startPrometheus(t *testing.T, port int, target string) *process {
	t.Helper()
	config, err := os.ReadFile("../prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	moved := strings.ReplaceAll(string(config), "jaeger:8889", target)
	if moved == string(config) {
		t.Fatal("prometheus/prometheus.yml does not scrape jaeger:8889")
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	prom, err := startProcess("prometheus", *promBin, nil,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exit := prom.stop(); exit != 0 {
			t.Errorf("prometheus exited with %d:\n%s", exit, prom.out)
		}
	})
	if err := prom.waitReady(fmt.Sprintf("http://127.0.0.1:%d/-/ready", port)); err != nil {
		t.Fatal(err)
	}
	return prom
}

// postNamedSpans sends n one-span traces of the service "flood", each with
// a name of its own (prefix and a number), to an OTLP/HTTP endpoint.
func postNamedSpans(t *testing.T, endpoint, prefix string, n int) {
	t.Helper()
	now := strconv.FormatInt(time.Now().UnixNano(), 10)
	spans := make([]any, n)
	for i := range spans {
		spans[i] = map[string]any{"traceId": randomHex(16), "spanId": randomHex(8), "name": prefix + strconv.Itoa(i),
			"kind": 2, "startTimeUnixNano": now, "endTimeUnixNano": now}
	}
	if status := postOTLP(t, endpoint, spans); status != http.StatusOK {
		t.Fatalf("POST %s: %d", endpoint, status)
	}
}

// metricsAnswer asks Jaeger's metrics API for the frontend's metric name
// over the last minute, and returns the answer's status and body.
func (j *jaeger) metricsAnswer(t *testing.T, name string) (int, string) {
	t.Helper()
	q := url.Values{"service": {"frontend"}, "endTs": {strconv.FormatInt(time.Now().UnixMilli(), 10)}, "lookback": {"60000"}, "step": {"1000"}, "ratePer": {"60000"}}
	resp, err := http.Get(j.url(j.queryPort, "/api/metrics/"+name+"?"+q.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitPrometheus waits, 30 s at most, until the PromQL query returns a
// result.
func waitPrometheus(t *testing.T, port int, query string) float64 {
	t.Helper()
	u := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", port, url.QueryEscape(query))
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		resp, err := http.Get(u)
		if err != nil {
			continue
		}
		var out struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"` // [time, "value"]
				} `json:"result"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err == nil && len(out.Data.Result) > 0 {
			if v := out.Data.Result[0].Value; len(v) == 2 {
				f, _ := strconv.ParseFloat(fmt.Sprint(v[1]), 64)
				return f
			}
			return 0
		}
	}
	t.Fatalf("Prometheus had no result for %s within 30 s: are the span metrics scraped?", query)
	return 0
}

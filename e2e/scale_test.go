//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// The configs of deploy/kubernetes/overlays/tail-sampling-at-scale, which
// the scale-out test runs on one machine, as they are but for addresses.
const (
	scaleDir        = "../deploy/kubernetes/overlays/tail-sampling-at-scale/"
	collectorConfig = scaleDir + "collector-config.yaml"
	samplerConfig   = scaleDir + "jaeger-sampler-config.yaml"
	storeConfig     = scaleDir + "jaeger-store-config.yaml"
)

// noMetrics turns off a process's own metrics, which every Collector and
// Jaeger serves on localhost:8888: in a cluster each pod has its own
// localhost, but here the five processes share one.
const noMetrics = "--set=service.telemetry.metrics.level=none"

// tiers is the scale-out topology of the overlay, on loopback: one store,
// two tail samplers writing to it, and a routing Collector.
type tiers struct {
	store          *jaeger
	samplerGRPC    [2]int // each sampler's OTLP/gRPC port, as in the overlay
	samplerHTTP    [2]int // and an OTLP/HTTP port, for the round-robin run
	collectorHTTP  int    // where the services send their spans
	collectorExtra string // a config file merged over the overlay's, if any
}

// startSamplers starts the store and two samplers. Each sampler marks the
// spans it keeps with the attribute tracingdemo.sampler (0 or 1), so that
// the store shows which sampler decided on each part of a trace: a trace
// whose spans carry both marks was split between them.
func startSamplers(t *testing.T) *tiers {
	t.Helper()
	remoteStorage := freePort()
	tr := &tiers{store: startJaegerConfig(t, storeConfig, noMetrics,
		setAddr("extensions.remote_storage.endpoint", remoteStorage))}
	for i := range 2 {
		tr.samplerGRPC[i], tr.samplerHTTP[i] = freePort(), freePort()
		mark := writeFile(t, fmt.Sprintf("mark-%d.yaml", i), fmt.Sprintf(`processors:
  attributes/sampler:
    actions:
      - {key: tracingdemo.sampler, value: "%d", action: insert}
service:
  pipelines:
    traces:
      processors: [tail_sampling, attributes/sampler]
`, i))
		j := &jaeger{healthPort: freePort(), bin: *jaegerBin}
		j.args = []string{"--config", samplerConfig, "--config", mark, noMetrics,
			setAddr("extensions.healthcheckv2.http.endpoint", j.healthPort),
			setAddr("receivers.otlp.protocols.grpc.endpoint", tr.samplerGRPC[i]),
			setAddr("receivers.otlp.protocols.http.endpoint", tr.samplerHTTP[i]),
			setAddr("extensions.jaeger_storage.backends.store.grpc.endpoint", remoteStorage),
			setAddr("extensions.jaeger_storage.backends.store.grpc.writer.endpoint", tr.store.otlpGRPCPort),
		}
		j.run(t, fmt.Sprintf("sampler %d", i))
	}
	return tr
}

// startCollector starts the routing tier: the overlay's Collector config,
// with the headless Service's DNS name replaced by the two samplers'
// addresses (the loadbalancing exporter's static resolver), and
// tr.collectorExtra merged over it.
func (tr *tiers) startCollector(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(collectorConfig)
	if err != nil {
		t.Fatal(err)
	}
	dns := "      dns:\n        hostname: jaeger-sampler\n        port: \"4317\"\n        interval: 5s\n"
	static := fmt.Sprintf("      static:\n        hostnames: [127.0.0.1:%d, 127.0.0.1:%d]\n", tr.samplerGRPC[0], tr.samplerGRPC[1])
	if !strings.Contains(string(b), dns) {
		t.Fatalf("%s no longer has the resolver this test replaces:\n%s", collectorConfig, dns)
	}
	config := writeFile(t, "collector.yaml", strings.Replace(string(b), dns, static, 1))

	health := freePort()
	tr.collectorHTTP = freePort()
	args := []string{"--config", config, noMetrics,
		setAddr("receivers.otlp.protocols.grpc.endpoint", freePort()),
		setAddr("receivers.otlp.protocols.http.endpoint", tr.collectorHTTP),
		setAddr("extensions.health_check.endpoint", health),
	}
	if tr.collectorExtra != "" {
		args = append(args, "--config", tr.collectorExtra)
	}
	c, err := startProcess("otelcol", *otelcolBin, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.waitReady(fmt.Sprintf("http://127.0.0.1:%d/", health)); err != nil {
		c.stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exit := c.stop(); exit != 0 {
			t.Errorf("the Collector exited with %d:\n%s", exit, c.out)
		}
	})
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// scaleResult is what the store holds of the request mix.
type scaleResult struct {
	kept     map[string]int // complete traces, by class
	partial  int            // traces with some of their 5 spans
	split    int            // traces whose spans two samplers decided on
	bySample [2]int         // traces each sampler decided on (wholly or in part)
}

func (tr *tiers) result(t *testing.T, paths, traceIDs []string) scaleResult {
	r := scaleResult{kept: map[string]int{}}
	for i, id := range traceIDs {
		trace, _, err := tr.store.fetch(id)
		if errors.Is(err, errNoTrace) {
			continue // not kept
		}
		if err != nil {
			t.Fatalf("asking the store for trace %s: %v", id, err)
		}
		samplers := map[string]bool{}
		for _, s := range trace.Spans {
			samplers[s.tag("tracingdemo.sampler")] = true
		}
		for s := range samplers {
			if n, err := strconv.Atoi(s); err == nil && n < 2 {
				r.bySample[n]++
			}
		}
		if len(samplers) > 1 {
			r.split++
		}
		if len(trace.Spans) == 5 {
			r.kept[mixClass[paths[i]]]++
		} else if len(trace.Spans) > 0 {
			r.partial++
		}
	}
	return r
}

// TestTailSamplingAtScale runs the overlay tail-sampling-at-scale on one
// machine: the two services send their spans to the Collector of the
// routing tier, whose loadbalancing exporter routes them by trace ID to
// one of two tail-sampling Jaegers, which write what they keep to one
// store over Jaeger's grpc remote storage. With the request mix of
// TestTailSampling, no trace may be split between the samplers, every
// error and slow trace must be kept whole, and about 10 % of the plain
// ones.
func TestTailSamplingAtScale(t *testing.T) {
	tr := startSamplers(t)
	tr.startCollector(t)
	p := startPair(t, 0, fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", tr.collectorHTTP),
		"OTEL_BSP_SCHEDULE_DELAY=5000")
	paths, traceIDs, _ := sendMix(t, p)
	r := untilStable(t, func() scaleResult { return tr.result(t, paths, traceIDs) })

	if r.split > 0 || r.partial > 0 {
		t.Errorf("%d traces split between the samplers, %d in the store in part: want none", r.split, r.partial)
	}
	if r.bySample[0] == 0 || r.bySample[1] == 0 {
		t.Errorf("traces decided by sampler 0 / 1: %d / %d: want both samplers at work", r.bySample[0], r.bySample[1])
	}
	if r.kept["errors"] != mixErrors || r.kept["slow"] != mixSlow {
		t.Errorf("kept %d/%d error traces and %d/%d slow ones whole, want all", r.kept["errors"], mixErrors, r.kept["slow"], mixSlow)
	}
	// Binomial(240, 0.1): mean 24, standard deviation 4.6.
	if r.kept["plain"] < 8 || r.kept["plain"] > 42 {
		t.Errorf("%d of %d plain traces kept, want about 10 %%: 8 to 42", r.kept["plain"], mixPlain)
	}
	fmt.Printf("scale: routed by trace ID to 2 samplers: kept %d/%d error traces, %d/%d slow, %d/%d plain; %d split, %d in part; traces decided by sampler 0 / 1: %d / %d\n",
		r.kept["errors"], mixErrors, r.kept["slow"], mixSlow, r.kept["plain"], mixPlain, r.split, r.partial, r.bySample[0], r.bySample[1])
}

// TestTailSamplingRoundRobin is the same topology with the loadbalancing
// exporter replaced by a plain OTLP exporter behind a round-robin
// balancer, as a Kubernetes Service in front of the samplers would be: it
// spreads connections, not traces, so the spans of one trace reach both
// samplers, and each decides on its part alone. The test shows that this
// happens; the routing tier is what prevents it.
func TestTailSamplingRoundRobin(t *testing.T) {
	tr := startSamplers(t)
	balancer := roundRobin(t, tr.samplerHTTP[0], tr.samplerHTTP[1])
	tr.collectorExtra = writeFile(t, "round-robin.yaml", fmt.Sprintf(`exporters:
  otlphttp:
    endpoint: http://127.0.0.1:%d
    # A new connection per request, so that the balancer spreads requests,
    # as a round-robin gRPC client or an HTTP/2 proxy would.
    disable_keep_alives: true
service:
  pipelines:
    traces:
      exporters: [otlphttp]
`, balancer))
	tr.startCollector(t)
	p := startPair(t, 0, fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", tr.collectorHTTP),
		"OTEL_BSP_SCHEDULE_DELAY=5000")
	paths, traceIDs, _ := sendMix(t, p)
	r := untilStable(t, func() scaleResult { return tr.result(t, paths, traceIDs) })

	if r.split == 0 {
		t.Errorf("no trace split between the samplers behind a round-robin balancer: this test no longer shows the failure")
	}
	fmt.Printf("scale: round-robin over 2 samplers, no trace-ID routing: %d traces split between them; %d in the store in part; kept whole %d/%d error traces, %d/%d slow, %d/%d plain\n",
		r.split, r.partial, r.kept["errors"], mixErrors, r.kept["slow"], mixSlow, r.kept["plain"], mixPlain)
}

// roundRobin listens on a free port and hands each connection it accepts
// to the next of ports, in turn, as a layer-4 balancer does; it returns
// its port.
func roundRobin(t *testing.T, ports ...int) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var next atomic.Int64
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			port := ports[int(next.Add(1)-1)%len(ports)]
			go func() {
				defer in.Close()
				out, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
				if err != nil {
					return
				}
				defer out.Close()
				go io.Copy(out, in)
				io.Copy(in, out)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

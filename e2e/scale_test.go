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
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
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
	storeLink      *link      // between the samplers and the store's OTLP port
	samplers       [2]*jaeger // the two tail samplers
	samplerGRPC    [2]int     // each sampler's OTLP/gRPC port, as in the overlay
	samplerHTTP    [2]int     // and an OTLP/HTTP port, for the round-robin run
	collectorHTTP  int        // where the services send their spans
	collectorExtra string     // a config file merged over the overlay's, if any

	collector       *process // the routing tier, once started
	collectorHealth int      // its health_check port
	collectorConfig string   // the config file it reads, rewritten by route
	collectorBase   string   // the overlay's config, with the resolver's hosts to fill in
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
	tr.storeLink = newLink(t, tr.store.otlpGRPCPort)
	for i := range 2 {
		tr.samplerGRPC[i], tr.samplerHTTP[i] = freePort(), freePort()
		mark := writeFile(t, fmt.Sprintf("mark-%d.yaml", i), fmt.Sprintf(`processors:
  attributes/sampler:
    actions:
      - {key: tracingdemo.sampler, value: "%d", action: insert}
service:
  pipelines:
    traces:
      processors: [memory_limiter, tail_sampling, attributes/sampler]
`, i))
		j := &jaeger{healthPort: freePort(), bin: *jaegerBin}
		j.args = []string{"--config", samplerConfig, "--config", mark, noMetrics,
			setAddr("extensions.healthcheckv2.http.endpoint", j.healthPort),
			setAddr("receivers.otlp.protocols.grpc.endpoint", tr.samplerGRPC[i]),
			setAddr("receivers.otlp.protocols.http.endpoint", tr.samplerHTTP[i]),
			setAddr("extensions.jaeger_storage.backends.store.grpc.endpoint", remoteStorage),
			setAddr("extensions.jaeger_storage.backends.store.grpc.writer.endpoint", tr.storeLink.port),
		}
		j.run(t, fmt.Sprintf("sampler %d", i))
		tr.samplers[i] = j
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
	if !strings.Contains(string(b), dns) {
		t.Fatalf("%s no longer has the resolver this test replaces:\n%s", collectorConfig, dns)
	}
	tr.collectorBase = strings.Replace(string(b), dns, "      static:\n        hostnames: [%s]\n", 1)
	tr.collectorConfig = writeFile(t, "collector.yaml", tr.routes(0, 1))

	health := freePort()
	tr.collectorHTTP, tr.collectorHealth = freePort(), health
	args := []string{"--config", tr.collectorConfig, noMetrics,
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
	tr.collector = c
	t.Cleanup(func() {
		if exit := c.stop(); exit != 0 {
			t.Errorf("the Collector exited with %d:\n%s", exit, c.out)
		}
	})
}

// routes is the Collector's config with the static resolver listing the
// samplers given by index.
func (tr *tiers) routes(samplers ...int) string {
	var hosts []string
	for _, i := range samplers {
		hosts = append(hosts, fmt.Sprintf("127.0.0.1:%d", tr.samplerGRPC[i]))
	}
	return strings.Replace(tr.collectorBase, "%s", strings.Join(hosts, ", "), 1)
}

// route makes the Collector route to the samplers given by index only, as
// its DNS resolver does when a sampler pod leaves the headless Service:
// it rewrites the config and has the Collector reload it (SIGHUP).
func (tr *tiers) route(t *testing.T, samplers ...int) {
	t.Helper()
	if err := os.WriteFile(tr.collectorConfig, []byte(tr.routes(samplers...)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tr.collector.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the reload begins
	if err := tr.collector.waitReady(fmt.Sprintf("http://127.0.0.1:%d/", tr.collectorHealth)); err != nil {
		t.Fatal(err)
	}
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

// link is a TCP relay from a port of its own to a target port, which a
// test can cut, as a store that goes down would: while it is cut, every
// connection is closed and new ones are closed as soon as they come.
type link struct {
	port int
	down atomic.Bool
	mu   sync.Mutex
	open []net.Conn
}

func newLink(t *testing.T, target int) *link {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	l := &link{port: ln.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			if l.down.Load() {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(target))
			if err != nil {
				in.Close()
				continue
			}
			l.mu.Lock()
			l.open = append(l.open, in, out)
			l.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return l
}

// cut closes every connection, and refuses new ones until restore.
func (l *link) cut() {
	l.down.Store(true)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.open {
		c.Close()
	}
	l.open = nil
}

func (l *link) restore() { l.down.Store(false) }

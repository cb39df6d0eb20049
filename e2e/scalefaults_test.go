//go:build e2e && faults

package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The faults of the scale-out tiers (deploy/kubernetes/overlays/
// tail-sampling-at-scale), on loopback: a sampler stopped as a rolling
// restart stops it (SIGTERM), one killed (SIGKILL), and the store down for
// 15 s. Each runs 100 failing requests a second, whose traces the errors
// policy keeps, and counts the traces the store lacks. `make e2e` and
// `make reliability` run them (about 4 minutes); each prints one line.

// scaleFaultLoad sends failing requests through the tiers for 20 s, calls
// fault 10 s in (fault returns what to do 5 s later, or nil), and returns
// the trace IDs of the requests sent before the fault and after it, and
// the services, which stop when the test ends.
func scaleFaultLoad(t *testing.T, tr *tiers, fault func() func()) (before, after []string, p *pair) {
	t.Helper()
	tr.startCollector(t)
	p = startPair(t, 0, fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", tr.collectorHTTP))
	stop := make(chan struct{})
	results := make(chan []outcome, 1)
	// 10 clients, each pausing 100 ms: about 100 requests a second.
	go func() { results <- load(p.frontendURL("/?fail=true"), 10, 100*time.Millisecond, stop) }()
	time.Sleep(10 * time.Second)
	faultAt := time.Now()
	undo := fault()
	time.Sleep(5 * time.Second)
	if undo != nil {
		undo()
	}
	time.Sleep(5 * time.Second)
	close(stop)
	for _, o := range <-results {
		switch {
		case o.traceID == "":
		case o.start.Before(faultAt):
			before = append(before, o.traceID)
		default:
			after = append(after, o.traceID)
		}
	}
	// decision_wait (10 s), and the store's write, before any count.
	time.Sleep(12 * time.Second)
	return before, after, p
}

// refusedSpans is the spans the services' exporters failed to hand to the
// Collector, by the lines "spans at stop" once both have stopped.
func refusedSpans(p *pair) (refused int) {
	failed := regexp.MustCompile(`"msg":"spans at stop".*"failed":(\d+)`)
	for _, proc := range []*process{p.frontend, p.backend} {
		if m := failed.FindStringSubmatch(proc.out.String()); m != nil {
			n, _ := strconv.Atoi(m[1])
			refused += n
		}
	}
	return refused
}

// restart stops a sampler with sig and starts it again on its ports, as
// the StatefulSet would.
func restart(t *testing.T, j *jaeger, sig syscall.Signal) func() {
	_ = j.cmd.Process.Signal(sig)
	<-j.exited
	return func() {
		if err := j.start(); err != nil {
			t.Fatalf("restarting the sampler: %v", err)
		}
	}
}

// TestScaleSamplerStopped stops a sampler with SIGTERM, then with SIGKILL,
// each time starting it again: what it held undecided is lost (the tail
// sampler drops it when it stops, and a kill keeps nothing), but no more:
// not the other sampler's traces.
func TestScaleSamplerStopped(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"SIGKILL", syscall.SIGKILL}} {
		t.Run(tc.name, func(t *testing.T) {
			tr := startSamplers(t)
			before, _, _ := scaleFaultLoad(t, tr, func() func() { return restart(t, tr.samplers[0], tc.sig) })
			complete, _ := completeTraces(tr.store.jaegerAPI, before, 5)
			lost := len(before) - complete
			fmt.Printf("reliability: scale-out, a sampler stopped (%s) and started again: %d of the %d error traces of the 10 s before lost\n", tc.name, lost, len(before))
			if lost > len(before)/2+len(before)/10 {
				t.Errorf("%d of %d traces lost: more than the stopped sampler's share", lost, len(before))
			}
		})
	}
}

func TestScaleStoreDown(t *testing.T) {
	tr := startSamplers(t)
	before, after, _ := scaleFaultLoad(t, tr, func() func() {
		tr.storeLink.cut()
		time.Sleep(10 * time.Second) // down for 15 s in all
		return tr.storeLink.restore
	})
	all := append(before, after...)
	complete, spans := completeTraces(tr.store.jaegerAPI, all, 5)
	fmt.Printf("reliability: scale-out, the store down for 15 s under load: %d of %d error traces lost (%d spans)\n", len(all)-complete, len(all), spans)
	if complete != len(all) {
		t.Errorf("%d of %d traces lost while the store was down: the samplers' writes must wait for it", len(all)-complete, len(all))
	}
}

// TestScaleRollingRestart is a sampler's rolling restart as the overlay
// makes it: the pod leaves the headless Service, so the Collector stops
// routing to it (here: a reload with the other sampler only); its preStop
// sleep (jaeger-sampler.yaml) outlasts decision_wait, so it decides on
// everything it holds; only then the SIGTERM. No trace may be lost.
//
// The sleep here is the manifest's 20 s less the Collector's DNS interval
// (5 s), which the reload stands for: decision_wait (10 s) and 5 s for the
// last batches to arrive and the decisions to be written.
//
// The reload itself is the stand-in's, not the cluster's: it restarts the
// Collector's receivers, and a batch a service sends in that moment is
// refused (connection refused, which the OTLP/HTTP exporter does not
// retry). Such spans never reached the tiers, and the services count them
// (the line "spans at stop"): the tiers may lose no other span.
func TestScaleRollingRestart(t *testing.T) {
	tr := startSamplers(t)
	var p *pair
	var all []string
	var lostSpans, complete int
	// Registered before the services start, so it runs after they stop.
	t.Cleanup(func() {
		refused := refusedSpans(p)
		fmt.Printf("reliability: scale-out, a sampler's rolling restart (out of the routing, a preStop sleep past decision_wait, SIGTERM, back in): %d of %d error traces incomplete (%d spans), %d spans refused by the Collector's reload before they reached it: %d lost by the tiers\n",
			len(all)-complete, len(all), lostSpans, refused, lostSpans-refused)
		if lostSpans != refused {
			t.Errorf("%d spans of %d traces lost in a rolling restart, %d of them refused at the reload: the tiers lost %d", lostSpans, len(all)-complete, refused, lostSpans-refused)
		}
	})
	var before, after []string
	before, after, p = scaleFaultLoad(t, tr, func() func() {
		tr.route(t, 1)
		time.Sleep(15 * time.Second) // the preStop sleep, less the DNS interval
		undo := restart(t, tr.samplers[0], syscall.SIGTERM)
		return func() {
			undo()
			tr.route(t, 0, 1)
		}
	})
	all = append(before, after...)
	complete, lostSpans = completeTraces(tr.store.jaegerAPI, all, 5)
}

//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
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

//go:build bench

package e2e

// The overhead benchmark: what tracing costs the pair, per exporter, on this
// machine, measured side by side in one run. `make bench` runs it.
//
// For each configuration in turn it starts the backend and the frontend as
// processes, with their shipped defaults and only the environment changed,
// and drives the frontend on loopback:
//   - at a fixed rate below saturation (-rate, -fixed): latency p50 and p99,
//     CPU time per request of frontend+backend and of Jaeger, RSS, and spans
//     lost (expected in Jaeger minus stored there);
//   - then flat out (-saturation): requests per second.
//
// Every figure is also a ratio to "untraced" (no otelhttp, the SDK off: the
// limit) and to "off" (the services with OTEL_SDK_DISABLED) measured in the
// same round, and the
// rounds (-rounds) interleave the configurations, so that a noisy neighbour
// shows up as spread in min/median/max rather than as a false difference.
//
// The load generator is ours, not wrk: the fixed-rate phase must be open
// loop (requests sent on a schedule, however slow the answers, so that a
// stall shows in the latencies instead of slowing the load), which wrk does
// not do and wrk2 is not packaged in Debian; and it keeps every latency, so
// the percentiles are exact rather than bucketed.

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

var (
	rounds     = flag.Int("rounds", 3, "rounds; each runs every configuration once")
	rate       = flag.Int("rate", 1000, "requests per second in the fixed-rate phase")
	fixedFor   = flag.Duration("fixed", 10*time.Second, "length of the fixed-rate phase")
	saturation = flag.Duration("saturation", 5*time.Second, "length of the flat-out phase")
	clients    = flag.Int("clients", 32, "concurrent connections in the flat-out phase")
	only       = flag.String("only", "", "run only the configurations named here, comma-separated (off always runs)")
	extraEnv   = flag.String("env", "", "NAME=value pairs, comma-separated, added to every configuration: to try a setting")
	baseline   = flag.String("baseline", "", "a tracingdemo binary of another commit: each configuration runs again with it, as NAME@baseline, in the same rounds")
	inProcess  = flag.String("inprocess", "../bin/bench-inprocess.summary", "the in-process figures scripts/bench-inprocess.sh wrote, for the summary line")
)

// The variants of tracingdemo that scripts/bench-inprocess.sh describes,
// built with go build -overlay from tracing/testdata/bench: the untraced
// pair (no otelhttp, the SDK off) and the floor (plain otelhttp, a bare
// TracerProvider). TestOverhead builds them.
var variantBins = map[string]string{}

// buildVariants builds the untraced and the floor tracingdemo, from the
// overlay files that scripts/bench-inprocess.sh writes (make bench runs it
// first).
func buildVariants(t *testing.T) {
	t.Helper()
	out, err := exec.Command("../scripts/bench-inprocess.sh", "overlays").Output()
	if err != nil {
		t.Fatalf("scripts/bench-inprocess.sh overlays: %v\n%s", err, stderrOf(err))
	}
	upstreamWork := strings.TrimSpace(string(out)) // GOWORK=…: the services with docs/upstream's changes
	for variant, how := range map[string][]string{
		"untraced": {"-overlay=bin/overlay-untraced.json"},
		"floor":    {"-overlay=bin/overlay-floor.json"},
		"upstream": nil,
	} {
		bin := filepath.Join(binDir, "tracingdemo-"+variant)
		build := exec.Command("go", append(append([]string{"build"}, how...), "-o", bin, "./cmd/tracingdemo")...)
		build.Dir = ".."
		if variant == "upstream" {
			build.Env = append(os.Environ(), upstreamWork)
		}
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building the %s tracingdemo: %v\n%s", variant, err, out)
		}
		variantBins[variant] = bin
	}
}

// stderrOf is what a failed command wrote on stderr.
func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// spansPerRequest is the tree of one GET /: three spans in the frontend,
// two in the backend.
const spansPerRequest = 5

// A benchConfig is one way to run the pair: a name and the environment
// that selects it.
type benchConfig struct {
	name string
	env  func() []string
	// toJaeger: the spans go to Jaeger, so spans lost can be counted.
	toJaeger bool
	bin      string // the tracingdemo to run; "": the one TestMain built
}

func benchConfigs() []benchConfig {
	return []benchConfig{
		{name: "untraced", env: func() []string { return []string{"OTEL_SDK_DISABLED=true"} }, bin: variantBins["untraced"]},
		{name: "off", env: func() []string { return []string{"OTEL_SDK_DISABLED=true"} }},
		{name: "floor", env: func() []string { return []string{"OTEL_TRACES_EXPORTER=none"} }, bin: variantBins["floor"]},
		{name: "sdk-only", env: func() []string { return []string{"OTEL_TRACES_EXPORTER=none"} }},
		{name: "otlp-http", env: func() []string { return exporterEnv("otlp-http") }, toJaeger: true},
		{name: "otlp-grpc", env: func() []string { return exporterEnv("otlp-grpc") }, toJaeger: true},
		{name: "jaeger", env: func() []string { return exporterEnv("jaeger") }, toJaeger: true},
		{name: "otlp-http-10pct", env: func() []string {
			return append(exporterEnv("otlp-http"),
				"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.1")
		}, toJaeger: true},
		// The floor, exporting: our share when the spans go out too.
		// Its spans are not counted in Jaeger: without traceresponse, the
		// load cannot tell which requests were sampled.
		{name: "floor-otlp-http", env: func() []string { return exporterEnv("otlp-http") }, bin: variantBins["floor"]},
		// The services with the changes docs/upstream proposes to otelhttp
		// and the SDK.
		{name: "off-upstream", env: func() []string { return []string{"OTEL_SDK_DISABLED=true"} }, bin: variantBins["upstream"]},
		{name: "otlp-http-upstream", env: func() []string { return exporterEnv("otlp-http") }, toJaeger: true, bin: variantBins["upstream"]},
		// The export's settings, one at a time, against otlp-http.
		{name: "otlp-http-batch512", env: func() []string {
			return append(exporterEnv("otlp-http"), "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512")
		}, toJaeger: true},
		{name: "otlp-http-delay1s", env: func() []string {
			return append(exporterEnv("otlp-http"), "OTEL_BSP_SCHEDULE_DELAY=1000")
		}, toJaeger: true},
		{name: "otlp-http-gzip", env: func() []string {
			return append(exporterEnv("otlp-http"), "OTEL_EXPORTER_OTLP_COMPRESSION=gzip")
		}, toJaeger: true},
	}
}

// A benchResult is what one configuration measured in one round.
type benchResult struct {
	rps              float64       // flat out: answers per second
	p50, p99         time.Duration // fixed rate, from each request's scheduled send
	cpuPerReq        time.Duration // fixed rate: frontend + backend, user + system
	flatOutCPUPerReq time.Duration // the same, flat out
	jaegerCPUPerReq  time.Duration // fixed rate: Jaeger's CPU, per request
	frontendRSS      int           // kB, at the end of the fixed-rate phase
	backendRSS       int           // kB
	expected, stored int           // spans, fixed-rate phase
}

func TestOverhead(t *testing.T) {
	buildVariants(t)
	configs := benchConfigs()
	if *only != "" {
		configs = slices.DeleteFunc(configs, func(c benchConfig) bool {
			return c.name != "off" && c.name != "untraced" && !slices.Contains(strings.Split(*only, ","), c.name)
		})
	}
	if *baseline != "" {
		for _, c := range slices.Clone(configs) {
			c.name, c.bin = c.name+"@baseline", *baseline
			configs = append(configs, c)
		}
	}
	results := map[string][]benchResult{}
	fmt.Printf("bench: %d rounds of %d configurations; fixed rate %d req/s for %s, then %d clients flat out for %s\n",
		*rounds, len(configs), *rate, *fixedFor, *clients, *saturation)
	for round := 1; round <= *rounds; round++ {
		for _, c := range configs {
			r := runConfig(t, c, round)
			results[c.name] = append(results[c.name], r)
			fmt.Printf("bench: round %d %-16s %6.0f req/s (cpu/req %-6s)  p50 %-8s p99 %-8s cpu/req %-7s jaeger cpu/req %-7s rss %d/%d MB  spans %d/%d stored\n",
				round, c.name, r.rps, us(r.flatOutCPUPerReq), us(r.p50), us(r.p99), us(r.cpuPerReq), us(r.jaegerCPUPerReq),
				r.frontendRSS/1024, r.backendRSS/1024, r.stored, r.expected)
		}
	}
	printTable(configs, results)
}

// runConfig starts the pair as c says, measures it, and stops it.
func runConfig(t *testing.T, c benchConfig, round int) benchResult {
	t.Helper()
	// Each run has service names of its own, so that its spans can be
	// found in Jaeger apart from the other runs'.
	run := fmt.Sprintf("%s-r%d", c.name, round)
	env := c.env()
	if *extraEnv != "" {
		env = append(env, strings.Split(*extraEnv, ",")...)
	}
	frontendPort, backendPort := freePort(), freePort()
	backend := mustStart(t, c.bin, "backend", append(env,
		"OTEL_SERVICE_NAME=backend-"+run, "ADDR=127.0.0.1:"+strconv.Itoa(backendPort)), backendPort)
	frontend := mustStart(t, c.bin, "frontend", append(env,
		"OTEL_SERVICE_NAME=frontend-"+run, "ADDR=127.0.0.1:"+strconv.Itoa(frontendPort),
		"BACKEND_URL=http://127.0.0.1:"+strconv.Itoa(backendPort)), frontendPort)
	target := "http://127.0.0.1:" + strconv.Itoa(frontendPort) + "/"

	var r benchResult
	fixedRate(target, *rate, time.Second) // warm up: connections, caches, heap

	cpu0 := cpuTime(frontend) + cpuTime(backend)
	jaegerCPU0 := cpuTime(jg.process)
	begin := time.Now()
	outcomes := fixedRate(target, *rate, *fixedFor)
	end := time.Now()
	r.frontendRSS, r.backendRSS = statusKB(frontend, "VmRSS"), statusKB(backend, "VmRSS")
	// The batchers send a batch every 128 spans (as compose sets it): a
	// fixed second on purpose, the same for every configuration, lets the
	// last full batches reach Jaeger before the CPU is read.
	time.Sleep(time.Second)
	cpu := cpuTime(frontend) + cpuTime(backend) - cpu0
	jaegerCPU := cpuTime(jg.process) - jaegerCPU0

	var latencies []time.Duration
	sampled := map[string]bool{}
	for _, o := range outcomes {
		if o.status != http.StatusOK {
			t.Fatalf("%s: a request at the fixed rate got %d; frontend output:\n%s", run, o.status, frontend.out)
		}
		latencies = append(latencies, o.took)
		if o.sampled {
			sampled[o.traceID] = true
		}
	}
	r.p50, r.p99 = percentile(latencies, 50), percentile(latencies, 99)
	r.cpuPerReq = cpu / time.Duration(len(outcomes))
	r.jaegerCPUPerReq = jaegerCPU / time.Duration(len(outcomes))

	cpu0 = cpuTime(frontend) + cpuTime(backend)
	var answered int
	r.rps, answered = flatOut(target, *clients, *saturation)
	r.flatOutCPUPerReq = (cpuTime(frontend) + cpuTime(backend) - cpu0) / time.Duration(max(answered, 1))

	// A stop flushes what the batchers still hold.
	for _, p := range []*process{frontend, backend} {
		if exit := p.stop(); exit != 0 {
			t.Fatalf("%s exited %d:\n%s", p.name, exit, p.out)
		}
	}
	if c.toJaeger {
		r.expected = spansPerRequest * len(sampled)
		r.stored = storedSpans(t, "frontend-"+run, begin, end, sampled, r.expected)
	}
	return r
}

func mustStart(t *testing.T, bin, service string, env []string, port int) *process {
	t.Helper()
	p, err := startProcess(service, cmp.Or(bin, filepath.Join(binDir, "tracingdemo")), env, service)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.waitReady("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"); err != nil {
		p.stop()
		t.Fatal(err)
	}
	return p
}

// benchOutcome is one request of the fixed-rate phase.
type benchOutcome struct {
	status  int           // as loadGet returns it
	took    time.Duration // from the moment it was due to be sent
	traceID string
	sampled bool // the traceresponse's flags say the trace is sampled
}

// fixedRate sends GET target perSecond times a second for d, on schedule:
// request i is due at start + i/perSecond, and its latency counts from
// then, so that a request held up behind a slow one still shows the wait.
func fixedRate(target string, perSecond int, d time.Duration) []benchOutcome {
	client := benchClient(256)
	n := int(d.Seconds() * float64(perSecond))
	interval := time.Second / time.Duration(perSecond)
	outcomes := make([]benchOutcome, 0, n)
	due := make(chan time.Time, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 256 {
		wg.Go(func() {
			for at := range due {
				o := send(client, target, at)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait) // the fixed rate: each request at its time
		}
		due <- at
	}
	close(due)
	wg.Wait()
	return outcomes
}

// flatOut sends GET target from clients connections, each one request
// after another, for d, and returns the answers per second and their
// number.
func flatOut(target string, clients int, d time.Duration) (perSecond float64, answered int) {
	client := benchClient(clients)
	var mu sync.Mutex
	var ok int
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for range clients {
		wg.Go(func() {
			mine := 0
			for time.Now().Before(stop) {
				if o := send(client, target, time.Now()); o.status == http.StatusOK {
					mine++
				}
			}
			mu.Lock()
			ok += mine
			mu.Unlock()
		})
	}
	wg.Wait()
	return float64(ok) / d.Seconds(), ok
}

// send makes one request that was due at due, and measures its latency
// from then.
func send(client *http.Client, target string, due time.Time) benchOutcome {
	status, traceID, sampled := loadGet(client, target)
	return benchOutcome{status: status, took: time.Since(due), traceID: traceID, sampled: sampled}
}

func benchClient(conns int) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns},
	}
}

// cpuTime is the user + system CPU time the process has used so far, from
// /proc/<pid>/stat (in clock ticks of 10 ms).
func cpuTime(p *process) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, _ := strconv.Atoi(fields[11])
	stime, _ := strconv.Atoi(fields[12])
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick
}

// storedSpans counts the spans Jaeger holds for the sampled traces of one
// run, waiting up to 15 s for Jaeger to have them all.
func storedSpans(t *testing.T, service string, begin, end time.Time, traces map[string]bool, want int) int {
	t.Helper()
	q := url.Values{
		"service": {service},
		"start":   {strconv.FormatInt(begin.Add(-time.Second).UnixMicro(), 10)},
		"end":     {strconv.FormatInt(end.Add(time.Second).UnixMicro(), 10)},
		"limit":   {strconv.Itoa(2*len(traces) + 100)},
	}
	var stored int
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(time.Second) {
		resp, err := http.Get(jg.url(jg.queryPort, "/api/traces?"+q.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		var found struct {
			Data []struct {
				TraceID string            `json:"traceID"`
				Spans   []json.RawMessage `json:"spans"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&found)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		stored = 0
		for _, tr := range found.Data {
			if traces[tr.TraceID] {
				stored += len(tr.Spans)
			}
		}
		if stored >= want || time.Now().After(deadline) {
			return stored
		}
	}
}

// percentile returns the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[min(len(ds)-1, len(ds)*p/100)]
}

// us formats d in microseconds, the unit of the figures here.
func us(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) + "µs" }

// spread is a figure's min, median and max over the rounds.
type spread struct{ min, median, max float64 }

func spreadOf(xs []float64) spread {
	if len(xs) == 0 { // a configuration left out by -only
		return spread{math.NaN(), math.NaN(), math.NaN()}
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return spread{xs[0], xs[len(xs)/2], xs[len(xs)-1]}
}

func (s spread) format(verb string) string {
	return fmt.Sprintf(verb+" ["+verb+"–"+verb+"]", s.median, s.min, s.max)
}

// printTable prints every figure per configuration as median [min–max]
// over the rounds, ratios against "untraced" and "off" of the same round,
// and the summary line.
func printTable(configs []benchConfig, results map[string][]benchResult) {
	// figure is f of each round of name against the same round of base.
	figure := func(name, base string, f func(r, base benchResult) float64) spread {
		var xs []float64
		for i, r := range results[name] {
			var b benchResult
			if i < len(results[base]) {
				b = results[base][i]
			}
			xs = append(xs, f(r, b))
		}
		return spreadOf(xs)
	}
	micros := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	rps := func(r, _ benchResult) float64 { return r.rps }
	rpsRatio := func(r, b benchResult) float64 { return r.rps / b.rps }
	p99Added := func(r, b benchResult) float64 { return micros(r.p99 - b.p99) }
	flatRatio := func(r, b benchResult) float64 {
		return float64(r.flatOutCPUPerReq) / float64(cmp.Or(b.flatOutCPUPerReq, 1))
	}

	fmt.Println()
	fmt.Println("bench: median [min–max] over the rounds; ratios are to \"untraced\" (no otelhttp, the SDK off) and to \"off\" (OTEL_SDK_DISABLED) in the same round")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "config\treq/s flat out\trps ratio untraced\tp50 µs\tp99 µs\tp99 added µs (untraced)\tCPU µs/req\tCPU ratio untraced / off\tCPU µs/req flat out\tflat-out CPU ratio untraced / off\tJaeger CPU µs/req\tRSS MB frontend/backend (last round)\tspans lost")
	spansLost := 0
	for _, c := range configs {
		name := c.name
		lost := 0
		for _, r := range results[name] {
			lost += r.expected - r.stored
		}
		spansLost += lost
		lostText := "-"
		if c.toJaeger {
			lostText = strconv.Itoa(lost)
		}
		last := results[name][len(results[name])-1]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s / %s\t%s\t%s / %s\t%s\t%d/%d\t%s\n", name,
			figure(name, "", rps).format("%.0f"),
			figure(name, "untraced", rpsRatio).format("%.2f"),
			figure(name, "", func(r, _ benchResult) float64 { return micros(r.p50) }).format("%.0f"),
			figure(name, "", func(r, _ benchResult) float64 { return micros(r.p99) }).format("%.0f"),
			figure(name, "untraced", p99Added).format("%.0f"),
			figure(name, "", func(r, _ benchResult) float64 { return micros(r.cpuPerReq) }).format("%.0f"),
			figure(name, "untraced", cpuRatio).format("%.2f"), figure(name, "off", cpuRatio).format("%.2f"),
			figure(name, "", func(r, _ benchResult) float64 { return micros(r.flatOutCPUPerReq) }).format("%.0f"),
			figure(name, "untraced", flatRatio).format("%.2f"), figure(name, "off", flatRatio).format("%.2f"),
			figure(name, "", func(r, _ benchResult) float64 { return micros(r.jaegerCPUPerReq) }).format("%.0f"),
			last.frontendRSS/1024, last.backendRSS/1024, lostText)
	}
	w.Flush()

	median := func(name, base string, f func(r, base benchResult) float64) float64 {
		return figure(name, base, f).median
	}
	fmt.Printf("bench: cpu_ratio_flat_otlp_http=%.2f cpu_ratio_flat_otlp_http_off=%.2f cpu_ratio_flat_otlp_http_upstream_off=%.2f cpu_ratio_otlp_http=%.2f cpu_ratio_otlp_http_off=%.2f %sp99_added_us_otlp_http=%d spans_lost=%d\n",
		median("otlp-http", "untraced", flatRatio), median("otlp-http", "off", flatRatio), median("otlp-http-upstream", "off", flatRatio),
		median("otlp-http", "untraced", cpuRatio), median("otlp-http", "off", cpuRatio),
		inProcessFigures(),
		int(median("otlp-http", "untraced", p99Added)),
		spansLost)
}

// inProcessFigures are our_allocs_over_floor and added_us_inprocess, as
// scripts/bench-inprocess.sh measured them in this run, for the summary
// line ("" if it did not run).
func inProcessFigures() string {
	b, err := os.ReadFile(*inProcess)
	if err != nil {
		return ""
	}
	var kept []string
	for _, kv := range strings.Fields(string(b)) {
		if strings.HasPrefix(kv, "our_allocs_over_floor=") || strings.HasPrefix(kv, "added_us_inprocess=") {
			kept = append(kept, kv)
		}
	}
	return strings.Join(kept, " ") + " "
}

func cpuRatio(r, off benchResult) float64 {
	return float64(r.cpuPerReq) / float64(cmp.Or(off.cpuPerReq, 1))
}

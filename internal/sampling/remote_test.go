package sampling

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/samplers/jaegerremote"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/internal/testkit"
)

// A strategy with an operation and no probabilisticSampling: 103 bytes that
// crash jaegerremote v0.38.0 on its own (a nil dereference).
const malformed = `{"operationSampling":{"defaultSamplingProbability":1,"perOperationStrategies":[{"operation":"GET /"}]}}`

// endpoint serves the strategy that answer holds at the time, and counts
// the requests. (jaegerremote also asks once by itself, at its start.)
func endpoint(t *testing.T, answer *atomic.Value) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Write([]byte(answer.Load().(string)))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// sampled asks the sampler for a root span's decision.
func sampled(s sdktrace.Sampler) bool {
	r := s.ShouldSample(sdktrace.SamplingParameters{
		ParentContext: context.Background(), TraceID: trace.TraceID{1}, Name: "GET /",
	})
	return r.Decision == sdktrace.RecordAndSample
}

// logs sends slog.Default to a buffer for the test, as JSON.
func logs(t *testing.T) *testkit.SyncBuffer { return testkit.DefaultLog(t, slog.NewJSONHandler) }

// remote is the remote sampler of the service frontend, with the argument
// arg, stopped when the test ends.
func remote(t *testing.T, arg string) *jaegerremote.Sampler {
	t.Helper()
	c, err := ParseArg(arg)
	require.NoError(t, err)
	s := newRemote("frontend", c)
	t.Cleanup(s.Close)
	return s
}

// rateOne is the sampler of New, for the service frontend, with an
// endpoint that always answers rate 1, and arg after the endpoint in the
// sampler's argument; and the count of the endpoint's answers.
func rateOne(t *testing.T, arg string) (*jaegerremote.Sampler, *atomic.Int64) {
	var answer atomic.Value
	answer.Store(`{"strategyType":0,"probabilisticSampling":{"samplingRate":1}}`)
	srv, requests := endpoint(t, &answer)
	s := remote(t, " endpoint = "+srv.URL+arg)
	return s, requests
}

// TestBadStrategiesKeepTheSampler: an endpoint that answers a strategy the
// sampler cannot use (malformed, out of range, huge, not JSON) crashes
// nothing, and the sampler in use stays: here, sample nothing, where each
// bad answer, taken, would sample everything. Each is logged as a warning.
func TestBadStrategiesKeepTheSampler(t *testing.T) {
	good := `{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0}}`
	all := `{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":1}}`
	for _, tc := range []struct{ name, answer, wantLog string }{
		{"an operation with no rate", malformed, `operation \"GET /\" has no probabilisticSampling`},
		{"a rate of 10", `{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":10}}`, "samplingRate 10: want a ratio from 0 to 1"},
		{"2 MiB", strings.Repeat(" ", 2<<20) + all, "answered more than 1048576 bytes"},
		{"not JSON", "<html>", "not a sampling strategy"},
		{"no strategy", "{}", "no strategy in it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := logs(t)
			var answer atomic.Value
			answer.Store(good)
			srv, requests := endpoint(t, &answer)
			s := remote(t, "endpoint="+srv.URL+",pollingIntervalMs=3600000,initialSamplingRate=1")
			// jaegerremote asks once at its start, in its own goroutine:
			// the good strategy, sample nothing. Then it waits an hour.
			require.Eventually(t, func() bool { return !sampled(s) }, 5*time.Second, 10*time.Millisecond,
				"the good strategy applies")
			answer.Store(tc.answer)
			s.UpdateSampler() // the bad one
			assert.False(t, sampled(s), "after a bad strategy, the sampler in use stays")
			assert.GreaterOrEqual(t, requests.Load(), int64(2))
			assert.Contains(t, buf.String(), `"level":"WARN","msg":"remote sampling: failed to fetch sampling strategy; the sampler in use stays"`)
			assert.Contains(t, buf.String(), tc.wantLog)
		})
	}
}

// TestWarningsAreBounded: an endpoint that stays down is one warning per
// interval, not one per poll.
func TestWarningsAreBounded(t *testing.T) {
	buf := logs(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	s := remote(t, "endpoint="+srv.URL+",pollingIntervalMs=3600000")
	warnings := func() int { return bytes.Count([]byte(buf.String()), []byte(`"level":"WARN"`)) }
	// jaegerremote's own first request, at its start, fails: one warning.
	require.Eventually(t, func() bool { return warnings() == 1 }, 5*time.Second, 10*time.Millisecond)
	for range 5 {
		s.UpdateSampler()
	}
	assert.Equal(t, 1, warnings(), "5 more failures in the same 10 s: no more lines\n%s", buf.String())
	assert.Contains(t, buf.String(), "connection refused")
}

func TestCheckStrategy(t *testing.T) {
	for _, ok := range []string{
		`{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.5}}`,
		`{"strategyType":0,"probabilisticSampling":{"samplingRate":1}}`, // the legacy protocol's enums are numbers
		`{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":5}}`,
		`{"operationSampling":{"defaultSamplingProbability":0.1,"perOperationStrategies":[{"operation":"GET /","probabilisticSampling":{"samplingRate":1}}]}}`,
	} {
		assert.NoError(t, CheckStrategy([]byte(ok)), ok)
	}
	assert.ErrorContains(t, CheckStrategy([]byte(malformed)), `operation "GET /" has no probabilisticSampling`)
}

// TestSamplerTags: a root span's decision carries the sampler's type and
// rate as jaegerremote names them, jaeger.sampler.type and
// jaeger.sampler.param: jaeger/adaptive-sampling.yaml copies them to the
// names Jaeger's adaptive sampling reads.
func TestSamplerTags(t *testing.T) {
	s, _ := rateOne(t, ",initialSamplingRate=1")

	params := sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: trace.TraceID{1}, Name: "GET /"}
	// Until its first answer from the endpoint, jaegerremote samples with
	// the SDK's own ratio sampler (initialSamplingRate), which records
	// nothing.
	require.Eventually(t, func() bool { return len(s.ShouldSample(params).Attributes) > 0 }, 5*time.Second, 10*time.Millisecond)
	got := map[string]string{}
	for _, kv := range s.ShouldSample(params).Attributes {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	assert.Equal(t, map[string]string{"jaeger.sampler.type": "probabilistic", "jaeger.sampler.param": "1"}, got)
}

// TestArgOptions: the argument, read once, reaches jaegerremote as its
// options: the endpoint is asked, and the initial rate applies until it
// answers.
func TestArgOptions(t *testing.T) {
	s, requests := rateOne(t, " , pollingIntervalMs=3600000, initialSamplingRate=0")
	require.Eventually(t, func() bool { return requests.Load() > 0 }, 5*time.Second, 10*time.Millisecond, "the endpoint is asked")
	require.Eventually(t, func() bool { return sampled(s) }, 5*time.Second, 10*time.Millisecond, "its strategy applies")
	for _, bad := range []string{"endpoint=localhost:5778", "pollingIntervalMs=0", "initialSamplingRate=2", "rate=1", "endpoint"} {
		_, err := ParseArg(bad)
		assert.Error(t, err, bad)
	}
	_, err := ParseArg("")
	assert.NoError(t, err)
}

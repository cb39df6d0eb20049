// Package remotesampler builds the sampler of OTEL_TRACES_SAMPLER=jaeger_remote,
// whose rate Jaeger sets, for tracing.Setup. The Go SDK does not know that
// name; the contrib package jaegerremote builds the sampler, but checks its
// settings only by logging, to a logger that is off by default, and trusts
// whatever the sampling endpoint answers. So, here:
//   - CheckArg checks OTEL_TRACES_SAMPLER_ARG, which the services do at
//     start, with the parser New uses;
//   - New builds the sampler, with a fetcher that bounds and checks the
//     endpoint's answer, and a logger;
//   - IsNotice recognizes the SDK's complaint that it does not know the
//     name, which it makes before Setup gives it the sampler.
package remotesampler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/gogo/protobuf/jsonpb"
	api_v2 "github.com/jaegertracing/jaeger-idl/proto-gen/api_v2"
	"go.opentelemetry.io/contrib/samplers/jaegerremote"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"example.com/tracingdemo/internal/params"
	"example.com/tracingdemo/internal/ratelimit"
)

// Name is the value of OTEL_TRACES_SAMPLER that asks for this sampler.
const Name = "jaeger_remote"

// New returns the sampler that asks Jaeger, every pollingIntervalMs
// (OTEL_TRACES_SAMPLER_ARG), what share of the traces of res's service to
// sample.
// A strategy it cannot use (an answer over maxStrategyBytes, one that does
// not parse, a rate out of range, an operation with no rate) is refused
// before jaegerremote sees it, and the sampler in use stays; jaegerremote's
// own errors, such as an endpoint that does not answer, are logged
// (warnings). Wrap it in sdktrace.ParentBased, so that it decides only at
// the root.
func New(res *resource.Resource) *jaegerremote.Sampler {
	service, _ := res.Set().Value(semconv.ServiceNameKey)
	a, _ := parseArg(os.Getenv("OTEL_TRACES_SAMPLER_ARG")) // checked at start (CheckArg)
	// jaegerremote reads the same variable too; these options win.
	opts := []jaegerremote.Option{
		jaegerremote.WithSamplingStrategyFetcher(fetcher{endpoint: a.endpoint, client: &http.Client{Timeout: fetchTimeout}}),
		jaegerremote.WithLogger(logr.New(&warnings{})),
	}
	if a.interval > 0 {
		opts = append(opts, jaegerremote.WithSamplingRefreshInterval(a.interval))
	}
	if a.initial != nil {
		opts = append(opts, jaegerremote.WithInitialSampler(sdktrace.TraceIDRatioBased(*a.initial)))
	}
	return jaegerremote.New(service.AsString(), opts...)
}

// maxStrategyBytes bounds the endpoint's answer: a strategy is a few
// hundred bytes, and jaegerremote would read any answer whole.
const maxStrategyBytes = 1 << 20

// fetchTimeout bounds one request to the endpoint.
const fetchTimeout = 5 * time.Second

// fetcher is jaegerremote's fetcher, which asks the endpoint for the
// service's strategy, bounded, and checks it.
type fetcher struct {
	endpoint string
	client   *http.Client
}

func (f fetcher) Fetch(service string) ([]byte, error) {
	resp, err := f.client.Get(f.endpoint + "?" + url.Values{"service": {service}}.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStrategyBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(body) > maxStrategyBytes:
		return nil, fmt.Errorf("%s answered more than %d bytes: no strategy is that long", f.endpoint, maxStrategyBytes)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s answered %s", f.endpoint, resp.Status)
	}
	if err := CheckStrategy(body); err != nil {
		return nil, fmt.Errorf("%s answered a strategy that cannot be used: %w", f.endpoint, err)
	}
	return body, nil
}

// CheckStrategy parses a strategy as jaegerremote does, and refuses what
// jaegerremote would take without a word, or crash on: a sampling rate
// outside 0 to 1, a negative rate limit, an operation with no rate (which
// jaegerremote v0.38.0 dereferences: docs/reliability.md has the report).
func CheckStrategy(body []byte) error {
	var s api_v2.SamplingStrategyResponse
	if err := jsonpb.Unmarshal(bytes.NewReader(body), &s); err != nil {
		return fmt.Errorf("not a sampling strategy: %v", err)
	}
	rate := func(what string, r float64) error {
		if !(r >= 0 && r <= 1) {
			return fmt.Errorf("%s %v: want a ratio from 0 to 1", what, r)
		}
		return nil
	}
	if p := s.GetProbabilisticSampling(); p != nil {
		if err := rate("samplingRate", p.SamplingRate); err != nil {
			return err
		}
	}
	if r := s.GetRateLimitingSampling(); r != nil && r.MaxTracesPerSecond < 0 {
		return fmt.Errorf("maxTracesPerSecond %d: want 0 or more", r.MaxTracesPerSecond)
	}
	if o := s.GetOperationSampling(); o != nil {
		if err := rate("defaultSamplingProbability", o.DefaultSamplingProbability); err != nil {
			return err
		}
		if o.DefaultLowerBoundTracesPerSecond < 0 {
			return fmt.Errorf("defaultLowerBoundTracesPerSecond %v: want 0 or more", o.DefaultLowerBoundTracesPerSecond)
		}
		for _, op := range o.PerOperationStrategies {
			if op.GetProbabilisticSampling() == nil {
				return fmt.Errorf("operation %q has no probabilisticSampling", op.Operation)
			}
			if err := rate(fmt.Sprintf("operation %q: samplingRate", op.Operation), op.ProbabilisticSampling.SamplingRate); err != nil {
				return err
			}
		}
	}
	if s.GetProbabilisticSampling() == nil && s.GetRateLimitingSampling() == nil && s.GetOperationSampling() == nil {
		return errors.New("no strategy in it")
	}
	return nil
}

// warnings is jaegerremote's logger: each of its errors (an endpoint that
// does not answer, a strategy refused) is a warning, since the service goes
// on with the sampler it has; at most one line per 10 s (ratelimit.Limiter),
// through slog.Default. Its Info lines are left out.
type warnings struct {
	limit ratelimit.Limiter
}

func (*warnings) Init(logr.RuntimeInfo)            {}
func (*warnings) Enabled(int) bool                 { return true }
func (*warnings) Info(int, string, ...any)         {}
func (w *warnings) WithValues(...any) logr.LogSink { return w }
func (w *warnings) WithName(string) logr.LogSink   { return w }

func (w *warnings) Error(err error, msg string, _ ...any) {
	if !w.limit.Allow() {
		return
	}
	slog.Warn("remote sampling: "+msg+"; the sampler in use stays", "err", err)
}

// IsNotice reports whether err is the SDK saying that it does not know
// jaeger_remote: no error, since Setup gives the SDK the sampler.
func IsNotice(err error) bool {
	return err.Error() == "unsupported sampler: "+Name
}

// The polling interval's bounds: at least 100 ms, at most 10 polls a
// second of the sampling endpoint; at most a day, far below the durations
// that overflow (a value past about 9.2e12 ms made jaegerremote's ticker
// panic, or wrapped to 448 µs).
const (
	minPollMs = 100
	maxPollMs = 24 * 60 * 60 * 1000
)

// arg is the sampler's argument, read: each field is zero where its key is
// absent, and jaegerremote keeps its own default.
type arg struct {
	endpoint string
	interval time.Duration
	initial  *float64
}

// CheckArg checks the sampler's argument as the OpenTelemetry specification
// writes it, e.g.
// endpoint=http://localhost:5778/sampling,pollingIntervalMs=5000,initialSamplingRate=0.25.
// Every key is optional. The error says what is wrong and what is allowed.
func CheckArg(s string) error {
	_, err := parseArg(s)
	return err
}

func parseArg(s string) (arg, error) {
	a := arg{endpoint: "http://localhost:5778/sampling"} // jaegerremote's default
	if s == "" {
		return a, nil
	}
	for _, kv := range strings.Split(s, ",") {
		key, value, ok := strings.Cut(kv, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || strings.Contains(value, "=") {
			return a, fmt.Errorf("%q is not key=value; want endpoint, pollingIntervalMs or initialSamplingRate", kv)
		}
		switch key {
		case "endpoint":
			if _, err := params.HTTPURL(value); err != nil {
				return a, fmt.Errorf("endpoint: %v", err)
			}
			a.endpoint = value
		case "pollingIntervalMs":
			ms, err := strconv.ParseInt(value, 10, 64)
			if err != nil || ms < minPollMs || ms > maxPollMs {
				return a, fmt.Errorf("pollingIntervalMs: want %d to %d milliseconds, e.g. pollingIntervalMs=5000", minPollMs, maxPollMs)
			}
			a.interval = time.Duration(ms) * time.Millisecond
		case "initialSamplingRate":
			rate, err := params.Ratio(value)
			if err != nil {
				return a, fmt.Errorf("initialSamplingRate: %v, e.g. initialSamplingRate=0.25", err)
			}
			a.initial = &rate
		default:
			return a, fmt.Errorf("unknown key %q; want endpoint, pollingIntervalMs or initialSamplingRate", key)
		}
	}
	return a, nil
}

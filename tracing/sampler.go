package tracing

// This file holds the samplers that the SDK leaves to programs: the one of
// OTEL_SDK_DISABLED=true, and all that the demo adds for
// OTEL_TRACES_SAMPLER=jaeger_remote, the sampler whose rate Jaeger sets.
// The Go SDK does not know that name; the contrib package jaegerremote
// builds the sampler, but checks its settings only by logging, to a logger
// that is off by default, and trusts whatever the sampling endpoint
// answers. So, in this one place:
//   - newSampler builds it when it is asked for, with a fetcher that
//     bounds and checks the endpoint's answer, and a logger;
//   - CheckRemoteSamplerArg checks OTEL_TRACES_SAMPLER_ARG, which the
//     services do at start;
//   - IsRemoteSamplerNotice recognizes the SDK's complaint that it does not
//     know the name, which it makes before Setup gives it the sampler.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/gogo/protobuf/jsonpb"
	api_v2 "github.com/jaegertracing/jaeger-idl/proto-gen/api_v2"
	"go.opentelemetry.io/contrib/samplers/jaegerremote"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"example.com/tracingdemo/internal/ratelimit"
)

// RemoteSampler is the value of OTEL_TRACES_SAMPLER that asks for the
// sampler whose rate Jaeger sets.
const RemoteSampler = "jaeger_remote"

// newSampler returns the sampler for the two cases the SDK leaves to
// programs, and nil, which leaves the SDK's own, for any other:
//   - OTEL_SDK_DISABLED=true: no span is recorded, none is exported;
//   - OTEL_TRACES_SAMPLER=jaeger_remote: the sampler that asks Jaeger what
//     share of this service's traces to sample. ParentBased makes it
//     decide only at the root.
func newSampler(res *resource.Resource) sdktrace.Sampler {
	if disabled, _ := strconv.ParseBool(os.Getenv("OTEL_SDK_DISABLED")); disabled {
		return sdktrace.NeverSample()
	}
	if strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER"))) != RemoteSampler {
		return nil
	}
	service, _ := res.Set().Value(semconv.ServiceNameKey)
	return sdktrace.ParentBased(jaegerTags{newRemoteSampler(service.AsString())})
}

// jaegerTags gives each root span the sampler's decision under the names
// Jaeger's adaptive sampling reads: jaegerremote records it as
// jaeger.sampler.type and jaeger.sampler.param, Jaeger's aggregator reads
// sampler.type and sampler.param (the tags of Jaeger's own clients), and
// without them it counts no trace, so the probabilities it serves never
// adapt. docs/sampling.md has the upstream report.
type jaegerTags struct{ sdktrace.Sampler }

func (s jaegerTags) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	result := s.Sampler.ShouldSample(p)
	var aliases []attribute.KeyValue
	for _, kv := range result.Attributes {
		if name, ok := strings.CutPrefix(string(kv.Key), "jaeger.sampler."); ok {
			aliases = append(aliases, attribute.KeyValue{Key: attribute.Key("sampler." + name), Value: kv.Value})
		}
	}
	// Clip: the sampler's own slice, which it hands to every span, stays
	// as it is.
	result.Attributes = append(slices.Clip(result.Attributes), aliases...)
	return result
}

// newRemoteSampler returns the sampler that asks Jaeger, every
// pollingIntervalMs (OTEL_TRACES_SAMPLER_ARG, read by jaegerremote), what
// share of service's traces to sample. A strategy it cannot use (an answer
// over maxStrategyBytes, one that does not parse, a rate out of range, an
// operation with no rate) is refused before jaegerremote sees it, and the
// sampler in use stays; jaegerremote's own errors, such as an endpoint that
// does not answer, are logged (warnings).
func newRemoteSampler(service string) *jaegerremote.Sampler {
	endpoint := "http://localhost:5778/sampling" // jaegerremote's default
	if v, ok := argValues(os.Getenv("OTEL_TRACES_SAMPLER_ARG"))["endpoint"]; ok {
		endpoint = v
	}
	return jaegerremote.New(service,
		jaegerremote.WithSamplingStrategyFetcher(fetcher{endpoint: endpoint, client: &http.Client{Timeout: fetchTimeout}}),
		jaegerremote.WithLogger(logr.New(&warnings{})))
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
		if r < 0 || r > 1 {
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

// IsRemoteSamplerNotice reports whether err is the SDK saying that it does
// not know jaeger_remote: no error, since Setup gives the SDK the sampler.
func IsRemoteSamplerNotice(err error) bool {
	return err.Error() == "unsupported sampler: "+RemoteSampler
}

// argValues reads the sampler's argument into its keys and values.
func argValues(arg string) map[string]string {
	values := map[string]string{}
	for _, kv := range strings.Split(arg, ",") {
		key, value, _ := strings.Cut(kv, "=")
		values[strings.TrimSpace(key)] = strings.TrimSpace(value)
	}
	return values
}

// CheckRemoteSamplerArg checks the jaeger_remote sampler's argument as the OpenTelemetry
// specification writes it, e.g.
// endpoint=http://localhost:5778/sampling,pollingIntervalMs=5000,initialSamplingRate=0.25.
// Every key is optional. The error says what is wrong and what is allowed.
func CheckRemoteSamplerArg(arg string) error {
	if arg == "" {
		return nil
	}
	for _, kv := range strings.Split(arg, ",") {
		key, value, ok := strings.Cut(kv, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || strings.Contains(value, "=") {
			return fmt.Errorf("%q is not key=value; want endpoint, pollingIntervalMs or initialSamplingRate", kv)
		}
		switch key {
		case "endpoint":
			if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
				return fmt.Errorf("endpoint: want an http:// URL, e.g. endpoint=http://localhost:5778/sampling")
			}
		case "pollingIntervalMs":
			if ms, err := strconv.Atoi(value); err != nil || ms <= 0 {
				return fmt.Errorf("pollingIntervalMs: want a positive number of milliseconds, e.g. pollingIntervalMs=5000")
			}
		case "initialSamplingRate":
			if rate, err := strconv.ParseFloat(value, 64); err != nil || rate < 0 || rate > 1 {
				return fmt.Errorf("initialSamplingRate: want a ratio from 0 to 1, e.g. initialSamplingRate=0.25")
			}
		default:
			return fmt.Errorf("unknown key %q; want endpoint, pollingIntervalMs or initialSamplingRate", key)
		}
	}
	return nil
}

package sampling

// The remote sampler is contrib's jaegerremote, which reports a bad
// setting only to a logger that is off by default, and takes whatever the
// sampling endpoint answers. Here its argument is checked at start
// (ParseArg), and each answer is bounded and checked (fetcher): a strategy
// it cannot use is refused, and the sampler in use stays.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/contrib/samplers/jaegerremote"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/time/rate"
)

// Config is the remote sampler's argument: a zero Interval or a nil
// Initial keeps jaegerremote's default.
type Config struct {
	Endpoint string
	Interval time.Duration
	Initial  *float64
}

// ParseArg reads the remote sampler's argument, OTEL_TRACES_SAMPLER_ARG, as
// the OpenTelemetry specification writes it, e.g.
// endpoint=http://localhost:5778/sampling,pollingIntervalMs=5000,initialSamplingRate=0.25.
// Every key is optional. The polling interval is from 100 ms (10 polls a
// second) to a day: a value past about 9.2e12 ms made jaegerremote's ticker
// panic.
func ParseArg(s string) (Config, error) {
	c := Config{Endpoint: "http://localhost:5778/sampling"} // jaegerremote's default
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	for kv := range strings.SplitSeq(s, ",") {
		key, value, ok := strings.Cut(kv, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || strings.Contains(value, "=") {
			return c, fmt.Errorf("%q is not key=value; want endpoint, pollingIntervalMs or initialSamplingRate", kv)
		}
		switch key {
		case "endpoint":
			u, err := url.Parse(value)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return c, fmt.Errorf("endpoint: want an http:// or https:// URL with a host, e.g. http://localhost:5778/sampling")
			}
			c.Endpoint = value
		case "pollingIntervalMs":
			ms, err := strconv.ParseInt(value, 10, 64)
			if err != nil || ms < 100 || ms > 24*60*60*1000 {
				return c, fmt.Errorf("pollingIntervalMs: want 100 to 86400000 milliseconds, e.g. pollingIntervalMs=5000")
			}
			c.Interval = time.Duration(ms) * time.Millisecond
		case "initialSamplingRate":
			r, err := strconv.ParseFloat(value, 64)
			if err != nil || !(r >= 0 && r <= 1) {
				return c, fmt.Errorf("initialSamplingRate: want a ratio from 0 to 1, e.g. initialSamplingRate=0.25")
			}
			c.Initial = &r
		default:
			return c, fmt.Errorf("unknown key %q; want endpoint, pollingIntervalMs or initialSamplingRate", key)
		}
	}
	return c, nil
}

// newRemote returns the sampler that asks Jaeger, every c.Interval, what
// share of the service's traces to sample. Its warnings go to slog, at
// most one line per 10 s.
func newRemote(service string, c Config) *jaegerremote.Sampler {
	opts := []jaegerremote.Option{
		jaegerremote.WithSamplingStrategyFetcher(fetcher{endpoint: c.Endpoint, client: &http.Client{Timeout: 5 * time.Second}}),
		jaegerremote.WithLogger(logr.New(&warnings{every: rate.Sometimes{Interval: 10 * time.Second}})),
	}
	if c.Interval > 0 {
		opts = append(opts, jaegerremote.WithSamplingRefreshInterval(c.Interval))
	}
	if c.Initial != nil {
		opts = append(opts, jaegerremote.WithInitialSampler(sdktrace.TraceIDRatioBased(*c.Initial)))
	}
	return jaegerremote.New(service, opts...)
}

// maxStrategyBytes bounds an answer: a strategy is a few hundred bytes, and
// jaegerremote would read any answer whole.
const maxStrategyBytes = 1 << 20

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

type rate01 struct{ SamplingRate float64 } // probabilisticSampling

// CheckStrategy refuses what jaegerremote would take without a word, or
// crash on: no strategy, a sampling rate outside 0 to 1, a negative rate
// limit, an operation with no rate (which jaegerremote v0.38.0
// dereferences: docs/reliability.md has the report).
func CheckStrategy(body []byte) error {
	var s struct { // Jaeger's JSON, in the lowerCamelCase of proto3
		ProbabilisticSampling *rate01
		RateLimitingSampling  *struct{ MaxTracesPerSecond float64 }
		OperationSampling     *struct {
			DefaultSamplingProbability       float64
			DefaultLowerBoundTracesPerSecond float64
			PerOperationStrategies           []struct {
				Operation             string
				ProbabilisticSampling *rate01
			}
		}
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return fmt.Errorf("not a sampling strategy: %v", err)
	}
	if s.ProbabilisticSampling == nil && s.RateLimitingSampling == nil && s.OperationSampling == nil {
		return errors.New("no strategy in it")
	}
	var bad []string
	ratio := func(what string, r float64) {
		if !(r >= 0 && r <= 1) {
			bad = append(bad, fmt.Sprintf("%s %v: want a ratio from 0 to 1", what, r))
		}
	}
	if p := s.ProbabilisticSampling; p != nil {
		ratio("samplingRate", p.SamplingRate)
	}
	if r := s.RateLimitingSampling; r != nil && r.MaxTracesPerSecond < 0 {
		bad = append(bad, fmt.Sprintf("maxTracesPerSecond %v: want 0 or more", r.MaxTracesPerSecond))
	}
	if o := s.OperationSampling; o != nil {
		ratio("defaultSamplingProbability", o.DefaultSamplingProbability)
		if o.DefaultLowerBoundTracesPerSecond < 0 {
			bad = append(bad, fmt.Sprintf("defaultLowerBoundTracesPerSecond %v: want 0 or more", o.DefaultLowerBoundTracesPerSecond))
		}
		for _, op := range o.PerOperationStrategies {
			if op.ProbabilisticSampling == nil {
				bad = append(bad, fmt.Sprintf("operation %q has no probabilisticSampling", op.Operation))
			} else {
				ratio(fmt.Sprintf("operation %q: samplingRate", op.Operation), op.ProbabilisticSampling.SamplingRate)
			}
		}
	}
	if len(bad) > 0 {
		return errors.New(bad[0]) // the first: one is enough to refuse it
	}
	return nil
}

// warnings is jaegerremote's logger: each of its errors (an endpoint that
// does not answer, a strategy refused) is a warning, since the sampler in
// use stays; at most one line per 10 s. Its Info lines are left out.
type warnings struct{ every rate.Sometimes }

func (*warnings) Init(logr.RuntimeInfo)            {}
func (*warnings) Enabled(int) bool                 { return true }
func (*warnings) Info(int, string, ...any)         {}
func (w *warnings) WithValues(...any) logr.LogSink { return w }
func (w *warnings) WithName(string) logr.LogSink   { return w }

func (w *warnings) Error(err error, msg string, _ ...any) {
	w.every.Do(func() { slog.Warn("remote sampling: "+msg+"; the sampler in use stays", "err", err) })
}

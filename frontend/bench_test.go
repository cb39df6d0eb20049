package frontend_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/internal/sampling"
	"example.com/tracingdemo/internal/server"
	"example.com/tracingdemo/internal/settings"
	"example.com/tracingdemo/internal/spans"
	"example.com/tracingdemo/internal/testkit"
	"example.com/tracingdemo/tracing"
)

// BenchmarkRequest sends one GET / through the real frontend handler, which
// calls the real backend handler over loopback, with tracing set up by the
// same calls as run makes (tracing.NewExporter, then tracing.Setup with
// the options of cmd/tracingdemo's setupTracing), either
// off, with spans made and batched but not exported, or exported over
// OTLP/HTTP to a receiver that discards them. `make bench`
// (scripts/bench-inprocess.sh) runs it with -benchmem as it is, and built
// with the floor's and the untraced pair's tracing/ in place of ours
// (tracing/testdata/bench), side by side.
func BenchmarkRequest(b *testing.B) {
	// tracing's own log lines (the count of spans at the stop) would land
	// in the middle of the benchmark's result lines.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	// An OTLP/HTTP receiver that reads every export and discards it: the
	// export's cost on the services' side, without Jaeger's.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer receiver.Close()
	for _, bc := range []struct {
		name string
		env  map[string]string
	}{
		{"off", map[string]string{"OTEL_SDK_DISABLED": "true"}},         // spans sampled out at once
		{"sdk-only", map[string]string{"OTEL_TRACES_EXPORTER": "none"}}, // 5 spans, no export
		{"otlp-http", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.URL}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			testkit.SetOTelEnv(b, bc.env)
			exporter, err := tracing.NewExporter(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			// What cmd/tracingdemo adds to tracing.Setup: the span counts,
			// the sampler, the attribute length limit, the strings' copy.
			counts := spans.Count(exporter, sdktrace.DefaultMaxQueueSize+sdktrace.DefaultMaxExportBatchSize)
			sampler := sdktrace.Sampler(sdktrace.ParentBased(sdktrace.AlwaysSample()))
			if bc.name == "off" {
				sampler = sdktrace.NeverSample() // OTEL_SDK_DISABLED
			}
			limits := sdktrace.NewSpanLimits()
			limits.AttributeValueLengthLimit = settings.MaxAttributeLength
			tp, propagator, shutdown, err := tracing.Setup(context.Background(), "bench", counts.Exporter(),
				sdktrace.WithSampler(sampling.FollowLinks(sampler)), sdktrace.WithSpanProcessor(counts), sdktrace.WithRawSpanLimits(limits),
				sdktrace.WithSpanProcessor(spans.OwnStrings{}))
			if err != nil {
				b.Fatal(err)
			}
			defer shutdown(context.Background())
			logger := slog.New(tracing.LogHandler(slog.NewJSONHandler(io.Discard, nil)))

			jobs := backend.StartJobs(tp, propagator, logger, backend.LinkedTrace)
			defer jobs.Finish(context.Background())
			backendServer := httptest.NewServer(server.Harden(backend.New(tp, propagator, logger, jobs), false))
			defer backendServer.Close()
			backendURL, _ := url.Parse(backendServer.URL)
			handler := server.Harden(frontend.New(frontend.Config{BackendURL: backendURL, BackendTimeout: 5 * time.Second},
				tp, propagator, logger), true)

			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
